"""An iPhone backup folder as Finder, iTunes and libimobiledevice write it (iOS 10 and later), opened for reading.

The layout: `Info.plist` (the device: name, model, iOS version, when it was backed up), `Manifest.plist` (whether the
backup is encrypted, its key bag, the Manifest.db key), `Manifest.db` (SQLite: table `Files` with `fileID`, `domain`,
`relativePath`, `flags` (1 file, 2 folder, 4 link) and `file`, a binary plist of the file's size, mtime, protection
class and wrapped key), and every file stored as `<first two hex>/<fileID>`, the fileID being the SHA-1 of
`<domain>-<relativePath>`. An iOS 9 backup or older (`Manifest.mbdb`, no Manifest.db) is refused as a layout edepot
does not know (UnknownBackupLayout).

Encrypted backups (the scheme `iphone-backup-decrypt` reads, as Apple writes it): the password unlocks the key bag
(PBKDF2-SHA256 with DPSL/DPIC, then PBKDF2-SHA1 with SALT/ITER; the class keys AES-unwrapped, RFC 3394), a class key
unwraps each file's key, and the file is AES-256-CBC with a zero IV and PKCS#7 padding. The password comes from
`ParseOptions.password` (a callable the adapter owns: an environment variable or a prompt), is used once to unlock
the key bag and never kept. Decrypted files (Manifest.db, the databases read) are written, chunk by chunk, only into
a private folder (mode 0700) made under `ParseOptions.scratch` (else the system's temporary folder) and removed when
the backup is closed; attachments are decrypted straight into the SIP being made. A wrong password is
WrongBackupPassword.

Nothing in the backup folder is ever written: databases are opened read-only and immutable (no journal files).
"""
from __future__ import annotations

import base64
import hashlib
import json
import plistlib
import re
import shutil
import sqlite3
import struct
import tempfile
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Callable, Sequence

from kernel.errors import DamagedBackupDatabase, InputError, UnknownBackupLayout, WrongBackupPassword
from kernel.hashing import digest_file
from kernel.model import SourceFile

REQUIRED = ("Manifest.plist", "Manifest.db")
OLD_MANIFEST = "Manifest.mbdb"  # iOS 9 and older
_FILE_ID = re.compile(r"^[0-9a-f]{40}$")
_FILES_COLUMNS = {"fileID", "domain", "relativePath", "flags", "file"}

PasswordSource = Callable[[str], str]  # the backup's name → its password, asked when needed
# The unlocked key bags of this process, by backup folder, key bag and password digest: one `sip create` opens a
# backup several times (reading, media, the rows extract), and each unlock is a slow key derivation (iOS asks
# ten million rounds). Kept in memory only, for the few most recent backups.
_UNLOCKED: "OrderedDict[tuple[str, str, str], Any]" = OrderedDict()
_UNLOCKED_KEPT = 4


@dataclass(frozen=True)
class BackupFile:
    """One file of the backup as Manifest.db lists it."""

    file_id: str
    domain: str
    relative_path: str
    size: int
    protection_class: int | None
    wrapped_key: bytes | None  # None in an unencrypted backup

    @property
    def name(self) -> str:
        """`<domain>/<relativePath>`: how edepot names the file (the domain keeps apps' files apart)."""
        return f"{self.domain}/{self.relative_path}"

    @property
    def stored_as(self) -> str:
        """Its path in the backup folder: `<first two hex>/<fileID>`."""
        return f"{self.file_id[:2]}/{self.file_id}"


