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
"""
from __future__ import annotations

import base64
import binascii
import heapq
import marshal
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterator

from lxml import etree

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.xml_stream import RepairingReader, Repairs
from kernel.errors import InputError
from kernel.model import Attachment, Conversation, ConversationHead, Message, MessageKind, Source, participants_of

NAME = "sms-backup"
OWNER = "Ik"
NULL = "null"
ADDRESS_FROM = "137"
ADDRESS_TYPES = {"137": "from", "151": "to", "130": "cc", "129": "bcc"}
SMS_TYPES = {1: "received", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
_SKIPPED_PART_TYPES = ("application/smil",)
_ADDRESS_NOISE = re.compile(r"[\s\-().]")
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


WRITTEN_LIMIT = 64 * 1024


@dataclass
class BackupFacts:
    """What the root element says and what reading found, filled while records are streamed."""

    declared_count: int | None = None
    backup_date_ms: int | None = None  # the root's backup_date: when the backup was made
    root: str | None = None
    elements: int = 0
    repairs: Repairs | None = None


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
    reader = RepairingReader(raw, name)
    facts.repairs = reader.repairs
    context = etree.iterparse(
        reader,
        events=("end",),
        tag=("sms", "mms"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # MMS video parts are base64 attributes far beyond libxml2's 10 MB default
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, element in context:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # an <sms> nested deeper than the root's children is not a message of the backup
            if facts.root is None:
                _check_root(parent, name, facts)
            facts.elements += 1
            yield facts.elements, element
            element.clear(keep_tail=False)
            while element.getprevious() is not None:  # also drops siblings of other names
                del parent[0]
        root = context.root
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name} is not well-formed XML (truncated or damaged?): {_one_line(exc)}") from None
    if facts.root is None:
        if root is None:
            raise InputError(f"{name} holds no XML element")
        _check_root(root, name, facts)


def _check_root(element: etree._Element, name: str, facts: BackupFacts) -> None:
    facts.root = str(element.tag)
    if element.tag != "smses":
        raise InputError(f"{name} is XML but not an SMS Backup & Restore file (root <{element.tag}>, not <smses>)")
    count = element.get("count")
    if count is not None and count.strip().isdigit():
        facts.declared_count = int(count)
    backup_date = element.get("backup_date")
    if backup_date is not None and backup_date.strip().isdigit() and int(backup_date) <= _LATEST_MS:
        facts.backup_date_ms = int(backup_date)


def _record(element: etree._Element, position: int) -> Record:
    tag = str(element.tag)
    line = element.sourceline or 0
    get = _getter(element)
    problems: list[str] = []
    date_ms = _integer(get("date"), "date", problems)
    if date_ms is None and "date" not in " ".join(problems):
        problems.append("no date")
    if date_ms is not None and not _EARLIEST_MS <= date_ms <= _LATEST_MS:
        problems.append(f"date {date_ms} is outside the calendar")
        date_ms = None
    box = _integer(get("type") if tag == "sms" else get("msg_box"), "type" if tag == "sms" else "msg_box", problems)
    written = _written(element) if problems else ""
    if tag == "sms":
        return Record(
            element=tag, position=position, line=line, date_ms=date_ms, box=box, address=get("address"),
            contact_name=_contact_name(get("contact_name")), body=element.get("body"), subject=get("subject"),
            problem="; ".join(problems) or None, written=written,
        )
    parts = tuple(_part(p, i) for i, p in enumerate(element.iterfind("parts/part"), 1))
    addrs = tuple(
        (addr.get("address") or "", addr.get("type") or "") for addr in element.iterfind("addrs/addr")
    )
    return Record(
        element=tag, position=position, line=line, date_ms=date_ms, box=box, address=get("address"),
        contact_name=_contact_name(get("contact_name")), body=None, subject=get("sub"), parts=parts,
        addrs=addrs, problem="; ".join(problems) or None, written=written,
    )


def _written(element: etree._Element) -> str:
    """The element as XML text (as read, after the reference repair), cut at WRITTEN_LIMIT characters."""
    text = etree.tostring(element, encoding="unicode", with_tail=False)
    if len(text) > WRITTEN_LIMIT:
        return text[:WRITTEN_LIMIT] + f"… ({len(text) - WRITTEN_LIMIT} more characters)"
    return text


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


def thread_key(address: str | None) -> str:
    """The conversation a message belongs to: its other parties' addresses, normalised and sorted."""
    if not address:
        return ""
    parts = {_ADDRESS_NOISE.sub("", a) for a in address.split("~")}
    return "~".join(sorted(p for p in parts if p))


