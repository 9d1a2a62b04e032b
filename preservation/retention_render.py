"""PDF/A-2b (ISO 19005-2 level B) documents of retention: the vernietigingslijst and the verklaring van vernietiging.

As for the conversation's rendering (preservation/normalise/conversation_pdf.py): the data goes as JSON next to a
static typst template (`retention_templates/<name>.typ`), so text only ever reaches typst as JSON strings and
is set as plain text; fonts are embedded; a character no font covers is written as "[U+XXXX]".
"""
from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Collection

from kernel.errors import RenderingFailed
from preservation.normalise.conversation_pdf import clean_text, covered_code_points, find_font_dirs

TEMPLATES = Path(__file__).with_name("retention_templates")


def render_pdf(template: str, data: dict[str, Any], created: datetime | None = None) -> bytes:
    """The PDF/A-2b bytes of `retention_templates/<template>.typ` laid out over `data`.

    Raises ToolMissing when the fonts are not installed, RenderingFailed when typst fails.
    """
    import typst

    fonts = find_font_dirs()
    covered = covered_code_points(fonts)
    with tempfile.TemporaryDirectory(prefix="edepot-retention-") as root:
        shutil.copyfile(TEMPLATES / f"{template}.typ", Path(root) / "main.typ")
        (Path(root) / "data.json").write_text(json.dumps(_clean(data, covered), ensure_ascii=False), encoding="utf-8")
        try:
            return bytes(typst.compile(str(Path(root) / "main.typ"), root=root, font_paths=[str(d) for d in fonts],
                                       ignore_system_fonts=True, pdf_standards="a-2b", timestamp=created,
                                       pdf_tags=False))
        except Exception as error:  # typst.TypstError, or a panic surfacing as another exception
            message = " ".join(str(getattr(error, "message", error) or error).split())
            raise RenderingFailed(f"typst: {message}") from error


def _clean(value: Any, covered: Collection[int]) -> Any:
    if isinstance(value, str):
        return clean_text(value, covered)
    if isinstance(value, dict):
        return {k: _clean(v, covered) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v, covered) for v in value]
    return value
