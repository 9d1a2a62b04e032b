"""The Messages app's database (`HomeDomain/Library/SMS/sms.db`) read into one canonical conversation per chat.

The tables and columns are those iOS writes (the ones imessage-exporter and the Mobile Verification Toolkit read):
`chat` (one row per chat: `guid`, `chat_identifier`, `service_name`, `display_name` for a named group, `style` 43 a
group, 45 one-to-one), `handle` (the other party: `id`, a number or e-mail address), `chat_handle_join`,
`chat_message_join`, `message`, `attachment`, `message_attachment_join`.

Decisions a records manager should know:
- One conversation per chat row, in the order of the chat's ROWID; SMS, MMS and iMessage alike (the service of each
  message is counted in `source.inferred["services"]`). Messages in time order (`date`, then ROWID).
- `date` counts from 2001-01-01 UTC (Apple's epoch): in seconds up to iOS 10, in nanoseconds since; a value above
  10^11 is read as nanoseconds. Read to the microsecond (Python's resolution), shown in the `--tz` zone; the raw
  value is in the rows extract.
- The sender of `is_from_me` messages is "Ik" (the custodian's name once given); of others, the contact's name from the
  backup's address book where it knows the handle, else the handle (`+31612345678`, an e-mail address).
- The text is `text`, else the NSAttributedString in `attributedBody` (a typedstream, iOS 16 and later; counted under
  `text_from_attributed_body`); U+FFFC, which marks where an attachment sits, is taken out.
- Tapbacks (`associated_message_type` 2000–2006 add one, 3000–3006 remove it) are not messages: the tapbacks standing
  at the end are listed per seq of the message they answer under `reactions` ("Petra de Vries: ❤️"). A reply
  (`thread_originator_guid`) names the seq it answers under `replies`.
- An edited message (`date_edited`) is `edited`; its versions from `message_summary_info` (a plist whose `ec` holds
  each version as a typedstream with its time) are under `edits` per seq. An unsent one (`date_retracted`, or `rp` in
  the summary) is of kind `deleted` with no text, its time of unsending under `unsent`.
- `item_type` 1 (someone added or removed), 2 (the group renamed), 3 (left, photo changed) are system lines;
  4 a shared location; 6 a FaceTime call. A message with attachments is of kind media.
- Attachments are named `MediaDomain/<path>` (the `filename` column without `~/`), present when the backup holds
  that file; their bytes are copied out byte-identical (decrypted where the backup is encrypted).
- The rows a conversation was read from are written as an extract (`write_rows`): table, rowid and every column's
  raw value (blobs base64), one JSON object a line, so that a SIP holds its original without the database.

Memory does not grow with the number of messages: messages are read with one cursor, ordered and numbered by SQLite.
"""
from __future__ import annotations

import json
import plistlib
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import IO, Any, Callable, Iterator, Sequence

from ingest.sources.iphone_layout import columns_of, require_columns, write_table_rows
from ingest.sources.typedstream import TypedStreamError, attributed_string_text
from kernel.errors import DamagedBackupDatabase
from kernel.model import Attachment, Message, MessageKind

DOMAIN = "HomeDomain"
PATH = "Library/SMS/sms.db"
ATTACHMENT_DOMAIN = "MediaDomain"
OWNER = "Ik"
APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=timezone.utc)
_NANOSECONDS_FROM = 10**11
_OBJECT_REPLACEMENT = "\ufffc"
EXTRACT_SCHEMA_ID = "https://edepot.example/schemas/database-extract/1"
TAPBACKS = {0: "❤️", 1: "👍", 2: "👎", 3: "😂", 4: "‼️", 5: "❓"}
_NEEDED = {
    "chat": {"ROWID", "guid", "chat_identifier"},
    "handle": {"ROWID", "id"},
    "chat_handle_join": {"chat_id", "handle_id"},
    "chat_message_join": {"chat_id", "message_id"},
    "message": {"ROWID", "guid", "text", "handle_id", "date", "is_from_me"},
}
_OPTIONAL_MESSAGE = ("attributedBody", "service", "item_type", "group_action_type", "group_title", "other_handle",
                     "associated_message_guid", "associated_message_type", "associated_message_emoji",
                     "thread_originator_guid", "date_edited", "date_retracted", "message_summary_info",
                     "cache_has_attachments")


