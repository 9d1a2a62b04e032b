"""SMS Backup & Restore (SyncTech, Android) XML backups read into canonical conversations.

Implements the `sms-backup` export format of issue 4. The file format is the app's own (documented by
SyncTech at synctech.com.au "Fields in XML Backup Files"): a root `<smses count=…>` holding `<sms>`
elements (one attribute per column of Android's `content://sms` table) and `<mms>` elements with
`<parts>` (SMIL layout, text, base64 `data` for binary parts) and `<addrs>` (PduHeaders address types:
137 from, 151 to, 130 cc, 129 bcc).

Decisions a records manager should know:
- One conversation per thread: the set of other parties' addresses (for group MMS the `~`-joined
  `address`), spaces, dashes and brackets removed; threads in the order they first appear in the file.
  Within a thread, messages are in time order, equal times in file order (the backup lists all sms
  first, then all mms, so file order would put every MMS after every SMS).
- `type` 1 / `msg_box` 1 is received: the sender is the contact's name as the phone knew it, else its
  address. Every other type (2 sent, 3 draft, 4 outbox, 5 failed, 6 queued) was written on this phone:
  the sender is `OWNER` ("Ik"); drafts, failed and queued messages are listed in
  `source.inferred["not_sent"]` with their type. In a group MMS the sender is the address of type 137.
- The app writes absent values as the string "null"; such values are read as absent (an sms body
  "null" becomes "" and its seq is listed under `null_body`).
- The `count` attribute is not trusted: every element is read, and a wrong count is recorded.
- Emoji written as surrogate character references are repaired while streaming
  (`ingest/sources/xml_stream.py`), counted under `xml_repairs`; the original file is never changed.
- Binary MMS parts are attachments named `<backup stem>.parts/<element position>-<part index>-<name>`
  (`iter_part_data` yields their decoded bytes under those names, one at a time); base64 that does not
  decode keeps the message, the attachment gets `present` False and is listed under
  `damaged_attachments` with the reason. A part the backup holds no data for (the app's option to
  leave MMS media out) is `present` False and listed under `attachments_not_in_backup`.
- A message element that cannot be read (its date is not a number) is an `unparsed` message holding
  the element as XML, timed like the thread's message before it.
- MMS `sub` (subject) is kept under `subjects` per seq; group MMS list every address with its role
  under `group_mms`. A `date` below 10^11 is taken as seconds and noted under `date_in_seconds`.
- Timestamps are the `date` column (milliseconds since 1970 UTC), shown in the `--tz` zone.
- The file is streamed (lxml iterparse with elements cleared): memory does not grow with its size.
- A file cut short (a phone that ran out of space ends it inside its last element, without closing
  `</smses>`) keeps every whole message; `source.damaged` names the file, where it ends (byte, line) and
  how many elements were whole, and the file itself is kept as it is. A file cut before its first whole
  message, or not well-formed before its end (damaged, not cut), is refused.

The phone's whole record. The app writes `sms-<date>.xml` and `calls-<date>.xml` into one backup folder, and
that folder (or a zip of it) is what a municipality receives. Such an export is this format's (the call log
alone scores lower beside an SMS backup), and both files are read: each call is a message of kind `call`
(`sms_backup_calls`: "incoming call, 83 s, +31 6 1234 5678") merged in time order into the thread of the
same number (equal times: the SMS first, then file order). Merged, not kept apart, because a records
manager registers what was said with a person, and a call is part of that exchange: "see my SMS" and the
call after it belong in one record, one SIP, one retention decision; `inferred["calls"]` still counts the
thread's calls by direction, so they are never hidden among the texts. A number that was only called is a
conversation of its own (after the SMS threads, in order of its first call). Keys line up only where the
phone wrote the same number (`+31612345678` and `06 12345678` stay apart: no guessing of country codes).
Several backup files side by side (dated backups of one phone overlap) are all read, in member order; a
message another file already gave (same time, sender, kind, text and attachments' state) is left out and
counted under `duplicates_across_files`. With more than one file, each file's facts (elements, a wrong
count, XML repairs) are under `inferred["backup_files"]`. `--format sms-backup-calls` reads the call log
alone. The shared streaming (thread key, spool, time order) is `ingest/sources/sms_stream.py`.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator

from lxml import etree

from ingest.export import Export
from ingest.sources import sms_backup_calls
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.sms_stream import (
    EARLIEST_MS,
    LATEST_MS,
    NULL,
    OWNER,
    UNTIMED,
    BackupFile,
    Entry,
    FileFacts,
    Thread,
    address_noise_removed,
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

NAME = "sms-backup"
ADDRESS_FROM = "137"
ADDRESS_TYPES = {"137": "from", "151": "to", "130": "cc", "129": "bcc"}
SMS_TYPES = {1: "received", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
_SKIPPED_PART_TYPES = ("application/smil",)
_UNSAFE_NAME_CHARS = re.compile(r'[\x00-\x1f/\\:*?"<>|]')


@dataclass(frozen=True)
class Part:
    """One `<part>` of an MMS: its content type, file name, text, and the state of its binary data."""

    index: int  # 1-based position among the message's parts
    content_type: str
    name: str | None
    text: str | None
    data_state: str  # "absent" (no data attribute), "ok", or "damaged"
    size: int  # bytes after base64 decoding (0 unless ok)
    problem: str | None = None


@dataclass(frozen=True)
class Record:
    """One `<sms>` or `<mms>` element, read as the app wrote it (with "null" made None)."""

    element: str  # "sms" or "mms"
    position: int  # 1-based among the message elements of the file
    line: int  # line of the element's start tag
    date_ms: int | None
    box: int | None  # sms `type` or mms `msg_box`
    address: str | None
    contact_name: str | None
    body: str | None  # sms body; None for mms
    subject: str | None
    parts: tuple[Part, ...] = ()
    addrs: tuple[tuple[str, str], ...] = ()  # (address, type code)
    problem: str | None = None  # why the element cannot be read as a message, if it cannot
    written: str = ""  # the element as XML, for a damaged one (at most WRITTEN_LIMIT characters)


BackupFacts = FileFacts  # what the root element says and what reading found, filled while records are streamed


def iter_records(raw: IO[bytes], name: str, facts: BackupFacts | None = None) -> Iterator[Record]:
    """Every `<sms>` and `<mms>` of the backup in file order, streamed; memory does not grow with size.

    Raises UnsafeXml for a DTD, InputError when the file is not well-formed XML (truncated, not XML)
    or its root is not `<smses>`. A damaged element (no date, a non-number) comes as a Record whose
    `problem` says what is wrong.
    """
    for position, element in _message_elements(raw, name, facts if facts is not None else BackupFacts()):
        yield _record(element, position)


def iter_part_data(raw: IO[bytes], name: str) -> Iterator[tuple[str, bytes]]:
    """(attachment name, decoded bytes) of every MMS part whose base64 decodes, in file order, one at a
    time: the binary parts as files, under the names the conversation's attachments carry."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for position, element in _message_elements(raw, name, BackupFacts()):
        if element.tag != "mms":
            continue
        for index, part_element in enumerate(element.iterfind("parts/part"), 1):
            part = _part(part_element, index)
            if part.data_state == "ok":
                yield part_file_name(stem, position, part), decode_part_data(part_element.get("data") or "")


