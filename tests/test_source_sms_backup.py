"""SMS Backup & Restore XML: the corpus backups read in place, our own backups with every construct the
issue names (sent/received, group MMS, "null" strings, wrong count, surrogate-pair emoji, damaged
base64, damaged elements), DTDs refused, damage inside the file refused, spilled runs merged in time order, and
random bytes refused with the project's own error only."""
from __future__ import annotations

import base64
import io
import json
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.export import open_export
from ingest.sources import sms_backup
from ingest.sources.base import ParseOptions
from ingest.sources.sms_backup import iter_part_data
from ingest.sources.xml_stream import RepairingReader
from kernel.errors import InputError, UnsafeXml
from kernel.model import Conversation, MessageKind
from tests.conftest import shared_or_skip

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def parse(path: Path, tz: str = "Europe/Amsterdam") -> list[Conversation]:
    export = open_export([path])
    assert sms_backup.FORMAT.score(export) == 1.0
    conversations = sms_backup.FORMAT.parse_all(export, ParseOptions(tz=tz))
    for conversation in conversations:
        jsonschema.validate(conversation.to_dict(), SCHEMA)
        assert Conversation.from_dict(json.loads(conversation.to_json())) == conversation
    return conversations


def at_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


@pytest.fixture(scope="module")
def corpus() -> Path:
    return shared_or_skip() / "corpus" / "sms-backup-restore-devadvance"


# --- corpus -----------------------------------------------------------------------------------------


def test_sms_small_twelve_messages_in_three_threads(corpus: Path) -> None:
    conversations = parse(corpus / "sms_small.xml")
    assert sum(len(c.messages) for c in conversations) == 12
    assert [(c.title, len(c.messages)) for c in conversations] == [("Contact A", 4), ("Contact B", 1), ("Contact C", 7)]
    a, _, c = conversations
    assert [m.sender for m in a.messages] == ["Contact A", "Contact A", "Contact A", "Ik"]  # type 2 = sent
    assert a.messages[0].timestamp == at_ms(1512226167463)
    assert a.messages[0].timestamp.isoformat() == "2017-12-02T15:49:27.463000+01:00"
    assert c.messages[4].text == "Body text 10\nBody text 11\nBody text 12"  # &#10; kept as line breaks
    assert {m.kind for conv in conversations for m in conv.messages} == {MessageKind.TEXT}
    assert a.source.inferred["elements"] == 12 and "count_attribute" not in a.source.inferred
    assert a.source.files[0].sha256 == "2ff9b02b6562a52ec48f75c6d94bb7d5a9dcc6ba2d3ef82f7b00867b3ef41abb"


def test_sample_mms_four_attachments_decoded(corpus: Path) -> None:
    (conv,) = parse(corpus / "sample_mms.xml")
    assert [m.text for m in conv.messages] == [
        "Here is an image attachment", "Here is a video attachment", "Here is an audio attachment",
        "Here is a PDF attachment",
    ]
    assert [(a.name, a.present, a.media_type) for m in conv.messages for a in m.attachments] == [
        ("sample_mms.parts/0000001-1-image.png", True, "image/png"),
        ("sample_mms.parts/0000002-1-video.mp4", True, "video/mp4"),
        ("sample_mms.parts/0000003-1-audio.mp3", True, "audio/mp3"),
        ("sample_mms.parts/0000004-1-document.pdf", True, "application/pdf"),
    ]
    assert {m.sender for m in conv.messages} == {"Contact C"}
    assert conv.messages[0].timestamp == at_ms(1721161764000)
    with open(corpus / "sample_mms.xml", "rb") as raw:
        parts = dict(iter_part_data(raw, "sample_mms.xml"))
    assert set(parts) == {a.name for m in conv.messages for a in m.attachments}
    assert parts["sample_mms.parts/0000001-1-image.png"] == PNG
    assert parts["sample_mms.parts/0000004-1-document.pdf"].startswith(b"%PDF-1.4")


