"""What SMS Backup & Restore's two files share: streamed XML, the thread key, and spooling into time order.

Implements, for `sms_backup` and `sms_backup_calls`, issue 4's "files of gigabytes (stream; memory must
not grow with file size)". Both files of the app (SyncTech, "Fields in XML Backup Files": `sms-<date>.xml`
with root `<smses>`, `calls-<date>.xml` with root `<calls>`) are read the same way:

- `iter_rows` streams the root's children of some tags through `RepairingReader` (surrogate-pair
  references repaired, DTDs refused) with lxml iterparse, clearing each element once it is read;
- every message or call becomes an `Entry`, filed under its `thread_key` (the other parties' numbers,
  spaces, dashes and brackets removed, so an SMS thread and the call log of the same number share a key);
- a `Spool` holds at most `run_size` entries, spilling sorted runs to a temporary folder, and
  `read_messages` merges a thread's runs back in time order (equal times in file order) as Messages;
- `stream_threads` runs pass one over every file the export holds and hands out one lazy stream per
  thread: the SMS backup's threads and the call log's numbers, merged where the keys meet.

Memory holds at most `run_size` entries and one small record per thread, whatever the files' sizes.
"""
from __future__ import annotations

import heapq
import marshal
import re
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any, Callable, Iterator, Sequence

from lxml import etree

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.xml_stream import RepairingReader, Repairs
from kernel.errors import InputError
from kernel.model import (
    Attachment,
    Conversation,
    ConversationHead,
    Damage,
    DamagedFile,
    Message,
    MessageKind,
    Source,
    participants_of,
)

OWNER = "Ik"
NULL = "null"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EARLIEST_MS = 0  # 1970: no phone stored an earlier time
LATEST_MS = 253402300799000  # 9999-12-31T23:59:59Z, the last instant a datetime holds
UNTIMED = -1  # spool date of a damaged element that comes before any readable one in its thread
WRITTEN_LIMIT = 64 * 1024
TIME_BASIS = "date column (milliseconds since 1970, UTC)"
FILE_STRIDE = 1 << 40  # position = file index × FILE_STRIDE + position in the file: file order, then element order
_ADDRESS_NOISE = re.compile(r"[\s\-().]")
# a DTD is allowed here so that such a file is taken for the app's and then refused as unsafe
_PROLOG = rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*"
# notes kept as a list of {"seq", ...}; every other note is a map seq → value ("subjects", "unknown_call_types")
LIST_NOTES = ("unparsed_lines", "damaged_attachments", "attachments_not_in_backup", "not_sent", "date_in_seconds")


def thread_key(address: str | None) -> str:
    """The conversation a message or call belongs to: its other parties' addresses, normalised and sorted."""
    if not address:
        return ""
    parts = {_ADDRESS_NOISE.sub("", a) for a in address.split("~")}
    return "~".join(sorted(p for p in parts if p))


def address_noise_removed(address: str) -> str:
    """One address as thread keys write it (spaces, dashes, dots and brackets removed)."""
    return _ADDRESS_NOISE.sub("", address)


def written(element: etree._Element) -> str:
    """The element as XML text (as read, after the reference repair), cut at WRITTEN_LIMIT characters."""
    text = etree.tostring(element, encoding="unicode", with_tail=False)
    if len(text) > WRITTEN_LIMIT:
        return text[:WRITTEN_LIMIT] + f"… ({len(text) - WRITTEN_LIMIT} more characters)"
    return text


def one_line(exc: Exception) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split())


# --- the files -----------------------------------------------------------------------------------------


@dataclass
class FileFacts:
    """What a file's root element says and what reading found, filled while its elements are streamed."""

    declared_count: int | None = None
    backup_date_ms: int | None = None  # the root's backup_date: when the backup was made
    root: str | None = None
    elements: int = 0
    repairs: Repairs | None = None
    cut_short: DamagedFile | None = None  # the file ends inside an element: only the whole ones before it were read

    def to_inferred(self) -> dict[str, Any]:
        """The facts as `source.inferred` shows them: elements read, a wrong count, XML repairs."""
        found: dict[str, Any] = {"elements": self.elements, "time_basis": TIME_BASIS}
        if self.declared_count is not None and self.declared_count != self.elements:
            found["count_attribute"] = {
                "declared": self.declared_count,
                "read": self.elements,
                "evidence": "the root's count attribute differs from the elements in the file",
            }
        if self.repairs is not None and self.repairs.total():
            found["xml_repairs"] = self.repairs.to_dict()
        return found


