"""File names as a SIP and an AIP hold them: at most NAME_LIMIT bytes per name, whatever the export called a file.

A phone may name an attachment with 300 characters, beyond the 255 bytes ext4, xfs, btrfs and tmpfs allow
for one name in a folder; edepot also writes names that grow from a file's name (`<name>.bestand.mdto.xml`
beside it in the SIP's metadata, `<name>.flac` for a derived copy, `original-<name>` in the AIP's media, and
the staging names of kernel.atomic.temporary_name). So the rule, applied to each part of a path alike by
`sip create` (the files it writes) and by ingest (the members it unpacks from an export zip):

- a name of at most NAME_LIMIT (200) bytes in UTF-8 stays as it is;
- a longer one keeps its extension (the part after the last dot, when that is at most 16 bytes and holds
  no space), and its stem is cut, never inside a UTF-8 character, so that
  `<cut stem>~<first 8 hex of the sha256 of the whole original name><extension>` is at most NAME_LIMIT bytes.
  The digest keeps two long names that start alike apart.

The bytes of the file never change, only its name; the original name is kept in the metadata (the MDTO
bestand's `naam`, `source.renamed` in the canonical conversation, and the record's toelichting).
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Iterable

from kernel.model import Attachment, Conversation

NAME_LIMIT = 200  # bytes: 255 (NAME_MAX) less room for what edepot adds to a name (".bestand.mdto.xml", ...)
_EXTENSION_LIMIT = 16
_DIGEST_HEX = 8


def bag_name(name: str) -> str:
    """`name` (one path part) as a SIP or AIP holds it: itself when short enough, else cut by the rule above."""
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= NAME_LIMIT:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode("utf-8")) > _EXTENSION_LIMIT or " " in extension:
        stem, extension = name, ""
    tail = f"~{hashlib.sha256(encoded).hexdigest()[:_DIGEST_HEX]}" + (f".{extension}" if extension else "")
    room = NAME_LIMIT - len(tail.encode("utf-8"))
    cut = stem.encode("utf-8", "surrogateescape")[:room].decode("utf-8", "ignore")
    return cut + tail


def bag_path(path: str) -> str:
    """A '/'-separated path with each of its parts made a `bag_name`."""
    return "/".join(bag_name(part) for part in path.split("/"))


def with_bag_names(conversation: Conversation, exported: Iterable[str] = ()) -> Conversation:
    """`conversation` with each present attachment named as the SIP holds its file (`bag_path`), and every
    name so changed, of attachments and of the `exported` files (paths as the SIP's original/ holds them),
    listed in `source.renamed` as (name in the SIP, name in the export)."""
    renamed = dict((short, original) for short, original in conversation.source.renamed)
    for original in exported:
        if bag_path(original) != original:
            renamed[bag_path(original)] = original

    def named(attachment: Attachment) -> Attachment:
        short = bag_path(attachment.name)
        if not attachment.present or short == attachment.name:
            return attachment
        renamed[short] = attachment.name
        return replace(attachment, name=short)

    messages = tuple(replace(m, attachments=tuple(named(a) for a in m.attachments)) if m.attachments else m
                     for m in conversation.messages)
    if not renamed:
        return conversation
    source = replace(conversation.source, renamed=tuple(sorted(renamed.items())))
    return replace(conversation, source=source, messages=messages)