def test_corrupt_attachments_keep_the_messages(corpus: Path) -> None:
    (conv,) = parse(corpus / "corrupt_attachments.xml")
    assert [(m.kind.value, m.text) for m in conv.messages] == [
        ("media", "MMS with corrupted base64 image data"), ("media", "MMS with unsupported attachment type"),
    ]
    assert [a.present for m in conv.messages for a in m.attachments] == [False, False]
    damaged = conv.source.inferred["damaged_attachments"]
    assert [(d["seq"], d["name"]) for d in damaged] == [
        (1, "corrupt_attachments.parts/0000001-1-corrupt_image.png"),
        (2, "corrupt_attachments.parts/0000002-1-corrupt.file"),
    ]
    assert all("base64" in d["reason"] for d in damaged)
    with open(corpus / "corrupt_attachments.xml", "rb") as raw:
        assert list(iter_part_data(raw, "corrupt_attachments.xml")) == []


# --- our own backups --------------------------------------------------------------------------------

HEAD = "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<?xml-stylesheet type=\"text/xsl\" href=\"sms.xsl\"?>\n"


def _sms(address: str, date: str, kind: int, body: str, name: str = "Petra de Vries") -> str:
    return (
        f'  <sms protocol="0" address="{address}" date="{date}" type="{kind}" subject="null" body="{body}" '
        f'toa="null" sc_toa="null" service_center="null" read="1" status="-1" locked="0" date_sent="0" '
        f'sub_id="-1" readable_date="x" contact_name="{name}" />\n'
    )


def _backup(tmp_path: Path, count: int = 99) -> Path:
    png = base64.b64encode(PNG).decode()
    group = "+31611111111~+31622222222"
    body = (
        _sms("+31 6 1234 5678", "1710407700000", 1, "Goedemorgen &#55357;&#56832;")
        + _sms("+31612345678", "1710407760000", 2, "Ook goedemorgen &#xD83D;&#xDC4D;")
        + _sms("+31612345678", "1710407820000", 3, "concept, nooit verstuurd")
        + _sms("+31612345678", "1710407880000", 1, "null")
        + _sms("+31612345678", "kapot", 1, "datum onleesbaar")
        + _sms("+31612345678", "1710407940000", 1, "los &#55357; surrogaat")
        + _sms("12345", "1710408000000", 1, "Uw code is 1234", name="(Unknown)")
        + f'  <mms date="1710407730000" ct_t="application/vnd.wap.multipart.related" msg_box="1" address="{group}" '
        f'm_type="132" sub="null" contact_name="Jan Jansen, Kees Klaassen" readable_date="x">\n'
        f'    <parts>\n'
        f'      <part seq="-1" ct="application/smil" name="null" chset="null" cl="smil.xml" text="&lt;smil/&gt;" />\n'
        f'      <part seq="0" ct="image/png" name="null" chset="null" cl="IMG_0001.png" data="{png}" />\n'
        f'      <part seq="0" ct="text/plain" name="null" chset="106" cl="txt000.txt" text="Foto van de zaal" />\n'
        f'    </parts>\n'
        f'    <addrs>\n'
        f'      <addr address="+31622222222" type="137" charset="106" />\n'
        f'      <addr address="+31611111111" type="151" charset="106" />\n'
        f'      <addr address="+31699999999" type="151" charset="106" />\n'
        f'    </addrs>\n'
        f'  </mms>\n'
        f'  <mms date="1710407790000" msg_box="2" address="{group}" sub="Agenda" contact_name="Jan Jansen, Kees Klaassen">\n'
        f'    <parts><part seq="0" ct="text/plain" name="null" text="Zie agenda" /></parts>\n'
        f'    <addrs><addr address="insert-address-token" type="137" /></addrs>\n'
        f'  </mms>\n'
    )
    path = tmp_path / "sms-20240314.xml"
    path.write_text(HEAD + f'<smses count="{count}" backup_set="x" backup_date="1710500000000" type="full">\n' + body
                    + "</smses>\n", encoding="utf-8")
    return path