def root_pattern(root: str) -> re.Pattern[bytes]:
    """A pattern that finds `<root` as the first element of a file's head (prolog, comments, DTD before it)."""
    return re.compile(_PROLOG + b"<" + root.encode() + rb"[\s>]", re.S)


def members_with_root(export: Export, pattern: re.Pattern[bytes]) -> list[str]:
    """The .xml members of `export` whose head matches `pattern` (see root_pattern), in member order."""
    found = []
    for member in export.members():
        if not member.name.lower().endswith(".xml"):
            continue
        try:
            head = export.read_head(member.name, 4096)
        except InputError:
            continue
        if pattern.search(head):
            found.append(member.name)
    return found


def iter_rows(
    raw: IO[bytes], name: str, tags: tuple[str, ...], facts: FileFacts, check_root: Callable[[etree._Element], None]
) -> Iterator[etree._Element]:
    """Each child of the root whose tag is in `tags`, in file order, streamed; the element is cleared once the
    caller is done with it. `check_root(root)` is called once, on the first such child's parent (or the root
    of a file without one) and raises InputError for a foreign root. `facts` counts the elements and holds
    the reference repairs. A file cut short (the parser's error at the very end of the data) ends the rows after
    the last whole one, noted in `facts.cut_short`. Raises UnsafeXml for a DTD, InputError for a file that is not
    well-formed before its end, or cut before its first whole row."""
    reader = RepairingReader(raw, name)
    facts.repairs = reader.repairs
    context = etree.iterparse(
        reader,
        events=("end",),
        tag=tags,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # MMS video parts are base64 attributes far beyond libxml2's 10 MB default
        remove_comments=True,
        remove_pis=True,
    )
    checked = False
    try:
        for _, element in context:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # an element nested deeper than the root's children is not a row of the backup
            if not checked:
                check_root(parent)
                checked = True
            facts.elements += 1
            yield element
            element.clear(keep_tail=False)
            while element.getprevious() is not None:  # also drops siblings of other names
                del parent[0]
        root = context.root
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if exc.position else 0
        if not reader.ends_at(line):
            raise InputError(f"{name} is not well-formed XML (damaged?): {one_line(exc)}") from None
        if not facts.elements:
            raise InputError(f"{name} is cut short (it ends at byte {reader.bytes_read}, line {reader.lines}) before "
                             f"any whole {' or '.join(f'<{t}>' for t in tags)}: nothing of it can be read") from None
        facts.cut_short = DamagedFile(
            name=name, problem=f"the file ends inside an element, without closing its root: {one_line(exc)}",
            complete=facts.elements, end_byte=reader.bytes_read, end_line=reader.lines)
        return
    if not checked:
        if root is None:
            raise InputError(f"{name} holds no XML element")
        check_root(root)


def read_root_facts(element: etree._Element, facts: FileFacts) -> None:
    """The root's `count` and `backup_date` into `facts` (the app's own, not trusted: compared later)."""
    facts.root = str(element.tag)
    count = element.get("count")
    if count is not None and count.strip().isdigit():
        facts.declared_count = int(count)
    backup_date = element.get("backup_date")
    if backup_date is not None and backup_date.strip().isdigit() and int(backup_date) <= LATEST_MS:
        facts.backup_date_ms = int(backup_date)


# --- spooling ----------------------------------------------------------------------------------------


@dataclass
class Entry:
    """One message as spooled: what is needed to make the Message and its notes, in plain values."""

    date_ms: int
    position: int
    sender: str | None
    kind: str
    text: str
    attachments: list[tuple[Any, ...]]  # (name, present, media type[, omitted by the export])
    notes: list[tuple[str, Any]]  # (inferred key, value for this message) added when the seq is known

    def dump(self) -> tuple[Any, ...]:
        """The entry as a tuple of plain values (what the spool writes with marshal)."""
        return (self.date_ms, self.position, self.sender, self.kind, self.text, self.attachments, self.notes)


@dataclass
class Thread:
    """What pass one learns about a thread: title, addresses' names, messages and calls, the last time."""

    key: str
    names: dict[str, str] = field(default_factory=dict)  # address → contact name
    title: str | None = None
    count: int = 0  # sms and mms
    last_date: int | None = None
    directions: dict[str, int] = field(default_factory=dict)  # calls by direction


