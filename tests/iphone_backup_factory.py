"""Builds iPhone backups for tests, with the schemas iOS writes: `Info.plist`, `Manifest.plist`, `Manifest.db`
(table Files with its NSKeyedArchiver `file` records) and files under `<2 hex>/<fileID>`; the Messages database
(`sms.db`: chat, handle, message, attachment and the join tables, columns as iOS 16/17 writes them) and the address
book (`AddressBook.sqlitedb`: ABPerson, ABMultiValue).

Encrypted backups follow the scheme Apple uses and `iphone-backup-decrypt` reads: a key bag (TLV) whose class keys
are AES-wrapped (RFC 3394) with a key derived from the password (PBKDF2-SHA256 over DPSL/DPIC, then PBKDF2-SHA1
over SALT/ITER; small counts here keep tests fast), each file's key wrapped with its class key, files AES-256-CBC
with a zero IV and PKCS#7 padding, Manifest.db under the ManifestKey of Manifest.plist.
"""
from __future__ import annotations

import hashlib
import os
import plistlib
import sqlite3
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from Crypto.Cipher import AES

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=timezone.utc)
PROTECTION_CLASS = 3
MANIFEST_CLASS = 4

# The tables of sms.db as iOS 16/17 creates them (columns in iOS's order; the ones edepot reads and their neighbours).
SMS_SCHEMA = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL, country TEXT,
  service TEXT NOT NULL, uncanonicalized_id TEXT, person_centric_id TEXT, UNIQUE (id, service));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, style INTEGER, state INTEGER,
  account_id TEXT, properties BLOB, chat_identifier TEXT, service_name TEXT, room_name TEXT, account_login TEXT,
  is_archived INTEGER DEFAULT 0, last_addressed_handle TEXT, display_name TEXT, group_id TEXT,
  is_filtered INTEGER DEFAULT 0, successful_query INTEGER, engram_id TEXT, server_change_token TEXT,
  ck_sync_state INTEGER DEFAULT 0, original_group_id TEXT, last_read_message_timestamp INTEGER DEFAULT 0,
  cloudkit_record_id TEXT, last_addressed_sim_id TEXT, is_blackholed INTEGER DEFAULT 0,
  syndication_date INTEGER DEFAULT 0, syndication_type INTEGER DEFAULT 0, is_recovered INTEGER DEFAULT 0,
  is_deleting_incoming_messages INTEGER DEFAULT 0);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, text TEXT,
  replace INTEGER DEFAULT 0, service_center TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, country TEXT,
  attributedBody BLOB, version INTEGER DEFAULT 0, type INTEGER DEFAULT 0, service TEXT, account TEXT,
  account_guid TEXT, error INTEGER DEFAULT 0, date INTEGER, date_read INTEGER, date_delivered INTEGER,
  is_delivered INTEGER DEFAULT 0, is_finished INTEGER DEFAULT 0, is_emote INTEGER DEFAULT 0,
  is_from_me INTEGER DEFAULT 0, is_empty INTEGER DEFAULT 0, is_delayed INTEGER DEFAULT 0,
  is_auto_reply INTEGER DEFAULT 0, is_prepared INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
  is_system_message INTEGER DEFAULT 0, is_sent INTEGER DEFAULT 0, has_dd_results INTEGER DEFAULT 0,
  is_service_message INTEGER DEFAULT 0, is_forward INTEGER DEFAULT 0, was_downgraded INTEGER DEFAULT 0,
  is_archive INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0, cache_roomnames TEXT,
  was_data_detected INTEGER DEFAULT 0, was_deduplicated INTEGER DEFAULT 0, is_audio_message INTEGER DEFAULT 0,
  is_played INTEGER DEFAULT 0, date_played INTEGER, item_type INTEGER DEFAULT 0, other_handle INTEGER DEFAULT 0,
  group_title TEXT, group_action_type INTEGER DEFAULT 0, share_status INTEGER DEFAULT 0,
  share_direction INTEGER DEFAULT 0, is_expirable INTEGER DEFAULT 0, expire_state INTEGER DEFAULT 0,
  message_action_type INTEGER DEFAULT 0, message_source INTEGER DEFAULT 0, associated_message_guid TEXT,
  associated_message_type INTEGER DEFAULT 0, balloon_bundle_id TEXT, payload_data BLOB,
  expressive_send_style_id TEXT, associated_message_range_location INTEGER DEFAULT 0,
  associated_message_range_length INTEGER DEFAULT 0, time_expressive_send_played INTEGER,
  message_summary_info BLOB, ck_sync_state INTEGER DEFAULT 0, ck_record_id TEXT, ck_record_change_tag TEXT,
  destination_caller_id TEXT, is_corrupt INTEGER DEFAULT 0, reply_to_guid TEXT, sort_id INTEGER,
  is_spam INTEGER DEFAULT 0, has_unseen_mention INTEGER DEFAULT 0, thread_originator_guid TEXT,
  thread_originator_part TEXT, syndication_ranges TEXT, synced_syndication_ranges TEXT,
  was_delivered_quietly INTEGER DEFAULT 0, did_notify_recipient INTEGER DEFAULT 0, date_retracted INTEGER,
  date_edited INTEGER, was_detonated INTEGER DEFAULT 0, part_count INTEGER, is_stewie INTEGER DEFAULT 0,
  is_kt_verified INTEGER DEFAULT 0, is_sos INTEGER DEFAULT 0, is_critical INTEGER DEFAULT 0,
  bia_reference_id TEXT DEFAULT NULL, fallback_hash TEXT DEFAULT NULL, associated_message_emoji TEXT DEFAULT NULL);
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL, created_date INTEGER
  DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT, mime_type TEXT, transfer_state INTEGER DEFAULT 0,
  is_outgoing INTEGER DEFAULT 0, user_info BLOB, transfer_name TEXT, total_bytes INTEGER DEFAULT 0,
  is_sticker INTEGER DEFAULT 0, sticker_user_info BLOB, attribution_info BLOB, hide_attachment INTEGER DEFAULT 0,
  ck_sync_state INTEGER DEFAULT 0, ck_server_change_token_blob BLOB, ck_record_id TEXT, original_guid TEXT UNIQUE
  NOT NULL, is_commsafety_sensitive INTEGER DEFAULT 0);
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, handle_id INTEGER
  REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE, message_id INTEGER
  REFERENCES message (ROWID) ON DELETE CASCADE, message_date INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
