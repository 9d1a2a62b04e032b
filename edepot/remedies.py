"""The command line's words for what to do about an error (the engine's and the service's own hints name no flag
or command, since a web page offers the same way out as a button).

Three ways, tried in this order: the error names a `remedy` (REMEDIES: the flag or command that takes it, added
after the hint); its reference alone has a wording here (E111, E112); or its reference and a fact it carries
(`EdepotError.facts`) do, filled into the wording.
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
    "backup-password": "set $EDEPOT_BACKUP_PASSWORD, or run the command on a terminal to be asked",
    "token": "'edepot user token NAME' issues one; give it in $EDEPOT_TOKEN",
    "woo-undecided": "'edepot woo show ID --undecided' lists them; 'edepot woo decide ID' decides them",
}


# By reference, or by reference and the name of a fact the error carries (filled into the wording)
BY_REFERENCE: dict[tuple[str, str], str] = {
    ("E111", ""): "run 'edepot upgrade' on this data directory first (the old catalogue is kept beside it)",
    ("E112", ""): "give --user NAME, set $EDEPOT_USER, or set [operator] name in the data directory's edepot.toml",
    ("E105", "unknown_aip"): "list them with 'edepot aip list'",
    ("E107", ""): "an archivist can grant a permit: edepot access permit --record ID --to NAME --until DATE --reason TEXT",
    ("E109", ""): "decide each with 'edepot access set --record ID --type TYPE --reason TEXT'",
    ("E105", "destroyed_record"): "see 'edepot retention show --record {destroyed_record}'",
}


def command_hint(error: EdepotError) -> str:
    """The hint for an error in the command line's words, else the engine's own."""
    with_remedy = hint_with_remedy(error)
    if with_remedy is not None:
        return with_remedy
    for fact in ("", *error.facts):
        wording = BY_REFERENCE.get((error.ref, fact))
        if wording is not None:
            return wording.format(**error.facts)
    return error.hint


def hint_with_remedy(error: EdepotError) -> str | None:
    """The error's hint with the command line's way to its remedy added; None when it names no remedy."""
    words = REMEDIES.get(error.remedy)
    if words is None:
        return None
    return f"{error.hint}; {words}" if error.hint else words
