"""WhatsApp in Turkish: an Android and an iPhone export holding every marker the app writes (media
omitted with and without caption, attachments present, contact cards, deleted by others and by me,
edited, polls, locations, live location, view-once, missed calls, system lines) parse to the right
kind, sender, text and attachments, and the phone's language is told as "tr"."""
from __future__ import annotations

from pathlib import Path

from tests.whatsapp_phrase_chats import LRM, Expect, android_export, check, iphone_export, notice_without_marks

ANDROID = [
    ("Mesajlar ve aramalar uçtan uca şifrelidir. WhatsApp da dahil olmak üzere bu sohbetin dışında bulunan hiç "
     "kimse mesaj ve aramalarınızı okuyamaz ve dinleyemez. Daha fazla bilgi edinmek için dokunun.",
     Expect(None, "system", "Mesajlar ve aramalar uçtan uca şifrelidir. WhatsApp da dahil olmak üzere bu sohbetin "
            "dışında bulunan hiç kimse mesaj ve aramalarınızı okuyamaz ve dinleyemez. Daha fazla bilgi edinmek için "
            "dokunun.")),
    ("Ayşe: Günaydın", Expect("Ayşe", "text", "Günaydın")),
    ("Ayşe: <Medya dahil edilmedi>", Expect("Ayşe", "media", "", (("<Medya dahil edilmedi>", False),))),
    ("Ayşe: <Medya dahil edilmedi>\ndünkü tutanak",
     Expect("Ayşe", "media", "dünkü tutanak", (("<Medya dahil edilmedi>", False),))),
    ("Mehmet: <Medya atlanmış>", Expect("Mehmet", "media", "", (("<Medya atlanmış>", False),))),
    (f"Mehmet: {LRM}IMG-20240314-WA0001.jpg (dosya ekli)\nmeclis salonu",
     Expect("Mehmet", "media", "meclis salonu", (("IMG-20240314-WA0001.jpg", True),))),
    (f"Mehmet: {LRM}Ali Yılmaz.vcf (dosya ekli)", Expect("Mehmet", "contact", "", (("Ali Yılmaz.vcf", True),))),
    ("Ayşe: Bu mesaj silindi", Expect("Ayşe", "deleted", "Bu mesaj silindi")),
    ("Mehmet: Bu mesajı sildiniz", Expect("Mehmet", "deleted", "Bu mesajı sildiniz")),
    ("Ayşe: Saat 10'da görüşürüz <Bu mesaj düzenlendi>", Expect("Ayşe", "text", "Saat 10'da görüşürüz", edited=True)),
    ("Mehmet: ANKET:\nHangi gün?\nSEÇENEK: Pazartesi (2 oy)\nSEÇENEK: Salı (0 oy)",
     Expect("Mehmet", "poll", "ANKET:\nHangi gün?\nSEÇENEK: Pazartesi (2 oy)\nSEÇENEK: Salı (0 oy)")),
    ("Ayşe: konum: https://maps.google.com/?q=39.9334,32.8597",
     Expect("Ayşe", "location", "konum: https://maps.google.com/?q=39.9334,32.8597")),
    ("Ayşe: Mevcut konum paylaşıldı", Expect("Ayşe", "location", "Mevcut konum paylaşıldı")),
    ("Mehmet: null", Expect("Mehmet", "media", "", (("", False),))),  # a view-once photo
    ("Ayşe: Cevapsız sesli arama", Expect("Ayşe", "call", "Cevapsız sesli arama")),
    ("Mehmet, Zeynep'i ekledi", Expect(None, "system", "Mehmet, Zeynep'i ekledi")),
]

