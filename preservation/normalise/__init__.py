"""Normalisation by policy (OAIS Preservation Planning → Ingest): one module per preservation action.

`schemas/format-policy.yaml` names, per PRONOM PUID, a preservation action and an access action; each
action is one module below, registered in ACTIONS by the name the policy uses. A normaliser never changes
its source: it writes derived files beside a target path and says what it did, with which tool and version,
so the ingest can record a PREMIS event linking source and outcome. The conversation rendering
(conversation_pdf.py) works on the whole record rather than on one file and is called by the ingest itself.
"""
from __future__ import annotations

from types import ModuleType

from preservation.normalise import audio_flac, image_png, keep, office_pdfa, pdf_keep, vcard_json, video_mp4
from preservation.normalise.outcome import NormaliseOutcome, Normaliser, Status

__all__ = ["ACTIONS", "NormaliseOutcome", "Normaliser", "Status", "normaliser"]

_MODULES: tuple[ModuleType, ...] = (keep, audio_flac, video_mp4, image_png, office_pdfa, pdf_keep, vcard_json)
ACTIONS: dict[str, Normaliser] = {module.ACTION: module.normalise for module in _MODULES}


def normaliser(action: str) -> Normaliser:
    """The normaliser registered for an action name; KeyError names the unknown action."""
    try:
        return ACTIONS[action]
    except KeyError:
        raise KeyError(f"no normaliser for action {action!r}; known: {', '.join(sorted(ACTIONS))}") from None
