"""`edepot catalogue rebuild`: the catalogue made again from the storage locations alone, after its database was
lost (OAIS Archival Storage, "Disaster Recovery").

Each AIP found in a location is recorded with the rows the event journal kept when it was ingested, a replica on
every location that holds its bag, and its events: those of its own PREMIS (`data/metadata/premis.xml` in the bag)
joined with the union of every location's journal by event identifier; an AIP destroyed since is recorded from
the journal alone. Repository events come from the journal. Then every later change the journal holds is
replayed in the order it was written: retention schedules and their history, holds and their lifting,
destruction lists, approvals, the steps of each destruction and its tombstone, each replica's last verification
and each AIP's state, files declared lost. What the locations disagree on (a segment one lacks, copies that
differ, a bag one lacks) is reported. The access register, the search index and the people are not in storage:
`edepot search reindex` makes the index again from the AIPs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kernel.config import Config
from kernel.errors import InputError
from preservation.aip import PREMIS
from preservation.blobstore import BlobNotFound, aip_key
from preservation.catalogue import (
    AipRecord,
    AipState,
    AipVersion,
    Catalogue,
    FileRecord,
    IdentificationRecord,
    ReplicaRecord,
    ReplicaStatus,
    open_catalogue,
)
from preservation.event_journal import read_journals
from preservation.metadata.premis import PremisEvent, parse_premis_events
from preservation.storage import StorageLocation, open_configured, register_locations


@dataclass
class RebuildResult:
    """What a rebuild recorded, and what it found the locations disagree on or could not rebuild."""

    catalogue: str
    aips: list[str] = field(default_factory=list)
    events: int = 0
    divergence: list[str] = field(default_factory=list)
    not_rebuilt: list[str] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)  # AIPs the journal shows destroyed (recorded so)
    changes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"catalogue": self.catalogue, "aips": self.aips, "events": self.events, "changes": self.changes,
                "destroyed": self.destroyed, "divergence": self.divergence, "not_rebuilt": self.not_rebuilt}


def rebuild_catalogue(config: Config) -> RebuildResult:
    """Rebuild the catalogue at the configuration's URL from the configured storage locations; InputError when that
    catalogue holds AIPs already (it is never merged into: move it aside first)."""
    locations = open_configured(config)
    catalogue = open_catalogue(config.catalogue_url, afresh=True)  # a lost one may have been open in this process
    try:
        if catalogue.aips():
            raise InputError(f"the catalogue {config.catalogue_url} holds AIPs: a rebuild makes a new one",
                             hint="move the catalogue aside (or remove it) and run the rebuild again")
        result = RebuildResult(config.catalogue_url)
        reading = read_journals(locations)
        result.divergence += [f"journal segment {name} differs between locations" for name in reading.diverging]
        result.divergence += [f"{location}: {len(names)} journal segment(s) missing, e.g. {names[0]}"
                              for location, names in sorted(reading.missing.items())]
        result.divergence += [f"unreadable journal segment {where}" for where in reading.unreadable]
        register_locations(locations, catalogue, now=config.clock())
        held = {location.id: set(location.aip_ids()) for location in locations}
        by_aip: dict[str | None, list[PremisEvent]] = {}
        for aip_id, event in reading.events.values():
            by_aip.setdefault(aip_id, []).append(event)
        def ingested(aip_id: str) -> tuple[str, int, str]:  # a version after the one it follows
            row = reading.aips.get(aip_id) or {}
            return row.get("created", ""), (row.get("version") or [1])[0], aip_id

        destroyed = {a for change in reading.changes if change["kind"] == "destruction_done"
                     for a in change["aip_ids"]}
        found = sorted(set().union(*held.values()) | (destroyed & reading.aips.keys()), key=ingested)
        for aip_id in found:
            row = reading.aips.get(aip_id)
            if row is None:
                result.not_rebuilt.append(f"{aip_id}: no record of its ingest in the journal")
                continue
            holders = [location for location in locations if aip_id in held[location.id]]
            if aip_id in destroyed:
                result.destroyed.append(aip_id)
            else:
                result.divergence += [f"{location.id}: no bag of AIP {aip_id}" for location in locations
                                      if location not in holders]
            events = {e.identifier: e for e in by_aip.get(aip_id, [])}
            for event in _own_premis(holders, aip_id):
                events.setdefault(event.identifier, event)
            ordered = sorted(events.values(), key=lambda e: e.date_time)
            _restore(catalogue, row, holders, ordered)
            if aip_id not in destroyed:
                result.aips.append(aip_id)
            result.events += len(ordered)
        catalogue.restore_events(None, sorted(by_aip.get(None, []), key=lambda e: e.date_time))
        result.events += len(by_aip.get(None, []))
        result.not_rebuilt += catalogue.restore_changes(reading.changes)
        result.changes = len(reading.changes)
        rebuilt = set(result.aips) | set(result.destroyed)
        result.not_rebuilt += [f"{aip_id}: events in the journal, but no bag in any location"
                               for aip_id in sorted(a for a in by_aip if a is not None and a not in rebuilt)]
        return result
    finally:
        catalogue.close()


def _own_premis(holders: list[StorageLocation], aip_id: str) -> list[PremisEvent]:
    """The events of the AIP's own PREMIS, from the first location that has it."""
    for location in holders:
        try:
            with location.get(aip_key(aip_id, PREMIS)) as stream:
                return parse_premis_events(stream.read())
        except BlobNotFound:
            continue
    return []


def _restore(catalogue: Catalogue, row: dict[str, Any], holders: list[StorageLocation],
             events: list[PremisEvent]) -> None:
    """Record one AIP from its journalled rows, with a replica on each location holding its bag."""
    aip_id = row["aip_id"]
    catalogue.restore_aip(
        AipRecord(aip_id, row["sip_digest"], row["record_id"], row["title"], datetime.fromisoformat(row["created"]),
                  AipState.STORED, row["payload_bytes"], row["payload_files"], row["organisation"]),
        [ReplicaRecord(aip_id, location.id, location.bag_address(aip_id), None, ReplicaStatus.INTACT)
         for location in holders],
        [FileRecord(aip_id, *f) for f in row["files"]],
        events,
        AipVersion(aip_id, *row["version"]) if row.get("version") else None,
        [IdentificationRecord(aip_id, *i) for i in row["identifications"]])
