"""What a reader of a rendered chat is told beside a message's own text: the message it answers, the reactions on
it, and its earlier versions. Export readers note these per seq in `source.inferred` (`replies`: seq → the seq
answered, or a description when that message is not in the chat; `reactions`: seq → ["Name: emoji", …]; `edits`:
seq → [{"time", "text"}, …] oldest first, the last being the text shown); the PDF/A rendering and the DIP's viewer
show them the same way, in Dutch, through `message_notes`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping


def message_notes(inferred: Mapping[str, Any]) -> dict[int, list[str]]:
    """Per seq, the lines to show under the message: "antwoord op bericht 3", "reacties: Jan Jansen: ❤️",
    "eerdere versie (09:04): …" (every version before the last, oldest first)."""
    notes: dict[int, list[str]] = {}

    def add(key: object, line: str) -> None:
        if str(key).isdigit():
            notes.setdefault(int(str(key)), []).append(line)

    for key, target in _mapping(inferred.get("replies")).items():
        if isinstance(target, int) and not isinstance(target, bool):
            add(key, f"antwoord op bericht {target}")
        elif target:
            add(key, "antwoord op een bericht dat niet in dit gesprek staat")
    for key, reactions in _mapping(inferred.get("reactions")).items():
        if isinstance(reactions, list) and reactions:
            add(key, "reacties: " + " · ".join(str(r) for r in reactions))
    for key, versions in _mapping(inferred.get("edits")).items():
        if not isinstance(versions, list):
            continue
        for version in versions[:-1]:
            if isinstance(version, dict):
                add(key, f"eerdere versie{_time(version.get('time'))}: {version.get('text', '')}")
    return notes


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _time(value: object) -> str:
    try:
        return f" ({datetime.fromisoformat(str(value)).strftime('%d-%m-%Y %H:%M:%S')})"
    except ValueError:
        return ""
