"""WhatsApp's missed voice and video call lines (iOS `A),w/` and "PnA`x", Android `missed_voice_call` and
`video_missed_call`) in each of the eight languages the issue names are calls, on both platforms."""
from __future__ import annotations

import pytest

from ingest.sources.whatsapp import parse_chat_text

MISSED = {  # language: (missed voice call, missed video call) as the app writes them
    "nl": ("Gemist spraakgesprek", "Gemist videogesprek"),
    "en": ("Missed voice call", "Missed video call"),
    "de": ("Verpasster Sprachanruf", "Verpasster Videoanruf"),
    "fr": ("Appel vocal manqué", "Appel vidéo manqué"),
    "es": ("Llamada perdida", "Videollamada perdida"),
    "it": ("Chiamata vocale persa", "Videochiamata persa"),
    "pt": ("Chamada de voz perdida", "Videochamada perdida"),
    "tr": ("Cevapsız sesli arama", "Cevapsız görüntülü arama"),
}


@pytest.mark.parametrize("lang", sorted(MISSED))
def test_missed_calls_in_eight_languages_on_both_platforms(lang: str) -> None:
    voice, video = MISSED[lang]
    android = parse_chat_text(f"14/03/2024, 10:00 - Ann: {voice}\n14/03/2024, 10:01 - Ann: {video}\n", "UTC")
    iphone = parse_chat_text(
        f"\u200e[14/03/2024, 10:00:00] Ann: \u200e{voice}\r\n\u200e[14/03/2024, 10:01:00] Ann: \u200e{video}\r\n", "UTC")
    for conversation in (android, iphone):
        assert [(m.sender, m.kind.value, m.text) for m in conversation.messages] == [
            ("Ann", "call", voice), ("Ann", "call", video)]
    assert android.source.platform == "android" and iphone.source.platform == "ios"
