"""Redaction (lakken): detectors with their checks, name lists, manual spans, labels and Woo grounds."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from access.redaction import (
    ManualRedaction,
    NameList,
    Passage,
    Redactor,
    Withholding,
    apply,
    bsn_valid,
    detect,
    iban_valid,
    woo_ground,
)
from kernel.errors import InputError


def make_bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randrange(10) for _ in range(8)]
        last = sum(d * w for d, w in zip(digits, range(9, 1, -1))) % 11
        if last < 10 and any(digits):
            return "".join(map(str, digits)) + str(last)


def make_iban(rng: random.Random) -> str:
    bban = "ABNA" + "".join(str(rng.randrange(10)) for _ in range(10))
    numeric = "".join(str(int(c, 36)) for c in bban + "NL00")
    return f"NL{98 - int(numeric) % 97:02d}{bban}"


@pytest.mark.parametrize("number", ["111222333", "123456782", "1234.56.782", "123 456 782"])
def test_bsns_that_pass_the_11_proef_are_found(number: str) -> None:
    assert bsn_valid(number)
    assert [p.kind for p in detect(f"BSN: {number}.")] == ["bsn"]


@pytest.mark.parametrize("number", ["123456789", "000000000", "111222334"])
def test_nine_digits_failing_the_11_proef_stay(number: str) -> None:
    assert not bsn_valid(number) and detect(f"ordernummer {number}") == []


def test_ibans_are_checked_with_mod_97_with_or_without_spaces() -> None:
    assert iban_valid("NL91ABNA0417164300") and iban_valid("NL91 ABNA 0417 1643 00")
    assert iban_valid("DE89 3704 0044 0532 0130 00") and not iban_valid("NL91ABNA0417164301")
    text = "Stort op NL91 ABNA 0417 1643 00 en niet op NL91ABNA0417164301, of DE89370400440532013000."
    assert Redactor().clean(text) == "Stort op [gelakt: 5.1.2e] en niet op NL91ABNA0417164301, of [gelakt: 5.1.2e]."


@pytest.mark.parametrize("phone", ["06-12345678", "0612345678", "06 12 34 56 78", "020 123 4567", "(020) 1234567",
                                   "+31 6 1234 5678", "+31 (0)20 123 4567", "0031612345678", "+44 20 7946 0958"])
def test_phone_numbers_in_every_dutch_way_of_writing_them(phone: str) -> None:
    assert Redactor().clean(f"bel {phone} even") == "bel [gelakt: 5.1.2e] even"


@pytest.mark.parametrize("text", ["om 10:15 op 14-03-2024", "IMG-2024-03-14-10-21-07.jpg", "bedrag 1.234.567 euro",
                                  "versie 3.1.0", "kamer 0.12"])
def test_dates_times_and_amounts_are_not_mistaken_for_personal_data(text: str) -> None:
    assert Redactor().clean(text) == text


def test_email_addresses() -> None:
    assert Redactor().clean("mail p.de-vries+woo@gemeente.example.nl!") == "mail [gelakt: 5.1.2e]!"
    assert Redactor().clean("@wethouder zie je dit") == "@wethouder zie je dit"


def test_names_from_a_list_ignore_case_accents_and_spacing_but_not_parts_of_words() -> None:
    names = NameList(("Petra de Vries", "José Muñoz"))
    redactor = Redactor(names)
    assert redactor.clean("PETRA  DE VRIES en jose munoz belden") == "[gelakt: 5.1.2e] en [gelakt: 5.1.2e] belden"
    assert redactor.clean("Petra de Vriesland") == "Petra de Vriesland"
    assert redactor.person("Petra de Vries") == "[gelakt: 5.1.2e] persoon A"
    assert redactor.person("+31 6 12345678") == "[gelakt: 5.1.2e] persoon B"
    assert redactor.person("Petra de Vries") == "[gelakt: 5.1.2e] persoon A"  # the same name, the same letter
    assert redactor.person("Jan") == "Jan"


def test_overlapping_passages_merge_into_one_label_with_every_ground() -> None:
    text = "Bel Jan op 06-12345678 morgen"
    manual = [Passage(4, 21, "5.2", "manual")]
    result = Redactor().text(text, manual)
    assert result.text == "Bel [gelakt: 5.1.2e, 5.2] morgen"
    assert len(result.passages) == 2


def test_manual_spans_are_checked() -> None:
    assert ManualRedaction.parse("12:5-17:5.1.2e") == ManualRedaction(12, 5, 17, "5.1 lid 2 sub e")
    assert ManualRedaction.parse("a-b-c:3:0-4:5.2").aip == "a-b-c"
    for bad in ("12:17-5:5.2", "x:1-2:5.2", "12:1-2:6.1", "12-1-2"):
        with pytest.raises(InputError):
            ManualRedaction.parse(bad)
    with pytest.raises(InputError):
        Redactor().text("kort", [Passage(2, 10, "5.2", "manual")])
    assert Withholding.parse("14:5.1 lid 2 sub i") == Withholding(14, "5.1 lid 2 sub i")


@pytest.mark.parametrize("written, canonical", [("5.1.2e", "5.1 lid 2 sub e"), ("art. 5.1, lid 2, onder e", "5.1 lid 2 sub e"),
                                                ("5.1 lid 1 sub e", "5.1 lid 1 sub e"), ("5.2", "5.2"), ("5.1.5", "5.1 lid 5")])
def test_woo_grounds_in_the_ways_officers_write_them(written: str, canonical: str) -> None:
    assert woo_ground(written) == canonical


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.text(alphabet="abcdefghij klmnop.,!?", max_size=30),
       st.text(alphabet="abcdefghij klmnop.,!?", max_size=30))
def test_generated_numbers_are_always_removed_and_the_rest_kept(seed: int, before: str, after: str) -> None:
    rng = random.Random(seed)
    secret = rng.choice([make_bsn(rng), make_iban(rng), f"06-{rng.randrange(10**7, 10**8)}",
                         f"x{rng.randrange(10**6)}@voorbeeld.nl"])
    text = f"{before} {secret} {after}"
    cleaned = Redactor().clean(text)
    assert secret not in cleaned and "[gelakt: 5.1." in cleaned
    assert cleaned.startswith(before) and cleaned.endswith(after)


@given(st.text(max_size=200))
def test_text_without_digits_or_at_signs_is_never_changed(text: str) -> None:
    text = "".join(c for c in text if not c.isdigit() and c != "@")
    assert Redactor().clean(text) == text
    assert apply(text, []).text == text


def test_media_of_a_message_whose_sender_is_redacted_are_withheld() -> None:
    """A photo sent by a person whose name must go may show that person: it stays out of the DIP."""
    from datetime import datetime, timezone

    from access.dip import DipRequest, _redacted_conversation
    from access.redaction import NameList, Redactor
    from kernel.model import Attachment, Conversation, Message, MessageKind, Source
    from preservation.record_access import RecordAccess

    when = datetime(2024, 3, 14, 10, 0, tzinfo=timezone.utc)
    photo = Attachment("IMG-1.jpg", True, "image/jpeg")
    conversation = Conversation(
        source=Source("whatsapp", "android", "nl", "Europe/Amsterdam"), participants=(),
        messages=(Message(1, when, "Jan Jansen", MessageKind.MEDIA, "", (photo,)),
                  Message(2, when, "Petra", MessageKind.MEDIA, "", (photo,))))
    redactor = Redactor(NameList(("Jan Jansen",)))
    request = DipRequest(requester="Woo-verzoeker", purpose="Woo")
    delivered, *_ = _redacted_conversation(conversation, None, request, redactor, "aip",
                                           RecordAccess("R-1", "gesprek"))
    assert delivered.messages[0].attachments == () and "Jan Jansen" not in (delivered.messages[0].sender or "")
    assert delivered.messages[1].attachments == (photo,)