def part_file_name(stem: str, position: int, part: Part) -> str:
    """The name under which a binary part is attached: unique in the backup, safe as a path."""
    base = part.name or f"part{part.index}"
    base = _UNSAFE_NAME_CHARS.sub("_", base).strip(" .") or f"part{part.index}"
    return f"{stem}.parts/{position:07d}-{part.index}-{base}"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


# --- from records to conversations -------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
RUN_SIZE = 20_000  # messages held before they are spilled, sorted, to a run file
_SECONDS_NOT_MS = 10**11  # a `date` below this (March 1973 in ms) is seconds, as Android's MMS table stores
_UNTIMED = -1  # spool date of a damaged element that comes before any readable one in its thread
_EARLIEST_MS = 0  # 1970: no phone stored an earlier time
_LATEST_MS = 253402300799000  # 9999-12-31T23:59:59Z, the last instant a datetime holds


@dataclass
class _Entry:
    """One message as spooled: what is needed to make the Message and its notes, in plain values."""

    date_ms: int
    position: int
    sender: str | None
    kind: str
    text: str
    attachments: list[tuple[str, bool, str | None]]
    notes: list[tuple[str, Any]]  # (inferred key, value for this message) added when the seq is known

    def dump(self) -> tuple[Any, ...]:
        return (self.date_ms, self.position, self.sender, self.kind, self.text, self.attachments, self.notes)


@dataclass
class _Thread:
    """What pass one learns about a thread: its title and addresses, and how many messages it has."""

    key: str
    names: dict[str, str] = field(default_factory=dict)  # address → contact name
    title: str | None = None
    count: int = 0
    last_date: int | None = None


class _Spool:
    """Messages of every thread, spilled in sorted runs to one temporary folder, read back per thread in
    time order by merging the runs: memory holds at most RUN_SIZE messages, whatever the file's size."""

    def __init__(self) -> None:
        self._buffer: dict[str, list[tuple[Any, ...]]] = {}
        self._held = 0
        self._runs: list[tuple[Path, dict[str, tuple[int, int]]]] = []
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def add(self, key: str, entry: _Entry) -> None:
        self._buffer.setdefault(key, []).append(entry.dump())
        self._held += 1
        if self._held >= RUN_SIZE:
            self._spill()

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="edepot-sms-")
        path = Path(self._dir.name) / f"run-{len(self._runs):05d}"
        index: dict[str, tuple[int, int]] = {}
        with open(path, "wb") as out:
            for key, rows in self._buffer.items():
                rows.sort(key=lambda row: (row[0], row[1]))
                start = out.tell()
                for row in rows:
                    marshal.dump(row, out)
                index[key] = (start, len(rows))
        self._runs.append((path, index))
        self._buffer = {}
        self._held = 0

    def read(self, key: str) -> Iterator[tuple[Any, ...]]:
        """The thread's spooled rows in (date, position) order."""
        held = sorted(self._buffer.pop(key, []), key=lambda row: (row[0], row[1]))
        sources: list[Iterator[tuple[Any, ...]]] = [iter(held)]
        for path, index in self._runs:
            if key in index:
                sources.append(_run_rows(path, *index[key]))
        if len(sources) == 1:
            yield from held
        else:
            yield from heapq.merge(*sources, key=lambda row: (row[0], row[1]))

    def close(self) -> None:
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _run_rows(path: Path, offset: int, count: int) -> Iterator[tuple[Any, ...]]:
    with open(path, "rb") as handle:
        handle.seek(offset)
        for _ in range(count):
            yield marshal.load(handle)


