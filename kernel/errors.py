"""Every error edepot reports to a user: one typed tree, each with a stable reference and a hint.

This module is a leaf: it imports nothing of the project. The command line maps the classes to exit
codes (DESIGN.md, "The command line is a contract"): InputError → 2, InvalidPackage/DamageFound → 1,
StorageFailure → 3 (a location that is full, read-only or gone: the system, not the input, is at fault).
"""
from __future__ import annotations

import errno

# OS errors that say the storage failed (full, over quota, read-only, failing), not that the input is bad
STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


class EdepotError(Exception):
    """Base class. `ref` is a stable code a user can search for; `hint` says what to do. `remedy` names, for an
    adapter to put in its own words (a flag, a button), the way out the hint speaks of ("new version")."""

    ref = "E000"
    exit_code = 2

    def __init__(self, message: str, hint: str = "", *, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.remedy = remedy
        self.facts: dict[str, str] = {}  # what an adapter may need to word its own hint, e.g. {"record": "WA-1"}

    def with_facts(self, **facts: str) -> "EdepotError":
        """The same error carrying facts for an adapter's wording (a command line names its own commands)."""
        self.facts.update(facts)
        return self

    def one_line(self) -> str:
        """The error as a single line for stderr: reference, message and hint."""
        text = f"edepot: error {self.ref}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return " ".join(text.split())


class InputError(EdepotError):
    """The user gave something edepot cannot use: a missing file, random bytes, an unsafe archive."""

    ref = "E100"


class UnknownExportFormat(InputError):
    """No parser in the registry recognises the export."""

    ref = "E101"


class UnsafeArchive(InputError):
    """An archive with entries outside the target, links, or sizes that look like a bomb."""

    ref = "E102"


class UnsafeXml(InputError):
    """XML that declares entities or a DTD: refused, never expanded."""

    ref = "E103"


class MetadataError(InputError):
    """A metadata file that cannot be read or holds values edepot cannot use."""

    ref = "E104"


class NotFound(InputError):
    """An AIP, DIP or record identifier that the catalogue does not know."""

    ref = "E105"


class AlreadyIngested(InputError):
    """The same SIP (by payload checksums) was ingested before."""

    ref = "E106"


class AccessDenied(InputError):
    """The requester may not have this record on the request date (a restriction, no permit)."""

    ref = "E107"


class RecordExists(InputError):
    """A different SIP of a record that is already archived, submitted without asking for a new version."""

    ref = "E108"


class DecisionNeeded(InputError):
    """A Woo delivery whose scope holds records whose openness nobody decided (or withheld without a ground)."""

    ref = "E109"


class MediaMissing(InputError):
    """A SIP asked to hold all its media (`--require-media`) from an export that lacks some."""

    ref = "E110"


class CatalogueUpgradeNeeded(InputError):
    """A catalogue written by another edepot version: older ones are upgraded in place on request (after a
    backup), newer ones are left alone."""

    ref = "E111"


class NoActingPerson(InputError):
    """An action that must name the person who does it (a PREMIS agent, an approver), and nobody was named."""

    ref = "E112"


class NotRegistered(InputError):
    """In a depot with registered people: the acting person is not registered, or was disabled."""

    ref = "E113"


class NotPermitted(InputError):
    """The acting person's roles do not allow this action, or not on this organisation's records. The message
    never says what another organisation holds."""

    ref = "E114"


class CredentialNeeded(InputError):
    """An action that needs the acting person's own credential (their personal token), given none or another's."""

    ref = "E115"


class WrongBackupPassword(InputError):
    """An encrypted phone backup whose password was not the one given."""

    ref = "E120"


class UnknownBackupLayout(InputError):
    """A phone backup whose layout or databases are of an OS or app version edepot does not read."""

    ref = "E121"


class DamagedBackupDatabase(InputError):
    """A database (or file) in a phone backup that cannot be read: damaged, cut short, not a database."""

    ref = "E122"


class UploadConflict(InputError):
    """A chunk of an upload sent for another offset than the one the server holds (resume from the server's)."""

    ref = "E130"


class UploadTooLarge(InputError):
    """An upload larger than it was announced, or than the configured maximum."""

    ref = "E131"


class ToolMissing(EdepotError):
    """A component edepot needs is not installed; the setup script installs it."""

    ref = "E200"
    exit_code = 2


class InvalidPackage(EdepotError):
    """A SIP or AIP that fails validation. `problems` lists every finding."""

    ref = "E300"
    exit_code = 1

    def __init__(self, message: str, problems: list[str] | None = None, hint: str = "", *,
                 remedy: str = "") -> None:
        super().__init__(message, hint, remedy=remedy)
        self.problems = problems or []


class InfectedPackage(InvalidPackage):
    """A SIP in which the virus scanner found malware; it is quarantined whole, nothing of it is stored."""

    ref = "E301"


class RenderingFailed(EdepotError):
    """A normaliser could not produce its preservation copy."""

    ref = "E400"
    exit_code = 1


class StorageFailure(EdepotError):
    """A storage location or the data directory could not be written or read (full, read-only, gone).

    `location` names the storage location or folder that failed, never a staging path inside it.
    Nothing half stored is kept; run the command again once the location is fixed.
    """

    ref = "E500"
    exit_code = 3

    def __init__(self, message: str, location: str = "", hint: str = "") -> None:
        super().__init__(message, hint)
        self.location = location


def is_storage_fault(error: BaseException) -> bool:
    """Whether `error` is an OS error of a full, read-only or failing file system (a StorageFailure, exit 3)."""
    return isinstance(error, OSError) and error.errno in STORAGE_ERRNOS