CREATE TABLE message_attachment_join (message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
  attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE, UNIQUE(message_id, attachment_id));
CREATE INDEX chat_message_join_idx_message_date_id_chat_id ON chat_message_join(chat_id, message_date, message_id);
CREATE INDEX message_idx_date ON message(date);
CREATE INDEX message_attachment_join_idx_message_id ON message_attachment_join(message_id);
"""

ADDRESS_BOOK_SCHEMA = """
CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Middle TEXT,
  FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT, Department TEXT, Note TEXT,
  Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT, Prefix TEXT, Suffix TEXT, DisplayName TEXT);
CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, identifier INTEGER,
  label INTEGER, value TEXT, guid TEXT);
"""

# ChatStorage.sqlite as WhatsApp for iOS (2.23, 2.24) creates it: Core Data tables (Z_PK, Z_ENT, Z_OPT), the columns in
# its order (the ones public readers read and their neighbours), Core Data's relationship indexes.
WHATSAPP_SCHEMA = """
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZARCHIVED INTEGER,
  ZCONTACTABID INTEGER, ZFLAGS INTEGER, ZHIDDEN INTEGER, ZIDENTITYVERIFICATIONEPOCH INTEGER,
  ZIDENTITYVERIFICATIONSTATE INTEGER, ZMESSAGECOUNTER INTEGER, ZREMOVED INTEGER, ZSESSIONTYPE INTEGER,
  ZSPOTLIGHTSTATUS INTEGER, ZUNREADCOUNT INTEGER, ZGROUPINFO INTEGER, ZLASTMESSAGE INTEGER, ZPROPERTIES INTEGER,
  ZLASTMESSAGEDATE TIMESTAMP, ZLOCATIONSHARINGENDDATE TIMESTAMP, ZCONTACTIDENTIFIER VARCHAR, ZCONTACTJID VARCHAR,
  ZETAG VARCHAR, ZLASTMESSAGETEXT VARCHAR, ZPARTNERNAME VARCHAR, ZSAVEDINPUT VARCHAR);
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCHILDMESSAGESDELIVEREDCOUNT
  INTEGER, ZCHILDMESSAGESPLAYEDCOUNT INTEGER, ZCHILDMESSAGESREADCOUNT INTEGER, ZDATAITEMVERSION INTEGER, ZDOCID
  INTEGER, ZENCRETRYCOUNT INTEGER, ZFILTEREDRECIPIENTCOUNT INTEGER, ZFLAGS INTEGER, ZGROUPEVENTTYPE INTEGER,
  ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER, ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER,
  ZSPOTLIGHTSTATUS INTEGER, ZSTARRED INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZLASTSESSION INTEGER,
  ZMEDIAITEM INTEGER, ZMESSAGEINFO INTEGER, ZPARENTMESSAGE INTEGER, ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP,
  ZFROMJID VARCHAR, ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR, ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR, ZTEXT VARCHAR,
  ZTOJID VARCHAR);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCLOUDSTATUS INTEGER, ZFILESIZE
  INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION INTEGER, ZMESSAGE INTEGER, ZASPECTRATIO FLOAT, ZHACCURACY FLOAT,
  ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR, ZCOLLECTIONNAME VARCHAR,
  ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR, ZTITLE VARCHAR, ZVCARDNAME VARCHAR,
  ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR, ZMEDIAKEY BLOB, ZMETADATA BLOB);
CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACTABID INTEGER,
  ZISACTIVE INTEGER, ZISADMIN INTEGER, ZSENDERKEYSENT INTEGER, ZCHATSESSION INTEGER, ZRECENTGROUPCHAT INTEGER,
  ZCONTACTIDENTIFIER VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR);
CREATE TABLE ZWAGROUPINFO (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZSTATE INTEGER, ZCHATSESSION
  INTEGER, ZLASTMESSAGEOWNER INTEGER, ZCREATIONDATE TIMESTAMP, ZSUBJECTTIMESTAMP TIMESTAMP, ZCREATORJID VARCHAR,
  ZOWNERJID VARCHAR, ZPICTUREID VARCHAR, ZPICTUREPATH VARCHAR, ZSOURCEJID VARCHAR, ZSUBJECTOWNERJID VARCHAR);
CREATE TABLE ZWAMESSAGEINFO (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMESSAGE INTEGER,
  ZRECEIPTINFO BLOB);
CREATE TABLE ZWAPROFILEPUSHNAME (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZJID VARCHAR,
  ZPUSHNAME VARCHAR);
CREATE INDEX ZWAMESSAGE_ZCHATSESSION_INDEX ON ZWAMESSAGE (ZCHATSESSION);
CREATE INDEX ZWAMESSAGE_ZMEDIAITEM_INDEX ON ZWAMESSAGE (ZMEDIAITEM);
CREATE INDEX ZWAMEDIAITEM_ZMESSAGE_INDEX ON ZWAMEDIAITEM (ZMESSAGE);
CREATE INDEX ZWAGROUPMEMBER_ZCHATSESSION_INDEX ON ZWAGROUPMEMBER (ZCHATSESSION);
CREATE INDEX ZWAMESSAGE_ZSTANZAID_INDEX ON ZWAMESSAGE (ZSTANZAID);
"""

# CallHistory.storedata as iOS 16/17 creates it (Core Data).
CALL_HISTORY_SCHEMA = """
CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZANSWERED INTEGER, ZCALLTYPE
  INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA BLOB, ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER,
  ZREAD INTEGER, ZJUNKCONFIDENCE INTEGER, ZJUNKIDENTIFICATIONCATEGORY VARCHAR, ZVERIFICATIONSTATUS INTEGER, ZDATE
  TIMESTAMP, ZDURATION FLOAT, ZADDRESS VARCHAR, ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR, ZLOCATION VARCHAR,
  ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR, ZLOCALPARTICIPANTUUID VARCHAR,
  ZOUTGOINGLOCALPARTICIPANTUUID VARCHAR, ZPARTICIPANTGROUPUUID VARCHAR);
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE INDEX ZCALLRECORD_ZDATE_INDEX ON ZCALLRECORD (ZDATE);
"""

WHATSAPP_DOMAIN = "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"

MANIFEST_SCHEMA = """
CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB);
CREATE INDEX FilesDomainIdx ON Files(domain);
CREATE INDEX FilesRelativePathIdx ON Files(relativePath);
CREATE TABLE Properties (key TEXT PRIMARY KEY, value BLOB);
"""


def apple_ns(moment: datetime) -> int:
    """A moment as iOS 11+ stores it in sms.db: nanoseconds since 2001-01-01 UTC."""
    delta = moment - APPLE_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def attributed_body(text: str) -> bytes:
    """`text` archived as the Messages app archives it in `attributedBody` (NSAttributedString, typedstream)."""
    data = text.encode("utf-8")
    length = bytes([len(data)]) if len(data) < 0x80 else b"\x81" + struct.pack("<h", len(data))
    return (b"\x04\x0bstreamtyped\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject"
            b"\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+" + length + data + b"\x86\x84\x02iI\x01"
            + length + b"\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x01\x92\x84\x96\x96\x1d"
            b"__kIMMessagePartAttributeName\x86\x92\x84\x84\x84\x08NSNumber\x00\x84\x84\x07NSValue\x00\x94\x84\x01*"
            b"\x84\x99\x99\x00\x86\x86\x86")


@dataclass
class Msg:
    """One row of `message` to write (times as aware datetimes)."""

    when: datetime
    sender: str | None  # a handle id, or None for the owner (is_from_me)
    text: str | None = None
    body: str | None = None  # put in attributedBody (text left NULL)
    service: str = "iMessage"
    attachments: tuple[tuple[str, bytes, str], ...] = ()  # (file name, bytes, mime type)
    guid: str | None = None
    tapback: tuple[str, int] | None = None  # (guid of the message answered, associated_message_type)
    reply_to: str | None = None  # thread_originator_guid
    edited: tuple[tuple[datetime, str], ...] = ()  # versions, oldest first (the last is the text)
    unsent: datetime | None = None
    item_type: int = 0
    group_title: str | None = None


@dataclass
class ChatSpec:
    """One chat: its parties' handle ids, its service and messages; `name` for a named group."""

    handles: tuple[str, ...]
    messages: list[Msg]
    name: str | None = None
    service: str = "iMessage"
    identifier: str | None = None