class OpenedBackup:
    """A backup folder opened for reading (decrypted where it is encrypted); `close` removes what was decrypted."""

    def __init__(self, root: Path, *, password: PasswordSource | None = None, scratch: Path | None = None) -> None:
        self.root = root
        self._private: Path | None = None
        self._finalizer: Any = None
        self._keybag: Any = None
        self._scratch = scratch
        for name in REQUIRED:
            if not (root / name).is_file():
                if name == "Manifest.db" and (root / OLD_MANIFEST).is_file():
                    raise UnknownBackupLayout(f"{root.name} is a backup of iOS 9 or older (Manifest.mbdb), whose layout "
                                              "edepot does not read", hint="make a new backup with a current Finder or iTunes")
                raise UnknownBackupLayout(f"{root.name} lacks {name}: not an iPhone backup edepot knows")
        self.manifest = _plist(root / "Manifest.plist")
        self.info = _plist(root / "Info.plist") if (root / "Info.plist").is_file() else {}
        self.encrypted = bool(self.manifest.get("IsEncrypted"))
        try:
            if self.encrypted:
                self._unlock(password)
                manifest_db = self._decrypted_manifest()
            else:
                manifest_db = root / "Manifest.db"
            self._manifest_db = manifest_db
            self._files = open_database(manifest_db, "Manifest.db")
            require_columns(self._files, "Files", _FILES_COLUMNS, "Manifest.db")
        except BaseException:
            self.close()
            raise

    def find(self, domain: str, relative_path: str) -> BackupFile | None:
        """The file `relative_path` of `domain` (flags 1: a file), None when the backup does not hold it."""
        try:
            row = self._files.execute("SELECT fileID, domain, relativePath, file FROM Files WHERE domain = ? AND "
                                      "relativePath = ? AND flags = 1 LIMIT 1", (domain, relative_path)).fetchone()
        except sqlite3.DatabaseError as error:
            raise DamagedBackupDatabase(f"Manifest.db of {self.root.name} cannot be read: {error}") from None
        if row is None or not _FILE_ID.match(str(row[0])) or not (self.root / row[0][:2] / row[0]).is_file():
            return None
        return _backup_file(row)

    def plain_path(self, file: BackupFile) -> Path:
        """A path of the file's plain bytes: the stored file itself, or its decrypted copy in the private folder."""
        stored = self.root / file.stored_as
        if not self.encrypted:
            return stored
        target = self._private_folder() / file.file_id
        if not target.exists():
            self.copy_plain(file, target)
        return target

    def copy_plain(self, file: BackupFile, target: Path) -> None:
        """Write the file's plain bytes to `target` (decrypted chunk by chunk in an encrypted backup)."""
        stored = self.root / file.stored_as
        target.parent.mkdir(parents=True, exist_ok=True)
        if not self.encrypted:
            shutil.copyfile(stored, target)
            return
        from iphone_backup_decrypt import utils

        if file.wrapped_key is None or file.protection_class is None:
            raise DamagedBackupDatabase(f"Manifest.db of {self.root.name} holds no key for {file.name}")
        try:
            key = self._keybag.unwrap_key_for_class(file.protection_class, file.wrapped_key)
            utils.aes_decrypt_chunked(in_filename=str(stored), key=key, out_filepath=str(target))
        except ValueError as error:
            raise DamagedBackupDatabase(f"{file.name} in {self.root.name} cannot be decrypted: {error}") from None

    def source_files(self, *files: BackupFile) -> tuple[SourceFile, ...]:
        """Name, size and sha256 of the backup's index files and of `files`, as stored (encrypted where it is):
        what identifies the backup and what was read of it."""
        stored = [(name, self.root / name) for name in ("Manifest.db", "Manifest.plist", "Info.plist")
                  if (self.root / name).is_file()]
        stored += [(f"{f.stored_as} ({f.name})", self.root / f.stored_as) for f in files]
        found = []
        for name, path in stored:
            digests, size = digest_file(path, ("sha256",))
            found.append(SourceFile(f"{self.root.name}/{name}", size, digests["sha256"]))
        return tuple(found)

    def facts(self) -> dict[str, Any]:
        """What the backup says of itself: device, iOS version, when it was made, encrypted or not."""
        found = self.manifest.get("Lockdown")
        lockdown: dict[str, Any] = found if isinstance(found, dict) else {}
        made = self.info.get("Last Backup Date") or self.manifest.get("Date")
        return {
            "folder": self.root.name,
            "device_name": self.info.get("Device Name") or lockdown.get("DeviceName"),
            "product_type": self.info.get("Product Type") or lockdown.get("ProductType"),
            "ios": self.info.get("Product Version") or lockdown.get("ProductVersion"),
            "made": made.isoformat() if isinstance(made, datetime) else None,
            "encrypted": self.encrypted,
            "manifest_sha256": digest_file(self.root / "Manifest.db", ("sha256",))[0]["sha256"],
        }

    def close(self) -> None:
        """Close the index and remove every decrypted file (the private folder)."""
        files = getattr(self, "_files", None)
        if files is not None:
            files.close()
            self._files = None  # type: ignore[assignment]
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
            self._private = None

    def __enter__(self) -> "OpenedBackup":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _private_folder(self) -> Path:
        if self._private is None:
            # mkdtemp makes the folder readable by its owner alone (0700)
            self._private = Path(tempfile.mkdtemp(prefix=".edepot-backup-", dir=self._scratch))
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(self._private), True)
        return self._private

    def _unlock(self, password: PasswordSource | None) -> None:
        from iphone_backup_decrypt import utils
        from iphone_backup_decrypt.exceptions import UnsafeBackupError

        if password is None:
            raise InputError(f"{self.root.name} is an encrypted backup and no password was given",
                             hint="give the backup's password", remedy="backup-password")
        given = password(self.root.name).encode("utf-8")
        cache_key = (str(self.root.resolve()), hashlib.sha256(bytes(self.manifest.get("BackupKeyBag", b""))).hexdigest(),
                     hashlib.sha256(given).hexdigest())
        if cache_key in _UNLOCKED:
            self._keybag = _UNLOCKED[cache_key]
            return
        try:
            keybag = utils.BackupKeyBag(self.manifest["BackupKeyBag"])
            unlocked = keybag.unlock_with_passphrase(given)
        except (KeyError, ValueError, TypeError, struct.error) as error:
            if isinstance(error, UnsafeBackupError):
                raise UnknownBackupLayout(f"the key bag of {self.root.name} asks for an unsafe key derivation: {error}") from None
            raise UnknownBackupLayout(f"the key bag in Manifest.plist of {self.root.name} cannot be read: {error}") from None
        if not unlocked:
            raise WrongBackupPassword(f"the password does not open the encrypted backup {self.root.name}",
                                      hint="give the password that was set when the backup was made")
        self._keybag = keybag
        _UNLOCKED[cache_key] = keybag
        while len(_UNLOCKED) > _UNLOCKED_KEPT:
            _UNLOCKED.popitem(last=False)

    def _decrypted_manifest(self) -> Path:
        manifest_key = self.manifest.get("ManifestKey")
        if not isinstance(manifest_key, bytes) or len(manifest_key) < 8:
            raise UnknownBackupLayout(f"Manifest.plist of {self.root.name} holds no Manifest.db key")
        protection_class = struct.unpack("<l", manifest_key[:4])[0]
        file = BackupFile("0" * 40, "", "Manifest.db", 0, protection_class, manifest_key[4:])
        target = self._private_folder() / "Manifest.db"
        from iphone_backup_decrypt import utils

        try:
            key = self._keybag.unwrap_key_for_class(protection_class, file.wrapped_key)
            utils.aes_decrypt_chunked(in_filename=str(self.root / "Manifest.db"), key=key, out_filepath=str(target))
        except ValueError as error:
            raise DamagedBackupDatabase(f"Manifest.db of {self.root.name} cannot be decrypted: {error}") from None
        return target