def _message_elements(raw: IO[bytes], name: str, facts: BackupFacts) -> Iterator[tuple[int, etree._Element]]:
    """(position, element) of each `<sms>`/`<mms>` child of the root, cleared after the caller is done."""

    def check_root(element: etree._Element) -> None:
        if element.tag != "smses":
            raise InputError(f"{name} is XML but not an SMS Backup & Restore file (root <{element.tag}>, not <smses>)")
        read_root_facts(element, facts)

    for element in iter_rows(raw, name, ("sms", "mms"), facts, check_root):
        yield facts.elements, element


def _record(element: etree._Element, position: int) -> Record:
    tag = str(element.tag)
    line = element.sourceline or 0
    get = _getter(element)
    problems: list[str] = []
    date_ms = _integer(get("date"), "date", problems)
    if date_ms is None and "date" not in " ".join(problems):
        problems.append("no date")
    if date_ms is not None and not EARLIEST_MS <= date_ms <= LATEST_MS:
        problems.append(f"date {date_ms} is outside the calendar")
        date_ms = None
    box = _integer(get("type") if tag == "sms" else get("msg_box"), "type" if tag == "sms" else "msg_box", problems)
    as_written = written(element) if problems else ""
    if tag == "sms":
        return Record(
            element=tag, position=position, line=line, date_ms=date_ms, box=box, address=get("address"),
            contact_name=_contact_name(get("contact_name")), body=element.get("body"), subject=get("subject"),
            problem="; ".join(problems) or None, written=as_written,
        )
    parts = tuple(_part(p, i) for i, p in enumerate(element.iterfind("parts/part"), 1))
    addrs = tuple(
        (addr.get("address") or "", addr.get("type") or "") for addr in element.iterfind("addrs/addr")
    )
    return Record(
        element=tag, position=position, line=line, date_ms=date_ms, box=box, address=get("address"),
        contact_name=_contact_name(get("contact_name")), body=None, subject=get("sub"), parts=parts,
        addrs=addrs, problem="; ".join(problems) or None, written=as_written,
    )


