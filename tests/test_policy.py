"""The format policy file: every action it names exists, every PUID is one the identifiers know, and a broken
policy is refused when it is read."""
from __future__ import annotations

from pathlib import Path

import pygfried
import pytest

from kernel.errors import MetadataError
from preservation.format_policy import load_policy
from preservation.identify import shared_identifier
from tests.media_factory import make_media


def test_the_shipped_policy_loads_and_covers_the_chat_media_formats() -> None:
    policy = load_policy()
    assert policy.rule_for("fmt/946").preservation == "audio-flac"  # Opus voice notes
    assert policy.rule_for("fmt/566").preservation == "image-png"  # WebP stickers
    assert policy.rule_for("fmt/1101").preservation == "image-png"  # HEIC photos
    assert policy.rule_for("fmt/199").preservation == "video-mp4"
    assert policy.rule_for("fmt/412").preservation == "office-pdfa"
    assert policy.rule_for("fmt/276").preservation == "pdf-keep"
    assert policy.rule_for("fmt/395").actions == ("keep", "vcard-json")
    assert policy.rule_for("x-fmt/111").actions == ("keep",)  # not listed: the default
    assert policy.record_preservation == "conversation-pdfa"


def test_every_puid_in_the_policy_is_known_to_fido_or_siegfried() -> None:
    fido_puids = set(shared_identifier()._fido.puid_format_map)
    siegfried_only = {"fmt/1880"}  # vCard in PRONOM releases newer than FIDO's
    unknown = set(load_policy().rules) - fido_puids - siegfried_only
    assert unknown == set()


def test_media_made_here_is_identified_as_the_policy_expects(tmp_path: Path) -> None:
    policy = load_policy()
    expected = {"voice.opus": "audio-flac", "voice.m4a": "video-mp4", "mpeg4.mp4": "video-mp4",
                "sticker.webp": "image-png", "photo.heic": "image-png", "photo.jpg": "keep", "contact.vcf": "keep"}
    for name, path in make_media(tmp_path).items():
        puid = shared_identifier().identify(path).puid
        assert policy.rule_for(puid).preservation == expected.get(name, "video-mp4"), (name, puid)
    assert pygfried.identify(str(tmp_path / "contact.vcf")) in load_policy().rules


@pytest.mark.parametrize("text, message", [
    ("rules:\n  - {name: a, puids: [fmt/1], preservation: make-it-nice}\n", "make-it-nice"),
    ("rules:\n  - {name: a, puids: [fmt/1]}\n  - {name: b, puids: [fmt/1]}\n", "listed in 'a' and 'b'"),
    ("just a string", "a mapping with a list of rules"),
    ("rules: [\n", "format policy"),
])
def test_a_broken_policy_is_refused_with_the_reason(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(MetadataError, match=message):
        load_policy(path)