IPHONE = [
    (f"Raad: {LRM}Mesajlar ve aramalar uçtan uca şifrelidir. WhatsApp da dahil olmak üzere bu sohbetin dışında "
     "bulunan hiç kimse mesaj ve aramalarınızı okuyamaz ve dinleyemez.",
     Expect(None, "system", "Mesajlar ve aramalar uçtan uca şifrelidir. WhatsApp da dahil olmak üzere bu sohbetin "
            "dışında bulunan hiç kimse mesaj ve aramalarınızı okuyamaz ve dinleyemez.")),
    ("Ayşe: Günaydın", Expect("Ayşe", "text", "Günaydın")),
    (f"Ayşe: {LRM}görüntü dahil edilmedi", Expect("Ayşe", "media", "", (("görüntü dahil edilmedi", False),))),
    (f"Mehmet: {LRM}video dahil edilmedi", Expect("Mehmet", "media", "", (("video dahil edilmedi", False),))),
    (f"Ayşe: {LRM}ses dahil edilmedi", Expect("Ayşe", "media", "", (("ses dahil edilmedi", False),))),
    (f"Mehmet: {LRM}Kişi kartı dahil edilmedi", Expect("Mehmet", "contact", "", (("Kişi kartı dahil edilmedi", False),))),
    (f"Ayşe: {LRM}Çıkartma dahil edilmedi", Expect("Ayşe", "media", "", (("Çıkartma dahil edilmedi", False),))),
    (f"Mehmet: {LRM}GIF dahil edilmedi", Expect("Mehmet", "media", "", (("GIF dahil edilmedi", False),))),
    (f"Ayşe: Meclis tutanağı.pdf • 3 sayfa {LRM}belge dahil edilmedi",
     Expect("Ayşe", "media", "Meclis tutanağı.pdf • 3 sayfa", (("belge dahil edilmedi", False),))),
    (f"Mehmet: {LRM}görüntü dahil edilmedi\nbina cephesi",
     Expect("Mehmet", "media", "bina cephesi", (("görüntü dahil edilmedi", False),))),
    (f"Mehmet: {LRM}<eklendi: 00000012-PHOTO-2024-03-14-10-10-00.jpg>",
     Expect("Mehmet", "media", "", (("00000012-PHOTO-2024-03-14-10-10-00.jpg", True),))),
    (f"Ayşe: {LRM}<eklendi: 00000013-Ali Yılmaz.vcf>", Expect("Ayşe", "contact", "", (("00000013-Ali Yılmaz.vcf", True),))),
    (f"Mehmet: {LRM}Bu mesaj silindi.", Expect("Mehmet", "deleted", "Bu mesaj silindi.")),
    (f"Ayşe: {LRM}Bu mesajı sildiniz.", Expect("Ayşe", "deleted", "Bu mesajı sildiniz.")),
    (f"Mehmet: Tamam {LRM}<Bu mesaj düzenlendi>", Expect("Mehmet", "text", "Tamam", edited=True)),
    ("Ayşe: Konum: https://maps.google.com/?q=39.9334,32.8597",
     Expect("Ayşe", "location", "Konum: https://maps.google.com/?q=39.9334,32.8597")),
    (f"Mehmet: {LRM}Cevapsız görüntülü arama", Expect("Mehmet", "call", "Cevapsız görüntülü arama")),
    ("Ayşe: ANKET:\nHangi gün?\nSEÇENEK: Pazartesi (1 oy)", Expect("Ayşe", "poll", "ANKET:\nHangi gün?\nSEÇENEK: Pazartesi (1 oy)")),
    (f"Raad: {LRM}Mehmet ile aranızdaki güvenlik kodu değişti. Daha fazla bilgi edinmek için dokunun.",
     Expect(None, "system", "Mehmet ile aranızdaki güvenlik kodu değişti. Daha fazla bilgi edinmek için dokunun.")),
]


def test_android_export_in_turkish(tmp_path: Path) -> None:
    export = android_export(tmp_path, ANDROID, {"IMG-20240314-WA0001.jpg": b"\xff\xd8\xff", "Ali Yılmaz.vcf": b"BEGIN:VCARD"})
    conversation = check(export, ANDROID, "tr", "android")
    assert conversation.source.inferred["view_once"]["seqs"] == [14]


def test_iphone_export_in_turkish(tmp_path: Path) -> None:
    export = iphone_export(tmp_path, IPHONE, {
        "00000012-PHOTO-2024-03-14-10-10-00.jpg": b"\xff\xd8\xff", "00000013-Ali Yılmaz.vcf": b"BEGIN:VCARD"})
    check(export, IPHONE, "tr", "ios")


def test_iphone_encryption_notice_without_marks_is_a_system_line(tmp_path: Path) -> None:
    notice = "Mesajlar ve aramalar uçtan uca şifrelidir. WhatsApp da dahil olmak üzere bu sohbetin dışında bulunan hiç kimse mesaj ve aramalarınızı okuyamaz ve dinleyemez."
    conversation = notice_without_marks(tmp_path, notice)
    assert [(m.sender, m.kind.value, m.text) for m in conversation.messages] == [
        (None, "system", notice), ("Elon", "text", "Hola")]