class Spool:
    """Messages of every thread, spilled in sorted runs to one temporary folder, read back per thread in
    time order by merging the runs: memory holds at most `run_size` messages, whatever the file's size."""

    def __init__(self, run_size: int) -> None:
        self._run_size = run_size
        self._buffer: dict[str, list[tuple[Any, ...]]] = {}
        self._held = 0
        self._runs: list[tuple[Path, dict[str, tuple[int, int]]]] = []
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def add(self, key: str, entry: Entry) -> None:
        """File `entry` under thread `key`; spills a sorted run when `run_size` entries are held."""
        self._buffer.setdefault(key, []).append(entry.dump())
        self._held += 1
        if self._held >= self._run_size:
            self._spill()

    def _spill(self) -> None:
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="edepot-sms-")
        path = Path(self._dir.name) / f"run-{len(self._runs):05d}"
        index: dict[str, tuple[int, int]] = {}
        with open(path, "wb") as out:
            for key, rows in self._buffer.items():
                rows.sort(key=_row_order)
                start = out.tell()
                for row in rows:
                    marshal.dump(row, out)
                index[key] = (start, len(rows))
        self._runs.append((path, index))
        self._buffer = {}
        self._held = 0

    def read(self, key: str) -> Iterator[tuple[Any, ...]]:
        """The thread's spooled rows in (date, position) order."""
        held = sorted(self._buffer.pop(key, []), key=_row_order)
        sources: list[Iterator[tuple[Any, ...]]] = [iter(held)]
        for path, index in self._runs:
            if key in index:
                sources.append(_run_rows(path, *index[key]))
        if len(sources) == 1:
            yield from held
        else:
            yield from heapq.merge(*sources, key=_row_order)

    def close(self) -> None:
        """Remove the spilled runs."""
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _row_order(row: tuple[Any, ...]) -> tuple[int, int]:
    return row[0], row[1]


def _run_rows(path: Path, offset: int, count: int) -> Iterator[tuple[Any, ...]]:
    with open(path, "rb") as handle:
        handle.seek(offset)
        for _ in range(count):
            yield marshal.load(handle)


def read_messages(
    spool: Spool, key: str, inferred: dict[str, Any], zone: Any, remaining: list[int], fallback_ms: int | None,
    several_files: bool = False,
) -> Iterator[Message]:
    """Pass two for one thread: its messages in time order, seqs from 1; notes go into `inferred`.
    Damaged elements before the thread's first readable one take its time (the backup's date when the
    thread has none). With `several_files`, a message that another file of the export already gave (same
    time, sender, kind, text and attachments' state: two dated backups of one phone overlap) is left out and
    counted under `duplicates_across_files`. The spool is closed when the last of `remaining` threads is done."""
    try:
        waiting: list[tuple[int, tuple[Any, ...]]] = []
        seq = 0
        same_time: dict[tuple[Any, ...], int] = {}  # message → file index, among those of the current time
        current = None
        for row in spool.read(key):
            if several_files and row[0] != UNTIMED and row[3] != MessageKind.UNPARSED.value:
                if row[0] != current:
                    current, same_time = row[0], {}
                identity = (row[2], row[3], row[4], tuple((a[1], a[2]) for a in row[5]))
                file_index = row[1] // FILE_STRIDE
                first = same_time.setdefault(identity, file_index)
                if first != file_index:
                    inferred["duplicates_across_files"] = inferred.get("duplicates_across_files", 0) + 1
                    continue
            seq += 1
            if row[0] == UNTIMED:
                waiting.append((seq, row))
                continue
            for early_seq, early in waiting:
                yield message_of(early_seq, (row[0], *early[1:]), inferred, zone)
            waiting.clear()
            yield message_of(seq, row, inferred, zone)
        for early_seq, early in waiting:
            yield message_of(early_seq, (fallback_ms or 0, *early[1:]), inferred, zone)
    finally:
        remaining[0] -= 1
        if remaining[0] == 0:
            spool.close()



def message_of(seq: int, row: tuple[Any, ...], inferred: dict[str, Any], zone: Any) -> Message:
    """The Message of a spooled row, numbered `seq`; the row's notes are written into `inferred`."""
    date_ms, _, sender, kind, text, attachments, notes = row
    for name, value in notes:
        if name in LIST_NOTES:
            entry = {"seq": seq, **value} if isinstance(value, dict) else {"seq": seq, "value": value}
            inferred.setdefault(name, []).append(entry)
        elif name == "null_body":
            inferred.setdefault(name, []).append(seq)
        else:
            inferred.setdefault(name, {})[str(seq)] = value
    when = (EPOCH + timedelta(milliseconds=date_ms)).astimezone(zone)
    return Message(
        seq, when, sender, MessageKind(kind), text,
        tuple(Attachment(name=a[0], present=a[1], media_type=a[2], omitted=len(a) > 3 and a[3]) for a in attachments),
    )


