"""WhatsApp's database in an iPhone backup (`ChatStorage.sqlite` of the app group
`AppDomainGroup-group.net.whatsapp.WhatsApp.shared`, its media below `Message/Media/`) read into one canonical
conversation per chat.

The tables and columns are the Core Data ones WhatsApp for iOS writes (those WhatsApp-Chat-Exporter, IPED and the
Mobile Verification Toolkit read): `ZWACHATSESSION` (one row per chat: `ZCONTACTJID`, `ZPARTNERNAME` the contact's or
group's name, `ZSESSIONTYPE`), `ZWAMESSAGE` (`ZCHATSESSION`, `ZISFROMME`, `ZMESSAGEDATE`, `ZTEXT`, `ZMESSAGETYPE`,
`ZGROUPEVENTTYPE`, `ZFROMJID`, `ZGROUPMEMBER`, `ZMEDIAITEM`, `ZMESSAGEINFO`, `ZSTANZAID`), `ZWAMEDIAITEM`
(`ZMEDIALOCALPATH`, `ZTITLE` a caption, `ZVCARDSTRING` the media type (a contact card's text for a contact),
`ZLATITUDE`/`ZLONGITUDE`, `ZMETADATA`), `ZWAGROUPMEMBER` (`ZMEMBERJID`, `ZCONTACTNAME`), `ZWAMESSAGEINFO`
(`ZRECEIPTINFO`) and `ZWAPROFILEPUSHNAME` (`ZJID`, `ZPUSHNAME`).

Decisions a records manager should know:
- One conversation per chat session, in the order of its Z_PK; status updates (`status@broadcast`, `…@status`) are
  not chats and are left out. A group's jid ends in `@g.us`; its title is the group's name (`ZPARTNERNAME`).
- `ZMESSAGEDATE` is a Core Data time: seconds (with a fraction) since 2001-01-01 UTC, read to the microsecond and
  shown in the `--tz` zone. Messages in time order (then Z_PK).
- The sender of `ZISFROMME` messages is "Ik"; of others, the name the backup's address book gives the number, else
  the name WhatsApp kept (`ZCONTACTNAME` of the group member, `ZPARTNERNAME` of a one-to-one chat, the push name),
  else the number as `+<digits>`.
- `ZMESSAGETYPE`: 0 text and 7 a link are text; 1 image, 2 video, 3 audio (voice notes, opus), 8 document, 11 GIF,
  15 sticker are media, the file `AppDomainGroup-…/Message/<ZMEDIALOCALPATH>` (present when the backup holds it, its
  bytes copied out byte-identical), the caption as text; 4 a contact card; 5 a location ("lat, lon"); 14 a message
  its sender deleted for everyone (kind deleted, no text); 6 a group event and 10 a notice are system lines (10/1 and
  10/4, a missed voice or video call, are calls). Any other type keeps its text and is counted under
  `unknown_message_types`.
- A reply names the seq it answers under `replies`: the quoted message's stanza id is field 5 of the protobuf in
  the replying message's `ZWAMEDIAITEM.ZMETADATA`. Reactions are in `ZWAMESSAGEINFO.ZRECEIPTINFO` (protobuf field 7:
  1 another's reaction {2 jid, 3 emoji}, 2 the owner's {2 emoji}); they are listed per seq under `reactions`
  ("Jan Jansen: 👍"), as the Messages app's tapbacks are. Edits are not read: no public reader has found where
  WhatsApp for iOS keeps earlier versions.
- The rows a conversation was read from are written as an extract like sms.db's (`write_rows`).

Memory does not grow with the number of messages: one cursor, numbered by SQLite into an indexed temporary table.
"""
from __future__ import annotations

import json
import mimetypes
import sqlite3
from dataclasses import dataclass
from datetime import tzinfo
from typing import IO, Any, Callable, Iterator, Sequence

from ingest.sources.iphone_layout import columns_of, require_columns, write_table_rows
from ingest.sources.iphone_messages import EXTRACT_SCHEMA_ID, OWNER, Notes, apple_time
from kernel.errors import DamagedBackupDatabase
from kernel.model import Attachment, Message, MessageKind