def test_own_backup_every_construct(tmp_path: Path) -> None:
    path = _backup(tmp_path)
    original = path.read_bytes()
    petra, code, group = parse(path)  # in the order each thread first appears in the file
    assert path.read_bytes() == original  # the repair happened while reading, never in the file
    assert (petra.title, code.title, group.title) == ("Petra de Vries", "12345", "Jan Jansen, Kees Klaassen")
    assert [(m.sender, m.kind.value, m.text) for m in petra.messages] == [
        ("Petra de Vries", "text", "Goedemorgen 😀"),
        ("Ik", "text", "Ook goedemorgen 👍"),
        ("Ik", "text", "concept, nooit verstuurd"),
        ("Petra de Vries", "text", ""),
        (None, "unparsed", _sms("+31612345678", "kapot", 1, "datum onleesbaar").strip().replace(" />", "/>")),
        ("Petra de Vries", "text", "los \ufffd surrogaat"),
    ]
    inferred = petra.source.inferred
    assert inferred["thread"] == "+31612345678"  # spaces in "+31 6 1234 5678" do not split the thread
    assert inferred["not_sent"] == [{"seq": 3, "type": "draft"}]
    assert inferred["null_body"] == [4]
    assert inferred["unparsed_lines"] == [
        {"seq": 5, "line": 8, "text": petra.messages[4].text, "reason": "date 'kapot' is not a number"}
    ]
    assert petra.messages[4].timestamp == petra.messages[3].timestamp  # timed like the message before it
    assert inferred["count_attribute"]["declared"] == 99 and inferred["count_attribute"]["read"] == 9
    assert inferred["xml_repairs"] == {
        "surrogate_pairs_joined": 2, "invalid_references_replaced": 1, "control_bytes_replaced": 0,
        "examples": ["&#55357;"],
    }
    photo, sent = group.messages
    assert (photo.sender, photo.kind, photo.text) == ("Kees Klaassen", MessageKind.MEDIA, "Foto van de zaal")
    assert [a.to_dict() for a in photo.attachments] == [
        {"name": "sms-20240314.parts/0000008-2-IMG_0001.png", "present": True, "media_type": "image/png"}
    ]
    assert (sent.sender, sent.text) == ("Ik", "Zie agenda")
    assert group.source.inferred["subjects"] == {"2": "Agenda"}
    assert group.source.inferred["group_mms"]["1"] == [
        "+31622222222 (from)", "+31611111111 (to)", "+31699999999 (to)"
    ]
    assert code.messages[0].sender == "12345"  # "(Unknown)" contact: the address speaks
    with open(path, "rb") as raw:
        assert dict(iter_part_data(raw, path.name)) == {"sms-20240314.parts/0000008-2-IMG_0001.png": PNG}


def test_spilled_runs_merge_in_time_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [_sms("+31600000001" if i % 3 else "+31600000002", str(1_700_000_000_000 + ((i * 7919) % 101) * 1000), 1,
                  f"bericht {i}") for i in range(101)]
    path = tmp_path / "backup.xml"
    path.write_text(HEAD + '<smses count="101">\n' + "".join(lines) + "</smses>\n", encoding="utf-8")
    whole = parse(path)
    monkeypatch.setattr(sms_backup, "RUN_SIZE", 7)
    spilled = parse(path)
    assert [c.to_dict() for c in spilled] == [c.to_dict() for c in whole]
    for conversation in spilled:
        stamps = [m.timestamp for m in conversation.messages]
        assert stamps == sorted(stamps)
    assert Counter(len(c.messages) for c in spilled) == Counter([67, 34])


def test_dtd_and_entities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE smses [<!ENTITY boom "ha">]>\n<smses count="1">'
        + _sms("+31600000001", "1700000000000", 1, "&boom;") + "</smses>\n",
        encoding="utf-8",
    )
    export = open_export([path])
    with pytest.raises(UnsafeXml, match="DTD"):
        sms_backup.FORMAT.parse_all(export, ParseOptions())


def test_backup_damaged_before_its_end_is_one_input_error(tmp_path: Path) -> None:
    path = _backup(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'body="Goedemorgen', b'body=Goedemorgen', 1))  # not cut short: damaged inside
    export = open_export([path])
    with pytest.raises(InputError, match="not well-formed XML"):
        sms_backup.FORMAT.parse_all(export, ParseOptions())


def test_other_xml_is_not_an_sms_backup(tmp_path: Path) -> None:
    path = tmp_path / "calls.xml"
    path.write_text('<?xml version="1.0"?><calls count="0"></calls>', encoding="utf-8")
    assert sms_backup.FORMAT.score(open_export([path])) == 0.0


