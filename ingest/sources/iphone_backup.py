"""An iPhone backup (Finder, iTunes, libimobiledevice; iOS 10 and later; encrypted or not) read as an export of many
conversations: every chat of the Messages app (SMS, MMS, iMessage).

The backup folder is the export (`edepot sip conversations BACKUP` lists its chats); its layout and decryption are
`ingest/sources/iphone_layout.py`, the Messages database `ingest/sources/iphone_messages.py`, contact names
`ingest/sources/iphone_contacts.py`. Each chat is one conversation, id `chat-<chat guid>` (`chat-iMessage_+_chat42`,
`chat-SMS_-_+31612345678`), titled by the group's name or its parties' names.

A backup holds a whole phone, private chats included, so the backup itself never enters a SIP (`keeps_export_out`):
a SIP of a chat holds that chat's messages, their attachments copied out of the backup byte-identical, and, as its
original, an extract of the database rows the messages were read from (`sms.db.rows.jsonl`: table, rowid, every
column's raw value, blobs base64; only the rows of the messages kept). The selection statement names the backup by
its folder, device and iOS version (`source.inferred["backup"]`) and lists, with their sha256, the backup's index
files and the database read, as stored (`source.files`): the digest of `Manifest.db`, which names every file of the
backup, identifies the backup without reading its gigabytes.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

from ingest.export import Export
from ingest.sources import iphone_contacts, iphone_messages
from ingest.sources.base import ConversationStream, ParseOptions
from ingest.sources.iphone_layout import OpenedBackup, is_backup_folder, open_database
from ingest.sources.iphone_messages import Chat, MessagesDatabase, Notes
from kernel.errors import InputError
from kernel.model import Conversation, ConversationHead, Message, Source, participants_of

NAME = "iphone-backup"
EXTRACT_NAME = "sms.db.rows.jsonl"


class _Opened:
    """The backup with its Messages database and address book open."""

    def __init__(self, export: Export, options: ParseOptions) -> None:
        root = export.paths[0]
        if len(export.paths) != 1 or not root.is_dir():
            raise InputError("an iPhone backup is handed over as its folder (the one holding Manifest.db)")
        self.backup = OpenedBackup(root, password=options.password, scratch=options.scratch)
        try:
            sms = self.backup.find(iphone_messages.DOMAIN, iphone_messages.PATH)
            if sms is None:
                raise InputError(f"the backup {root.name} holds no Messages database ({iphone_messages.PATH})")
            self.sms = sms
            book = self.backup.find(iphone_contacts.DOMAIN, iphone_contacts.PATH)
            contacts = iphone_contacts.AddressBook(
                open_database(self.backup.plain_path(book), "AddressBook.sqlitedb") if book else None)
            self.messages = MessagesDatabase(open_database(self.backup.plain_path(sms), "sms.db"),
                                             name_of=contacts.name_of, attachment_present=self._present)
            self.chats = self.messages.chats()
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
        return 1.0 if is_backup_folder({m.name for m in export.members() if "/" not in m.name}) else 0.0

    def parse_all(self, export: Export, options: ParseOptions) -> list[Conversation]:
        """Every chat, whole."""
        conversations = []
        for stream in self.stream(export, options):
            messages = tuple(stream.messages)
            conversations.append(Conversation(stream.head.source, participants_of(messages), messages,
                                              stream.head.title))
        return conversations

    def stream(self, export: Export, options: ParseOptions) -> list[ConversationStream]:
        """One stream per chat, in the database's order; the backup is closed (what was decrypted removed) once
        the last is read, or when it is no longer used."""
        opened = _Opened(export, options)
        files = opened.backup.source_files(opened.sms)
        facts = opened.backup.facts()
        streams = []
        for position, chat in enumerate(opened.chats):
            inferred = {"backup": facts, "chat_guid": chat.guid, "chat": _chat_facts(chat)}
            head = ConversationHead(Source(NAME, "ios", None, options.tz, files, inferred),
                                    title=opened.messages.title(chat))
            last = position == len(opened.chats) - 1
            streams.append(ConversationStream(head, _messages(opened, chat, head, options, last)))
        if not streams:
            opened.backup.close()
            raise InputError(f"the Messages database of the backup {export.paths[0].name} holds no chat")
        return streams

    def extract_files(self, export: Export, options: ParseOptions, names: set[str], folder: Path
                      ) -> Iterator[tuple[str, Path]]:
        """(attachment name, file) for each of `names` the backup holds, its plain bytes written below `folder`
        (decrypted straight there from an encrypted backup), one at a time."""
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
        `folder/sms.db.rows.jsonl`; returns its name."""
        opened = _Opened(export, options)
        try:
            chat = opened.chats[index - 1]
            header = {"backup": opened.backup.facts(), "database": {
                "domain": iphone_messages.DOMAIN, "path": iphone_messages.PATH, "file_id": opened.sms.file_id},
                "chat_guid": chat.guid, "messages": len(seqs)}
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / EXTRACT_NAME).open("w", encoding="utf-8") as out:
                opened.messages.write_rows(chat, seqs, out, header)
        finally:
            opened.backup.close()
        return [EXTRACT_NAME]


def _messages(opened: _Opened, chat: Chat, head: ConversationHead, options: ParseOptions, last: bool
              ) -> Iterator[Message]:
    notes = Notes()
    try:
        yield from opened.messages.messages(chat, options.zone, notes)
        inferred = dict(head.source.inferred)
        notes.into(inferred)
        head.source = replace(head.source, inferred=inferred)
    finally:
        if last:
            opened.backup.close()


def _chat_facts(chat: Chat) -> dict[str, object]:
    return {"rowid": chat.rowid, "identifier": chat.identifier, "service": chat.service,
            "group": chat.style == 43, "handles": list(chat.handles)}


FORMAT = IphoneBackupFormat()
