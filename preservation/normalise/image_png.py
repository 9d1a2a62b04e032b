"""Action "image-png": WebP stickers and HEIC/HEIF photos → PNG (lossless, universally readable).

Pillow reads WebP itself and HEIC through pillow-heif (libheif); the first frame is kept (an animated
sticker's first frame; the original keeps the animation). EXIF orientation is applied so the PNG shows the
picture as the phone did.
"""
from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps
from PIL import __version__ as pillow_version

from kernel.errors import RenderingFailed
from preservation.normalise.outcome import NormaliseOutcome, Status, with_suffix

ACTION = "image-png"


def _register_heif() -> str:
    try:
        import pillow_heif
    except ImportError:
        return ""
    pillow_heif.register_heif_opener()
    return f", pillow-heif {pillow_heif.__version__}"


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Write `<target>.png` from the image at `source`; raises RenderingFailed when it cannot be decoded."""
    tool = f"Pillow {pillow_version}{_register_heif()}"
    output = with_suffix(target, ".png")
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with Image.open(source) as image:
            image.seek(0)
            frame = ImageOps.exif_transpose(image)
            if frame.mode not in ("1", "L", "LA", "RGB", "RGBA", "P", "I;16"):
                frame = frame.convert("RGBA" if "A" in frame.getbands() else "RGB")
            frame.save(output, "PNG", optimize=False)
    except Exception as error:  # Pillow raises many kinds for images it cannot decode
        raise RenderingFailed(f"{source.name} could not be decoded as an image: {error}") from None
    return NormaliseOutcome(ACTION, Status.DERIVED, "image converted to PNG (first frame)", (output,), tool, "migration")