DOMAIN = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
PATH = "ChatStorage.sqlite"
MEDIA_BELOW = "Message/"
GROUP_SUFFIX = "@g.us"
_MEDIA_TYPES = {1: "image", 2: "video", 3: "audio", 8: "document", 11: "gif", 15: "sticker"}
_TEXT_TYPES = {0, 7}
_SUFFIX_TYPES = {".opus": "audio/ogg", ".m4a": "audio/mp4", ".webp": "image/webp", ".jpg": "image/jpeg"}
_GROUP_EVENTS = {1: "{actor} changed the group name to “{text}”", 2: "{actor} joined", 3: "{actor} left",
                 4: "{actor} changed the group photo", 5: "{actor} removed the group photo",
                 7: "{actor} was removed", 10: "{actor} is now an admin", 12: "{actor} created the group “{text}”"}
_NOTICES = {2: "Messages and calls are end-to-end encrypted", 3: "{actor}'s security code changed",
            26: "This chat is with a business account"}
_MISSED_CALLS = {1: "missed voice call", 4: "missed video call", 22: "missed group video call"}
_NEEDED = {
    "ZWACHATSESSION": {"Z_PK", "ZCONTACTJID", "ZPARTNERNAME"},
    "ZWAMESSAGE": {"Z_PK", "ZCHATSESSION", "ZISFROMME", "ZMESSAGEDATE", "ZTEXT", "ZMESSAGETYPE", "ZFROMJID"},
}
_OPTIONAL = {
    "ZWAMESSAGE": ("ZGROUPEVENTTYPE", "ZGROUPMEMBER", "ZMEDIAITEM", "ZMESSAGEINFO", "ZSTANZAID"),
    "ZWAMEDIAITEM": ("ZMEDIALOCALPATH", "ZTITLE", "ZVCARDSTRING", "ZVCARDNAME", "ZLATITUDE", "ZLONGITUDE",
                     "ZMETADATA"),
    "ZWAGROUPMEMBER": ("ZMEMBERJID", "ZCONTACTNAME"),
    "ZWAMESSAGEINFO": ("ZRECEIPTINFO",),
}


@dataclass(frozen=True)
class WhatsAppChat:
    """One chat session of ChatStorage.sqlite."""

    pk: int
    jid: str
    partner_name: str | None
    session_type: int | None

    @property
    def group(self) -> bool:
        """Whether it is a group chat (its jid ends in @g.us)."""
        return self.jid.endswith(GROUP_SUFFIX)


