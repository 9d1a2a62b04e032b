"""SMS Backup & Restore (SyncTech, Android) XML backups read into canonical conversations.

Implements the `sms-backup` export format of issue 4. The file format is the app's own (documented by
SyncTech at synctech.com.au "Fields in XML Backup Files"): a root `<smses count=…>` holding `<sms>`
elements (one attribute per column of Android's `content://sms` table) and `<mms>` elements with
`<parts>` (SMIL layout, text, base64 `data` for binary parts) and `<addrs>` (PduHeaders address types:
137 from, 151 to, 130 cc, 129 bcc).

Decisions a records manager should know:
- One conversation per thread: the set of other parties' addresses (for group MMS the `~`-joined
  `address`), spaces, dashes and brackets removed. Within a thread, messages are in time order (the
  backup lists all sms first, then all mms); `source.inferred["element_positions"]` maps each seq to
  the element's position in the file.
- `type` 1 / `msg_box` 1 is received: the sender is the contact's name as the phone knew it, else its
  address. Every other type (2 sent, 3 draft, 4 outbox, 5 failed, 6 queued) was written on this phone:
  the sender is `OWNER` ("Ik"); drafts, failed and queued messages are listed in
  `source.inferred["not_sent"]` with their type. In a group MMS the sender is the address of type 137.
- The app writes absent values as the string "null"; such values are read as absent (an sms body
  "null" becomes "" and its seq is listed under `null_body`).
- The `count` attribute is not trusted: every element is read, and a wrong count is recorded.
- Emoji written as surrogate character references are repaired while streaming
  (`ingest/sources/xml_stream.py`), counted under `xml_repairs`; the original file is never changed.
- Binary MMS parts are attachments named `<backup stem>.parts/<element position>-<part index>-<name>`;
  base64 that does not decode keeps the message, the attachment gets `present` False and is listed
  under `damaged_attachments` with the reason.
- Timestamps are the `date` column (milliseconds since 1970 UTC), shown in the `--tz` zone.
- The file is streamed (lxml iterparse with elements cleared): memory does not grow with its size.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import IO, Callable, Iterator

from lxml import etree

from ingest.sources.xml_stream import RepairingReader, Repairs
from kernel.errors import InputError

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


@dataclass
class BackupFacts:
    """What the root element says and what reading found, filled while records are streamed."""

    declared_count: int | None = None
    root: str | None = None
    elements: int = 0
    repairs: Repairs | None = None


def iter_records(raw: IO[bytes], name: str, facts: BackupFacts | None = None) -> Iterator[Record]:
    """Every `<sms>` and `<mms>` of the backup in file order, streamed; memory does not grow with size.

    Raises UnsafeXml for a DTD, InputError when the file is not well-formed XML (truncated, not XML)
    or its root is not `<smses>`. A damaged element (no date, a non-number) comes as a Record whose
    `problem` says what is wrong.
    """
    facts = facts if facts is not None else BackupFacts()
    reader = RepairingReader(raw, name)
    facts.repairs = reader.repairs
    context = etree.iterparse(
        reader,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=True,  # MMS video parts are base64 attributes far beyond libxml2's 10 MB default
        remove_comments=True,
        remove_pis=True,
    )
    depth = 0
    try:
        for event, element in context:
            if event == "start":
                depth += 1
                if depth == 1:
                    _check_root(element, name, facts)
                continue
            depth -= 1
            if depth != 1:
                continue
            if element.tag in ("sms", "mms"):
                facts.elements += 1
                yield _record(element, facts.elements)
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{name} is not well-formed XML (truncated or damaged?): {_one_line(exc)}") from None
    if facts.root is None:
        raise InputError(f"{name} holds no XML element")


def _check_root(element: etree._Element, name: str, facts: BackupFacts) -> None:
    facts.root = str(element.tag)
    if element.tag != "smses":
        raise InputError(f"{name} is XML but not an SMS Backup & Restore file (root <{element.tag}>, not <smses>)")
    count = element.get("count")
    if count is not None and count.strip().isdigit():
        facts.declared_count = int(count)


def _record(element: etree._Element, position: int) -> Record:
    tag = str(element.tag)
    line = element.sourceline or 0
    get = _getter(element)
    problems: list[str] = []
    date_ms = _integer(get("date"), "date", problems)
    if date_ms is None and "date" not in " ".join(problems):
        problems.append("no date")
    box = _integer(get("type") if tag == "sms" else get("msg_box"), "type" if tag == "sms" else "msg_box", problems)
    if tag == "sms":
        return Record(
            element=tag, position=position, line=line, date_ms=date_ms, box=box, address=get("address"),
            contact_name=_contact_name(get("contact_name")), body=element.get("body"), subject=get("subject"),
            problem="; ".join(problems) or None,
        )
    parts = tuple(_part(p, i) for i, p in enumerate(element.iterfind("parts/part"), 1))
    addrs = tuple(
        (addr.get("address") or "", addr.get("type") or "") for addr in element.iterfind("addrs/addr")
    )
    return Record(
        element=tag, position=position, line=line, date_ms=date_ms, box=box, address=get("address"),
        contact_name=_contact_name(get("contact_name")), body=None, subject=get("sub"), parts=parts,
        addrs=addrs, problem="; ".join(problems) or None,
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
