"""Property tests of the WhatsApp parser (issue 4, "random chats written in every supported header form
parse back to the same messages; random bytes never raise anything but the project's own input error")."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.sources import parse_export
from ingest.sources.whatsapp import parse_chat_text
from kernel.errors import InputError

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
RLM = "\u200f"


def _h12(d: datetime) -> int:
    return d.hour % 12 or 12


def _ar(d: datetime) -> str:
    date = f"{d.day}{RLM}/{d.month}{RLM}/{d.year}".translate(ARABIC)
    clock = f"{_h12(d)}:{d:%M:%S}".translate(ARABIC)
    return f"{RLM}[{date}، {clock}\u00a0{'م' if d.hour >= 12 else 'ص'}] "


# form name → (header writer, whether the form carries seconds)
FORMS: dict[str, tuple[Callable[[datetime], str], bool]] = {
    "ios-nl": (lambda d: f"[{d:%d-%m-%Y %H:%M:%S}] ", True),
    "ios-de": (lambda d: f"[{d:%d.%m.%y, %H:%M:%S}] ", True),
    "ios-us-12h": (lambda d: f"[{d.month}/{d.day}/{d:%y}, {_h12(d)}:{d:%M:%S}\u202f{'PM' if d.hour >= 12 else 'AM'}] ", True),
    "ios-time-first": (lambda d: f"[{d:%H:%M:%S}, {d.month}/{d.day}/{d:%y}] ", True),
    "ios-buddhist": (lambda d: f"[{d.month}/{d.day}/{d.year + 543} BE, {d:%H:%M:%S}] ", True),
    "ios-japanese-era": (lambda d: f"[{d.month}/{d.day}/R{d.year - 2018}, {d:%H:%M:%S}] ", True),
    "ios-arabic": (_ar, True),
    "ios-persian": (lambda d: f"[{d.year}/{d.month:02d}/{d.day:02d}، {d:%H:%M:%S}] ".translate(PERSIAN), True),
    "android-nl": (lambda d: f"{d:%d-%m-%Y %H:%M} - ", False),
    "android-en-gb": (lambda d: f"{d:%d/%m/%Y, %H:%M} - ", False),
    "android-us-12h": (lambda d: f"{d.month}/{d.day}/{d:%y}, {_h12(d)}:{d:%M} {'PM' if d.hour >= 12 else 'AM'} - ", False),
    "android-es-12h": (lambda d: f"{d:%d/%m/%Y}, {_h12(d)}:{d:%M}\u00a0{'p. m.' if d.hour >= 12 else 'a. m.'} - ", False),
    "android-fi": (lambda d: f"{d.day}.{d.month}.{d.year} klo {d.hour}.{d:%M} - ", False),
    "android-de": (lambda d: f"{d:%d.%m.%y, %H:%M} - ", False),
    "android-iso": (lambda d: f"{d:%Y-%m-%d %H:%M} - ", False),
    "android-ko": (lambda d: f"{d.year}. {d.month}. {d.day}. {'오후' if d.hour >= 12 else '오전'} {_h12(d)}:{d:%M} - ", False),
}

_NAMES = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12).map(lambda s: "Ann " + s)
_LINE = st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs", "So"], exclude_characters="\u200e\u200f<>"),
                min_size=1, max_size=40).map(lambda s: "x" + s.strip() + "y")
_BODIES = st.lists(_LINE, min_size=1, max_size=3).map("\n".join)
_TIMES = st.datetimes(min_value=datetime(2019, 5, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(FORMS)), st.lists(st.tuples(_TIMES, _NAMES, _BODIES), min_size=1, max_size=10))
def test_random_chats_in_every_header_form_parse_back(form: str, rows: list[tuple[datetime, str, str]]) -> None:
    write, with_seconds = FORMS[form]
    rows = sorted(rows, key=lambda r: r[0])
    rows.append((datetime(2031, 12, 25, 13, 0, 0), rows[0][1], "xeindey"))  # a day > 12 fixes the order
    text = "\n".join(write(when) + f"{who}: {body}" for when, who, body in rows) + "\n"
    conv = parse_chat_text(text, "UTC")
    expected = [
        ((when if with_seconds else when.replace(second=0)).replace(tzinfo=timezone.utc), who, body)
        for when, who, body in rows
    ]
    assert [(m.timestamp, m.sender, m.text) for m in conv.messages] == expected
    assert conv.source.inferred.get("unparsed_lines") is None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600), st.sampled_from(["chat.txt", "_chat.txt", "WhatsApp Chat met X.txt"]))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    try:
        parse_export([path], format="whatsapp")
    except InputError:
        pass


_HEADERISH = st.sampled_from(["14-03-2024 10:15 - ", "[3/14/24, 10:15:01] ", "31-02-2024 10:15 - ", "14.3.2024 klo ",
                              "\u200e", "\u200f[١٤\u200f/٣", "Ann: ", "<Media omitted>", " (file attached)", "\n", "\r\n"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_HEADERISH, st.text(max_size=20)), max_size=25).map("".join))
def test_text_made_of_header_pieces_raises_only_input_errors(text: str) -> None:
    try:
        conv = parse_chat_text(text, "Europe/Amsterdam")
    except InputError:
        return
    assert all(m.seq == i for i, m in enumerate(conv.messages, 1))
    assert len(conv.messages) >= 1


@pytest.mark.parametrize("form", sorted(FORMS))
def test_each_form_is_sniffed_from_its_own_first_lines(form: str) -> None:
    write, _ = FORMS[form]
    text = "".join(write(datetime(2024, 3, day, 9 + day % 12, 5, 7)) + f"Ann: regel {day}\n" for day in (13, 14))
    conv = parse_chat_text(text, "UTC")
    assert [m.text for m in conv.messages] == ["regel 13", "regel 14"]
    assert conv.source.platform == form.split("-")[0]