class SmsBackupFormat:
    """The registry entry for SMS Backup & Restore XML backups."""

    name = NAME

    def score(self, export: Export) -> float:
        """1.0 when an .xml member's head opens `<smses`, else 0."""
        return 1.0 if backup_member(export) is not None else 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """One conversation per thread, in order of each thread's first element in the file."""
        conversations = []
        for stream in self.stream(export, options):
            messages = tuple(stream.messages)
            head = stream.head
            conversations.append(
                Conversation(source=head.source, participants=participants_of(messages), messages=messages, title=head.title)
            )
        return conversations

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """The threads as streams. The whole file is read once before this returns (to know the threads);
        messages are spooled to a temporary folder and read back per thread while consumed."""
        member = backup_member(export)
        if member is None:
            raise InputError("the export holds no SMS Backup & Restore XML file (<smses>)")
        facts = BackupFacts()
        spool = _Spool()
        threads: dict[str, _Thread] = {}
        stem = member.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        try:
            with export.open(member) as raw:
                for record in iter_records(raw, member, facts):
                    key, entry = _entry(record, stem, threads, facts)
                    spool.add(key, entry)
        except BaseException:
            spool.close()
            raise
        if not threads:
            spool.close()
            raise InputError(f"{member} holds no <sms> or <mms> element")
        files = export.source_files()
        base = _file_facts(facts)
        streams = []
        remaining = [len(threads)]
        for thread in threads.values():
            inferred: dict[str, Any] = {**base, "thread": thread.key or "(no address)"}
            source = Source(format=NAME, platform="android", locale=None, timezone=options.tz, files=files, inferred=inferred)
            head = ConversationHead(source=source, title=thread.title or thread.key or None)
            messages = _messages(spool, thread.key, inferred, options.zone, remaining, facts.backup_date_ms)
            streams.append(ConversationStream(head, messages))
        return streams

    def embedded_files(self, export: Export) -> Iterator[tuple[str, bytes]]:
        """The decoded MMS parts of every backup file of the export, one at a time."""
        for member in export.members():
            if member.name.lower().endswith(".xml"):
                with export.open(member.name) as raw:
                    yield from iter_part_data(raw, member.name)


FORMAT = SmsBackupFormat()


def backup_member(export: Export) -> str | None:
    """The first member whose head is an SMS Backup & Restore document (`<smses` before any other element)."""
    for member in export.members():
        if not member.name.lower().endswith(".xml"):
            continue
        try:
            head = export.read_head(member.name, 4096)
        except InputError:
            continue
        if _SMSES_ROOT.search(head):
            return member.name
    return None


# a DTD is allowed here so that such a file is taken for a backup and then refused as unsafe
_SMSES_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*<smses[\s>]", re.S
)


def _file_facts(facts: BackupFacts) -> dict[str, Any]:
    found: dict[str, Any] = {"elements": facts.elements, "time_basis": "date column (milliseconds since 1970, UTC)"}
    if facts.declared_count is not None and facts.declared_count != facts.elements:
        found["count_attribute"] = {
            "declared": facts.declared_count,
            "read": facts.elements,
            "evidence": "the root's count attribute differs from the elements in the file",
        }
    if facts.repairs is not None and facts.repairs.total():
        found["xml_repairs"] = facts.repairs.to_dict()
    return found


def _entry(record: Record, stem: str, threads: dict[str, _Thread], facts: BackupFacts) -> tuple[str, _Entry]:
    """The thread key and spool entry of one record (pass one)."""
    key = thread_key(record.address)
    thread = threads.get(key)
    if thread is None:
        thread = threads[key] = _Thread(key)
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
        when = thread.last_date if thread.last_date is not None else _UNTIMED
        written = record.written or f"<{record.element}> at line {record.line}"
        notes.append(("unparsed_lines", {"line": record.line, "text": written, "reason": problem or "no date"}))
        return key, _Entry(when, record.position, None, MessageKind.UNPARSED.value, written, [], notes)
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
        return key, _Entry(date_ms, record.position, sender, MessageKind.TEXT.value, body, [], notes)
    return key, _mms_entry(record, stem, date_ms, received, names, notes)


