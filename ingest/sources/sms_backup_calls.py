"""SMS Backup & Restore (SyncTech, Android) call logs, `calls-<date>.xml`, read into canonical conversations.

Implements the `sms-backup-calls` export format of issue 4 (the app's call backup beside its SMS backup).
The file format is the app's own (SyncTech, "Fields in XML Backup Files"): a root `<calls count=…>` holding
one `<call>` per row of Android's call log (`android.provider.CallLog.Calls`): `number`, `duration`
(seconds), `date` (milliseconds since 1970 UTC), `type`, `presentation`, `contact_name`, `readable_date`.

Decisions a records manager should know:
- Each call is a message of kind `call`, one conversation per number (spaces, dashes and brackets
  removed, as the SMS threads are keyed, so a call log lines up with the SMS backup of the same phone);
  conversations in the order their number first appears, calls within one in time order (equal times
  in file order). The title is the contact's name as the phone knew it, else the number.
- `type` (CallLog.Calls): 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 refused list
  (blocked), 7 answered on another device. Outgoing calls were made by this phone: the sender is
  `OWNER` ("Ik"); every other type came from the other party: the sender is the contact's name, else the
  number, else "(number withheld)"/"(unknown number)" from `presentation` (1 allowed, 2 restricted,
  3 unknown, 4 payphone).
- The text keeps every fact of the call, in one form: `<what>[, <duration> s], <number>`, e.g.
  "incoming call, 83 s, +31 6 1234 5678", "missed call, (number withheld)"; the number as written in
  that call, the duration when the call lasted or was answered. `source.inferred["calls"]` counts the
  calls by direction. An unknown type is written "type N call" and listed under `unknown_call_types`,
  never guessed. (Facts are kept in the streamed text, not per call in `inferred`, which is held until
  the end: a log of millions of calls must not grow memory.)
- The app writes absent values as the string "null" (and "(Unknown)" for a contact it had no name
  for): read as absent. The `count` attribute is not trusted; a wrong count is recorded.
- Emoji written as surrogate character references (contact names) are repaired while streaming
  (`xml_stream.py`) and counted under `xml_repairs`; the original file is never changed.
- A `<call>` whose date is missing or not a number is an `unparsed` message holding the element as
  XML, timed like the number's call before it (the backup's date when it is the first).
- The file is streamed and spilled to sorted runs like the SMS backup (`sms_stream.py`, shared with
  `sms_backup`): memory does not grow with its size.
- Beside an SMS backup (the app's folder holds both) this format scores 0.5 and `sms-backup` reads the
  calls into the threads of the same numbers (see `sms_backup`); `--format sms-backup-calls` still reads
  the call log alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import IO, Any, Iterator

from lxml import etree

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.sms_stream import (
    LATEST_MS,
    NULL,
    OWNER,
    UNTIMED,
    BackupFile,
    Entry,
    FileFacts,
    Thread,
    conversations_of,
    iter_rows,
    members_with_root,
    read_root_facts,
    root_pattern,
    stream_threads,
    thread_key,
    written,
)
from kernel.errors import InputError
from kernel.model import Conversation, MessageKind

NAME = "sms-backup-calls"
CALL_TYPES = {
    1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "refused list",
    7: "answered externally",
}
_CALL_WORDS = {
    1: "incoming call", 2: "outgoing call", 3: "missed call", 4: "voicemail", 5: "rejected call",
    6: "blocked call (refused list)", 7: "call answered on another device",
}
_NO_NUMBER = {2: "(number withheld)", 3: "(unknown number)", 4: "(payphone)"}
_CALLS_ROOT = root_pattern("calls")


@dataclass(frozen=True)
class Call:
    """One `<call>` element as the app wrote it, "null" made None; `problem` says why it is unreadable."""

    position: int  # 1-based among the call elements of the file
    line: int
    date_ms: int | None
    type: int | None
    duration_s: int | None
    number: str | None
    presentation: int | None
    contact_name: str | None
    problem: str | None = None
    written: str = ""  # the element as XML, for a damaged one


CallLogFacts = FileFacts  # what the root says and what reading found, filled while calls are streamed


def iter_calls(raw: IO[bytes], name: str, facts: CallLogFacts | None = None) -> Iterator[Call]:
    """Every `<call>` of the backup in file order, streamed; memory does not grow with the file's size.

    Raises UnsafeXml for a DTD, InputError when the file is not well-formed XML (truncated, not XML) or
    its root is not `<calls>`. A damaged element comes as a Call whose `problem` says what is wrong."""
    facts = facts if facts is not None else CallLogFacts()

    def check_root(element: etree._Element) -> None:
        if element.tag != "calls":
            raise InputError(f"{name} is XML but not an SMS Backup & Restore call log (root <{element.tag}>, not <calls>)")
        read_root_facts(element, facts)

    for element in iter_rows(raw, name, ("call",), facts, check_root):
        yield _call(element, facts.elements)


def _present(element: etree._Element, attribute: str) -> str | None:
    value = element.get(attribute)
    return None if value is None or value.strip() in (NULL, "") else value.strip()


def _integer(element: etree._Element, attribute: str, problems: list[str] | None) -> int | None:
    value = _present(element, attribute)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        if problems is not None:
            problems.append(f"{attribute} {value[:40]!r} is not a number")
        return None


def _call(element: etree._Element, position: int) -> Call:
    problems: list[str] = []
    date_ms = _integer(element, "date", problems)
    if date_ms is None and not problems:
        problems.append("no date")
    if date_ms is not None and not 0 <= date_ms <= LATEST_MS:
        problems.append(f"date {date_ms} is outside the calendar")
        date_ms = None
    contact = _present(element, "contact_name")
    as_written = written(element) if problems else ""
    return Call(
        position=position, line=element.sourceline or 0, date_ms=date_ms, type=_integer(element, "type", None),
        duration_s=_integer(element, "duration", None), number=_present(element, "number"),
        presentation=_integer(element, "presentation", None),
        contact_name=None if contact == "(Unknown)" else contact,
        problem="; ".join(problems) or None, written=as_written,
    )


def call_text(call: Call) -> str:
    """Every fact of the call in one form: "incoming call, 83 s, +31 6 1234 5678", "missed call, (number
    withheld)", "type 9 call, 12 s, 0800-1234" (the number as written; the duration when the call lasted
    or was answered)."""
    words = _CALL_WORDS.get(call.type or 0, f"type {call.type} call" if call.type is not None else "call")
    parts = [words]
    if call.duration_s is not None and (call.duration_s > 0 or call.type in (1, 2)):
        parts.append(f"{call.duration_s} s")
    parts.append(call.number or _NO_NUMBER.get(call.presentation or 0, "(unknown number)"))
    return ", ".join(parts)


def direction_of(call: Call) -> str:
    """The call's direction as the log's `type` says: "incoming", "outgoing", "missed", ... or "type N"."""
    return CALL_TYPES.get(call.type or 0, f"type {call.type}" if call.type is not None else "no type")


def _other_party(call: Call) -> str:
    return call.contact_name or call.number or _NO_NUMBER.get(call.presentation or 0, "(unknown number)")


def call_entries(raw: IO[bytes], name: str, threads: dict[str, Thread], facts: CallLogFacts) -> Iterator[tuple[str, Entry]]:
    """Pass one over one call log: (number's thread key, spool entry) of every `<call>`, in file order;
    `threads` learns each number's title, last time and calls by direction."""
    for call in iter_calls(raw, name, facts):
        yield _entry(call, threads)


def _entry(call: Call, threads: dict[str, Thread]) -> tuple[str, Entry]:
    key = thread_key(call.number)
    log = threads.get(key)
    if log is None:
        log = threads[key] = Thread(key)
    if log.title is None and call.contact_name:
        log.title = call.contact_name
    notes: list[tuple[str, Any]] = []
    if call.problem is not None or call.date_ms is None:
        when = log.last_date if log.last_date is not None else UNTIMED
        as_written = call.written or f"<call> at line {call.line}"
        notes.append(("unparsed_lines", {"line": call.line, "text": as_written, "reason": call.problem or "no date"}))
        return key, Entry(when, call.position, None, MessageKind.UNPARSED.value, as_written, [], notes)
    log.last_date = call.date_ms
    direction = direction_of(call)
    log.directions[direction] = log.directions.get(direction, 0) + 1
    if call.type not in CALL_TYPES:
        notes.append(("unknown_call_types", {"type": call.type}))
    sender = OWNER if call.type == 2 else _other_party(call)
    return key, Entry(call.date_ms, call.position, sender, MessageKind.CALL.value, call_text(call), [], notes)


def call_log_members(export: Export) -> list[str]:
    """Every member whose head is an SMS Backup & Restore call log (`<calls` before any other element)."""
    return members_with_root(export, _CALLS_ROOT)


def call_log_member(export: Export) -> str | None:
    """The first member whose head is an SMS Backup & Restore call log, else None."""
    members = call_log_members(export)
    return members[0] if members else None


class SmsBackupCallsFormat:
    """The registry entry for SMS Backup & Restore call logs."""

    name = NAME

    def score(self, export: Export) -> float:
        """1.0 when an .xml member's head opens `<calls`; 0.5 when the export also holds the SMS backup
        (`<smses`), which `sms-backup` reads together with its call log; else 0."""
        if not call_log_members(export):
            return 0.0
        return 0.5 if members_with_root(export, _SMSES_ROOT) else 1.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per number, in order of each number's first call in the file."""
        return conversations_of(self.stream(export, options))

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The numbers of every call log of the export as streams (the SMS backup beside them left out: this
        format was chosen for the calls alone). The logs are read once before this returns (to know the
        numbers); calls are spooled to a temporary folder and read back per number while consumed."""
        from ingest.sources import sms_backup  # owns RUN_SIZE; imported here as sms_backup imports this module

        members = call_log_members(export)
        if not members:
            raise InputError("the export holds no SMS Backup & Restore call log (<calls>)")
        files = [BackupFile(member, "calls", call_entries) for member in members]
        return stream_threads(export, options, files, sms_backup.RUN_SIZE, NAME)


FORMAT = SmsBackupCallsFormat()
_SMSES_ROOT = root_pattern("smses")