# --- pass one over every file, and the threads as streams -------------------------------------------


EntryReader = Callable[[IO[bytes], str, dict[str, Thread], FileFacts], Iterator[tuple[str, Entry]]]


@dataclass(frozen=True)
class BackupFile:
    """One file of the export and how its elements become spool entries: `kind` "sms" or "calls"."""

    member: str
    kind: str
    entries: EntryReader


def stream_threads(
    export: Export, options: ParseOptions, files: Sequence[BackupFile], run_size: int, format_name: str
) -> list[ConversationStream]:
    """Every thread of `files` as a lazy stream, in order of each thread's first element (files in the
    order given). The files are read once before this returns (to know the threads); entries are spooled
    and read back per thread while consumed. Each thread's `source.inferred` holds the file facts and the
    thread's key (see `thread_inferred`). InputError when the files hold no element at all."""
    spool = Spool(run_size)
    threads: dict[str, Thread] = {}
    facts: list[tuple[BackupFile, FileFacts]] = []
    try:
        for index, backup in enumerate(files):
            file_facts = FileFacts()
            facts.append((backup, file_facts))
            with export.open(backup.member) as raw:
                for key, entry in backup.entries(raw, backup.member, threads, file_facts):
                    entry.position += index * FILE_STRIDE
                    spool.add(key, entry)
    except BaseException:
        spool.close()
        raise
    if not threads:
        spool.close()
        what = " or ".join(sorted({"<sms> or <mms>" if b.kind == "sms" else "<call>" for b in files}))
        raise InputError(f"{', '.join(b.member for b in files)} holds no {what} element")
    sources = export.source_files()
    fallback = next((f.backup_date_ms for _, f in facts if f.backup_date_ms is not None), None)
    cut = tuple(f.cut_short for _, f in facts if f.cut_short is not None)
    damage = Damage(files=cut) if cut else None
    streams = []
    remaining = [len(threads)]
    for thread in threads.values():
        inferred = thread_inferred(thread, facts)
        source = Source(format=format_name, platform="android", locale=None, timezone=options.tz, files=sources,
                        inferred=inferred, damaged=damage)
        head = ConversationHead(source=source, title=thread.title or thread.key or None)
        messages = read_messages(spool, thread.key, inferred, options.zone, remaining, fallback, len(files) > 1)
        streams.append(ConversationStream(head, messages))
    return streams


def thread_inferred(thread: Thread, facts: Sequence[tuple[BackupFile, FileFacts]]) -> dict[str, Any]:
    """A thread's `source.inferred` before its messages add their notes.

    One SMS file: its facts and `thread`. One call log: its facts, `number` and `calls` (by direction).
    Several files (an SMS backup with its call log, or dated backups side by side): `thread` (`number`
    when all are call logs), `calls` and `backup_files`, each file's facts and kind under its name."""
    kinds = {backup.kind for backup, _ in facts}
    if len(facts) == 1 and kinds == {"sms"}:
        return {**facts[0][1].to_inferred(), "thread": thread.key or "(no address)"}
    if len(facts) == 1:
        return {**facts[0][1].to_inferred(), "number": thread.key or "(no number)", "calls": dict(thread.directions)}
    key = ("thread", thread.key or "(no address)") if "sms" in kinds else ("number", thread.key or "(no number)")
    return {
        "time_basis": TIME_BASIS,
        key[0]: key[1],
        "calls": dict(thread.directions),
        "backup_files": {
            backup.member: {"kind": backup.kind, **{k: v for k, v in f.to_inferred().items() if k != "time_basis"}}
            for backup, f in facts
        },
    }


def conversations_of(streams: Sequence[ConversationStream]) -> list[Conversation]:
    """The streams' conversations, each read whole (for exports small enough to hold)."""
    conversations = []
    for stream in streams:
        messages = tuple(stream.messages)
        head = stream.head
        conversations.append(
            Conversation(source=head.source, participants=participants_of(messages), messages=messages, title=head.title)
        )
    return conversations
