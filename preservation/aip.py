"""The AIP: a BagIt bag holding the originals, their preservation copies and the metadata (OAIS AIP).

    data/original/<export files>            the SIP's originals, byte-identical
    data/preservation/conversation.pdf      PDF/A-2b rendering of the conversation
    data/preservation/conversation.json     the canonical conversation
    data/preservation/media/<member>        files unpacked from the export container (photos, voice notes, ...)
    data/metadata/sip/<SIP metadata>        MDTO as received, with the SIP's bag-info.txt
    data/metadata/premis.xml                PREMIS 3: every object, event and agent of the ingest

Built in a staging folder, then copied to each storage location (preservation/storage.py).
"""
from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Mapping

from kernel.hashing import digest_file
from preservation.bag_writer import write_bag_tags

ORIGINAL = "data/original"
PRESERVATION = "data/preservation"
MEDIA = "data/preservation/media"
RENDERING_PDF = "data/preservation/conversation.pdf"
CONVERSATION_JSON = "data/preservation/conversation.json"
SIP_METADATA = "data/metadata/sip"
PREMIS = "data/metadata/premis.xml"


@dataclass(frozen=True)
class SealedFile:
    """One file of a finished AIP with its digests; `role` is original, preservation, metadata or tag."""

    path: str
    role: str
    size: int
    sha256: str
    sha512: str


class AipBuilder:
    """Collects the files of one AIP in a staging folder and seals them into a bag."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.roles: dict[str, str] = {}
        self._digests: dict[str, SealedFile] = {}  # digests already known (from a validated manifest or a copy)
        self._paths: dict[str, Path] = {}  # every stage asks for every file's path: each is made once
        root.mkdir(parents=True, exist_ok=True)

    def path(self, relative: str) -> Path:
        """The absolute path of a file of the AIP (whether or not it exists yet)."""
        found = self._paths.get(relative)
        if found is None:
            found = self._paths[relative] = self.root / relative
        return found

    def add_copy(self, relative: str, source: Path, role: str, digests: Mapping[str, str] | None = None) -> Path:
        """Copy a file in, byte for byte; `digests` (sha256 and sha512 of the source, e.g. from a validated
        manifest) spare hashing it again. Every replica is verified against them, so a bad copy is caught."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        self.register(relative, role, digests)
        return target

    def add_link(self, relative: str, source: Path, role: str, digests: Mapping[str, str]) -> Path:
        """Take a file in by reference: the staging folder holds a link to `source`, which the copies to the
        storage locations read through. For large originals of a SIP that stays in place during ingest; the
        SIP's validated `digests` are required, as every replica is verified against them."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(Path(source).resolve(), target)
        self.register(relative, role, digests)
        return target

    def add_bytes(self, relative: str, data: bytes, role: str) -> Path:
        """Write a file of the AIP from bytes in memory (never through a link: the linked file is not ours)."""
        target = self.path(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_bytes(data)
        self.register(relative, role)
        return target

    def register(self, relative: str, role: str, digests: Mapping[str, str] | None = None) -> None:
        """Claim a file some other step wrote into the AIP (with its sha256 and sha512 when known)."""
        path = self.path(relative)
        if not path.is_file():
            raise FileNotFoundError(relative)
        self.roles[relative] = role
        self._digests.pop(relative, None)
        if digests is not None and "sha256" in digests and "sha512" in digests:
            self._digests[relative] = SealedFile(relative, role, path.stat().st_size, digests["sha256"],
                                                 digests["sha512"])

    def digest(self, relative: str) -> SealedFile:
        """sha256 and sha512 of one registered file, read at most once (until the file is registered anew)."""
        known = self._digests.get(relative)
        if known is None:
            digests, size = digest_file(self.path(relative))
            known = self._digests[relative] = SealedFile(relative, self.roles[relative], size, digests["sha256"],
                                                         digests["sha512"])
        return known

    def known_sha256_of(self, relative: str) -> str | None:
        """The sha256 of one registered file when known already (from a manifest, or written with its digests)."""
        known = self._digests.get(relative)
        return known.sha256 if known is not None else None

    def known_sha256(self) -> dict[Path, str]:
        """The sha256 of every file whose digests are known already, by its path in staging."""
        return {self.path(relative): sealed.sha256 for relative, sealed in self._digests.items()}

    def digest_payload(self) -> dict[str, SealedFile]:
        """sha256 and sha512 of every registered file: those not known yet read once each, on all cores."""
        unknown = [relative for relative in self.roles if relative not in self._digests]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for _ in pool.map(self.digest, unknown):
                pass
        return {relative: self.digest(relative) for relative in sorted(self.roles)}

    def seal(
        self, payload: Mapping[str, SealedFile], bag_info: Mapping[str, str], bagging_date: date
    ) -> list[SealedFile]:
        """Write the bag's tag files for `payload`; returns every file of the bag (tag files included)."""
        unregistered = _files_below(self.root / "data") - set(payload)
        if unregistered:
            raise RuntimeError(f"files in the AIP that no step registered: {sorted(unregistered)}")
        tags = write_bag_tags(
            self.root,
            {p: {"size": f.size, "sha256": f.sha256, "sha512": f.sha512} for p, f in payload.items()},
            bag_info,
            bagging_date,
        )
        tag_files = [
            SealedFile(name, "tag", int(d["size"]), str(d["sha256"]), str(d["sha512"])) for name, d in tags.items()
        ]
        return [*payload.values(), *tag_files]


def _files_below(root: Path) -> set[str]:
    """Every file below `root`, by its path from root's parent ('/'-separated)."""
    base = len(os.path.join(root.parent, ""))
    return {
        os.path.join(dirpath, name)[base:].replace(os.sep, "/")
        for dirpath, _dirs, names in os.walk(root)
        for name in names
    }
