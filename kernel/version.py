"""The installed edepot version, for PREMIS agents and bag-info."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def edepot_version() -> str:
    """The version of the installed edepot distribution, or "unknown" when run from a bare checkout."""
    try:
        return version("edepot")
    except PackageNotFoundError:
        return "unknown"


EDEPOT_AGENT_ID = f"edepot-{edepot_version()}"