@pytest.mark.parametrize("chunk", [1, 3, 7, 16, 64, 1 << 20])
def test_repair_is_independent_of_chunk_boundaries(chunk: int) -> None:
    document = b'<smses><sms body="a &#55357;&#56832;&#1; &#xD83D;&#xDE00;\x01 &#55357;x"/></smses>' * 3
    reader = RepairingReader(io.BytesIO(document), chunk=chunk)
    repaired = reader.read()
    assert repaired.count(b"&#128512;") == 6
    assert reader.repairs.surrogate_pairs_joined == 6
    assert reader.repairs.invalid_references_replaced == 6
    assert reader.repairs.control_bytes_replaced == 3


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=400))
def test_random_bytes_raise_only_input_errors(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "random.xml"
    path.write_bytes(b"<?xml version='1.0'?>\n<smses count=\"1\">" + data)
    export = open_export([path])
    sms_backup.FORMAT.score(export)
    try:
        sms_backup.FORMAT.parse_all(export, ParseOptions())
    except InputError:
        pass


_TOKENS = st.sampled_from(
    [b"&#55357;", b"&#56832;", b"&#xD83D;", b"&#xDE00;", b"&#10;", b"&#1;", b"&amp;", b"a", b" ", b"\x01", b"\xc3\xa9"]
)


@given(tokens=st.lists(_TOKENS, max_size=60), chunk=st.integers(min_value=1, max_value=40))
def test_repair_gives_the_same_bytes_for_any_chunking(tokens: list[bytes], chunk: int) -> None:
    document = b"".join(tokens)
    whole = RepairingReader(io.BytesIO(document), chunk=1 << 20)
    pieces = RepairingReader(io.BytesIO(document), chunk=chunk)
    assert pieces.read() == whole.read()
    assert pieces.repairs == whole.repairs


def test_damaged_first_element_takes_the_next_time_and_huge_dates_are_damaged(tmp_path: Path) -> None:
    path = tmp_path / "edge.xml"
    path.write_text(
        '<smses count="3" backup_date="1700000900000">'
        + _sms("+31600000001", "99999999999999999999999", 1, "te groot")
        + _sms("+31600000001", "1700000000000", 1, "goed")
        + _sms("+31600000002", "-5", 1, "negatief")
        + "</smses>",
        encoding="utf-8",
    )
    first, second = parse(path)
    assert [(m.kind.value, m.timestamp) for m in first.messages] == [
        ("unparsed", at_ms(1700000000000)), ("text", at_ms(1700000000000))
    ]
    assert first.source.inferred["unparsed_lines"][0]["reason"] == "date 99999999999999999999999 is outside the calendar"
    # a thread with no readable message at all: the backup's own date
    assert [(m.kind.value, m.timestamp) for m in second.messages] == [("unparsed", at_ms(1700000900000))]


def _as_the_app_writes(text: str) -> str:
    """An attribute value as SMS Backup & Restore writes it: XML escapes, and characters beyond the BMP as
    two surrogate character references."""
    out = []
    for ch in text:
        if ord(ch) > 0xFFFF:
            high, low = divmod(ord(ch) - 0x10000, 0x400)
            out.append(f"&#{0xD800 + high};&#{0xDC00 + low};")
        elif ch in '&<>"\n':
            out.append({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "&#10;"}[ch])
        else:
            out.append(ch)
    return "".join(out)


_BODY = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff") | st.just("\n"),
                max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chat=st.lists(st.tuples(st.integers(min_value=10**11, max_value=4_000_000_000_000), st.sampled_from([1, 2]),
                               _BODY), min_size=1, max_size=20))
def test_random_chats_written_as_the_app_writes_parse_back(tmp_path: Path, chat: list) -> None:
    body = "".join(_sms("+31600000001", str(ms), kind, _as_the_app_writes(text)) for ms, kind, text in chat)
    path = tmp_path / "sms.xml"
    path.write_text(HEAD + f'<smses count="{len(chat)}">\n{body}</smses>\n', encoding="utf-8")
    (conv,) = parse(path, tz="UTC")
    expected = sorted(((ms, i, kind, text) for i, (ms, kind, text) in enumerate(chat)))
    assert [(m.timestamp, m.sender, m.text) for m in conv.messages] == [
        (at_ms(ms), "Petra de Vries" if kind == 1 else "Ik", "" if text == "null" else text)
        for ms, _, kind, text in expected
    ]