class WhatsAppDatabase:
    """An opened ChatStorage.sqlite: its chats, each chat's messages, and the rows they were read from."""

    extract_name = "ChatStorage.sqlite.rows.jsonl"
    domain, path = DOMAIN, PATH

    def __init__(self, connection: sqlite3.Connection, *, name_of: Callable[[str], str | None],
                 attachment_present: Callable[[str], bool]) -> None:
        self._db = connection
        self._name_of = name_of
        self._present = attachment_present
        for table, needed in _NEEDED.items():
            require_columns(connection, table, needed, "ChatStorage.sqlite")
        self._columns = {table: columns_of(connection, table) for table in _OPTIONAL}
        self._names: dict[tuple[str, str | None], str] = {}
        self._push = "ZPUSHNAME" in columns_of(connection, "ZWAPROFILEPUSHNAME")

    def chats(self) -> list[WhatsAppChat]:
        """Every chat but status updates, in Z_PK order."""
        session_type = "ZSESSIONTYPE" if "ZSESSIONTYPE" in columns_of(self._db, "ZWACHATSESSION") else "NULL"
        return [WhatsAppChat(int(pk), str(jid or ""), name or None, kind) for pk, jid, name, kind in self._query(
            f"SELECT Z_PK, ZCONTACTJID, ZPARTNERNAME, {session_type} FROM ZWACHATSESSION WHERE ZCONTACTJID IS NULL "
            "OR (ZCONTACTJID NOT LIKE '%@status' AND ZCONTACTJID NOT LIKE '%@broadcast') ORDER BY Z_PK")]

    def title(self, chat: WhatsAppChat) -> str:
        """A group's name; the other party's name in a one-to-one chat."""
        if chat.group:
            return chat.partner_name or chat.jid
        return self.person(chat.jid, chat.partner_name)

    def chat_facts(self, chat: WhatsAppChat) -> dict[str, Any]:
        """What identifies the chat, for `source.inferred` (`whatsapp_jid` gives its id, `whatsapp-<jid>`)."""
        return {"whatsapp_jid": chat.jid, "chat": {"pk": chat.pk, "jid": chat.jid, "group": chat.group,
                                                   "session_type": chat.session_type,
                                                   "members": self._members(chat)}}

    def person(self, jid: str | None, kept_name: str | None = None) -> str:
        """Who `jid` is: the address book's name for its number, else the name WhatsApp kept, else `+<digits>`."""
        key = (jid or "", kept_name)
        if key not in self._names:
            number = phone_of(jid)
            name = self._name_of(number) if number else None
            self._names[key] = name or kept_name or self._push_name(jid) or number or jid or "?"
        return self._names[key]

    def messages(self, chat: WhatsAppChat, zone: tzinfo, notes: Notes) -> Iterator[Message]:
        """The chat's messages in time order, seq from 1, read lazily."""
        stanza = "ZSTANZAID" if self._has("ZWAMESSAGE", "ZSTANZAID") else "NULL"
        for statement in ("DROP TABLE IF EXISTS temp.wa_numbered",
                          f"CREATE TEMP TABLE wa_numbered AS SELECT Z_PK AS pk, {stanza} AS stanza, ROW_NUMBER() "
                          "OVER (ORDER BY ZMESSAGEDATE, Z_PK) AS seq FROM ZWAMESSAGE WHERE ZCHATSESSION = ?",
                          "CREATE INDEX temp.wa_numbered_stanza ON wa_numbered(stanza)"):
            for _ in self._query(statement, (chat.pk,) if "?" in statement else ()):
                pass
        m = ", ".join(self._optional("m", "ZWAMESSAGE", ("ZGROUPEVENTTYPE",)))
        item = ", ".join(self._optional("i", "ZWAMEDIAITEM", _OPTIONAL["ZWAMEDIAITEM"]))
        member = ", ".join(self._optional("g", "ZWAGROUPMEMBER", _OPTIONAL["ZWAGROUPMEMBER"]))
        receipt = ", ".join(self._optional("r", "ZWAMESSAGEINFO", ("ZRECEIPTINFO",)))
        joins = ""
        for table, alias, column in (("ZWAMEDIAITEM", "i", "ZMEDIAITEM"), ("ZWAGROUPMEMBER", "g", "ZGROUPMEMBER"),
                                     ("ZWAMESSAGEINFO", "r", "ZMESSAGEINFO")):
            if self._columns[table] and self._has("ZWAMESSAGE", column):
                joins += f" LEFT JOIN {table} {alias} ON {alias}.Z_PK = m.{column}"
        rows = self._query(f"SELECT n.seq, m.ZISFROMME, m.ZMESSAGEDATE, m.ZTEXT, m.ZMESSAGETYPE, m.ZFROMJID, {m}, "
                           f"{item}, {member}, {receipt} FROM temp.wa_numbered n JOIN ZWAMESSAGE m ON m.Z_PK = n.pk"
                           f"{joins} ORDER BY n.seq")
        for row in rows:
            yield self._message(chat, row, zone, notes)

    def write_rows(self, chat: WhatsAppChat, seqs: frozenset[int], out: IO[str], header: dict[str, Any]) -> int:
        """Write the rows the messages `seqs` of `chat` were read from to `out`, one JSON object a line after
        `header`: the chat session, its group's members, and each message's row with its media item and receipts.
        Returns the number of rows written."""
        out.write(json.dumps({"schema": EXTRACT_SCHEMA_ID, **header}, ensure_ascii=False) + "\n")
        written = write_table_rows(self._db, out, "ZWACHATSESSION", "Z_PK = ?", (chat.pk,))
        if "ZCHATSESSION" in columns_of(self._db, "ZWAGROUPMEMBER"):
            written += write_table_rows(self._db, out, "ZWAGROUPMEMBER", "ZCHATSESSION = ?", (chat.pk,))
        related = [(table, column) for table, column in (("ZWAMEDIAITEM", "ZMEDIAITEM"), ("ZWAMESSAGEINFO", "ZMESSAGEINFO"))
                   if self._columns[table] and self._has("ZWAMESSAGE", column)]
        for seq, pk, *links in self._query(
                "SELECT seq, m.Z_PK" + "".join(f", m.{column}" for _t, column in related) + " FROM (SELECT Z_PK AS pk, "
                "ROW_NUMBER() OVER (ORDER BY ZMESSAGEDATE, Z_PK) AS seq FROM ZWAMESSAGE WHERE ZCHATSESSION = ?) n "
                "JOIN ZWAMESSAGE m ON m.Z_PK = n.pk ORDER BY seq", (chat.pk,)):
            if seq not in seqs:
                continue
            written += write_table_rows(self._db, out, "ZWAMESSAGE", "Z_PK = ?", (pk,))
            for (table, _column), link in zip(related, links):
                if link is not None:
                    written += write_table_rows(self._db, out, table, "Z_PK = ?", (link,))
        return written

    # --- reading -----------------------------------------------------------------------------------------------

    def _has(self, table: str, column: str) -> bool:
        return column in self._columns.get(table, set())

    def _optional(self, alias: str, table: str, columns: Sequence[str]) -> list[str]:
        return [f"{alias}.{c}" if self._has(table, c) else f"NULL AS {alias}_{c}" for c in columns]

    def _query(self, sql: str, parameters: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            yield from self._db.execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            raise DamagedBackupDatabase(f"ChatStorage.sqlite cannot be read: {error}") from None

    def _members(self, chat: WhatsAppChat) -> list[str]:
        if not chat.group or not {"ZCHATSESSION", "ZMEMBERJID"} <= columns_of(self._db, "ZWAGROUPMEMBER"):
            return []
        return [str(jid) for (jid,) in self._query("SELECT ZMEMBERJID FROM ZWAGROUPMEMBER WHERE ZCHATSESSION = ? "
                                                   "ORDER BY Z_PK", (chat.pk,))]

    def _push_name(self, jid: str | None) -> str | None:
        if not self._push or not jid:
            return None
        found = next(self._query("SELECT ZPUSHNAME FROM ZWAPROFILEPUSHNAME WHERE ZJID = ? LIMIT 1", (jid,)), None)
        return f"~{found[0]}" if found and found[0] else None

    def _seq_of(self, stanza: str) -> int | None:
        found = next(self._query("SELECT seq FROM temp.wa_numbered WHERE stanza = ? LIMIT 1", (stanza,)), None)
        return int(found[0]) if found else None

    def _message(self, chat: WhatsAppChat, row: tuple[Any, ...], zone: tzinfo, notes: Notes) -> Message:
        (seq, from_me, date, text, kind, from_jid, event, local_path, title, vcard_string, vcard_name, latitude,
         longitude, metadata, member_jid, member_name, receipt) = row
        key = str(seq)
        when = apple_time(date, zone)
        kind = int(kind or 0)
        if from_me:
            sender = OWNER
        elif chat.group:
            sender = self.person(member_jid or from_jid, member_name)
        else:
            sender = self.person(chat.jid, chat.partner_name)
        notes.services["WhatsApp"] = notes.services.get("WhatsApp", 0) + 1
        quoted = quoted_stanza(metadata)
        if quoted:
            found = self._seq_of(quoted)
            notes.replies[key] = found if found is not None else f"stanza {quoted} (not in this chat)"
        reactions = [f"{OWNER if who is None else self.person(who)}: {emoji}" for who, emoji in reactions_in(receipt)]
        if reactions:
            notes.reactions[key] = reactions
        text = str(text or "")
        if kind == 14:
            return Message(seq, when, sender, MessageKind.DELETED, "")
        if kind in (6, 10):
            return self._system_line(seq, when, kind, int(event or 0), text, sender)
        if kind in _MEDIA_TYPES:
            caption = str(title or text or "")
            return Message(seq, when, sender, MessageKind.MEDIA, caption, (self._attachment(local_path, vcard_string),))
        if kind == 4:
            return Message(seq, when, sender, MessageKind.CONTACT, str(vcard_name or text or vcard_string or ""))
        if kind == 5:
            place = f"{latitude}, {longitude}" if latitude is not None and longitude is not None else ""
            return Message(seq, when, sender, MessageKind.LOCATION, " ".join(p for p in (place, str(title or "")) if p))
        if kind not in _TEXT_TYPES:
            notes.unknown_types[str(kind)] = notes.unknown_types.get(str(kind), 0) + 1
        return Message(seq, when, sender, MessageKind.TEXT, text)

    def _system_line(self, seq: int, when: Any, kind: int, event: int, text: str, actor: str) -> Message:
        if kind == 10 and event in _MISSED_CALLS:
            return Message(seq, when, actor, MessageKind.CALL, _MISSED_CALLS[event])
        words = (_GROUP_EVENTS if kind == 6 else _NOTICES).get(event)
        if words is None:
            line = text or f"WhatsApp {'group event' if kind == 6 else 'notice'} {event}"
        else:
            line = words.format(actor=actor, text=text)
        return Message(seq, when, None, MessageKind.SYSTEM, line)

    def _attachment(self, local_path: str | None, media_type: str | None) -> Attachment:
        if not local_path:
            return Attachment("media", False, media_type if media_type and "/" in media_type else None)
        name = f"{DOMAIN}/{MEDIA_BELOW}{str(local_path).lstrip('/')}"
        guessed = media_type if media_type and "/" in media_type and "\n" not in media_type else None
        if guessed is None:
            suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
            guessed = _SUFFIX_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
        return Attachment(name, self._present(name), guessed)


def phone_of(jid: str | None) -> str | None:
    """`+<digits>` of a person's jid (`31612345678@s.whatsapp.net`); None for a group or another kind of jid."""
    if not jid or "@" not in jid:
        return None
    user, _, server = jid.partition("@")
    return f"+{user}" if server == "s.whatsapp.net" and user.isdigit() else None


def quoted_stanza(metadata: bytes | None) -> str | None:
    """The stanza id of the message a reply quotes: field 5 of the media item's `ZMETADATA` protobuf."""
    for number, value in protobuf_fields(metadata):
        if number == 5 and isinstance(value, bytes):
            return value.decode("utf-8", "replace")
    return None


def reactions_in(receipt: bytes | None) -> list[tuple[str | None, str]]:
    """(jid, emoji) of each reaction in a `ZRECEIPTINFO` blob, jid None for the owner's own."""
    found: list[tuple[str | None, str]] = []
    for number, value in protobuf_fields(receipt):
        if number != 7 or not isinstance(value, bytes):
            continue
        for inner, entry in protobuf_fields(value):
            if inner not in (1, 2) or not isinstance(entry, bytes):
                continue
            fields = {n: v for n, v in protobuf_fields(entry) if isinstance(v, bytes)}
            jid, emoji = (fields.get(2), fields.get(3)) if inner == 1 else (None, fields.get(2))
            if emoji:
                found.append((jid.decode("utf-8", "replace") if jid else None, emoji.decode("utf-8", "replace")))
    return found


def protobuf_fields(blob: bytes | None) -> list[tuple[int, int | bytes]]:
    """The top-level fields of a protobuf message (varints as int, length-delimited as bytes; fixed widths
    skipped); a blob that does not parse gives the fields read before the damage."""
    data = bytes(blob or b"")
    fields: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        tag, at = _varint(data, at)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, at = _varint(data, at)
            fields.append((number, value))
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                break
            fields.append((number, data[at:at + length]))
            at += length
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            break
    return fields


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while at < len(data):
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at
    return value, len(data) + 1  # cut short: ends the loop of the caller
