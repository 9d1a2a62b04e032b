"""Action "audio-flac": a voice note (Opus/Ogg, AAC/M4A, AMR, ...) → FLAC, lossless from the decoded audio.

FLAC (PRONOM fmt/279) is open, lossless and widely read; decoding a lossy voice note once and keeping the
result losslessly means no further loss at later migrations. Sample rate and channels are those decoded.
"""
from __future__ import annotations

from pathlib import Path

from preservation.normalise.outcome import NormaliseOutcome, Status, ffmpeg_version, require, run_tool, with_suffix

ACTION = "audio-flac"


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Write `<target>.flac` with every audio stream's first track decoded from `source`; raises RenderingFailed."""
    output = with_suffix(target, ".flac")
    output.parent.mkdir(parents=True, exist_ok=True)
    run_tool([require("ffmpeg", "ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
              "-map", "0:a:0", "-vn", "-c:a", "flac", "-compression_level", "5", "-map_metadata", "-1",
              "-fflags", "+bitexact", "-flags:a", "+bitexact", str(output)])
    return NormaliseOutcome(ACTION, Status.DERIVED, "audio decoded and kept losslessly as FLAC", (output,),
                            ffmpeg_version(), "migration")
