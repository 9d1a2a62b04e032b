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
- The file is streamed and spilled to sorted runs like the SMS backup (`sms_backup`'s spool): memory does
  not grow with its size.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import IO, Any, Iterator

from lxml import etree

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.sms_backup import (  # the SMS backup's pass two: spool, runs, notes into inferred
    _LATEST_MS,
    _UNTIMED,
    OWNER,
    _Entry,
    _messages,
    _Spool,
    thread_key,
)
from ingest.sources.xml_stream import RepairingReader, Repairs
from kernel.errors import InputError
from kernel.model import Conversation, ConversationHead, MessageKind, Source, participants_of

NAME = "sms-backup-calls"
NULL = "null"
CALL_TYPES = {
    1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "refused list",
    7: "answered externally",
}
_CALL_WORDS = {
    1: "incoming call", 2: "outgoing call", 3: "missed call", 4: "voicemail", 5: "rejected call",
    6: "blocked call (refused list)", 7: "call answered on another device",
}
_NO_NUMBER = {2: "(number withheld)", 3: "(unknown number)", 4: "(payphone)"}
WRITTEN_LIMIT = 64 * 1024
# a DTD is allowed here so that such a file is taken for a call log and then refused as unsafe
_CALLS_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*<calls[\s>]", re.S
)


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


@dataclass
class CallLogFacts:
    """What the root says and what reading found, filled while calls are streamed."""

    declared_count: int | None = None
    backup_date_ms: int | None = None
    root_seen: bool = False
    elements: int = 0
    repairs: Repairs | None = None


def iter_calls(raw: IO[bytes], name: str, facts: CallLogFacts | None = None) -> Iterator[Call]:
    """Every `<call>` of the backup in file order, streamed; memory does not grow with the file's size.

    Raises UnsafeXml for a DTD, InputError when the file is not well-formed XML (truncated, not XML) or
    its root is not `<calls>`. A damaged element comes as a Call whose `problem` says what is wrong."""
    facts = facts if facts is not None else CallLogFacts()
    reader = RepairingReader(raw, name)
    facts.repairs = reader.repairs
    context = etree.iterparse(
        reader, events=("end",), tag="call", resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=True, remove_comments=True, remove_pis=True,
    )
    try:
        for _, element in context:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # a <call> nested deeper than the root's children is not a row of the log
            if not facts.root_seen:
                _check_root(parent, name, facts)
            facts.elements += 1
            yield _call(element, facts.elements)
            element.clear(keep_tail=False)
            while element.getprevious() is not None:
                del parent[0]
        root = context.root
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name} is not well-formed XML (truncated or damaged?): {' '.join(str(exc).split())}") from None
    if not facts.root_seen:
        if root is None:
            raise InputError(f"{name} holds no XML element")
        _check_root(root, name, facts)


