"""Names from the backup's address book (`HomeDomain/Library/AddressBook/AddressBook.sqlitedb`) for the handles of
the Messages app and WhatsApp.

Tables as iOS writes them: `ABPerson` (`ROWID`, `First`, `Last`, `Organization`) and `ABMultiValue` (`record_id`,
`property` 3 a phone number, 4 an e-mail address, `value` as the owner typed it). A handle is matched to an e-mail
address case-blind, and to a phone number by its digits: all of them alike, else, when both have at least nine, the
last nine (a Dutch number written `06 12345678` and `+31612345678` meet there), and only when that names one person.
A handle no one or several people match keeps its address: no name is guessed.
"""
from __future__ import annotations

import re
import sqlite3

from ingest.sources.iphone_layout import columns_of

DOMAIN = "HomeDomain"
PATH = "Library/AddressBook/AddressBook.sqlitedb"
PHONE, EMAIL = 3, 4
_SUFFIX = 9
_NOT_DIGIT = re.compile(r"\D")


class AddressBook:
    """Who a handle is, as the phone's owner named them."""

    def __init__(self, connection: sqlite3.Connection | None) -> None:
        self._by_digits: dict[str, set[str]] = {}
        self._by_suffix: dict[str, set[str]] = {}
        self._by_email: dict[str, set[str]] = {}
        if connection is None or not {"ROWID", "First", "Last"} <= columns_of(connection, "ABPerson") or \
                not {"record_id", "property", "value"} <= columns_of(connection, "ABMultiValue"):
            return
        organisation = "p.Organization" if "Organization" in columns_of(connection, "ABPerson") else "NULL"
        try:
            rows = connection.execute(f"SELECT p.First, p.Last, {organisation}, v.property, v.value FROM ABPerson p "
                                      "JOIN ABMultiValue v ON v.record_id = p.ROWID WHERE v.property IN (3, 4)")
            for first, last, organisation_name, kind, value in rows:
                name = " ".join(str(part) for part in (first, last) if part) or str(organisation_name or "")
                if not name or not value:
                    continue
                if kind == EMAIL:
                    self._by_email.setdefault(str(value).strip().casefold(), set()).add(name)
                    continue
                digits = _NOT_DIGIT.sub("", str(value))
                if digits:
                    self._by_digits.setdefault(digits, set()).add(name)
                    if len(digits) >= _SUFFIX:
                        self._by_suffix.setdefault(digits[-_SUFFIX:], set()).add(name)
        except sqlite3.DatabaseError:
            self._by_digits.clear()  # a damaged address book gives no names; the handles stay as they are
            self._by_suffix.clear()
            self._by_email.clear()

    def name_of(self, handle: str) -> str | None:
        """The one person `handle` (a number or e-mail address) belongs to, else None."""
        if "@" in handle:
            return _one(self._by_email.get(handle.strip().casefold()))
        digits = _NOT_DIGIT.sub("", handle)
        if not digits:
            return None
        exact = _one(self._by_digits.get(digits))
        if exact is not None or len(digits) < _SUFFIX:
            return exact
        return _one(self._by_suffix.get(digits[-_SUFFIX:]))


def _one(names: set[str] | None) -> str | None:
    return next(iter(names)) if names and len(names) == 1 else None
