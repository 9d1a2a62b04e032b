"""WhatsApp in Italian: an Android and an iPhone export holding every marker the app writes (media
omitted with and without caption, attachments present, contact cards, deleted by others and by me,
edited, polls, locations, live location, view-once, missed calls, system lines) parse to the right
kind, sender, text and attachments, and the phone's language is told as "it"."""
from __future__ import annotations

from pathlib import Path

from tests.whatsapp_phrase_chats import LRM, Expect, android_export, check, iphone_export, notice_without_marks

ANDROID = [
    ("I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, nemmeno "
     "WhatsApp, può leggerne o ascoltarne il contenuto. Tocca per saperne di più.",
     Expect(None, "system", "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa "
            "chat, nemmeno WhatsApp, può leggerne o ascoltarne il contenuto. Tocca per saperne di più.")),
    ("Giulia: Buongiorno", Expect("Giulia", "text", "Buongiorno")),
    ("Giulia: <Media omessi>", Expect("Giulia", "media", "", (("<Media omessi>", False),))),
    ("Giulia: <Media omessi>\nil verbale di ieri", Expect("Giulia", "media", "il verbale di ieri", (("<Media omessi>", False),))),
    (f"Marco: {LRM}IMG-20240314-WA0001.jpg (file allegato)\nla sala consiliare",
     Expect("Marco", "media", "la sala consiliare", (("IMG-20240314-WA0001.jpg", True),))),
    (f"Marco: {LRM}Luca Bianchi.vcf (file allegato)", Expect("Marco", "contact", "", (("Luca Bianchi.vcf", True),))),
    ("Giulia: Questo messaggio è stato eliminato", Expect("Giulia", "deleted", "Questo messaggio è stato eliminato")),
    ("Marco: Hai eliminato questo messaggio", Expect("Marco", "deleted", "Hai eliminato questo messaggio")),
    ("Giulia: Ci vediamo alle 10 <Questo messaggio è stato modificato>",
     Expect("Giulia", "text", "Ci vediamo alle 10", edited=True)),
    ("Marco: SONDAGGIO:\nQuale giorno?\nOPZIONE: lunedì (2 voti)\nOPZIONE: martedì (0 voti)",
     Expect("Marco", "poll", "SONDAGGIO:\nQuale giorno?\nOPZIONE: lunedì (2 voti)\nOPZIONE: martedì (0 voti)")),
    ("Giulia: posizione: https://maps.google.com/?q=41.8933,12.4829",
     Expect("Giulia", "location", "posizione: https://maps.google.com/?q=41.8933,12.4829")),
    ("Giulia: posizione attuale condivisa", Expect("Giulia", "location", "posizione attuale condivisa")),
    ("Marco: null", Expect("Marco", "media", "", (("", False),))),  # a view-once photo
    ("Giulia: Chiamata vocale persa", Expect("Giulia", "call", "Chiamata vocale persa")),
    ("Marco ha aggiunto Carla", Expect(None, "system", "Marco ha aggiunto Carla")),
]

IPHONE = [
    (f"Raad: {LRM}I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, "
     "nemmeno WhatsApp, può leggerne o ascoltarne il contenuto.",
     Expect(None, "system", "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa "
            "chat, nemmeno WhatsApp, può leggerne o ascoltarne il contenuto.")),
    ("Giulia: Buongiorno", Expect("Giulia", "text", "Buongiorno")),
    (f"Giulia: {LRM}immagine omessa", Expect("Giulia", "media", "", (("immagine omessa", False),))),
    (f"Marco: {LRM}video omesso", Expect("Marco", "media", "", (("video omesso", False),))),
    (f"Giulia: {LRM}audio omesso", Expect("Giulia", "media", "", (("audio omesso", False),))),
    (f"Marco: {LRM}Scheda contatto omessa", Expect("Marco", "contact", "", (("Scheda contatto omessa", False),))),
    (f"Giulia: {LRM}sticker non incluso", Expect("Giulia", "media", "", (("sticker non incluso", False),))),
    (f"Marco: {LRM}GIF esclusa", Expect("Marco", "media", "", (("GIF esclusa", False),))),
    (f"Giulia: Verbale consiglio.pdf • 3 pagine {LRM}documento omesso",
     Expect("Giulia", "media", "Verbale consiglio.pdf • 3 pagine", (("documento omesso", False),))),
    (f"Marco: {LRM}immagine omessa\nla facciata", Expect("Marco", "media", "la facciata", (("immagine omessa", False),))),
    (f"Marco: {LRM}<allegato: 00000012-PHOTO-2024-03-14-10-10-00.jpg>",
     Expect("Marco", "media", "", (("00000012-PHOTO-2024-03-14-10-10-00.jpg", True),))),
    (f"Giulia: {LRM}<allegato: 00000013-Luca Bianchi.vcf>",
     Expect("Giulia", "contact", "", (("00000013-Luca Bianchi.vcf", True),))),
    (f"Marco: {LRM}Questo messaggio è stato eliminato.", Expect("Marco", "deleted", "Questo messaggio è stato eliminato.")),
    (f"Giulia: {LRM}Hai eliminato questo messaggio.", Expect("Giulia", "deleted", "Hai eliminato questo messaggio.")),
    (f"Marco: D'accordo {LRM}<Questo messaggio è stato modificato>", Expect("Marco", "text", "D'accordo", edited=True)),
    ("Giulia: Posizione: https://maps.google.com/?q=41.8933,12.4829",
     Expect("Giulia", "location", "Posizione: https://maps.google.com/?q=41.8933,12.4829")),
    (f"Marco: {LRM}Videochiamata persa", Expect("Marco", "call", "Videochiamata persa")),
    ("Giulia: SONDAGGIO:\nQuale giorno?\nOPZIONE: lunedì (1 voto)",
     Expect("Giulia", "poll", "SONDAGGIO:\nQuale giorno?\nOPZIONE: lunedì (1 voto)")),
    (f"Raad: {LRM}Il tuo codice di sicurezza con Marco è cambiato. Tocca per saperne di più.",
     Expect(None, "system", "Il tuo codice di sicurezza con Marco è cambiato. Tocca per saperne di più.")),
]


def test_android_export_in_italian(tmp_path: Path) -> None:
    export = android_export(tmp_path, ANDROID, {"IMG-20240314-WA0001.jpg": b"\xff\xd8\xff", "Luca Bianchi.vcf": b"BEGIN:VCARD"})
    conversation = check(export, ANDROID, "it", "android")
    assert conversation.source.inferred["view_once"]["seqs"] == [13]


def test_iphone_export_in_italian(tmp_path: Path) -> None:
    export = iphone_export(tmp_path, IPHONE, {
        "00000012-PHOTO-2024-03-14-10-10-00.jpg": b"\xff\xd8\xff", "00000013-Luca Bianchi.vcf": b"BEGIN:VCARD"})
    check(export, IPHONE, "it", "ios")


def test_iphone_encryption_notice_without_marks_is_a_system_line(tmp_path: Path) -> None:
    notice = "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, nemmeno WhatsApp, può leggerne o ascoltarne il contenuto."
    conversation = notice_without_marks(tmp_path, notice)
    assert [(m.sender, m.kind.value, m.text) for m in conversation.messages] == [
        (None, "system", notice), ("Elon", "text", "Hola")]
