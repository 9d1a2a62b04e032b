"""WhatsApp in English: the per-kind omitted markers newer Android versions write (`<Video note omitted>`,
`<Sticker omitted>`, `<Audio omitted>`) and the view-once markers are omitted media, not typed text."""
from __future__ import annotations

from pathlib import Path

from tests.whatsapp_phrase_chats import Expect, android_export, check

ANDROID = [
    ("Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or "
     "listen to them. Tap to learn more.",
     Expect(None, "system", "Messages and calls are end-to-end encrypted. No one outside of this chat, not even "
            "WhatsApp, can read or listen to them. Tap to learn more.")),
    ("Ann: <Media omitted>", Expect("Ann", "media", "", (("<Media omitted>", False),))),
    ("Ann: <Video note omitted>", Expect("Ann", "media", "", (("<Video note omitted>", False),))),
    ("Bob: <Sticker omitted>", Expect("Bob", "media", "", (("<Sticker omitted>", False),))),
    ("Bob: <Audio omitted>", Expect("Bob", "media", "", (("<Audio omitted>", False),))),
    ("Ann: <View once voice message omitted>", Expect("Ann", "media", "", (("", False),))),
    ("Bob: <View once photo omitted>", Expect("Bob", "media", "", (("", False),))),
    ("Ann: This message was deleted", Expect("Ann", "deleted", "This message was deleted")),
    ("Bob: See you at 10 <This message was edited>", Expect("Bob", "text", "See you at 10", edited=True)),
]


def test_android_export_in_english_with_newer_markers(tmp_path: Path) -> None:
    conversation = check(android_export(tmp_path, ANDROID, {}), ANDROID, "en", "android")
    assert conversation.source.inferred["view_once"]["seqs"] == [6, 7]
