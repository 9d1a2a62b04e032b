"""The project's own schemas (conversation JSON Schema, BagIt profile, format policy), shipped as package data."""
from __future__ import annotations

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent


def schema_path(name: str) -> Path:
    """The path of one of the project's own schema files, e.g. `conversation.schema.json`."""
    return SCHEMA_DIR / name