@dataclass(frozen=True)
class Chat:
    """One chat of the database."""

    rowid: int
    guid: str
    identifier: str
    service: str | None
    display_name: str | None
    style: int | None
    handles: tuple[str, ...]  # the other parties' handle ids


@dataclass
class Notes:
    """What a chat's messages say beyond the canonical fields, per seq (source.inferred)."""

    reactions: dict[str, list[str]] = field(default_factory=dict)
    replies: dict[str, int | str] = field(default_factory=dict)
    edits: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    unsent: dict[str, str | None] = field(default_factory=dict)
    services: dict[str, int] = field(default_factory=dict)
    unknown_types: dict[str, int] = field(default_factory=dict)  # a message type the reader does not know → count
    from_attributed_body: int = 0
    unreadable_bodies: list[int] = field(default_factory=list)

    def into(self, inferred: dict[str, Any]) -> None:
        """Add what was noted to `inferred` (empty notes are left out)."""
        for key in ("reactions", "replies", "edits", "unsent", "services"):
            value = getattr(self, key)
            if value:
                inferred[key] = value
        if self.unknown_types:
            inferred["unknown_message_types"] = self.unknown_types
        if self.from_attributed_body:
            inferred["text_from_attributed_body"] = self.from_attributed_body
        if self.unreadable_bodies:
            inferred["unreadable_attributed_body"] = self.unreadable_bodies


