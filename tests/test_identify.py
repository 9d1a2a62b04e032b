"""Format identification with FIDO 1.6.1 / PRONOM v109: the PUIDs it really gives for the formats chat exports hold."""
from __future__ import annotations

import shutil
import subprocess
import time
import wave
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from preservation import identify
from preservation.identify import FormatIdentifier, Identification, shared_identifier
from tests.media_factory import pdf_of_objects


@pytest.fixture(scope="module")
def identifier() -> FormatIdentifier:
    return FormatIdentifier()


def _make_pdf(path: Path) -> None:
    # A minimal hand-written PDF 1.4: header, catalog, pages, one empty page, xref and trailer.
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    path.write_bytes(pdf_of_objects(objects, "1.4"))


def _make_wav(path: Path) -> None:
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 800)


def _make_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("_chat.txt", "12/01/2024, 10:15 - Anna: Hallo\n")


SAMPLES = {
    "photo.jpg": lambda p: Image.new("RGB", (8, 8), "red").save(p),
    "sticker.png": lambda p: Image.new("RGB", (8, 8), "red").save(p),
    "report.pdf": _make_pdf,
    "_chat.txt": lambda p: p.write_text(
        "12/01/2024, 10:15 - Anna: Hallo, hoe gaat het? 😀\n12/01/2024, 10:16 - Bert: Goed!\n", encoding="utf-8"
    ),
    "result.json": lambda p: p.write_text('{"messages": [{"from": "Anna", "text": "hoi"}]}\n', encoding="utf-8"),
    "sms.xml": lambda p: p.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<smses count="1"><sms body="hoi"/></smses>\n', encoding="utf-8"
    ),
    "export.zip": _make_zip,
    "voice.wav": _make_wav,
    "contact.vcf": lambda p: p.write_bytes(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nTEL:+31612345678\r\nEND:VCARD\r\n"),
}

# What FIDO 1.6.1 with PRONOM v109 really answers (found by running it, and by running `fido` on the same files).
EXPECTED = {
    "photo.jpg": ("fmt/43", "JPEG File Interchange Format", "signature"),
    "sticker.png": ("fmt/11", "Portable Network Graphics", "signature"),
    "report.pdf": ("fmt/18", "Acrobat PDF 1.4 - Portable Document Format", "signature"),
    "_chat.txt": ("x-fmt/111", "Plain Text File", "extension"),
    # PRONOM v109 has no generic JSON signature: the extension matches "Tweet JSON" (siegfried's V125 says fmt/817).
    "result.json": ("fmt/1311", "Tweet JSON", "extension"),
    "sms.xml": ("fmt/101", "Extensible Markup Language", "signature"),
    "export.zip": ("x-fmt/263", "ZIP Format", "signature"),
    "voice.wav": ("fmt/141", "Waveform Audio (PCMWAVEFORMAT)", "signature"),
    "contact.vcf": ("fmt/395", "vCard", "signature"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_known_formats_get_the_puid_fido_gives(identifier: FormatIdentifier, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    SAMPLES[name](path)
    result = identifier.identify(path)
    puid, format_name, basis = EXPECTED[name]
    assert (result.puid, result.format_name) == (puid, format_name)
    assert result.basis.split(":")[0] == basis
    assert result.tool == "fido 1.6.1"
    assert result.signature_release == "PRONOM v109"


def test_pdf_made_by_typst_is_pdf_17(identifier: FormatIdentifier, tmp_path: Path) -> None:
    typst = pytest.importorskip("typst")
    source = tmp_path / "doc.typ"
    source.write_text("Hallo", encoding="utf-8")
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(typst.compile(str(source)))
    result = identifier.identify(pdf)
    assert (result.puid, result.format_name, result.format_version, result.mime_type) == (
        "fmt/276", "Acrobat PDF 1.7 - Portable Document Format", "1.7", "application/pdf",
    )


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_ogg_opus(identifier: FormatIdentifier, tmp_path: Path) -> None:
    path = tmp_path / "voice.opus"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
         "-c:a", "libopus", str(path)],
        check=True,
    )
    result = identifier.identify(path)
    assert (result.puid, result.format_name) == ("fmt/946", "Ogg Opus Codec Compressed Multimedia File")
    assert result.basis.startswith("signature")


def test_plain_text_notes_the_other_extension_matches(identifier: FormatIdentifier, tmp_path: Path) -> None:
    path = tmp_path / "_chat.txt"
    SAMPLES["_chat.txt"](path)
    result = identifier.identify(path)
    assert result.basis == "extension: .txt"
    assert result.warnings == ("3 formats matched: x-fmt/111, fmt/1085, fmt/1591; kept x-fmt/111",)


def test_no_match_is_fail(identifier: FormatIdentifier, tmp_path: Path) -> None:
    path = tmp_path / "mystery.qqq"
    path.write_bytes(b"\x01\x02\x03 nothing known")
    result = identifier.identify(path)
    assert result.puid is None
    assert result.basis == "fail"
    assert result.warnings


def test_zero_byte_file_is_fail_not_an_exception(identifier: FormatIdentifier, tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.touch()
    result = identifier.identify(path)
    assert result == Identification(
        None, None, None, None, "fail", "fido 1.6.1", "PRONOM v109",
        ("zero-byte file: there are no bytes to identify",),
    )


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_path_is_fail_not_an_exception(
    identifier: FormatIdentifier, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    path = tmp_path / "gone.jpg" if kind == "missing" else tmp_path
    result = identifier.identify(path)
    assert result.puid is None
    assert result.basis == "fail"
    assert any(str(path) in warning for warning in result.warnings)
    assert capsys.readouterr().err == ""  # FIDO's stderr became a warning


def test_unexpected_fido_error_is_fail(identifier: FormatIdentifier, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(identifier._fido, "identify_file", explode)
    result = identifier.identify(tmp_path / "x.jpg")
    assert result.basis == "fail"
    assert result.warnings == ("FIDO failed on this file: ValueError: boom",)


def test_identify_many_uses_signatures_loaded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    loads = []
    original_init = identify._CompiledFido.__init__

    def counting_init(self: identify._CompiledFido, **kwargs: object) -> None:
        loads.append(1)
        original_init(self, **kwargs)

    monkeypatch.setattr(identify._CompiledFido, "__init__", counting_init)
    names = sorted(SAMPLES)
    paths = []
    for i in range(50):
        name = names[i % len(names)]
        path = tmp_path / f"{i:02d}{name}"
        SAMPLES[name](path)
        paths.append(path)

    started = time.perf_counter()
    identifier = FormatIdentifier()
    construction = time.perf_counter() - started
    started = time.perf_counter()
    results = list(identifier.identify_many(paths))
    identification = time.perf_counter() - started

    assert loads == [1]
    assert [path for path, _ in results] == paths
    assert all(result.puid for _, result in results)
    assert identification < 50 * construction / 5


def test_shared_identifier_is_created_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identify, "_shared", None)
    made = []

    def factory() -> FormatIdentifier:
        made.append(1)
        return FormatIdentifier()

    first = shared_identifier(factory)
    assert shared_identifier(factory) is first
    assert made == [1]