@dataclass
class WaMsg:
    """One row of ZWAMESSAGE to write. `kind` is ZMESSAGETYPE (0 text, 1 image, 3 audio, 6 group event, 10 notice,
    14 deleted by its sender); `sender` a member's number (digits) in a group, None for the owner."""

    when: datetime
    sender: str | None
    text: str | None = None
    kind: int = 0
    event: int = 0  # ZGROUPEVENTTYPE
    media: tuple[str, bytes, str] | None = None  # (file name, bytes, media type)
    stanza: str | None = None
    reply_to: str | None = None  # the stanza id quoted
    reactions: tuple[tuple[str | None, str], ...] = ()  # (number or None for the owner, emoji)


@dataclass
class WaChat:
    """One WhatsApp chat: a number (digits) for a one-to-one chat, else a group with its members and name."""

    number: str | None
    messages: list[WaMsg]
    name: str | None = None  # ZPARTNERNAME: the contact's name on the phone, or the group's name
    members: dict[str, str] = field(default_factory=dict)  # number → ZCONTACTNAME


@dataclass
class CallSpec:
    """One row of ZCALLRECORD."""

    when: datetime
    address: str
    originated: bool
    answered: bool = True
    duration: float = 0.0
    call_type: int = 1
    provider: str = "com.apple.Telephony"


@dataclass
class BackupSpec:
    chats: list[ChatSpec]
    contacts: dict[str, str] = field(default_factory=dict)  # number or e-mail as typed → "First Last"
    whatsapp: list[WaChat] = field(default_factory=list)
    calls: list[CallSpec] = field(default_factory=list)
    device_name: str = "iPhone van A. Wethouder"
    ios: str = "17.5"


