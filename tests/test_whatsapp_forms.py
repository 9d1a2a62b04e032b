"""WhatsApp breadth: every header form phones write, the markers of eight languages on both platforms,
day/month order with its evidence and the archivist's override, damaged lines kept as unparsed, and
`edepot parse` streaming the same document the parser builds. Strings are written here as a user's
export shows them (not taken from the parser's own phrase table)."""
from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from ingest.sources import parse_export
from ingest.sources.whatsapp import parse_chat_text
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "schemas" / "conversation.schema.json").read_text(encoding="utf-8"))
AMS = ZoneInfo("Europe/Amsterdam")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=AMS)


@pytest.mark.parametrize(
    ("line", "platform", "wall"),
    [
        ("[14.03.24, 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),
        ("[10:15:01, 3/14/24] Ann: hoi", "ios", "2024-03-14T10:15:01"),  # time first
        ("[2024/03/14 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),  # year first
        ("[3/14/2567 BE, 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),  # Buddhist era
        ("[3/14/R6, 10:15:01] Ann: hoi", "ios", "2024-03-14T10:15:01"),  # Japanese era Reiwa 6
        ("[۱۴/۳/۲۰۲۴، ۱۰:۱۵:۰۱] Ann: hoi", "ios", "2024-03-14T10:15:01"),  # Persian digits
        ("\u200f[١٤\u200f/٣\u200f/٢٠٢٤، ١٠:١٥:٠١\u00a0م] Ann: hoi", "ios", "2024-03-14T22:15:01"),  # Arabic PM
        ("\u200f[١٤\u200f/٣\u200f/٢٠٢٤، ١٢:٠٥:٠١\u00a0ص] Ann: hoi", "ios", "2024-03-14T00:05:01"),  # Arabic AM
        ("14.03.24, 10:15 - Ann: hoi", "android", "2024-03-14T10:15:00"),
        ("14/03/2024 10:15 - Ann: hoi", "android", "2024-03-14T10:15:00"),  # no comma
        ("14.3.2024 klo 10.15 - Ann: hoi", "android", "2024-03-14T10:15:00"),  # Finnish, dotted time
        ("14.3.2024 klo 10.15.01 - Ann: hoi", "android", "2024-03-14T10:15:01"),
        ("14/03/2024, 10:15 p. m. - Ann: hoi", "android", "2024-03-14T22:15:00"),  # Spanish 12-hour
        ("3/14/24, 10:15\u202fp.m. - Ann: hoi", "android", "2024-03-14T22:15:00"),
        ("14/03/2024, 12:15\u00a0am - Ann: hoi", "android", "2024-03-14T00:15:00"),
        ("2024-03-14 10:15 - Ann: hoi", "android", "2024-03-14T10:15:00"),
        ("2024. 3. 14. 오후 10:15 - Ann: hoi", "android", "2024-03-14T22:15:00"),  # Korean, marker first
        ("14-3-24 10:15 - Ann: hoi", "android", "2024-03-14T10:15:00"),
    ],
)
def test_header_forms(line: str, platform: str, wall: str) -> None:
    conv = parse_chat_text(line + "\n", "Europe/Amsterdam")
    jsonschema.validate(conv.to_dict(), SCHEMA)
    message = conv.messages[0]
    assert (message.sender, message.text, message.kind) == ("Ann", "hoi", MessageKind.TEXT)
    assert message.timestamp == at(wall)
    assert conv.source.platform == platform


ANDROID = {
    # language: (media omitted, file attached words, deleted by other, deleted by me, location word)
    "nl": ("<Media weggelaten>", "bestand bijgevoegd", "Dit bericht is verwijderd", "Je hebt dit bericht verwijderd", "locatie"),
    "en": ("<Media omitted>", "file attached", "This message was deleted", "You deleted this message", "location"),
    "de": ("<Medien ausgeschlossen>", "Datei angehängt", "Diese Nachricht wurde gelöscht", "Du hast diese Nachricht gelöscht", "Standort"),
    "fr": ("<Médias omis>", "fichier joint", "Ce message a été supprimé", "Vous avez supprimé ce message", "localisation"),
    "es": ("<Multimedia omitido>", "archivo adjunto", "Se eliminó este mensaje", "Eliminaste este mensaje", "ubicación"),
    "it": ("<Media omessi>", "file allegato", "Questo messaggio è stato eliminato", "Hai eliminato questo messaggio", "posizione"),
    "pt": ("<Arquivo de mídia oculto>", "arquivo anexado", "Esta mensagem foi apagada", "Você apagou esta mensagem", "localização"),
    "tr": ("<Medya dahil edilmedi>", "dosya ekli", "Bu mesaj silindi", "Bu mesajı sildiniz", "konum"),
}


@pytest.mark.parametrize("lang", sorted(ANDROID))
def test_android_markers_in_eight_languages(lang: str) -> None:
    omitted, attached, deleted, you_deleted, location = ANDROID[lang]
    text = "\n".join([
        "14/03/2024, 10:00 - Ann: gewoon tekst",
        f"14/03/2024, 10:01 - Ann: {omitted}",
        "onderschrift",
        f"14/03/2024, 10:02 - Bob: \u200eIMG-20240314-WA0001.jpg ({attached})",
        f"14/03/2024, 10:03 - Bob: \u200eVisitenkarte Jan.vcf ({attached})",
        f"14/03/2024, 10:04 - Ann: {deleted}",
        f"14/03/2024, 10:05 - Bob: {you_deleted}",
        f"14/03/2024, 10:06 - Ann: {location}: https://maps.google.com/?q=52.09,5.12",
        "14/03/2024, 10:07 - Ann: null",
        "14/03/2024, 10:08 - Bob toegevoegd / added / hinzugefügt",
    ]) + "\n"
    conv = parse_chat_text(text, "UTC", present=frozenset({"IMG-20240314-WA0001.jpg"}))
    got = [(m.sender, m.kind.value, m.text) for m in conv.messages]
    assert got == [
        ("Ann", "text", "gewoon tekst"),
        ("Ann", "media", "onderschrift"),
        ("Bob", "media", ""),
        ("Bob", "contact", ""),
        ("Ann", "deleted", deleted),
        ("Bob", "deleted", you_deleted),
        ("Ann", "location", f"{location}: https://maps.google.com/?q=52.09,5.12"),
        ("Ann", "media", ""),
        (None, "system", "Bob toegevoegd / added / hinzugefügt"),
    ]
    assert conv.messages[1].attachments[0].to_dict() == {"name": omitted, "present": False, "media_type": None,
                                                       "omitted": True}
    assert conv.messages[2].attachments[0].to_dict() == {
        "name": "IMG-20240314-WA0001.jpg", "present": True, "media_type": "image/jpeg"}
    assert conv.messages[3].attachments[0].media_type == "text/vcard"
    assert conv.source.locale == lang
    assert conv.source.inferred["view_once"]["seqs"] == [8]


IOS = {
    # language: (image omitted, document omitted, attached word, deleted by other, edited marker)
    "nl": ("afbeelding weggelaten", "document weggelaten", "bijgevoegd", "Dit bericht is verwijderd.", "<Dit bericht is bewerkt>"),
    "en": ("image omitted", "document omitted", "attached", "This message was deleted.", "<This message was edited>"),
    "de": ("Bild weggelassen", "Dokument weggelassen", "Anhang", "Diese Nachricht wurde gelöscht.", "<Diese Nachricht wurde bearbeitet>"),
    "fr": ("image absente", "document manquant", "pièce jointe", "Ce message a été supprimé.", "<Ce message a été modifié>"),
    "es": ("imagen omitida", "documento omitido", "adjunto", "Se eliminó este mensaje.", "<Se editó este mensaje.>"),
    "it": ("immagine omessa", "documento omesso", "allegato", "Questo messaggio è stato eliminato.", "<Questo messaggio è stato modificato>"),
    "pt": ("imagem ocultada", "documento omitido", "anexado", "Esta mensagem foi apagada.", "<Esta mensagem foi editada>"),
    "tr": ("görüntü dahil edilmedi", "belge dahil edilmedi", "eklendi", "Bu mesaj silindi.", "<Bu mesaj düzenlendi>"),
}


@pytest.mark.parametrize("lang", sorted(IOS))
def test_iphone_markers_in_eight_languages(lang: str) -> None:
    image, document, attached, deleted, edited = IOS[lang]
    lrm = "\u200e"
    text = "\r\n".join([
        f"[14/03/2024, 10:00:00] Raad: {lrm}Systeemregel van de app in elke taal",
        "[14/03/2024, 10:00:01] Ann: gewoon tekst",
        f"{lrm}[14/03/2024, 10:01:00] Ann: {lrm}{image}",
        f"{lrm}[14/03/2024, 10:02:00] Bob: Notulen.pdf • 3 pagina's {lrm}{document}",
        f"{lrm}[14/03/2024, 10:03:00] Bob: {lrm}<{attached}: 00000012-PHOTO-2024-03-14-10-03-00.jpg>",
        f"[14/03/2024, 10:04:00] Ann: {lrm}{deleted}",
        f"[14/03/2024, 10:05:00] Bob: aangepast {lrm}{edited}",
    ]) + "\r\n"
    conv = parse_chat_text(text, "UTC", title="Raad")
    got = [(m.sender, m.kind.value, m.text, m.edited) for m in conv.messages]
    assert got == [
        (None, "system", "Systeemregel van de app in elke taal", False),
        ("Ann", "text", "gewoon tekst", False),
        ("Ann", "media", "", False),
        ("Bob", "media", "Notulen.pdf • 3 pagina's", False),
        ("Bob", "media", "", False),
        ("Ann", "deleted", deleted, False),
        ("Bob", "text", "aangepast", True),
    ]
    assert [a.name for m in conv.messages for a in m.attachments] == [
        image, document, "00000012-PHOTO-2024-03-14-10-03-00.jpg"]
    assert conv.source.locale == lang


def test_day_month_order_decided_late_in_the_file_with_its_line() -> None:
    lines = [f"0{1 + i % 9}/01/2024, 10:{i % 60:02d} - Ann: bericht {i}" for i in range(300)]
    lines.append("02/13/2024, 10:00 - Ann: de dertiende februari")
    conv = parse_chat_text("\n".join(lines) + "\n", "UTC")
    assert conv.source.inferred["date_order"] == "MDY"
    assert conv.source.inferred["evidence"] == "day value 13 > 12 on line 301"


def test_archivist_overrides_the_order_and_both_are_recorded(tmp_path: Path) -> None:
    chat = tmp_path / "chat.txt"
    chat.write_text("01/02/2024, 10:00 - Ann: a\n01/03/2024, 10:00 - Ann: b\n", encoding="utf-8")
    inferred = parse_export([chat], tz="UTC")
    assert inferred.messages[0].timestamp.date().isoformat() == "2024-02-01"
    overruled = parse_export([chat], tz="UTC", date_order="MDY")
    assert overruled.messages[0].timestamp.date().isoformat() == "2024-01-02"
    facts = overruled.source.inferred
    assert facts["date_order"] == "MDY"
    assert facts["evidence"] == "set by the archivist (date order MDY)"
    assert facts["inferred_date_order"] == "DMY"
    # an order under which a date cannot exist turns that header into an unparsed line, not a crash
    chat.write_text("13/02/2024, 10:00 - Ann: a\n14/02/2024, 10:00 - Ann: b\n01/03/2024, 10:00 - Ann: c\n")
    conv = parse_export([chat], tz="UTC", date_order="MDY")
    assert [m.kind.value for m in conv.messages] == ["unparsed", "unparsed", "text"]
    assert [u["line"] for u in conv.source.inferred["unparsed_lines"]] == [1, 2]


def test_damaged_lines_are_kept_with_their_line_numbers() -> None:
    text = (
        "junk before the chat\n"
        "14-03-2024 10:15 - Ann: een\n"
        "14-03-2024 25:61 - Ann: kapotte tijd\n"
        "nog een regel\n"
        "14-03-2024 10:20 - Bob: twee\n"
        "14-03-2024 meeting op het stadhuis\n"  # a body line starting with a date stays text
        "[14-03-2024 10:21:00] Carol: een geciteerd iPhone-bericht\n"  # another form: quoted text
    )
    conv = parse_chat_text(text, "UTC")
    got = [(m.seq, m.kind.value, m.sender, m.text) for m in conv.messages]
    assert got == [
        (1, "unparsed", None, "junk before the chat"),
        (2, "text", "Ann", "een"),
        (3, "unparsed", None, "14-03-2024 25:61 - Ann: kapotte tijd\nnog een regel"),
        (4, "text", "Bob", "twee\n14-03-2024 meeting op het stadhuis\n[14-03-2024 10:21:00] Carol: een geciteerd iPhone-bericht"),
    ]
    assert [(u["seq"], u["line"]) for u in conv.source.inferred["unparsed_lines"]] == [(1, 1), (3, 3)]
    assert conv.messages[0].timestamp == conv.messages[1].timestamp
    jsonschema.validate(conv.to_dict(), SCHEMA)


def test_only_damaged_headers_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no readable WhatsApp message header"):
        parse_chat_text("31-02-2024 10:15 - Ann: a\n30-02-2024 10:16 - Bob: b\n", "UTC")
    with pytest.raises(InputError, match="no WhatsApp message header"):
        parse_chat_text("boodschappen: melk\n", "UTC")


def test_blocks_split_anywhere_give_the_same_messages(tmp_path: Path) -> None:
    from ingest.sources.whatsapp import text_blocks

    text = "".join(
        f"{1 + i % 28:02d}-03-2024 10:{i % 60:02d} - P{i % 3}: regel {i} €\n" + ("vervolg\n" if i % 4 == 0 else "")
        for i in range(400)
    )
    path = tmp_path / "chat.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    whole = parse_chat_text(text, "UTC")
    for size in (7, 64, 1000):
        with open(path, "rb") as handle:
            blocks = list(text_blocks(handle, "chat.txt", block_bytes=size))
        assert "\n".join(blocks) == text.replace("\r\n", "\n").rstrip("\n")
        from ingest.sources.base import ParseOptions
        from ingest.sources.whatsapp import ChatReader

        reader = ChatReader(lambda b=blocks: iter(b), ParseOptions(tz="UTC"), frozenset(), None)
        reader.prepare(())
        assert [(m.timestamp, m.sender, m.text) for m in reader.messages()] == [
            (m.timestamp, m.sender, m.text) for m in whole.messages]


def test_cli_streams_the_document_the_parser_builds(tmp_path: Path) -> None:
    chat = tmp_path / "WhatsApp Chat met Raad.txt"
    chat.write_text(
        "01/02/2024, 10:00 - Ann: a\n01/03/2024, 10:00 - Ann: <Media weggelaten>\nbijschrift\n"
        "01/03/2024, 25:00 - Ann: kapot\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "edepot.cli", "parse", str(chat), "--tz", "UTC",
                             "--date-order", "MDY"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA)
    expected = parse_export([chat], tz="UTC", date_order="MDY")
    assert document == expected.to_dict()
    assert Conversation.from_dict(document) == expected
    bad = subprocess.run([sys.executable, "-m", "edepot.cli", "parse", str(chat), "--date-order", "DDMM"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_two_core_reading_writes_the_same_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from ingest.sources import ParseOptions, stream_export
    from ingest.sources.whatsapp_parallel import MessageStream
    from kernel.model import write_conversations_json

    rows = []
    for i in range(3000):
        day, minute = 23 + i // 600, i % 60
        rows.append(f"{day:02d}/10/2024, 02:{minute:02d} - {'Ann' if i % 3 else 'Bob'}: regel {i}")
        if i % 7 == 0:
            rows.append("vervolg met 27/10/2024 erin")
        if i % 500 == 250:
            rows.append(f"{day:02d}/10/2024, 26:{minute:02d} - Ann: kapot")
        if i % 400 == 3:
            rows.append(f"{day:02d}/10/2024, 02:{minute:02d} - Bob: null")
    chat = tmp_path / "chat.txt"
    chat.write_text("\n".join(rows) + "\n", encoding="utf-8")
    zipped = tmp_path / "WhatsApp Chat - Ann.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(chat, "_chat.txt")

    def document(threshold: int, export: Path = chat) -> dict:
        monkeypatch.setattr(MessageStream, "threshold", threshold)
        streams = stream_export([export], ParseOptions(tz="Europe/Amsterdam"))
        out = io.StringIO()
        write_conversations_json(((s.head, s.messages) for s in streams), len(streams), out)
        return json.loads(out.getvalue())

    one, two = document(10**12), document(1000)
    assert two == one
    monkeypatch.setattr(MessageStream, "threshold", 1000)  # into a real file: the second half is sendfile'd
    streams = stream_export([chat], ParseOptions(tz="Europe/Amsterdam"))
    with open(tmp_path / "out.json", "w", encoding="utf-8") as out:
        write_conversations_json(((s.head, s.messages) for s in streams), len(streams), out)
    assert json.loads((tmp_path / "out.json").read_text(encoding="utf-8")) == one
    from ingest.sources import whatsapp_parallel

    halves = []
    two_halves = whatsapp_parallel._two_halves
    monkeypatch.setattr(whatsapp_parallel, "_two_halves", lambda *args: halves.append(args[1]) or two_halves(*args))
    zipped_one, zipped_two = document(10**12, zipped), document(1000, zipped)  # a zipped text is unpacked first
    assert len(halves) == 1 and halves[0].name == "chat.txt" and not halves[0].exists()  # temporary, removed
    assert zipped_two == zipped_one
    assert zipped_one["messages"] == one["messages"]
    assert len(one["messages"]) == len(rows) - 3000 // 7 - 1
    assert len(one["source"]["inferred"]["unparsed_lines"]) == 6
    assert one["source"]["inferred"]["dst"]  # 27 October 02:xx happens twice in Amsterdam
    assert [m["seq"] for m in one["messages"]] == list(range(1, len(one["messages"]) + 1))