def open_database(path: Path, label: str) -> sqlite3.Connection:
    """`path` opened read-only and immutable (SQLite writes nothing beside it); DamagedBackupDatabase when it is
    not an SQLite database or fails its quick check."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        problem = connection.execute("PRAGMA quick_check(1)").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise DamagedBackupDatabase(f"{label} cannot be read as a database: {error}") from None
    if problem != "ok":
        connection.close()
        raise DamagedBackupDatabase(f"{label} is damaged: {problem}")
    return connection


def columns_of(connection: sqlite3.Connection, table: str) -> set[str]:
    """The columns of `table` (none when there is no such table)."""
    return {row[1] for row in connection.execute(f"PRAGMA table_info({_quoted(table)})")}


def require_columns(connection: sqlite3.Connection, table: str, needed: set[str], label: str) -> None:
    """UnknownBackupLayout naming what is missing when `table` lacks any of `needed`."""
    missing = needed - columns_of(connection, table)
    if missing:
        raise UnknownBackupLayout(f"{label} has no table {table} with the columns edepot reads "
                                  f"(missing: {', '.join(sorted(missing))}): an iOS version edepot does not know")


def write_table_rows(connection: sqlite3.Connection, out: IO[str], table: str, where: str,
                     parameters: Sequence[Any]) -> int:
    """Write the rows of `table` matching `where` to `out`, one JSON object a line: table, rowid and every column's
    raw value (blobs as {"base64": …}); returns how many."""
    cursor = connection.execute(f'SELECT rowid AS "rowid:", * FROM {_quoted(table)} WHERE {where} ORDER BY rowid',
                                parameters)
    names = [d[0] for d in cursor.description][1:]
    count = 0
    for rowid, *values in cursor:
        out.write(json.dumps({"table": table, "rowid": rowid, "values": {n: _raw(v) for n, v in zip(names, values)}},
                             ensure_ascii=False) + "\n")
        count += 1
    return count


def _raw(value: Any) -> Any:
    if isinstance(value, (bytes, memoryview)):
        return {"base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _plist(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as stream:
            value = plistlib.load(stream)
    except (plistlib.InvalidFileException, ValueError, OSError, OverflowError) as error:
        raise UnknownBackupLayout(f"{path.parent.name}/{path.name} cannot be read as a property list: {error}") from None
    if not isinstance(value, dict):
        raise UnknownBackupLayout(f"{path.parent.name}/{path.name} is not a property list of keys")
    return value


def _backup_file(row: tuple[Any, ...]) -> BackupFile:
    file_id, domain, relative_path, blob = row
    size, protection_class, wrapped = 0, None, None
    try:
        archive = plistlib.loads(blob)
        objects = archive["$objects"]
        data = objects[archive["$top"]["root"].data]
        size = int(data.get("Size", 0))
        protection_class = data.get("ProtectionClass")
        if "EncryptionKey" in data:
            wrapped = bytes(objects[data["EncryptionKey"].data]["NS.data"][4:])
    except (plistlib.InvalidFileException, KeyError, IndexError, TypeError, ValueError, AttributeError):
        pass  # a file whose record cannot be read is still there; decrypting it will say what is wrong
    return BackupFile(str(file_id), str(domain), str(relative_path), size, protection_class, wrapped)


def file_id_of(domain: str, relative_path: str) -> str:
    """The fileID iOS gives a file: SHA-1 of `<domain>-<relativePath>`."""
    return hashlib.sha1(f"{domain}-{relative_path}".encode("utf-8")).hexdigest()