def _getter(element: etree._Element) -> Callable[[str], str | None]:
    """A reader of `element`'s attributes that treats the app's "null" and "" as absent."""

    def get(attribute: str) -> str | None:
        value = element.get(attribute)
        return None if value is None or value == NULL or value == "" else value

    return get


def _integer(value: str | None, label: str, problems: list[str]) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        problems.append(f"{label} {value[:40]!r} is not a number")
        return None


def _contact_name(value: str | None) -> str | None:
    """The name the phone had for the contact; the app writes "(Unknown)" when it had none."""
    if value is None or value.strip() in ("(Unknown)", ""):
        return None
    return value.strip()


def _part(element: etree._Element, index: int) -> Part:
    get = _getter(element)
    content_type = (get("ct") or "application/octet-stream").strip().lower()
    name = get("name") or get("cl") or get("fn")
    data = element.get("data")
    if data is None or data == NULL:
        return Part(index, content_type, name, get("text"), "absent", 0)
    try:
        decoded = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        return Part(index, content_type, name, get("text"), "damaged", 0, f"base64 does not decode: {exc}")
    return Part(index, content_type, name, get("text"), "ok", len(decoded))


def decode_part_data(data: str) -> bytes:
    """The bytes of a part's base64 `data` attribute; InputError when they do not decode."""
    try:
        return base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"attachment data does not decode as base64: {exc}") from None


def part_file_name(stem: str, position: int, part: Part) -> str:
    """The name under which a binary part is attached: unique in the backup, safe as a path."""
    base = part.name or f"part{part.index}"
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip(" .") or f"part{part.index}"
    return f"{stem}.parts/{position:07d}-{part.index}-{base}"


# --- from records to conversations -------------------------------------------------------------------

RUN_SIZE = 20_000  # messages held before they are spilled, sorted, to a run file (the call log's too)
_SECONDS_NOT_MS = 10**11  # a `date` below this (March 1973 in ms) is seconds, as Android's MMS table stores


class SmsBackupFormat:
    """The registry entry for SMS Backup & Restore XML backups."""

    name = NAME

    def score(self, export: Export) -> float:
        """1.0 when an .xml member's head opens `<smses`, else 0."""
        return 1.0 if backup_member(export) is not None else 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per thread, in order of each thread's first element in the files."""
        return conversations_of(self.stream(export, options))

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The threads as streams: every SMS backup of the export, then every call log beside it, read once
        before this returns (to know the threads); messages and calls are spooled to a temporary folder and
        read back per thread, in time order, while consumed."""
        members = backup_members(export)
        if not members:
            raise InputError("the export holds no SMS Backup & Restore XML file (<smses>)")
        files = [BackupFile(member, "sms", record_entries) for member in members]
        files += [BackupFile(member, "calls", sms_backup_calls.call_entries)
                  for member in sms_backup_calls.call_log_members(export)]
        return stream_threads(export, options, files, RUN_SIZE, NAME)

    def embedded_files(self, export: Export) -> Iterator[tuple[str, bytes]]:
        """The decoded MMS parts of every SMS backup file of the export, one at a time."""
        for member in backup_members(export):
            with export.open(member) as raw:
                yield from iter_part_data(raw, member)


FORMAT = SmsBackupFormat()
_SMSES_ROOT = root_pattern("smses")


def backup_members(export: Export) -> list[str]:
    """Every member whose head is an SMS Backup & Restore document (`<smses` before any other element)."""
    return members_with_root(export, _SMSES_ROOT)


def backup_member(export: Export) -> str | None:
    """The first member whose head is an SMS Backup & Restore document, else None."""
    members = backup_members(export)
    return members[0] if members else None


def record_entries(raw: IO[bytes], name: str, threads: dict[str, Thread], facts: BackupFacts) -> Iterator[tuple[str, Entry]]:
    """Pass one over one SMS backup file: (thread key, spool entry) of every `<sms>` and `<mms>`, in file
    order; `threads` learns each thread's title, names and last time."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for record in iter_records(raw, name, facts):
        yield _entry(record, stem, threads, facts)