class MessagesDatabase:
    """An opened sms.db: its chats, each chat's messages, and the rows they were read from."""

    extract_name = "sms.db.rows.jsonl"
    domain, path = DOMAIN, PATH

    def __init__(self, connection: sqlite3.Connection, *, name_of: Callable[[str], str | None],
                 attachment_present: Callable[[str], bool]) -> None:
        self._db = connection
        self._name_of = name_of
        self._present = attachment_present
        for table, needed in _NEEDED.items():
            require_columns(connection, table, needed, "sms.db")
        self._message_columns = columns_of(connection, "message")
        self._handles: dict[int, str] = {}
        self._names: dict[str, str] = {}

    def chats(self) -> list[Chat]:
        """Every chat, in ROWID order, with its other parties."""
        columns = columns_of(self._db, "chat")
        optional = ", ".join(c if c in columns else f"NULL AS {c}" for c in ("service_name", "display_name", "style"))
        chats = []
        for rowid, guid, identifier, service, display_name, style in self._query(
                f"SELECT ROWID, guid, chat_identifier, {optional} FROM chat ORDER BY ROWID"):
            handles = tuple(row[0] for row in self._query(
                "SELECT h.id FROM chat_handle_join j JOIN handle h ON h.ROWID = j.handle_id WHERE j.chat_id = ? "
                "ORDER BY h.ROWID", (rowid,)))
            chats.append(Chat(rowid, guid or "", identifier or "", service, display_name or None, style, handles))
        return chats

    def chat_facts(self, chat: Chat) -> dict[str, Any]:
        """What identifies the chat, for `source.inferred` (`chat_guid` gives its id, `chat-<guid>`)."""
        return {"chat_guid": chat.guid, "chat": {"rowid": chat.rowid, "identifier": chat.identifier,
                                                 "service": chat.service, "group": chat.style == 43,
                                                 "handles": list(chat.handles)}}

    def title(self, chat: Chat) -> str:
        """The chat's name: the group's own, else its parties' names, else its identifier."""
        if chat.display_name:
            return chat.display_name
        names = [self.person(h) for h in chat.handles]
        return ", ".join(names) if names else chat.identifier

    def person(self, handle: str) -> str:
        """The address book's name for `handle`, else the handle itself."""
        if handle not in self._names:
            self._names[handle] = self._name_of(handle) or handle
        return self._names[handle]

    def messages(self, chat: Chat, zone: tzinfo, notes: Notes) -> Iterator[Message]:
        """The chat's messages in time order, seq from 1, tapbacks left out (noted in `notes`), read lazily."""
        reactions = self._reactions(chat)
        select = ", ".join(f"m.{c}" if c in self._message_columns else f"NULL AS {c}" for c in _OPTIONAL_MESSAGE)
        replied = "o.seq" if self._has("thread_originator_guid") else "NULL"
        join = ("LEFT JOIN temp.numbered_chat o ON o.guid = m.thread_originator_guid "
                if self._has("thread_originator_guid") else "")
        # numbered once into an indexed temporary table (on disk, in SQLite's temp store), so that a reply finds
        # the seq it answers by index and not by a scan of the chat
        for statement in ("DROP TABLE IF EXISTS temp.numbered_chat",
                          f"CREATE TEMP TABLE numbered_chat AS {_NUMBERED} SELECT rowid, guid, seq FROM numbered",
                          "CREATE INDEX temp.numbered_chat_guid ON numbered_chat(guid)"):
            for _ in self._query(statement, (chat.rowid,) if "?" in statement else (),
                                 tapbacks=self._has("associated_message_type")):
                pass
        rows = self._query(
            f"SELECT n.seq, {replied}, m.ROWID, m.guid, m.text, m.handle_id, m.date, m.is_from_me, "
            f"{select} FROM temp.numbered_chat n JOIN message m ON m.ROWID = n.rowid {join}ORDER BY n.seq")
        for row in rows:
            yield self._message(row, zone, notes, reactions)

    def write_rows(self, chat: Chat, seqs: frozenset[int], out: IO[str], header: dict[str, Any]) -> int:
        """Write the rows the messages `seqs` of `chat` were read from to `out`, one JSON object a line after
        `header`: the chat, its handles and joins, each message's row, its attachments and the tapbacks on it.
        Returns the number of rows written."""
        out.write(json.dumps({"schema": EXTRACT_SCHEMA_ID, **header}, ensure_ascii=False) + "\n")
        written = write_table_rows(self._db, out, "chat", "ROWID = ?", (chat.rowid,))
        written += write_table_rows(self._db, out, "chat_handle_join", "chat_id = ?", (chat.rowid,))
        written += write_table_rows(
            self._db, out, "handle", "ROWID IN (SELECT handle_id FROM chat_handle_join WHERE chat_id = ?)", (chat.rowid,))
        tapbacks = self._has("associated_message_type")
        kept = (row for row in self._query(f"{_NUMBERED} SELECT n.seq, n.rowid, n.guid FROM numbered n ORDER BY n.seq",
                                           (chat.rowid,), tapbacks=tapbacks) if row[0] in seqs)
        for _seq, rowid, guid in kept:
            written += write_table_rows(self._db, out, "chat_message_join", "chat_id = ? AND message_id = ?",
                                        (chat.rowid, rowid))
            written += write_table_rows(self._db, out, "message", "ROWID = ?", (rowid,))
            if columns_of(self._db, "message_attachment_join"):
                written += write_table_rows(self._db, out, "message_attachment_join", "message_id = ?", (rowid,))
                written += write_table_rows(self._db, out, "attachment", "ROWID IN (SELECT attachment_id FROM "
                                            "message_attachment_join WHERE message_id = ?)", (rowid,))
            if tapbacks:
                written += write_table_rows(
                    self._db, out, "message", "associated_message_guid IN (?, ?) OR associated_message_guid LIKE ?",
                    (f"bp:{guid}", guid, f"p:%/{guid}"))
        return written

    # --- reading -----------------------------------------------------------------------------------------------

    def _has(self, column: str) -> bool:
        return column in self._message_columns

    def _query(self, sql: str, parameters: Sequence[Any] = (), *, tapbacks: bool = False
               ) -> Iterator[tuple[Any, ...]]:
        sql = sql.replace("{tapback_filter}", _TAPBACK_FILTER if tapbacks else "")
        try:
            yield from self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            raise DamagedBackupDatabase(f"sms.db cannot be read: {error}") from None

    def _sender(self, handle_rowid: int | None, from_me: bool) -> str:
        if from_me:
            return OWNER
        if handle_rowid is None or handle_rowid == 0:
            return "?"
        if handle_rowid not in self._handles:
            found = next(self._query("SELECT id FROM handle WHERE ROWID = ?", (handle_rowid,)), None)
            self._handles[handle_rowid] = str(found[0]) if found else f"handle {handle_rowid}"
        return self.person(self._handles[handle_rowid])

    def _reactions(self, chat: Chat) -> dict[str, dict[str, str]]:
        """Target guid → sender → the tapback standing after all adds and removes, in time order."""
        if not self._has("associated_message_type"):
            return {}
        emoji = "m.associated_message_emoji" if self._has("associated_message_emoji") else "NULL"
        standing: dict[str, dict[str, str]] = {}
        for guid, kind, handle_rowid, from_me, custom in self._query(
                f"SELECT m.associated_message_guid, m.associated_message_type, m.handle_id, m.is_from_me, {emoji} "
                "FROM chat_message_join j JOIN message m ON m.ROWID = j.message_id WHERE j.chat_id = ? AND "
                "m.associated_message_type BETWEEN 2000 AND 3006 ORDER BY m.date, m.ROWID", (chat.rowid,)):
            target = _target_guid(guid)
            if target is None:
                continue
            sender = self._sender(handle_rowid, bool(from_me))
            on_target = standing.setdefault(target, {})
            if int(kind) >= 3000:
                on_target.pop(sender, None)
            else:
                on_target[sender] = custom if int(kind) == 2006 and custom else TAPBACKS.get(int(kind) - 2000, "?")
        return standing

    def _message(self, row: tuple[Any, ...], zone: tzinfo, notes: Notes,
                 reactions: dict[str, dict[str, str]]) -> Message:
        (seq, reply_seq, rowid, guid, text, handle_rowid, date, from_me, body, service, item_type, action,
         group_title, other_handle, _assoc_guid, _assoc_type, _emoji, originator, date_edited, date_retracted,
         summary, has_attachments) = row
        key = str(seq)
        when = apple_time(date, zone)
        sender = self._sender(handle_rowid, bool(from_me))
        if service:
            notes.services[str(service)] = notes.services.get(str(service), 0) + 1
        if not text and body:
            try:
                text = attributed_string_text(bytes(body))
                notes.from_attributed_body += 1
            except TypedStreamError:
                notes.unreadable_bodies.append(seq)
        text = (text or "").replace(_OBJECT_REPLACEMENT, "").strip()
        summary_info = _plist_or_none(summary)
        if guid in reactions and reactions[guid]:
            notes.reactions[key] = [f"{who}: {what}" for who, what in reactions[guid].items()]
        if originator:
            notes.replies[key] = reply_seq if reply_seq is not None else str(originator)
        versions = _versions(summary_info, zone)
        if versions:
            notes.edits[key] = versions
        retracted = bool(date_retracted) or bool(summary_info and summary_info.get("rp"))
        if retracted:
            notes.unsent[key] = apple_time(date_retracted, zone).isoformat() if date_retracted else None
            return Message(seq, when, sender, MessageKind.DELETED, "", (), bool(date_edited))
        attachments = self._attachments(rowid) if has_attachments or has_attachments is None else ()
        kind, line = _kind(item_type, action, attachments, text)
        if kind is MessageKind.SYSTEM:
            other = self._sender(other_handle, False) if other_handle else ""
            return Message(seq, when, None, kind, line.format(actor=sender, other=other, title=group_title or ""))
        return Message(seq, when, sender, kind, text, attachments, bool(date_edited) or bool(versions))

    def _attachments(self, message_rowid: int) -> tuple[Attachment, ...]:
        if not columns_of(self._db, "attachment"):
            return ()
        found = []
        for filename, mime_type, transfer_name in self._query(
                "SELECT a.filename, a.mime_type, a.transfer_name FROM message_attachment_join j "
                "JOIN attachment a ON a.ROWID = j.attachment_id WHERE j.message_id = ? ORDER BY a.ROWID",
                (message_rowid,)):
            path = attachment_path(filename)
            if path is None:
                found.append(Attachment(str(transfer_name or "attachment"), False, mime_type))
                continue
            name = f"{ATTACHMENT_DOMAIN}/{path}"
            found.append(Attachment(name, self._present(name), mime_type or None))
        return tuple(found)

