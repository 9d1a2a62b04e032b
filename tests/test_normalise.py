"""Each normaliser of the format policy on real media the test makes (ffmpeg lavfi, Pillow, pillow-heif)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from preservation.identify import shared_identifier
from preservation.normalise import ACTIONS, Status, normaliser
from preservation.normalise.vcard_json import parse_vcards
from tests.media_factory import make_media


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("media"))


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("name", ["voice.opus", "voice.m4a"])
def test_voice_notes_become_flac_of_the_same_length(media: dict[str, Path], name: str, tmp_path: Path) -> None:
    before = media[name].read_bytes()
    action = "audio-flac" if name.endswith(".opus") else "video-mp4"  # .m4a is fmt/199, the MP4 action routes it
    outcome = normaliser(action)(media[name], tmp_path / name)
    assert outcome.status is Status.DERIVED and outcome.tool and outcome.tool.startswith("ffmpeg ")
    (flac,) = outcome.derived
    assert flac.name == f"{name}.flac"
    info = probe(flac)
    assert info["streams"][0]["codec_name"] == "flac"
    assert abs(float(info["format"]["duration"]) - float(probe(media[name])["format"]["duration"])) < 0.1
    assert shared_identifier().identify(flac).puid == "fmt/279"
    assert media[name].read_bytes() == before  # the original is never touched


def test_h264_mp4_is_kept_and_other_video_is_transcoded_to_h264(media: dict[str, Path], tmp_path: Path) -> None:
    kept = normaliser("video-mp4")(media["h264.mp4"], tmp_path / "h264.mp4")
    assert kept.status is Status.KEPT and kept.derived == ()
    moved = normaliser("video-mp4")(media["mpeg4.mp4"], tmp_path / "mpeg4.mp4")
    assert moved.status is Status.DERIVED and moved.event_type == "migration"
    streams = probe(moved.derived[0])["streams"]
    assert [s["codec_name"] for s in streams if s["codec_type"] == "video"] == ["h264"]


@pytest.mark.parametrize("name", ["sticker.webp", "photo.heic"])
def test_webp_and_heic_become_png_with_the_same_pixels(media: dict[str, Path], name: str, tmp_path: Path) -> None:
    outcome = normaliser("image-png")(media[name], tmp_path / name)
    (png,) = outcome.derived
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size == (64, 48)
        red, green, blue = image.convert("RGB").getpixel((32, 24))
        assert red > 150 and green < 80 and blue < 80  # the red the test painted, within lossy coding
    assert "Pillow" in (outcome.tool or "")


def test_vcard_is_kept_with_a_json_rendering(media: dict[str, Path], tmp_path: Path) -> None:
    outcome = normaliser("vcard-json")(media["contact.vcf"], tmp_path / "contact.vcf")
    document = json.loads(outcome.derived[0].read_text(encoding="utf-8"))
    (card,) = document["cards"]
    assert card["FN"][0]["value"] == "Petra de Vries"
    assert card["TEL"][0] == {"value": "+31 6 12345678", "params": {"TYPE": "CELL"}}  # folded line unfolded


def test_vcard_21_quoted_printable_and_several_cards() -> None:
    data = (b"BEGIN:VCARD\nVERSION:2.1\nFN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:Ren=C3=A9e\nEND:VCARD\n"
            b"BEGIN:VCARD\nVERSION:4.0\nitem1.EMAIL:a@b.nl\nEND:VCARD\n")
    cards = parse_vcards(data)
    assert cards[0]["FN"][0]["value"] == "Renée" and cards[1]["EMAIL"][0]["value"] == "a@b.nl"
    with pytest.raises(ValueError):
        parse_vcards(b"not a card")


def test_pdf_is_kept_and_its_pdfa_status_said(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pdf"
    Image.new("RGB", (10, 10)).save(plain, "PDF")
    outcome = normaliser("pdf-keep")(plain, tmp_path / "plain.pdf")
    assert outcome.status is Status.KEPT and "not PDF/A" in outcome.note and outcome.event_type == "validation"


def test_office_without_libreoffice_is_skipped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from preservation.normalise import office_pdfa

    monkeypatch.setattr(office_pdfa, "soffice", lambda: None)
    outcome = normaliser("office-pdfa")(tmp_path / "x.docx", tmp_path / "x.docx")
    assert outcome.status is Status.SKIPPED and "LibreOffice is not installed" in outcome.note


def test_a_broken_voice_note_fails_with_the_tools_message(tmp_path: Path) -> None:
    from kernel.errors import RenderingFailed

    broken = tmp_path / "broken.opus"
    broken.write_bytes(b"OggS" + bytes(300))
    with pytest.raises(RenderingFailed, match="ffmpeg"):
        normaliser("audio-flac")(broken, tmp_path / "broken.opus")


def test_every_action_is_registered_once() -> None:
    assert sorted(ACTIONS) == ["audio-flac", "image-png", "keep", "office-pdfa", "pdf-keep", "vcard-json",
                               "video-mp4"]