def sms_database(path: Path, chats: list[ChatSpec]) -> None:
    """Write sms.db at `path` holding `chats`."""
    db = sqlite3.connect(path)
    db.executescript(SMS_SCHEMA)
    handles: dict[tuple[str, str], int] = {}
    attachment_number = 0
    for number, chat in enumerate(chats, start=1):
        identifier = chat.identifier or (chat.handles[0] if len(chat.handles) == 1 else f"chat{number:06d}")
        style = 45 if len(chat.handles) == 1 and chat.name is None else 43
        separator = "-" if style == 45 else "+"
        guid = f"{chat.service};{separator};{identifier}"
        chat_rowid = db.execute("INSERT INTO chat (guid, style, chat_identifier, service_name, display_name) "
                                "VALUES (?, ?, ?, ?, ?)", (guid, style, identifier, chat.service, chat.name or "")
                                ).lastrowid
        for handle in chat.handles:
            key = (handle, chat.service)
            if key not in handles:
                handles[key] = db.execute("INSERT INTO handle (id, country, service, uncanonicalized_id) VALUES "
                                          "(?, 'nl', ?, ?)", (handle, chat.service, handle)).lastrowid or 0
            db.execute("INSERT INTO chat_handle_join VALUES (?, ?)", (chat_rowid, handles[key]))
        for n, msg in enumerate(chat.messages):
            handle_rowid = handles.get((msg.sender, chat.service), 0) if msg.sender else 0
            guid = msg.guid or f"MSG-{number:03d}-{n:06d}"
            date = apple_ns(msg.when)
            values: dict[str, Any] = {
                "guid": guid, "text": msg.text, "handle_id": handle_rowid, "service": msg.service, "date": date,
                "is_from_me": int(msg.sender is None), "is_sent": int(msg.sender is None), "is_delivered": 1,
                "is_finished": 1, "account": "e:owner@example.nl", "item_type": msg.item_type,
                "group_title": msg.group_title, "cache_has_attachments": int(bool(msg.attachments)),
                "attributedBody": attributed_body(msg.body) if msg.body is not None else None,
            }
            if msg.tapback:
                values["associated_message_guid"] = f"p:0/{msg.tapback[0]}"
                values["associated_message_type"] = msg.tapback[1]
            if msg.reply_to:
                values["thread_originator_guid"] = msg.reply_to
                values["thread_originator_part"] = "0:0:5"
            if msg.edited:
                values["date_edited"] = apple_ns(msg.edited[-1][0])
                values["message_summary_info"] = plistlib.dumps({"amc": 0, "ust": True, "ep": [0], "ec": {"0": [
                    {"t": attributed_body(text), "d": (when - APPLE_EPOCH).total_seconds()}
                    for when, text in msg.edited]}, "otr": {"0": {"lo": 0, "le": len(msg.edited[-1][1])}}},
                    fmt=plistlib.FMT_BINARY)
            if msg.unsent:
                values["date_retracted"] = apple_ns(msg.unsent)
                values["date_edited"] = apple_ns(msg.unsent)
                values["message_summary_info"] = plistlib.dumps(
                    {"amc": 0, "ust": True, "otr": {"0": {"lo": 0, "le": 13}}, "rp": [0]}, fmt=plistlib.FMT_BINARY)
                values["text"] = None
            columns = ", ".join(values)
            rowid = db.execute(f"INSERT INTO message ({columns}) VALUES ({', '.join('?' * len(values))})",
                               tuple(values.values())).lastrowid
            db.execute("INSERT INTO chat_message_join VALUES (?, ?, ?)", (chat_rowid, rowid, date))
            for file_name, _data, mime in msg.attachments:
                attachment_number += 1
                a_guid = f"AT-{attachment_number:06d}"
                path = attachment_relative_path(a_guid, file_name)
                a_rowid = db.execute(
                    "INSERT INTO attachment (guid, created_date, filename, uti, mime_type, transfer_state, "
                    "is_outgoing, transfer_name, total_bytes, original_guid) VALUES (?, ?, ?, 'public.jpeg', ?, 5, "
                    "?, ?, ?, ?)", (a_guid, date // 1_000_000_000, f"~/{path}", mime, int(msg.sender is None),
                                    file_name, len(_data), a_guid)).lastrowid
                db.execute("INSERT INTO message_attachment_join VALUES (?, ?)", (rowid, a_rowid))
    db.commit()
    db.close()


def core_data_time(moment: datetime) -> float:
    """A moment as Core Data stores it: seconds since 2001-01-01 UTC."""
    return (moment - APPLE_EPOCH).total_seconds()


def protobuf(*fields: tuple[int, bytes | int]) -> bytes:
    """A protobuf message of `fields` (varints and length-delimited values)."""
    def varint(value: int) -> bytes:
        out = b""
        while True:
            byte, value = value & 0x7F, value >> 7
            out += bytes([byte | (0x80 if value else 0)])
            if not value:
                return out

    blob = b""
    for number, value in fields:
        if isinstance(value, int):
            blob += varint(number << 3) + varint(value)
        else:
            blob += varint(number << 3 | 2) + varint(len(value)) + value
    return blob


def whatsapp_media_path(chat_jid: str, number: int, file_name: str) -> str:
    """ZMEDIALOCALPATH of a media file: below the app group's `Message/` folder."""
    digest = hashlib.sha1(f"{chat_jid}{number}".encode()).hexdigest()
    return f"Media/{chat_jid}/{digest[0]}/{digest[1]}/{digest[2:34]}-{file_name}"


