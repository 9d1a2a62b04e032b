"""WhatsApp's Android live-location line (`email_live_location_message`) in each of the eight languages the
issue names is a location, and tells the phone's language (with the language's media-omitted marker)."""
from __future__ import annotations

import pytest

from ingest.sources.whatsapp import parse_chat_text

LIVE = {  # language: (live location as the app writes it, media omitted marker)
    "nl": ("live locatie gedeeld", "<Media weggelaten>"),
    "en": ("live location shared", "<Media omitted>"),
    "de": ("Live-Standort wird geteilt", "<Medien weggelassen>"),
    "fr": ("Localisation en direct partagée", "<Fichier omis>"),
    "es": ("ubicación en tiempo real compartida", "<Multimedia omitido>"),
    "it": ("posizione attuale condivisa", "<Media omessi>"),
    "pt": ("localização atual compartilhada", "<Mídia oculta>"),
    "tr": ("Mevcut konum paylaşıldı", "<Medya dahil edilmedi>"),
}


@pytest.mark.parametrize("lang", sorted(LIVE))
def test_live_location_in_eight_languages(lang: str) -> None:
    live, omitted = LIVE[lang]
    conversation = parse_chat_text(f"14/03/2024, 10:00 - Ann: {live}\n14/03/2024, 10:01 - Bob: {omitted}\n", "UTC")
    assert [(m.sender, m.kind.value, m.text) for m in conversation.messages] == [
        ("Ann", "location", live), ("Bob", "media", "")]
    assert conversation.source.locale == lang
