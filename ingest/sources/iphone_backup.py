"""An iPhone backup (Finder, iTunes, libimobiledevice; iOS 10 and later; encrypted or not) read as an export of many
conversations: every chat of the Messages app (SMS, MMS, iMessage), every WhatsApp chat, and the call history.

The backup folder is the export (`edepot sip conversations BACKUP` lists its chats); its layout and decryption are
`ingest/sources/iphone_layout.py`, the Messages database `iphone_messages.py`, WhatsApp's `iphone_whatsapp.py`, the
call history `iphone_calls.py`, contact names `iphone_contacts.py` (all imported only when a backup is opened). Each
chat is one conversation: `chat-<chat guid>` (`chat-iMessage_+_chat42`, `chat-SMS_-_+31612345678`) for the Messages
app, `whatsapp-<jid>` (`whatsapp-31612345678_s.whatsapp.net`, `whatsapp-120363…_g.us`) for WhatsApp, and
`calls-<number>` for the calls with one party; titled by the group's name or its parties' names.

A backup holds a whole phone, private chats included, so the backup itself never enters a SIP (`keeps_export_out`):
a SIP of a chat holds that chat's messages, their attachments copied out of the backup byte-identical, and, as its
original, an extract of the database rows the messages were read from (`sms.db.rows.jsonl`,
`ChatStorage.sqlite.rows.jsonl` or `CallHistory.storedata.rows.jsonl`: table, rowid, every column's raw value, blobs
base64; only the rows of the messages kept). The selection statement names the backup by its folder, device and iOS
version (`source.inferred["backup"]`) and lists, with their sha256, the backup's index files and the database read,
as stored (`source.files`): the digest of `Manifest.db`, which names every file of the backup, identifies the backup
without reading its gigabytes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable, Iterator, Protocol, Sequence

from ingest.export import Export
from ingest.sources.base import ConversationStream, ParseOptions
from kernel.errors import InputError
from kernel.model import Conversation, ConversationHead, Message, Source, SourceFile, participants_of

if TYPE_CHECKING:  # the readers are imported when a backup is opened: `edepot` starts without them
    import sqlite3
    from datetime import tzinfo

    from ingest.sources.iphone_layout import BackupFile, OpenedBackup
    from ingest.sources.iphone_messages import Notes

NAME = "iphone-backup"
_INDEX_FILES = ("Manifest.plist", "Manifest.db", "Manifest.mbdb")  # Manifest.mbdb: iOS 9 and older


class ChatDatabase(Protocol):
    """One database of the backup read as chats: the Messages app's, WhatsApp's, the call history."""

    extract_name: str
    domain: str
    path: str

    def chats(self) -> Sequence[Any]: ...

    def title(self, chat: Any) -> str: ...

    def chat_facts(self, chat: Any) -> dict[str, Any]: ...

    def messages(self, chat: Any, zone: "tzinfo", notes: "Notes") -> Iterator[Message]: ...

    def write_rows(self, chat: Any, seqs: frozenset[int], out: IO[str], header: dict[str, Any]) -> int: ...


@dataclass(frozen=True)
class _Read:
    """A database of the backup, opened: the file it was read from and its reader."""

    file: "BackupFile"
    reader: ChatDatabase


class _Opened:
    """The backup with every chat database it holds and its address book open."""

    def __init__(self, export: Export, options: ParseOptions) -> None:
        from ingest.sources import iphone_calls, iphone_contacts, iphone_messages, iphone_whatsapp
        from ingest.sources.iphone_layout import OpenedBackup, open_database

        root = export.paths[0]
        if len(export.paths) != 1 or not root.is_dir():
            raise InputError("an iPhone backup is handed over as its folder (the one holding Manifest.db)")
        self.backup: OpenedBackup = OpenedBackup(root, password=options.password, scratch=options.scratch)
        try:
            book = self.backup.find(iphone_contacts.DOMAIN, iphone_contacts.PATH)
            contacts = iphone_contacts.AddressBook(
                open_database(self.backup.plain_path(book), "AddressBook.sqlitedb") if book else None)
            name_of, present = contacts.name_of, self._present
            readers: tuple[tuple[str, str, Callable[[sqlite3.Connection], ChatDatabase]], ...] = (
                (iphone_messages.DOMAIN, iphone_messages.PATH,
                 lambda db: iphone_messages.MessagesDatabase(db, name_of=name_of, attachment_present=present)),
                (iphone_whatsapp.DOMAIN, iphone_whatsapp.PATH,
                 lambda db: iphone_whatsapp.WhatsAppDatabase(db, name_of=name_of, attachment_present=present)),
                (iphone_calls.DOMAIN, iphone_calls.PATH, lambda db: iphone_calls.CallHistory(db, name_of=name_of)),
            )
            self.databases: list[_Read] = []
            for domain, path, reader in readers:
                found = self.backup.find(domain, path)
                if found is not None:
                    opened = open_database(self.backup.plain_path(found), path.rsplit("/", 1)[-1])
                    self.databases.append(_Read(found, reader(opened)))
            if not self.databases:
                raise InputError(f"the backup {root.name} holds no Messages database ({iphone_messages.PATH}), no "
                                 f"WhatsApp database ({iphone_whatsapp.PATH}) and no call history")
            self.chats = [(read, chat) for read in self.databases for chat in read.reader.chats()]
        except BaseException:
            self.backup.close()
            raise

    def _present(self, name: str) -> bool:
        domain, _, path = name.partition("/")
        return self.backup.find(domain, path) is not None


class IphoneBackupFormat:
    """The registry entry for iPhone backups."""

    name = NAME
    keeps_export_out = True  # a SIP never holds the backup: it holds every other chat of the phone too

    def score(self, export: Export) -> float:
        """1.0 for a folder holding Manifest.plist and Manifest.db (or an old Manifest.mbdb) at its top."""
        names = {m.name for m in export.members() if "/" not in m.name}
        return 1.0 if _INDEX_FILES[0] in names and (_INDEX_FILES[1] in names or _INDEX_FILES[2] in names) else 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """Every chat, whole."""
        conversations = []
        for stream in self.stream(export, options):
            messages = tuple(stream.messages)
            conversations.append(Conversation(stream.head.source, participants_of(messages), messages,
                                              stream.head.title))
        return conversations

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """One stream per chat: the Messages app's in the database's order, then WhatsApp's, then the call logs; the
        backup is closed (what was decrypted removed) once the last is read, or when it is no longer used."""
        opened = _Opened(export, options)
        facts = opened.backup.facts()
        files: dict[str, tuple[SourceFile, ...]] = {}
        streams = []
        for position, (read, chat) in enumerate(opened.chats):
            if read.file.file_id not in files:
                files[read.file.file_id] = opened.backup.source_files(read.file)
            inferred = {"backup": facts, "database": read.file.name, **read.reader.chat_facts(chat)}
            head = ConversationHead(Source(NAME, "ios", None, options.tz, files[read.file.file_id], inferred),
                                    title=read.reader.title(chat))
            last = position == len(opened.chats) - 1
            streams.append(ConversationStream(head, _messages(opened, read.reader, chat, head, options, last)))
        if not streams:
            opened.backup.close()
            raise InputError(f"the backup {export.paths[0].name} holds no chat")
        return streams

    def extract_files(self, export: Export, options: ParseOptions, names: set[str], folder: Path
                      ) -> Iterator[tuple[str, Path]]:
        """(attachment name, file) for each of `names` the backup holds, its plain bytes written below `folder`
        (decrypted straight there from an encrypted backup), one at a time."""
        from ingest.sources.iphone_layout import OpenedBackup

        backup = OpenedBackup(export.paths[0], password=options.password, scratch=options.scratch)
        try:
            for n, name in enumerate(sorted(names)):
                domain, _, path = name.partition("/")
                found = backup.find(domain, path)
                if found is not None:
                    target = folder / str(n)
                    backup.copy_plain(found, target)
                    yield name, target
        finally:
            backup.close()

    def write_rows(self, export: Export, options: ParseOptions, index: int, seqs: frozenset[int], folder: Path
                   ) -> list[str]:
        """Write the extract of the rows the messages `seqs` of conversation `index` (1-based) were read from, as
        `folder/<database>.rows.jsonl` (`sms.db.rows.jsonl`, `ChatStorage.sqlite.rows.jsonl`,
        `CallHistory.storedata.rows.jsonl`); returns its name."""
        opened = _Opened(export, options)
        try:
            read, chat = opened.chats[index - 1]
            header = {"backup": opened.backup.facts(), "database": {
                "domain": read.reader.domain, "path": read.reader.path, "file_id": read.file.file_id},
                **read.reader.chat_facts(chat), "messages": len(seqs)}
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / read.reader.extract_name).open("w", encoding="utf-8") as out:
                read.reader.write_rows(chat, seqs, out, header)
        finally:
            opened.backup.close()
        return [read.reader.extract_name]


def _messages(opened: _Opened, reader: ChatDatabase, chat: Any, head: ConversationHead, options: ParseOptions,
              last: bool) -> Iterator[Message]:
    from ingest.sources.iphone_messages import Notes

    notes = Notes()
    try:
        yield from reader.messages(chat, options.zone, notes)
        inferred = dict(head.source.inferred)
        notes.into(inferred)
        head.source = replace(head.source, inferred=inferred)
    finally:
        if last:
            opened.backup.close()


FORMAT = IphoneBackupFormat()