def whatsapp_database(path: Path, chats: list[WaChat]) -> dict[tuple[str, str], bytes]:
    """Write ChatStorage.sqlite at `path` holding `chats`; returns the media files to store in the backup."""
    db = sqlite3.connect(path)
    db.executescript(WHATSAPP_SCHEMA)
    files: dict[tuple[str, str], bytes] = {}
    media_number = 0
    for index, chat in enumerate(chats, start=1):
        jid = f"{chat.number}@s.whatsapp.net" if chat.number else f"1203630{index:011d}@g.us"
        session = db.execute("INSERT INTO ZWACHATSESSION (Z_ENT, Z_OPT, ZARCHIVED, ZHIDDEN, ZMESSAGECOUNTER, ZREMOVED, "
                             "ZSESSIONTYPE, ZUNREADCOUNT, ZCONTACTJID, ZPARTNERNAME, ZLASTMESSAGEDATE) VALUES (4, 1, 0, "
                             "0, ?, 0, ?, 0, ?, ?, ?)", (len(chat.messages), 1 if chat.number is None else 0, jid,
                                                        chat.name or f"+{chat.number}",
                                                        core_data_time(chat.messages[-1].when) if chat.messages else None)
                             ).lastrowid
        members: dict[str, int] = {}
        for number, name in chat.members.items():
            members[number] = db.execute("INSERT INTO ZWAGROUPMEMBER (Z_ENT, Z_OPT, ZISACTIVE, ZISADMIN, ZCHATSESSION, "
                                         "ZCONTACTNAME, ZFIRSTNAME, ZMEMBERJID) VALUES (7, 1, 1, 0, ?, ?, ?, ?)",
                                         (session, name, name.split(" ")[0], f"{number}@s.whatsapp.net")).lastrowid or 0
        if chat.number is None:
            db.execute("INSERT INTO ZWAGROUPINFO (Z_ENT, Z_OPT, ZSTATE, ZCHATSESSION, ZCREATIONDATE, ZCREATORJID) "
                       "VALUES (6, 1, 0, ?, ?, ?)", (session, core_data_time(chat.messages[0].when),
                                                     f"{next(iter(chat.members), '0')}@s.whatsapp.net"))
        for n, msg in enumerate(chat.messages, start=1):
            values: dict[str, Any] = {
                "Z_ENT": 9, "Z_OPT": 2, "ZISFROMME": int(msg.sender is None), "ZMESSAGETYPE": msg.kind,
                "ZGROUPEVENTTYPE": msg.event, "ZMESSAGESTATUS": 8 if msg.sender is None else 0, "ZFLAGS": 0,
                "ZSORT": n, "ZSTARRED": 0, "ZCHATSESSION": session, "ZMESSAGEDATE": core_data_time(msg.when),
                "ZSENTDATE": core_data_time(msg.when), "ZFROMJID": jid if msg.sender else None,
                "ZTOJID": None if msg.sender else jid,
                "ZSTANZAID": msg.stanza or f"3A{hashlib.sha1(f'{jid}{n}'.encode()).hexdigest()[:18].upper()}",
                "ZTEXT": msg.text,
                "ZGROUPMEMBER": members.get(msg.sender) if msg.sender and chat.number is None else None,
            }
            pk = db.execute(f"INSERT INTO ZWAMESSAGE ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})",
                            tuple(values.values())).lastrowid
            metadata = protobuf((5, msg.reply_to.encode()), (6, f"{chat.number or '0'}@s.whatsapp.net".encode())
                                ) if msg.reply_to else None
            if msg.media or metadata:
                local_path = None
                if msg.media:
                    media_number += 1
                    local_path = whatsapp_media_path(jid, media_number, msg.media[0])
                    files[(WHATSAPP_DOMAIN, f"Message/{local_path}")] = msg.media[1]
                item = db.execute("INSERT INTO ZWAMEDIAITEM (Z_ENT, Z_OPT, ZFILESIZE, ZMESSAGE, ZMEDIALOCALPATH, "
                                  "ZVCARDSTRING, ZMETADATA, ZMOVIEDURATION) VALUES (8, 1, ?, ?, ?, ?, ?, ?)",
                                  (len(msg.media[1]) if msg.media else 0, pk, local_path,
                                   msg.media[2] if msg.media else None, metadata, 4 if msg.kind == 3 else 0)
                                  ).lastrowid
                db.execute("UPDATE ZWAMESSAGE SET ZMEDIAITEM = ? WHERE Z_PK = ?", (item, pk))
            if msg.reactions:
                entries = [(1, protobuf((2, f"{who}@s.whatsapp.net".encode()), (3, emoji.encode()), (4, 1_710_000_000_000)))
                           if who else (2, protobuf((2, emoji.encode()), (3, 1_710_000_000_000)))
                           for who, emoji in msg.reactions]
                info = db.execute("INSERT INTO ZWAMESSAGEINFO (Z_ENT, Z_OPT, ZMESSAGE, ZRECEIPTINFO) VALUES (10, 1, ?, ?)",
                                  (pk, protobuf((7, protobuf(*entries))))).lastrowid
                db.execute("UPDATE ZWAMESSAGE SET ZMESSAGEINFO = ? WHERE Z_PK = ?", (info, pk))
    db.execute("INSERT INTO ZWACHATSESSION (Z_ENT, Z_OPT, ZSESSIONTYPE, ZCONTACTJID, ZPARTNERNAME) VALUES "
               "(4, 1, 3, 'status@broadcast', 'Status')")  # every phone has it; status updates are not a chat
    db.commit()
    db.close()
    return files