# The chat's messages without tapbacks, numbered in time order: the seq each message has in the conversation.
_NUMBERED = ("WITH numbered AS (SELECT m.ROWID AS rowid, m.guid AS guid, ROW_NUMBER() OVER (ORDER BY m.date, m.ROWID) "
             "AS seq FROM chat_message_join j JOIN message m ON m.ROWID = j.message_id WHERE j.chat_id = ? "
             "{tapback_filter})")
_TAPBACK_FILTER = "AND NOT (IFNULL(m.associated_message_type, 0) BETWEEN 2000 AND 3006)"


def apple_time(value: int | float | None, zone: tzinfo) -> datetime:
    """An Apple-epoch time (seconds, or nanoseconds above 10^11) as an aware datetime in `zone`, to the microsecond."""
    raw = value or 0
    if isinstance(raw, float):
        microseconds = round(raw * 1_000_000) if abs(raw) < _NANOSECONDS_FROM else int(raw) // 1000
    else:
        raw = int(raw)
        microseconds = raw // 1000 if abs(raw) >= _NANOSECONDS_FROM else raw * 1_000_000
    return (APPLE_EPOCH + timedelta(microseconds=microseconds)).astimezone(zone)


def edit_versions(summary: bytes, zone: tzinfo) -> list[dict[str, str]]:
    """Each version of an edited message, oldest first ({"time", "text"}), from its `message_summary_info`; none when
    the plist records no edit."""
    return _versions(_plist_or_none(summary), zone)


