"""The command line's words for the ways out the engine and the service name by `remedy` (kernel/errors.py).

Their own hints name no flag or command, since a web page offers the same way out as a button; here each
remedy gets the flag or command that takes it, added after the hint.
"""
from __future__ import annotations

from kernel.errors import EdepotError

LIST_CONVERSATIONS = "'edepot sip conversations EXPORT' lists them"
REMEDIES = {
    "new-version": "add --new-version",
    "declare-damaged": "make the SIP with 'edepot sip create --damaged-export REASON'",
    "keep-original": "make the SIP with --keep-original",
    "allow-missing-media": "leave out --require-media",
    "list-conversations": LIST_CONVERSATIONS,
    "pick-conversation": f"{LIST_CONVERSATIONS}; pick one with --conversation ID",
    "pick-or-split": f"{LIST_CONVERSATIONS}; give --conversation ID for one, or --split OUTDIR for one SIP each",
    "choose-format": "choose with --format",
    "sip-target": "give --out DIR (one SIP) or --split OUTDIR (one SIP per conversation)",
    "split": "give --split OUTDIR instead of --out",
    "custodian": "give --custodian NAME with --custodian-function",
    "show-aip": "'edepot aip show AIP' lists them",
    "fixity-run-aip": "'edepot fixity run --aip AIP' does it",
    "configure-operator": "--user and $EDEPOT_USER do not reach a scheduled run",
}


def hint_with_remedy(error: EdepotError) -> str | None:
    """The error's hint with the command line's way to its remedy added; None when it names no remedy."""
    words = REMEDIES.get(error.remedy)
    if words is None:
        return None
    return f"{error.hint}; {words}" if error.hint else words