def call_history(path: Path, calls: list[CallSpec]) -> None:
    """Write CallHistory.storedata at `path` holding `calls`."""
    db = sqlite3.connect(path)
    db.executescript(CALL_HISTORY_SCHEMA)
    for n, call in enumerate(calls):
        db.execute("INSERT INTO ZCALLRECORD (Z_ENT, Z_OPT, ZANSWERED, ZCALLTYPE, ZDISCONNECTED_CAUSE, ZORIGINATED, "
                   "ZREAD, ZDATE, ZDURATION, ZADDRESS, ZISO_COUNTRY_CODE, ZSERVICE_PROVIDER, ZUNIQUE_ID) VALUES "
                   "(2, 1, ?, ?, 0, ?, 1, ?, ?, ?, 'nl', ?, ?)",
                   (int(call.answered), call.call_type, int(call.originated), core_data_time(call.when),
                    call.duration, call.address, call.provider, f"CALL-{n:06d}"))
    db.commit()
    db.close()


def attachment_relative_path(guid: str, file_name: str) -> str:
    digest = hashlib.sha1(guid.encode()).hexdigest()
    return f"Library/SMS/Attachments/{digest[:2]}/{digest[2:4]}/{guid}/{file_name}"


def address_book(path: Path, contacts: dict[str, str]) -> None:
    db = sqlite3.connect(path)
    db.executescript(ADDRESS_BOOK_SCHEMA)
    for address, name in contacts.items():
        first, _, last = name.partition(" ")
        person = db.execute("INSERT INTO ABPerson (First, Last, Kind) VALUES (?, ?, 0)", (first, last)).lastrowid
        db.execute("INSERT INTO ABMultiValue (record_id, property, identifier, label, value) VALUES (?, ?, 0, 1, ?)",
                   (person, 4 if "@" in address else 3, address))
    db.commit()
    db.close()


class _Keys:
    """The key bag of an encrypted backup and what it takes to encrypt files under it."""

    def __init__(self, password: str, iterations: int) -> None:
        self.salt, self.dpsl = os.urandom(20), os.urandom(20)
        self.iterations = iterations
        round_one = hashlib.pbkdf2_hmac("sha256", password.encode(), self.dpsl, iterations, 32)
        self.passphrase_key = hashlib.pbkdf2_hmac("sha1", round_one, self.salt, iterations, 32)
        self.class_keys = {c: os.urandom(32) for c in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)}

    def keybag(self) -> bytes:
        def tlv(tag: bytes, value: bytes | int) -> bytes:
            data = struct.pack(">L", value) if isinstance(value, int) else value
            return tag + struct.pack(">L", len(data)) + data

        blob = (tlv(b"VERS", 3) + tlv(b"TYPE", 1) + tlv(b"UUID", os.urandom(16)) + tlv(b"HMCK", os.urandom(40))
                + tlv(b"WRAP", 0) + tlv(b"SALT", self.salt) + tlv(b"ITER", self.iterations)
                + tlv(b"DPWT", 1) + tlv(b"DPIC", self.iterations) + tlv(b"DPSL", self.dpsl))
        for number, key in self.class_keys.items():
            wrapped = AES.new(self.passphrase_key, AES.MODE_KW).seal(key)
            blob += (tlv(b"UUID", os.urandom(16)) + tlv(b"CLAS", number) + tlv(b"WRAP", 2) + tlv(b"KTYP", 0)
                     + tlv(b"WPKY", wrapped))
        return blob

    def wrap(self, protection_class: int, file_key: bytes) -> bytes:
        return bytes(AES.new(self.class_keys[protection_class], AES.MODE_KW).seal(file_key))


def encrypt(data: bytes, key: bytes) -> bytes:
    """AES-256-CBC, zero IV, PKCS#7 padding: how a backup file is stored."""
    pad = 16 - len(data) % 16
    return bytes(AES.new(key, AES.MODE_CBC, iv=b"\x00" * 16).encrypt(data + bytes([pad]) * pad))


def _file_record(size: int, wrapped: bytes | None) -> bytes:
    """The NSKeyedArchiver plist of an MBFile, as the `file` column holds it."""
    mbfile: dict[str, Any] = {"$class": plistlib.UID(3), "Size": size, "ProtectionClass": PROTECTION_CLASS,
                              "LastModified": 1_710_000_000, "Birth": 1_710_000_000, "Mode": 0o100644,
                              "InodeNumber": 1, "UserID": 501, "GroupID": 501, "Flags": 0,
                              "RelativePath": plistlib.UID(2)}
    objects: list[Any] = ["$null", mbfile, "path", {"$classname": "MBFile", "$classes": ["MBFile", "NSObject"]}]
    if wrapped is not None:
        mbfile["EncryptionKey"] = plistlib.UID(4)
        objects += [{"NS.data": struct.pack("<l", PROTECTION_CLASS) + wrapped, "$class": plistlib.UID(5)},
                    {"$classname": "NSMutableData", "$classes": ["NSMutableData", "NSData", "NSObject"]}]
    return plistlib.dumps({"$version": 100000, "$archiver": "NSKeyedArchiver", "$top": {"root": plistlib.UID(1)},
                           "$objects": objects}, fmt=plistlib.FMT_BINARY)


