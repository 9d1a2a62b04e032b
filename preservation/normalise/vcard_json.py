"""Action "vcard-json": a vCard (2.1, 3.0, 4.0; RFC 6350) is kept, with a JSON rendering for reading and search.

The JSON is jCard-like but flat: one object per card, each property a list of {"value", "params"} in file
order, names upper-case as in the card. Folded lines are unfolded (RFC 6350 §3.2), vCard 2.1
QUOTED-PRINTABLE values decoded, and the text read as UTF-8 (Latin-1 when it is not valid UTF-8).
"""
from __future__ import annotations

import json
import quopri
from pathlib import Path
from typing import Any

from kernel.atomic import write_bytes_atomic
from kernel.errors import RenderingFailed
from kernel.version import edepot_version
from preservation.normalise.outcome import NormaliseOutcome, Status, with_suffix

ACTION = "vcard-json"


def parse_vcards(data: bytes) -> list[dict[str, list[dict[str, Any]]]]:
    """Every card in the data as {PROPERTY: [{"value": str, "params": {name: value}}]}; ValueError if none."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    cards: list[dict[str, list[dict[str, Any]]]] = []
    card: dict[str, list[dict[str, Any]]] | None = None
    for line in _unfold(text):
        name_part, sep, value = line.partition(":")
        if not sep:
            continue
        name, *raw_params = name_part.split(";")
        name = name.split(".")[-1].upper()  # drop a group prefix ("item1.TEL")
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            card = {}
            continue
        if name == "END" and value.strip().upper() == "VCARD":
            if card is not None:
                cards.append(card)
            card = None
            continue
        if card is None:
            continue
        params: dict[str, str] = {}
        for raw in raw_params:
            key, eq, param_value = raw.partition("=")
            params[key.upper() if eq else "TYPE"] = param_value if eq else key
        if params.get("ENCODING", "").upper() == "QUOTED-PRINTABLE":
            charset = params.get("CHARSET", "utf-8")
            value = quopri.decodestring(value.encode("latin-1", "replace")).decode(charset, "replace")
        card.setdefault(name, []).append({"value": value, "params": params})
    if not cards:
        raise ValueError("no BEGIN:VCARD … END:VCARD found")
    return cards


def _unfold(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw.startswith("=") is False and lines and lines[-1].endswith("=") and "QUOTED-PRINTABLE" in lines[-1].upper():
            lines[-1] = lines[-1][:-1] + raw  # a vCard 2.1 soft line break
        else:
            lines.append(raw)
    return lines


def normalise(source: Path, target: Path) -> NormaliseOutcome:
    """Keep the vCard; write `<target>.json` with its cards; raises RenderingFailed when no card is found."""
    try:
        cards = parse_vcards(source.read_bytes())
    except ValueError as error:
        raise RenderingFailed(f"{source.name} is not a readable vCard: {error}") from None
    output = with_suffix(target, ".json")
    document = {"source": source.name, "cards": cards}
    write_bytes_atomic(output, json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n")
    return NormaliseOutcome(ACTION, Status.DERIVED, f"vCard kept; {len(cards)} card(s) rendered as JSON", (output,),
                            f"edepot vcard_json {edepot_version()}", "normalization")