def _names(record: Record) -> dict[str, str]:
    """Address → contact name, where the `~`-joined addresses and ", "-joined names line up."""
    if not record.address or not record.contact_name:
        return {}
    addresses = [_ADDRESS_NOISE.sub("", a) for a in record.address.split("~")]
    names = [n.strip() for n in record.contact_name.split(", ")] if len(addresses) > 1 else [record.contact_name]
    return dict(zip(addresses, names)) if len(names) == len(addresses) else {}


def _mms_entry(
    record: Record, stem: str, date_ms: int, received: bool, names: dict[str, str], notes: list[tuple[str, Any]]
) -> _Entry:
    sender: str | None = OWNER
    if received:
        senders = [a for a, kind in record.addrs if kind == ADDRESS_FROM and a]
        address = senders[0] if senders else (record.address or "")
        sender = names.get(_ADDRESS_NOISE.sub("", address)) or (
            record.contact_name if "~" not in (record.address or "") else None
        ) or address or None
    texts: list[str] = []
    attachments: list[tuple[str, bool, str | None]] = []
    for part in record.parts:
        if part.content_type in _SKIPPED_PART_TYPES:
            continue
        if part.content_type.startswith("text/plain") and part.data_state == "absent":
            if part.text:
                texts.append(part.text)
            continue
        name = part_file_name(stem, record.position, part)
        attachments.append((name, part.data_state == "ok", part.content_type))
        if part.data_state == "damaged":
            notes.append(("damaged_attachments", {"name": name, "reason": part.problem}))
        elif part.data_state == "absent":
            notes.append(("attachments_not_in_backup", {"name": name}))
    if record.subject:
        notes.append(("subjects", record.subject))
    if len(record.addrs) > 2 or "~" in (record.address or ""):
        notes.append(("group_mms", [f"{a} ({ADDRESS_TYPES.get(k, k)})" for a, k in record.addrs]))
    kind = MessageKind.MEDIA.value if attachments else MessageKind.TEXT.value
    return _Entry(date_ms, record.position, sender, kind, "\n".join(texts), attachments, notes)


_LIST_NOTES = ("unparsed_lines", "damaged_attachments", "attachments_not_in_backup", "not_sent", "date_in_seconds")


def _messages(
    spool: _Spool, key: str, inferred: dict[str, Any], zone: Any, remaining: list[int], fallback_ms: int | None
) -> Iterator[Message]:
    """Pass two for one thread: its messages in time order, seqs from 1; notes go into `inferred`.
    Damaged elements before the thread's first readable one take its time (the backup's date when the
    thread has none)."""
    try:
        waiting: list[tuple[int, tuple[Any, ...]]] = []
        seq = 0
        for row in spool.read(key):
            seq += 1
            if row[0] == _UNTIMED:
                waiting.append((seq, row))
                continue
            for early_seq, early in waiting:
                yield _message(early_seq, (row[0], *early[1:]), inferred, zone)
            waiting.clear()
            yield _message(seq, row, inferred, zone)
        for early_seq, early in waiting:
            yield _message(early_seq, (fallback_ms or 0, *early[1:]), inferred, zone)
    finally:
        remaining[0] -= 1
        if remaining[0] == 0:
            spool.close()


def _message(seq: int, row: tuple[Any, ...], inferred: dict[str, Any], zone: Any) -> Message:
    date_ms, _, sender, kind, text, attachments, notes = row
    for name, value in notes:
        if name in _LIST_NOTES:
            entry = {"seq": seq, **value} if isinstance(value, dict) else {"seq": seq, "value": value}
            inferred.setdefault(name, []).append(entry)
        elif name == "null_body":
            inferred.setdefault(name, []).append(seq)
        else:
            inferred.setdefault(name, {})[str(seq)] = value
    when = (EPOCH + timedelta(milliseconds=date_ms)).astimezone(zone)
    return Message(
        seq, when, sender, MessageKind(kind), text,
        tuple(Attachment(name=n, present=p, media_type=t) for n, p, t in attachments),
    )