def make_backup(root: Path, spec: BackupSpec, *, password: str | None = None, iterations: int = 10,
                extra_files: dict[tuple[str, str], bytes] | None = None) -> Path:
    """Write an iPhone backup folder at `root` holding `spec` (encrypted with `password` when given); returns root."""
    root.mkdir(parents=True)
    work = root.parent / f".{root.name}-work"
    work.mkdir()
    sms_database(work / "sms.db", spec.chats)
    files: dict[tuple[str, str], bytes] = {("HomeDomain", "Library/SMS/sms.db"): (work / "sms.db").read_bytes()}
    if spec.contacts:
        address_book(work / "ab.sqlitedb", spec.contacts)
        files[("HomeDomain", "Library/AddressBook/AddressBook.sqlitedb")] = (work / "ab.sqlitedb").read_bytes()
    number = 0
    for chat in spec.chats:
        for msg in chat.messages:
            for file_name, data, _mime in msg.attachments:
                number += 1
                files[("MediaDomain", attachment_relative_path(f"AT-{number:06d}", file_name))] = data
    if spec.whatsapp:
        files.update(whatsapp_database(work / "ChatStorage.sqlite", spec.whatsapp))
        files[(WHATSAPP_DOMAIN, "ChatStorage.sqlite")] = (work / "ChatStorage.sqlite").read_bytes()
    if spec.calls:
        call_history(work / "CallHistory.storedata", spec.calls)
        files[("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata")] = \
            (work / "CallHistory.storedata").read_bytes()
    files.update(extra_files or {})
    keys = _Keys(password, iterations) if password is not None else None
    manifest = sqlite3.connect(work / "Manifest.db")
    manifest.executescript(MANIFEST_SCHEMA)
    for (domain, relative_path), data in files.items():
        file_id = hashlib.sha1(f"{domain}-{relative_path}".encode()).hexdigest()
        wrapped = None
        stored = data
        if keys is not None:
            file_key = os.urandom(32)
            wrapped = keys.wrap(PROTECTION_CLASS, file_key)
            stored = encrypt(data, file_key)
        (root / file_id[:2]).mkdir(exist_ok=True)
        (root / file_id[:2] / file_id).write_bytes(stored)
        manifest.execute("INSERT INTO Files VALUES (?, ?, ?, 1, ?)",
                         (file_id, domain, relative_path, _file_record(len(data), wrapped)))
    manifest.commit()
    manifest.close()
    plist: dict[str, Any] = {"Version": "10.0", "IsEncrypted": keys is not None, "Date": datetime(2024, 3, 20, 9, 0),
                             "WasPasscodeSet": True, "SystemDomainsVersion": "24.0",
                             "Lockdown": {"ProductVersion": spec.ios, "ProductType": "iPhone15,2",
                                          "DeviceName": spec.device_name, "UniqueDeviceID": "0" * 40}}
    manifest_bytes = (work / "Manifest.db").read_bytes()
    if keys is not None:
        manifest_key = os.urandom(32)
        plist["BackupKeyBag"] = keys.keybag()
        plist["ManifestKey"] = struct.pack("<l", MANIFEST_CLASS) + keys.wrap(MANIFEST_CLASS, manifest_key)
        manifest_bytes = encrypt(manifest_bytes, manifest_key)
    (root / "Manifest.db").write_bytes(manifest_bytes)
    (root / "Manifest.plist").write_bytes(plistlib.dumps(plist, fmt=plistlib.FMT_BINARY))
    (root / "Info.plist").write_bytes(plistlib.dumps({
        "Device Name": spec.device_name, "Display Name": spec.device_name, "Product Version": spec.ios,
        "Product Type": "iPhone15,2", "Last Backup Date": datetime(2024, 3, 20, 9, 0),
        "Serial Number": "F2LXXXXXXXXX", "Unique Identifier": "0" * 40}))
    (root / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False, "Version": "3.3",
                                                        "BackupState": "new", "SnapshotState": "finished"},
                                                       fmt=plistlib.FMT_BINARY))
    for leftover in work.iterdir():
        leftover.unlink()
    work.rmdir()
    return root
