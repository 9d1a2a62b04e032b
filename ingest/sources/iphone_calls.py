"""The Phone app's call history in an iPhone backup (`HomeDomain/Library/CallHistoryDB/CallHistory.storedata`),
read as one call-log conversation per other party, like the call logs of Android's SMS Backup & Restore
(`sms_backup_calls.py`).

The table is the Core Data one iOS writes (the one the Mobile Verification Toolkit and iLEAPP read): `ZCALLRECORD`
with `ZADDRESS` (the number or e-mail address; a blob in some iOS versions), `ZDATE` (a Core Data time: seconds
since 2001-01-01 UTC), `ZDURATION` (seconds), `ZORIGINATED` (1: this phone called), `ZANSWERED`, `ZCALLTYPE`
(1 a phone call, 8 FaceTime video, 16 FaceTime audio), `ZSERVICE_PROVIDER` (`com.apple.Telephony`,
`com.apple.FaceTime`, or an app such as `net.whatsapp.WhatsApp`) and `ZNAME`.

Decisions a records manager should know:
- Calls are kept apart from the chats: a call log is its own record (its own id, `calls-<number>`, and SIP), so
  that a chat's SIP never gains calls nobody selected and a call log can be archived, or left out, on its own.
- One conversation per other party: the calls to and from one e-mail address (case-blind), or one number (its last
  nine digits, so that `06-33333333` and `+31633333333` are one party, as the address book matches them), in the
  order of each party's first call, its id the number as first written without spaces, dashes and brackets; calls
  within one in time order, each keeping the number as that call wrote it. The title is the address book's
  name for the party, else the name the call history kept, else the number.
- Each call is a message of kind `call`; the sender is "Ik" for a call this phone made, else the other party. Its
  text keeps the call's facts in the form of the Android call logs: `<what>[, <duration> s], <number>`, e.g.
  "outgoing call, 83 s, +31612345678", "missed FaceTime video call, +31612345678", "incoming WhatsApp call, 12 s, …".
- The rows a conversation was read from are written as an extract like sms.db's (`write_rows`).
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from datetime import tzinfo
from typing import IO, Any, Callable, Iterator, Sequence

from ingest.sources.iphone_layout import columns_of, require_columns, write_table_rows
from ingest.sources.iphone_messages import EXTRACT_SCHEMA_ID, OWNER, Notes, apple_time
from kernel.errors import DamagedBackupDatabase
from kernel.model import Message, MessageKind

DOMAIN = "HomeDomain"
PATH = "Library/CallHistoryDB/CallHistory.storedata"
_NEEDED = {"Z_PK", "ZADDRESS", "ZDATE", "ZDURATION", "ZORIGINATED"}
_OPTIONAL = ("ZANSWERED", "ZCALLTYPE", "ZSERVICE_PROVIDER", "ZNAME")
_SEPARATORS = re.compile(r"[\s\-().]")
_FACETIME = {8: "FaceTime video", 16: "FaceTime audio"}
_SUFFIX = 9


@dataclass(frozen=True)
class CallParty:
    """One other party of the call history, with the addresses as each of its calls wrote it."""

    address: str
    written: tuple[str, ...]
    name: str | None


class CallHistory:
    """An opened CallHistory.storedata: its parties and each party's calls."""

    extract_name = "CallHistory.storedata.rows.jsonl"
    domain, path = DOMAIN, PATH

    def __init__(self, connection: sqlite3.Connection, *, name_of: Callable[[str], str | None]) -> None:
        self._db = connection
        self._name_of = name_of
        require_columns(connection, "ZCALLRECORD", _NEEDED, "CallHistory.storedata")
        columns = columns_of(connection, "ZCALLRECORD")
        self._select = ", ".join(c if c in columns else f"NULL AS {c}" for c in _OPTIONAL)
        self._name = "ZNAME" if "ZNAME" in columns else "NULL"

    def chats(self) -> list[CallParty]:
        """Every other party, in the order of their first call."""
        parties: dict[str, tuple[str, list[str], str | None]] = {}
        for address, name in self._query(f"SELECT ZADDRESS, {self._name} FROM ZCALLRECORD ORDER BY ZDATE, Z_PK"):
            written = _text(address)
            key = party_key(written)
            first, written_list, kept = parties.setdefault(key, (normalised(written), [], None))
            if written not in written_list:
                written_list.append(written)
            if name and not kept:
                parties[key] = (first, written_list, str(name))
        return [CallParty(first, tuple(written), name) for first, written, name in parties.values()]

    def title(self, party: CallParty) -> str:
        """The party's name, else their number or address."""
        return self._person(party)

    def chat_facts(self, party: CallParty) -> dict[str, Any]:
        """What identifies the call log, for `source.inferred` (`call_address` gives its id, `calls-<number>`)."""
        return {"call_address": party.address, "chat": {"address": party.address, "written": list(party.written)}}

    def messages(self, party: CallParty, zone: tzinfo, notes: Notes) -> Iterator[Message]:
        """The party's calls in time order, seq from 1, read lazily."""
        for seq, row in enumerate(self._calls(party), start=1):
            _pk, address, date, duration, originated, answered, call_type, provider, _name = row
            what = _what(bool(originated), answered, call_type, provider)
            notes.services[what] = notes.services.get(what, 0) + 1
            seconds = round(float(duration or 0))
            text = ", ".join([what, *([f"{seconds} s"] if seconds else []), _text(address) or "(unknown number)"])
            yield Message(seq, apple_time(date, zone), OWNER if originated else self._person(party),
                          MessageKind.CALL, text)

    def write_rows(self, party: CallParty, seqs: frozenset[int], out: IO[str], header: dict[str, Any]) -> int:
        """Write the ZCALLRECORD rows of the calls `seqs` of `party` to `out` after `header`; returns how many."""
        out.write(json.dumps({"schema": EXTRACT_SCHEMA_ID, **header}, ensure_ascii=False) + "\n")
        return sum(write_table_rows(self._db, out, "ZCALLRECORD", "Z_PK = ?", (row[0],))
                   for seq, row in enumerate(self._calls(party), start=1) if seq in seqs)

    def _calls(self, party: CallParty) -> Iterator[tuple[Any, ...]]:
        marks = ", ".join("?" * len(party.written))
        # a blob address is compared by its text: CAST makes both forms meet
        return self._query(f"SELECT Z_PK, ZADDRESS, ZDATE, ZDURATION, ZORIGINATED, {self._select} FROM ZCALLRECORD "
                           f"WHERE CAST(ZADDRESS AS TEXT) IN ({marks}) ORDER BY ZDATE, Z_PK", party.written)

    def _person(self, party: CallParty) -> str:
        return self._name_of(party.address) or party.name or party.address or "(unknown number)"

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            yield from self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            raise DamagedBackupDatabase(f"CallHistory.storedata cannot be read: {error}") from None


def party_key(address: str) -> str:
    """What makes two calls one party's: an e-mail address in lower case; a number's last nine digits when it has
    as many (`06-33333333` and `+31633333333` meet there, as in the address book), else its digits."""
    if "@" in address:
        return normalised(address)
    digits = re.sub(r"\D", "", address)
    return digits[-_SUFFIX:] if len(digits) >= _SUFFIX else normalised(address)


def normalised(address: str) -> str:
    """A number without spaces, dashes, dots and brackets; an e-mail address in lower case."""
    return address.strip().casefold() if "@" in address else _SEPARATORS.sub("", address)


def _text(value: Any) -> str:
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value or "")


def _what(originated: bool, answered: Any, call_type: Any, provider: Any) -> str:
    service = _FACETIME.get(int(call_type or 0), "")
    if provider and not str(provider).startswith("com.apple."):
        service = str(provider).rsplit(".", 1)[-1]
    direction = "outgoing" if originated else ("incoming" if answered or answered is None else "missed")
    return " ".join(part for part in (direction, service, "call") if part)
