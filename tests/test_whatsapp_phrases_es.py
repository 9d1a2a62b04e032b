"""WhatsApp in Spanish: an Android and an iPhone export holding every marker the app writes (media
omitted with and without caption, attachments present, contact cards, deleted by others and by me,
edited, polls, locations, live location, view-once, missed calls, system lines) parse to the right
kind, sender, text and attachments, and the phone's language is told as "es"."""
from __future__ import annotations

from pathlib import Path

from tests.whatsapp_phrase_chats import LRM, Expect, android_export, check, iphone_export, notice_without_marks

ANDROID = [
    ("Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni siquiera "
     "WhatsApp, puede leerlos ni escucharlos. Toca para obtener más información.",
     Expect(None, "system", "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este "
            "chat, ni siquiera WhatsApp, puede leerlos ni escucharlos. Toca para obtener más información.")),
    ("Ana: Buenos días", Expect("Ana", "text", "Buenos días")),
    ("Ana: <Multimedia omitido>", Expect("Ana", "media", "", (("<Multimedia omitido>", False),))),
    ("Ana: <Multimedia omitido>\nel acta de ayer", Expect("Ana", "media", "el acta de ayer", (("<Multimedia omitido>", False),))),
    (f"Luis: {LRM}IMG-20240314-WA0001.jpg (archivo adjunto)\nla sala del pleno",
     Expect("Luis", "media", "la sala del pleno", (("IMG-20240314-WA0001.jpg", True),))),
    (f"Luis: {LRM}Juan Pérez.vcf (archivo adjunto)", Expect("Luis", "contact", "", (("Juan Pérez.vcf", True),))),
    ("Ana: Se eliminó este mensaje.", Expect("Ana", "deleted", "Se eliminó este mensaje.")),
    ("Luis: Eliminaste este mensaje.", Expect("Luis", "deleted", "Eliminaste este mensaje.")),
    ("Ana: Nos vemos a las 10 <Se editó este mensaje.>", Expect("Ana", "text", "Nos vemos a las 10", edited=True)),
    ("Luis: ENCUESTA:\n¿Qué día?\nOPCIÓN: lunes (2 votos)\nOPCIÓN: martes (0 votos)",
     Expect("Luis", "poll", "ENCUESTA:\n¿Qué día?\nOPCIÓN: lunes (2 votos)\nOPCIÓN: martes (0 votos)")),
    ("Ana: ubicación: https://maps.google.com/?q=40.4168,-3.7038",
     Expect("Ana", "location", "ubicación: https://maps.google.com/?q=40.4168,-3.7038")),
    ("Ana: ubicación en tiempo real compartida", Expect("Ana", "location", "ubicación en tiempo real compartida")),
    ("Luis: null", Expect("Luis", "media", "", (("", False),))),  # a view-once photo
    ("Ana: Llamada de voz perdida", Expect("Ana", "call", "Llamada de voz perdida")),
    ("Luis creó el grupo \"Raad\"", Expect(None, "system", "Luis creó el grupo \"Raad\"")),
]

IPHONE = [
    (f"Raad: {LRM}Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni "
     "siquiera WhatsApp, puede leerlos ni escucharlos.",
     Expect(None, "system", "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este "
            "chat, ni siquiera WhatsApp, puede leerlos ni escucharlos.")),
    ("Ana: Buenos días", Expect("Ana", "text", "Buenos días")),
    (f"Ana: {LRM}imagen omitida", Expect("Ana", "media", "", (("imagen omitida", False),))),
    (f"Luis: {LRM}Video omitido", Expect("Luis", "media", "", (("Video omitido", False),))),
    (f"Ana: {LRM}audio omitido", Expect("Ana", "media", "", (("audio omitido", False),))),
    (f"Luis: {LRM}Tarjeta de contacto omitida", Expect("Luis", "contact", "", (("Tarjeta de contacto omitida", False),))),
    (f"Ana: {LRM}sticker omitido", Expect("Ana", "media", "", (("sticker omitido", False),))),
    (f"Luis: {LRM}GIF omitido", Expect("Luis", "media", "", (("GIF omitido", False),))),
    (f"Ana: Acta del pleno.pdf • 3 páginas {LRM}documento omitido",
     Expect("Ana", "media", "Acta del pleno.pdf • 3 páginas", (("documento omitido", False),))),
    (f"Luis: {LRM}imagen omitida\nla fachada", Expect("Luis", "media", "la fachada", (("imagen omitida", False),))),
    (f"Luis: {LRM}<adjunto: 00000012-PHOTO-2024-03-14-10-10-00.jpg>",
     Expect("Luis", "media", "", (("00000012-PHOTO-2024-03-14-10-10-00.jpg", True),))),
    (f"Ana: {LRM}<adjunto: 00000013-Juan Pérez.vcf>", Expect("Ana", "contact", "", (("00000013-Juan Pérez.vcf", True),))),
    (f"Luis: {LRM}Se eliminó este mensaje.", Expect("Luis", "deleted", "Se eliminó este mensaje.")),
    (f"Ana: {LRM}Eliminaste este mensaje.", Expect("Ana", "deleted", "Eliminaste este mensaje.")),
    (f"Luis: De acuerdo {LRM}<Se editó este mensaje.>", Expect("Luis", "text", "De acuerdo", edited=True)),
    ("Ana: Ubicación: https://maps.google.com/?q=40.4168,-3.7038",
     Expect("Ana", "location", "Ubicación: https://maps.google.com/?q=40.4168,-3.7038")),
    (f"Luis: {LRM}Llamada perdida", Expect("Luis", "call", "Llamada perdida")),
    ("Ana: ENCUESTA:\n¿Qué día?\nOPCIÓN: lunes (1 voto)", Expect("Ana", "poll", "ENCUESTA:\n¿Qué día?\nOPCIÓN: lunes (1 voto)")),
    (f"Raad: {LRM}Cambió tu código de seguridad con Luis. Toca para obtener más información.",
     Expect(None, "system", "Cambió tu código de seguridad con Luis. Toca para obtener más información.")),
]


def test_android_export_in_spanish(tmp_path: Path) -> None:
    export = android_export(tmp_path, ANDROID, {"IMG-20240314-WA0001.jpg": b"\xff\xd8\xff", "Juan Pérez.vcf": b"BEGIN:VCARD"})
    conversation = check(export, ANDROID, "es", "android")
    assert conversation.source.inferred["view_once"]["seqs"] == [13]


def test_iphone_export_in_spanish(tmp_path: Path) -> None:
    export = iphone_export(tmp_path, IPHONE, {
        "00000012-PHOTO-2024-03-14-10-10-00.jpg": b"\xff\xd8\xff", "00000013-Juan Pérez.vcf": b"BEGIN:VCARD"})
    check(export, IPHONE, "es", "ios")


def test_iphone_encryption_notice_without_marks_is_a_system_line(tmp_path: Path) -> None:
    notice = "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos."
    conversation = notice_without_marks(tmp_path, notice)
    assert [(m.sender, m.kind.value, m.text) for m in conversation.messages] == [
        (None, "system", notice), ("Elon", "text", "Hola")]