def _check_root(element: etree._Element, name: str, facts: CallLogFacts) -> None:
    facts.root_seen = True
    if element.tag != "calls":
        raise InputError(f"{name} is XML but not an SMS Backup & Restore call log (root <{element.tag}>, not <calls>)")
    count = element.get("count")
    if count is not None and count.strip().isdigit():
        facts.declared_count = int(count)
    backup_date = element.get("backup_date")
    if backup_date is not None and backup_date.strip().isdigit() and int(backup_date) <= _LATEST_MS:
        facts.backup_date_ms = int(backup_date)


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
    if date_ms is not None and not 0 <= date_ms <= _LATEST_MS:
        problems.append(f"date {date_ms} is outside the calendar")
        date_ms = None
    contact = _present(element, "contact_name")
    written = ""
    if problems:
        written = etree.tostring(element, encoding="unicode", with_tail=False)
        if len(written) > WRITTEN_LIMIT:
            written = written[:WRITTEN_LIMIT] + f"… ({len(written) - WRITTEN_LIMIT} more characters)"
    return Call(
        position=position, line=element.sourceline or 0, date_ms=date_ms, type=_integer(element, "type", None),
        duration_s=_integer(element, "duration", None), number=_present(element, "number"),
        presentation=_integer(element, "presentation", None),
        contact_name=None if contact == "(Unknown)" else contact,
        problem="; ".join(problems) or None, written=written,
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


@dataclass
class _Log:
    """What pass one learns about one number's calls."""

    key: str
    title: str | None = None
    last_date: int | None = None
    directions: dict[str, int] = field(default_factory=dict)


def _entry(call: Call, logs: dict[str, _Log]) -> tuple[str, _Entry]:
    key = thread_key(call.number)
    log = logs.get(key)
    if log is None:
        log = logs[key] = _Log(key)
    if log.title is None and call.contact_name:
        log.title = call.contact_name
    notes: list[tuple[str, Any]] = []
    if call.problem is not None or call.date_ms is None:
        when = log.last_date if log.last_date is not None else _UNTIMED
        written = call.written or f"<call> at line {call.line}"
        notes.append(("unparsed_lines", {"line": call.line, "text": written, "reason": call.problem or "no date"}))
        return key, _Entry(when, call.position, None, MessageKind.UNPARSED.value, written, [], notes)
    log.last_date = call.date_ms
    direction = direction_of(call)
    log.directions[direction] = log.directions.get(direction, 0) + 1
    if call.type not in CALL_TYPES:
        notes.append(("unknown_call_types", {"type": call.type}))
    sender = OWNER if call.type == 2 else _other_party(call)
    return key, _Entry(call.date_ms, call.position, sender, MessageKind.CALL.value, call_text(call), [], notes)


def _file_facts(facts: CallLogFacts) -> dict[str, Any]:
    found: dict[str, Any] = {"elements": facts.elements, "time_basis": "date column (milliseconds since 1970, UTC)"}
    if facts.declared_count is not None and facts.declared_count != facts.elements:
        found["count_attribute"] = {
            "declared": facts.declared_count, "read": facts.elements,
            "evidence": "the root's count attribute differs from the elements in the file",
        }
    if facts.repairs is not None and facts.repairs.total():
        found["xml_repairs"] = facts.repairs.to_dict()
    return found


def call_log_member(export: Export) -> str | None:
    """The first member whose head is an SMS Backup & Restore call log (`<calls` before any other element)."""
    for member in export.members():
        if not member.name.lower().endswith(".xml"):
            continue
        try:
            head = export.read_head(member.name, 4096)
        except InputError:
            continue
        if _CALLS_ROOT.search(head):
            return member.name
    return None


class SmsBackupCallsFormat:
    """The registry entry for SMS Backup & Restore call logs."""

    name = NAME

    def score(self, export: Export) -> float:
        """1.0 when an .xml member's head opens `<calls`, else 0."""
        return 1.0 if call_log_member(export) is not None else 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per number, in order of each number's first call in the file."""
        conversations = []
        for stream in self.stream(export, options):
            messages = tuple(stream.messages)
            head = stream.head
            conversations.append(Conversation(
                source=head.source, participants=participants_of(messages), messages=messages, title=head.title))
        return conversations

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The numbers as streams. The file is read once before this returns (to know the numbers); calls
        are spooled to a temporary folder and read back per number while consumed."""
        member = call_log_member(export)
        if member is None:
            raise InputError("the export holds no SMS Backup & Restore call log (<calls>)")
        facts = CallLogFacts()
        spool = _Spool()
        logs: dict[str, _Log] = {}
        try:
            with export.open(member) as raw:
                for call in iter_calls(raw, member, facts):
                    key, entry = _entry(call, logs)
                    spool.add(key, entry)
        except BaseException:
            spool.close()
            raise
        if not logs:
            spool.close()
            raise InputError(f"{member} holds no <call> element")
        files = export.source_files()
        base = _file_facts(facts)
        streams = []
        remaining = [len(logs)]
        for log in logs.values():
            inferred: dict[str, Any] = {**base, "number": log.key or "(no number)", "calls": dict(log.directions)}
            source = Source(format=NAME, platform="android", locale=None, timezone=options.tz, files=files,
                            inferred=inferred)
            head = ConversationHead(source=source, title=log.title or log.key or None)
            messages = _messages(spool, log.key, inferred, options.zone, remaining, facts.backup_date_ms)
            streams.append(ConversationStream(head, messages))
        return streams


FORMAT = SmsBackupCallsFormat()