def _entry(record: Record, stem: str, threads: dict[str, Thread], facts: BackupFacts) -> tuple[str, Entry]:
    """The thread key and spool entry of one record (pass one)."""
    key = thread_key(record.address)
    thread = threads.get(key)
    if thread is None:
        thread = threads[key] = Thread(key)
    names = _names(record)
    thread.names.update(names)
    if thread.title is None and record.contact_name:
        thread.title = record.contact_name
    thread.count += 1
    notes: list[tuple[str, Any]] = []
    date_ms = record.date_ms
    problem = record.problem
    if date_ms is not None and 0 < date_ms < _SECONDS_NOT_MS:
        date_ms *= 1000
        notes.append(("date_in_seconds", {"line": record.line}))
    if problem is not None or date_ms is None:
        # timed like the thread's message before it; the first of a thread waits for the one after it
        when = thread.last_date if thread.last_date is not None else UNTIMED
        as_written = record.written or f"<{record.element}> at line {record.line}"
        notes.append(("unparsed_lines", {"line": record.line, "text": as_written, "reason": problem or "no date"}))
        return key, Entry(when, record.position, None, MessageKind.UNPARSED.value, as_written, [], notes)
    thread.last_date = date_ms
    received = record.box == 1
    if record.box not in (1, 2):
        notes.append(("not_sent", {"type": SMS_TYPES.get(record.box or 0, str(record.box))}))
    if record.element == "sms":
        sender = (record.contact_name or record.address) if received else OWNER
        body = record.body
        if body is None or body == NULL:
            notes.append(("null_body", True))
            body = ""
        return key, Entry(date_ms, record.position, sender, MessageKind.TEXT.value, body, [], notes)
    return key, _mms_entry(record, stem, date_ms, received, names, notes)


def _names(record: Record) -> dict[str, str]:
    """Address → contact name, where the `~`-joined addresses and ", "-joined names line up."""
    if not record.address or not record.contact_name:
        return {}
    addresses = [address_noise_removed(a) for a in record.address.split("~")]
    names = [n.strip() for n in record.contact_name.split(", ")] if len(addresses) > 1 else [record.contact_name]
    return dict(zip(addresses, names)) if len(names) == len(addresses) else {}


def _mms_entry(
    record: Record, stem: str, date_ms: int, received: bool, names: dict[str, str], notes: list[tuple[str, Any]]
) -> Entry:
    sender: str | None = OWNER
    if received:
        senders = [a for a, kind in record.addrs if kind == ADDRESS_FROM and a]
        address = senders[0] if senders else (record.address or "")
        sender = names.get(address_noise_removed(address)) or (
            record.contact_name if "~" not in (record.address or "") else None
        ) or address or None
    texts: list[str] = []
    attachments: list[tuple[Any, ...]] = []
    for part in record.parts:
        if part.content_type in _SKIPPED_PART_TYPES:
            continue
        if part.content_type.startswith("text/plain") and part.data_state == "absent":
            if part.text:
                texts.append(part.text)
            continue
        name = part_file_name(stem, record.position, part)
        attachments.append((name, part.data_state == "ok", part.content_type, part.data_state == "absent"))
        if part.data_state == "damaged":
            notes.append(("damaged_attachments", {"name": name, "reason": part.problem}))
        elif part.data_state == "absent":
            notes.append(("attachments_not_in_backup", {"name": name}))
    if record.subject:
        notes.append(("subjects", record.subject))
    if len(record.addrs) > 2 or "~" in (record.address or ""):
        notes.append(("group_mms", [f"{a} ({ADDRESS_TYPES.get(k, k)})" for a, k in record.addrs]))
    kind = MessageKind.MEDIA.value if attachments else MessageKind.TEXT.value
    return Entry(date_ms, record.position, sender, kind, "\n".join(texts), attachments, notes)
