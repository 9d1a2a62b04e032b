"""Action "keep": the original is its own preservation copy (a durable, open format); nothing is derived."""
from __future__ import annotations

from pathlib import Path

from preservation.normalise.outcome import NormaliseOutcome, Status

ACTION = "keep"


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Keep the original as it is; promises no file is written."""
    return NormaliseOutcome(ACTION, Status.KEPT, "the original is kept as the preservation copy")