def is_unsent(summary: bytes) -> bool:
    """Whether a `message_summary_info` records the message as unsent (its parts retracted)."""
    found = _plist_or_none(summary)
    return bool(found and found.get("rp"))


def attachment_path(filename: str | None) -> str | None:
    """The attachment's path below its domain: `~/Library/SMS/…` or `/var/mobile/Library/SMS/…` as
    `Library/SMS/…`; None when the column names no file."""
    if not filename:
        return None
    for prefix in ("~/", "/var/mobile/", "/private/var/mobile/"):
        if filename.startswith(prefix):
            return filename[len(prefix):]
    return filename.lstrip("/")


def _versions(summary: dict[str, Any] | None, zone: tzinfo) -> list[dict[str, str]]:
    if not summary or not isinstance(summary.get("ec"), dict):
        return []
    versions = []
    for part in sorted(summary["ec"], key=lambda p: int(p) if str(p).isdigit() else 0):
        for version in summary["ec"][part] or ():
            try:
                text = attributed_string_text(bytes(version.get("t") or b""))
            except TypedStreamError:
                text = ""
            when = version.get("d")
            versions.append({"time": apple_time(when, zone).isoformat() if isinstance(when, (int, float)) else "",
                             "text": text.replace(_OBJECT_REPLACEMENT, "").strip()})
    return versions


def _plist_or_none(blob: bytes | None) -> dict[str, Any] | None:
    if not blob:
        return None
    try:
        value = plistlib.loads(bytes(blob))
    except (plistlib.InvalidFileException, ValueError, OverflowError):
        return None
    return value if isinstance(value, dict) else None


def _target_guid(associated: str | None) -> str | None:
    """The guid a tapback answers: `p:0/<guid>` (part 0 of it) or `bp:<guid>`."""
    if not associated:
        return None
    if associated.startswith("bp:"):
        return associated[3:]
    if associated.startswith("p:") and "/" in associated:
        return associated.split("/", 1)[1]
    return associated


def _kind(item_type: int | None, action: int | None, attachments: tuple[Attachment, ...],
          text: str) -> tuple[MessageKind, str]:
    """The message's kind and, for a system line, its words (with {actor}, {other}, {title} to fill in)."""
    if item_type == 1:
        return MessageKind.SYSTEM, "{actor} removed {other}" if action == 1 else "{actor} added {other}"
    if item_type == 2:
        return MessageKind.SYSTEM, "{actor} named the conversation “{title}”"
    if item_type == 3:
        return MessageKind.SYSTEM, "{actor} changed the group photo" if action == 1 else "{actor} left the conversation"
    if item_type == 4:
        return MessageKind.LOCATION, ""
    if item_type == 6:
        return MessageKind.CALL, ""
    return (MessageKind.MEDIA if attachments else MessageKind.TEXT), ""
