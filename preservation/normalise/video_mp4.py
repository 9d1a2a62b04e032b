"""Action "video-mp4": video is kept when it is MP4 with H.264 video; otherwise transcoded to MP4/H.264+AAC.

MP4/H.264 is what phones write and what every player reads; other codecs (MPEG-4 part 2, VP8/9, 3GP's
H.263) are transcoded with libx264 at visually lossless quality (CRF 18). An MP4 holding only audio (a
WhatsApp voice note as .m4a is PRONOM fmt/199 like any MP4) goes to FLAC like other voice notes.
"""
from __future__ import annotations

import json
from pathlib import Path

from preservation.normalise import audio_flac
from preservation.normalise.outcome import NormaliseOutcome, Status, ffmpeg_version, require, run_tool, with_suffix

ACTION = "video-mp4"
KEPT_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2"}


def probe(source: Path) -> dict:
    """ffprobe's description of the container and its streams; raises RenderingFailed when it cannot read it."""
    out = run_tool([require("ffprobe", "ffmpeg"), "-v", "error", "-print_format", "json", "-show_format",
                    "-show_streams", str(source)], timeout=300)
    return json.loads(out or "{}")


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Keep MP4/H.264; send audio-only files to FLAC; transcode anything else to `<target>.mp4`."""
    info = probe(source)
    streams = info.get("streams", [])
    video = [s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]
    if not video:
        return audio_flac.normalise(source, target)
    container = info.get("format", {}).get("format_name", "")
    codecs = {s.get("codec_name") for s in video}
    if container in KEPT_CONTAINERS and codecs == {"h264"} and source.suffix.lower() in (".mp4", ".m4v", ".mov"):
        return NormaliseOutcome(ACTION, Status.KEPT, "MP4 with H.264 video: kept as the preservation copy",
                                tool=ffmpeg_version(), event_type="normalization")
    output = with_suffix(target, ".mp4")
    output.parent.mkdir(parents=True, exist_ok=True)
    run_tool([require("ffmpeg", "ffmpeg"), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
              "-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "medium", "-crf", "18",
              "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "192k", "-movflags", "+faststart",
              "-map_metadata", "-1", str(output)])
    return NormaliseOutcome(ACTION, Status.DERIVED, f"{'/'.join(sorted(c or '?' for c in codecs))} video in "
                            f"{container} transcoded to MP4/H.264", (output,), ffmpeg_version(), "migration")
