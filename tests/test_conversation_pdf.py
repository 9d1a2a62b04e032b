"""The PDF/A-2b reading copy of a conversation, and the PDF/A check."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from kernel.model import Attachment, Conversation, Custodian, Message, MessageKind, Source, participants_of
from preservation.normalise import conversation_pdf
from preservation.normalise.conversation_pdf import (
    ZERO_WIDTH_SPACE,
    RenderContext,
    add_break_opportunities,
    clean_text,
    dutch_date,
    group_by_day,
    is_right_to_left,
    message_weight,
    plan_chunks,
    render_conversation_pdf,
    utc_offset_label,
)
from preservation.pdfa_check import check_pdfa

pypdf = pytest.importorskip("pypdf")

CET = timezone(timedelta(hours=1))
SPECIAL = "#let x = 1 $math$ *bold* _it_ @ref <label> \\ ]"
ARABIC = "مرحبا بالعالم"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, second, tzinfo=CET)


def build_conversation() -> Conversation:
    messages = [
        Message(1, at(14, 9, 1, 2), None, MessageKind.SYSTEM, "Berichten zijn end-to-end versleuteld."),
        Message(2, at(14, 9, 2), "Anna de Vries", MessageKind.TEXT, "Feest! 👍🎉"),
        Message(3, at(14, 9, 3), "Bram", MessageKind.TEXT, SPECIAL),
        Message(4, at(14, 9, 4), "Chris", MessageKind.TEXT, ARABIC, edited=True),
        Message(5, at(14, 9, 5), "Bram", MessageKind.DELETED, ""),
        Message(6, at(15, 10, 0), "Chris", MessageKind.LOCATION, "https://maps.google.com/?q=52.37,4.89"),
        Message(7, at(15, 10, 1), "Anna de Vries", MessageKind.MEDIA, "",
                (Attachment("IMG-0001.jpg", True, "image/jpeg"),)),
        Message(8, at(15, 10, 2), "Bram", MessageKind.MEDIA, "",
                (Attachment("PTT-0001.opus", True, "audio/ogg"), Attachment("IMG-0002.jpg", False, "image/jpeg"))),
        Message(9, at(15, 10, 3), "Anna de Vries", MessageKind.TEXT,
                "Zie https://example.org/" + "pad/" * 40 + "einde voor de stukken."),
    ]
    source = Source(format="whatsapp", platform="ios", locale="nl", timezone="Europe/Amsterdam")
    return Conversation(source, participants_of(messages), tuple(messages), title="Raadsgroep")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("media")
    Image.new("RGB", (640, 480), (180, 40, 40)).save(folder / "IMG-0001.jpg", "JPEG")
    (folder / "PTT-0001.opus").write_bytes(b"OggS\x00\x02voice")
    media = {"IMG-0001.jpg": folder / "IMG-0001.jpg", "PTT-0001.opus": folder / "PTT-0001.opus"}
    context = RenderContext(title="Chat raadsgroep maart 2024", identifier="NL-GEM-2024-0001",
                            archiefvormer="Gemeente Voorbeeld",
                            description_rows=(("Waardering", "Tijdelijk te bewaren"),),
                            created=datetime(2024, 5, 1, tzinfo=timezone.utc))
    return render_conversation_pdf(build_conversation(), media, context)


@pytest.fixture(scope="module")
def reader(rendered: bytes) -> "pypdf.PdfReader":
    return pypdf.PdfReader(io.BytesIO(rendered))


@pytest.fixture(scope="module")
def text(reader: "pypdf.PdfReader") -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_rendering_is_pdfa_2b(rendered: bytes) -> None:
    report = check_pdfa(rendered)
    assert (report.part, report.conformance) == (2, "B")
    assert report.has_output_intent
    assert report.fonts_embedded and report.unembedded_fonts == ()
    assert not report.encrypted
    assert report.ok, report.problems


def test_text_holds_senders_special_characters_dates_and_page_numbers(text: str) -> None:
    for sender in ("Anna de Vries", "Bram", "Chris"):
        assert sender in text
    assert SPECIAL in text
    assert "donderdag 14 maart 2024" in text and "vrijdag 15 maart 2024" in text
    assert "pagina 1 van" in text
    assert "09:01:02" in text and "Berichten zijn end-to-end versleuteld." in text
    assert "Dit bericht is verwijderd" in text
    assert "bewerkt" in text
    assert "https://maps.google.com/" in text
    assert "IMG-0002.jpg: niet meegeëxporteerd" in text
    assert "PTT-0001.opus" in text and "sha256" in text
    assert "Gemeente Voorbeeld" in text and "NL-GEM-2024-0001" in text and "Tijdelijk te bewaren" in text


def test_arabic_and_emoji_are_present(text: str) -> None:
    for word in ARABIC.split():
        assert word in text
    assert "👍" in text and "🎉" in text


def test_outline_has_one_entry_per_day(reader: "pypdf.PdfReader") -> None:
    titles = [item["/Title"] for item in reader.outline]
    assert titles == ["donderdag 14 maart 2024", "vrijdag 15 maart 2024"]


def test_image_is_embedded_and_page_count_is_sensible(rendered: bytes) -> None:
    with pikepdf.open(io.BytesIO(rendered)) as pdf:
        assert 2 <= len(pdf.pages) <= 4
        images = [
            xobject
            for page in pdf.pages
            for xobject in _xobjects(page.obj.get("/Resources"))
            if xobject.get("/Subtype") == "/Image" and int(xobject.get("/Width", 0)) == 640
        ]
        assert images
        assert pdf.docinfo.get("/Author") == "Gemeente Voorbeeld"
        assert pdf.docinfo.get("/Title") == "Chat raadsgroep maart 2024"


def test_a_big_photo_is_shown_reduced_with_a_note_and_stays_whole_in_the_media(tmp_path) -> None:
    photo = tmp_path / "IMG-0001.jpg"
    Image.new("RGB", (4000, 3000), (40, 90, 160)).save(photo, "JPEG", quality=95)
    original = photo.read_bytes()
    conversation = Conversation(build_conversation().source, (), build_conversation().messages[6:7])
    pdf_bytes = render_conversation_pdf(conversation, {"IMG-0001.jpg": photo},
                                        RenderContext(title="Foto", identifier="X", archiefvormer="Gemeente"))
    assert photo.read_bytes() == original
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        sizes = [(int(x["/Width"]), int(x["/Height"])) for page in pdf.pages
                 for x in _xobjects(page.obj.get("/Resources")) if x.get("/Subtype") == "/Image"]
    assert (1600, 1200) in sizes and not any(w > 1600 for w, _h in sizes)
    shown = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert "verkleind weergegeven; origineel 4000×3000 pixels" in shown
    assert check_pdfa(pdf_bytes).ok


def test_photos_of_several_folders_and_names_are_all_shown_inline(tmp_path: Path) -> None:
    """Photos are reached through a link to their folder when the name gives their format, through their own
    link otherwise: every kind is shown."""
    photos = {"IMG 0001 (kopie) #2.jpg": ("a", "JPEG", 301), "IMG-0002.jpeg": ("a", "JPEG", 302),
              "STICKER.png": ("b", "PNG", 303), "IMG-0003.jpg": ("b", "JPEG", 304), "photo": ("b", "JPEG", 305)}
    media = {}
    for name, (folder, kind, width) in photos.items():
        (tmp_path / folder).mkdir(exist_ok=True)
        Image.new("RGB", (width, 200), (width % 256, 60, 90)).save(tmp_path / folder / name, kind)
        media[name] = tmp_path / folder / name
    messages = tuple(Message(n, at(15, 10, n), "Anna", MessageKind.MEDIA, "", (Attachment(name, True, "image/jpeg"),))
                     for n, name in enumerate(photos, start=1))
    conversation = Conversation(build_conversation().source, participants_of(messages), messages)
    pdf_bytes = render_conversation_pdf(conversation, media, RenderContext(title="Foto's", identifier="X",
                                                                           archiefvormer="Gemeente"))
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        widths = {int(x["/Width"]) for page in pdf.pages for x in _xobjects(page.obj.get("/Resources"))
                  if x.get("/Subtype") == "/Image"}
    assert {width for _folder, _kind, width in photos.values()} <= widths


def _xobjects(resources: object, depth: int = 0) -> list:
    if resources is None or depth > 4:
        return []
    found = []
    for xobject in (resources.get("/XObject") or {}).values():  # type: ignore[attr-defined]
        found.append(xobject)
        if xobject.get("/Subtype") == "/Form":
            found.extend(_xobjects(xobject.get("/Resources"), depth + 1))
    return found


def test_same_input_gives_same_bytes() -> None:
    conversation = Conversation(build_conversation().source, (), build_conversation().messages[:3])
    context = RenderContext("t", "k", "a", created=datetime(2024, 5, 1, tzinfo=timezone.utc))
    assert render_conversation_pdf(conversation, {}, context) == render_conversation_pdf(conversation, {}, context)


def test_check_pdfa_reports_problems_for_a_plain_pdf() -> None:
    plain = pikepdf.new()
    plain.add_blank_page()
    buffer = io.BytesIO()
    plain.save(buffer)
    report = check_pdfa(buffer.getvalue())
    assert not report.ok
    assert report.part is None and not report.has_output_intent
    assert any("XMP" in problem for problem in report.problems)


def test_check_pdfa_reports_unreadable_bytes() -> None:
    assert not check_pdfa(b"this is no pdf").ok


# Data preparation


def test_dutch_date_and_offset() -> None:
    assert dutch_date(date(2024, 3, 14)) == "donderdag 14 maart 2024"
    assert utc_offset_label(at(14, 9)) == "UTC+01:00"
    assert utc_offset_label(datetime(2024, 1, 1, tzinfo=timezone.utc)) == "UTC"


def test_group_by_day_keeps_export_order() -> None:
    groups = group_by_day(build_conversation().messages)
    assert [g.day for g in groups] == [date(2024, 3, 14), date(2024, 3, 15)]
    assert [len(g.messages) for g in groups] == [5, 4]


def test_plan_chunks_splits_big_days_and_marks_continuations() -> None:
    messages = [Message(i, at(14, 9) + timedelta(seconds=i), "A", MessageKind.TEXT, "x") for i in range(1, 26)]
    messages += [Message(100 + i, at(15, 9) + timedelta(seconds=i), "A", MessageKind.TEXT, "y") for i in range(5)]
    chunks = plan_chunks(group_by_day(messages), limit=10)
    assert [sum(len(p.messages) for p in c) for c in chunks] == [10, 10, 10]
    assert [p.continued for c in chunks for p in c] == [False, True, True, False]


def test_an_image_weighs_by_the_pixels_it_shows_so_small_ones_share_a_chunk() -> None:
    sticker = Attachment("STK-0001.webp", True, "image/webp")
    photo = Attachment("IMG-0001.jpg", True, "image/jpeg")
    message = Message(1, at(14, 9), "A", MessageKind.MEDIA, "", (sticker, photo))
    assert message_weight(message) == 51  # not opened yet: every image as a full one
    assert message_weight(message, {"STK-0001.webp": 32 * 24, "IMG-0001.jpg": 1600 * 1200}) == 27
    assert message_weight(message, {}) == 1  # neither shown inline (absent, or not an image after all)
    small = [Message(i, at(14, 9) + timedelta(seconds=i), "A", MessageKind.MEDIA, "", (sticker,)) for i in range(200)]
    assert len(plan_chunks(group_by_day(small), limit=4000, weigh=lambda m: message_weight(m, {sticker.name: 768}))) == 1
    assert len(plan_chunks(group_by_day(small), limit=4000)) == 2


def test_long_words_get_break_opportunities_short_ones_stay() -> None:
    assert add_break_opportunities("gewoon een zin") == "gewoon een zin"
    url = "https://example.org/" + "a" * 200
    broken = add_break_opportunities(url)
    assert broken.replace(ZERO_WIDTH_SPACE, "") == url
    assert all(len(part) <= 40 for part in broken.split(ZERO_WIDTH_SPACE))


def test_right_to_left_detection_and_missing_glyphs() -> None:
    assert is_right_to_left(ARABIC) and is_right_to_left("שלום") and not is_right_to_left("hallo")
    assert clean_text("a中b\r\nc", covered={ord("a"), ord("b"), ord("c")}) == "a[U+4E2D]b\nc"


ALDERMEN = ("Wethouder Bakker", "Wethouder Claes", "Wethouder Dekker")
ARABIC_PLACEHOLDER = "لم يتم إدراج المستند"  # an iPhone in Arabic: "document omitted"


def selection_of_a_long_group_chat() -> Conversation:
    """A group chat from the phone of the burgemeester ("Ik"), to the minute (no seconds), in which messages
    4-6 and the last one were left out; lengths vary so that many messages meet the foot of a page."""
    import random

    rng = random.Random(15)
    messages = [Message(1, at(14, 8, 0), "Ik", MessageKind.TEXT, "Goedemorgen college."),
                Message(2, at(14, 8, 1), "Griffier", MessageKind.TEXT, "Ik stuur de stukken."),
                Message(3, at(14, 8, 2), ALDERMEN[0], MessageKind.MEDIA, "Begroting.pdf",
                        (Attachment(ARABIC_PLACEHOLDER, False, None),))]
    for seq in range(7, 110):
        words = " ".join(rng.choice(("marktplein", "vergunning", "raad", "begroting")) for _ in range(
            rng.choice((2, 12, 40, 90))))
        messages.append(Message(seq, at(14 + seq // 60, 9 + (seq % 60) // 10, seq % 10 * 5),
                                rng.choice(("Ik", *ALDERMEN)), MessageKind.TEXT, words.capitalize()))
    source = Source(format="whatsapp", platform="ios", locale="nl", timezone="Europe/Amsterdam")
    conversation = Conversation(source, participants_of(messages), tuple(messages), title="College")
    return conversation.with_custodian(Custodian("A. de Burgemeester", "burgemeester"))


@pytest.fixture(scope="module")
def selection_pages() -> list[str]:
    context = RenderContext(title="College", identifier="GM-2024-0042", archiefvormer="Gemeente Voorbeeld",
                            created=datetime(2024, 5, 1, tzinfo=timezone.utc), export_messages=110)
    pdf = render_conversation_pdf(selection_of_a_long_group_chat(), {}, context)
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_every_message_shows_its_number_and_every_page_the_kenmerk(selection_pages: list[str]) -> None:
    text = "\n".join(selection_pages)
    assert len(selection_pages) > 5 and all("Kenmerk GM-2024-0042" in page for page in selection_pages)
    for seq in (1, 2, 3, 7, 100, 109):
        assert f"· bericht {seq}" in text
    assert "08:02 · bericht 3" in text and "08:02:00" not in text  # to the minute, as the export gives it


def test_left_out_messages_show_as_a_gap_with_their_number(selection_pages: list[str]) -> None:
    text = "\n".join(selection_pages)
    assert "— 3 berichten niet opgenomen —" in text  # 4, 5 and 6
    assert selection_pages[-1].rstrip().splitlines()[-3:].count("— 1 bericht niet opgenomen —") == 1  # 110, at the end
    assert "genummerd zoals in de export, tot en met 110" in text


def test_the_title_page_names_the_custodian_and_counts_in_good_dutch(selection_pages: list[str]) -> None:
    title = selection_pages[0]
    assert "A. de Burgemeester (burgemeester) (in de export: Ik)" in title
    assert "Griffier (1 bericht)" in title and "(1 berichten)" not in title
    assert "Ik (" not in title  # the export's "Ik" is the custodian by name everywhere


def test_a_placeholder_in_another_language_is_not_shown_as_a_file_name(selection_pages: list[str]) -> None:
    text = "\n".join(selection_pages)
    assert "Bijlage niet meegeëxporteerd" in text and ARABIC_PLACEHOLDER not in text


def test_no_sender_line_stays_alone_at_the_foot_of_a_page(selection_pages: list[str]) -> None:
    header = re.compile(r"^(A\. de Burgemeester|Griffier|Wethouder \w+)\s*\d\d:\d\d · bericht \d+$")
    for page in selection_pages[1:-1]:
        lines = [line.strip() for line in page.splitlines()
                 if line.strip() and not line.startswith(("Kenmerk ", "pagina "))]
        assert not header.match(lines[-1]), lines[-3:]


def test_an_arabic_iphone_export_shows_its_left_out_files_as_not_exported(shared: Path) -> None:
    from ingest.sources import parse_export

    conversation = parse_export([shared / "corpus" / "whatsapp-ios-ar-whats_json" / "arabic_ios.txt"])
    markers = {a.name for m in conversation.messages for a in m.attachments if not a.present}
    context = RenderContext(title="Arabisch", identifier="AR-1", archiefvormer="Gemeente Voorbeeld",
                            created=datetime(2024, 5, 1, tzinfo=timezone.utc))
    pdf = render_conversation_pdf(conversation, {}, context)
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert text.count("Bijlage niet meegeëxporteerd") == sum(
        1 for m in conversation.messages for a in m.attachments if not a.present) >= 10
    assert markers and not any(marker in text for marker in markers)
    assert "21:41:35 · bericht 2" in text  # this export gives seconds, so they are shown


def test_an_attachment_identified_as_no_image_is_listed_without_being_opened(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest knows each file's format already: thousands of PDFs in a chat are not opened once more to learn
    that they are no image; a file of no known format is still looked at."""
    Image.new("RGB", (300, 200), (10, 60, 90)).save(tmp_path / "IMG-0001.jpg", "JPEG")
    (tmp_path / "Stuk.pdf").write_bytes(b"%PDF-1.4\n% not shown inline\n")
    (tmp_path / "Nota.pdf").write_bytes(b"%PDF-1.4\n% of no known format\n")
    media = {name: tmp_path / name for name in ("IMG-0001.jpg", "Stuk.pdf", "Nota.pdf")}
    messages = tuple(Message(n, at(15, 10, n), "Anna", MessageKind.MEDIA, "", (Attachment(name, True, None),))
                     for n, name in enumerate(media, start=1))
    opened: list[str] = []
    real_is_pdf = conversation_pdf._is_pdf
    monkeypatch.setattr(conversation_pdf, "_is_pdf", lambda path: (opened.append(path.name), real_is_pdf(path))[1])
    pdf_bytes = render_conversation_pdf(
        Conversation(build_conversation().source, participants_of(messages), messages), media,
        RenderContext(title="Stukken", identifier="X", archiefvormer="Gemeente"),
        known_formats={media["IMG-0001.jpg"]: "image/jpeg", media["Stuk.pdf"]: "application/pdf"})
    assert "Stuk.pdf" not in opened and "Nota.pdf" in opened
    shown = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf_bytes)).pages)
    assert "Stuk.pdf" in shown and hashlib.sha256((tmp_path / "Stuk.pdf").read_bytes()).hexdigest()[:16] in \
        shown.replace("\n", "")
    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        widths = {int(x["/Width"]) for page in pdf.pages for x in _xobjects(page.obj.get("/Resources"))
                  if x.get("/Subtype") == "/Image"}
    assert 300 in widths
