"""The event journal: every PREMIS event the catalogue records is also written, before the catalogue commits it, to
every storage location as an immutable journal segment, so the archive's history outlives its database.

A segment is one JSON Lines file, `journal/<yyyy-mm>/<UTC time>-<random>.jsonl` in a location, written once
(atomically, fsynced) and never changed. Each line is one event with its global identifier and the AIP it is
about (null: the repository); a segment written when an AIP is recorded also opens with one `aip` line (the
catalogue's rows of that AIP), and every other change the catalogue commits with it (a retention schedule, a
hold, a destruction list, an approval, a tombstone, a replica's verification, an AIP's state) is a `change` line
(its kind and the rows it writes), so that `edepot catalogue rebuild` needs nothing but the locations. A segment
lost on one location is copied back from another by `edepot doctor`, which also reconciles journal and
catalogue both ways.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from preservation.blobstore import BlobNotFound, BlobStore
from preservation.metadata.premis import PremisEvent

Entry = tuple[str | None, PremisEvent]  # (the AIP it is about, or None for the repository; the event)
Change = dict[str, Any]  # {"kind": what changed, and the rows it wrote}: replayed in order by a rebuild


def segment_name(now: datetime | None = None) -> str:
    """A new segment's name: by month, then UTC time, then a random part (two writers never collide)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return f"{moment:%Y-%m}/{moment:%Y%m%dT%H%M%S%f}Z-{uuid.uuid4().hex[:12]}.jsonl"


@dataclass
class Segment:
    """What one catalogue transaction journals: the AIPs it records, its other changes in order, its events."""

    entries: list[Entry] = field(default_factory=list)
    aips: list[dict[str, Any]] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.entries or self.aips or self.changes)


def encode_segment(segment: Segment) -> bytes:
    """The segment's bytes: its `aip` lines first, then its `change` lines, then one line per event."""
    lines: list[dict[str, Any]] = [{"aip": aip} for aip in segment.aips]
    lines += [{"change": change} for change in segment.changes]
    lines += [{"aip_id": aip_id, "event": _event_dict(event)} for aip_id, event in segment.entries]
    return "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in lines).encode("utf-8")


def decode_segment(data: bytes) -> Segment:
    """The segment's lines; ValueError (or KeyError, TypeError) when it is not a journal segment."""
    segment = Segment()
    for line in data.decode("utf-8").splitlines():
        item = json.loads(line)
        if "aip" in item:
            segment.aips.append(item["aip"])
        elif "change" in item:
            segment.changes.append(dict(item["change"], kind=str(item["change"]["kind"])))
        else:
            segment.entries.append((item["aip_id"], _event_from(item["event"])))
    return segment


class EventJournal:
    """Writes segments to a set of storage locations."""

    def __init__(self, stores: Sequence[BlobStore]) -> None:
        self.stores = list(stores)

    def write(self, segment: Segment) -> str | None:
        """Write the segment as one new file to every location; its name, or None when there was nothing to write
        or no location to write to. A location that fails is left for `edepot doctor` to fill from another; when
        every location fails, the error is raised (and the catalogue must not commit)."""
        if not self.stores or not segment:
            return None
        name, data = segment_name(), encode_segment(segment)
        failure: OSError | None = None
        written = 0
        for store in self.stores:
            try:
                store.put_segment(name, data)
                written += 1
            except OSError as error:
                failure = error
        if not written and failure is not None:
            raise failure
        return name


@dataclass
class JournalReading:
    """The union of the journals of several locations, and where they differ."""

    events: dict[str, Entry] = field(default_factory=dict)  # by event identifier
    aips: dict[str, dict[str, Any]] = field(default_factory=dict)  # by AIP identifier
    changes: list[Change] = field(default_factory=list)  # in the order they were written (by segment name)
    missing: dict[str, list[str]] = field(default_factory=dict)  # location id → segments other locations hold
    diverging: list[str] = field(default_factory=list)  # segments whose copies differ between locations
    unreadable: list[str] = field(default_factory=list)  # "<location>: <segment>" not a journal segment


def read_journals(stores: Iterable[BlobStore]) -> JournalReading:
    """Every location's segments read and joined by event identifier; a segment one location lacks, or whose copies
    differ, is reported (what differs is kept from every copy: the union)."""
    reading = JournalReading()
    copies: dict[str, dict[str, bytes]] = {}
    stores = list(stores)
    for store in stores:
        for name in store.segments():
            try:
                copies.setdefault(name, {})[store.id] = store.get_segment(name)
            except BlobNotFound:
                continue
    for name, held in sorted(copies.items()):
        for store in stores:
            if store.id not in held:
                reading.missing.setdefault(store.id, []).append(name)
        if len(set(held.values())) > 1:
            reading.diverging.append(name)
        changes: list[Change] | None = None  # of the first readable copy: changes have no identity to join by
        for location, data in held.items():
            try:
                segment = decode_segment(data)
            except (ValueError, KeyError, TypeError):
                reading.unreadable.append(f"{location}: {name}")
                continue
            for aip_id, event in segment.entries:
                reading.events.setdefault(event.identifier, (aip_id, event))
            for aip in segment.aips:
                reading.aips.setdefault(aip["aip_id"], aip)
            changes = segment.changes if changes is None else changes
        reading.changes += changes or []
    return reading


def restore_segments(stores: Sequence[BlobStore], reading: JournalReading) -> list[tuple[str, str]]:
    """Copy each segment a location lacks from one that holds it (never one whose copies differ); the
    (location id, segment) pairs restored."""
    by_id = {store.id: store for store in stores}
    restored = []
    for location, names in sorted(reading.missing.items()):
        for name in names:
            if name in reading.diverging:
                continue
            data = next((d for s in stores if s.id != location for d in [_segment_or_none(s, name)] if d), None)
            if data is not None:
                by_id[location].put_segment(name, data)
                restored.append((location, name))
    return restored


def _segment_or_none(store: BlobStore, name: str) -> bytes | None:
    try:
        return store.get_segment(name)
    except BlobNotFound:
        return None


def _event_dict(event: PremisEvent) -> dict[str, Any]:
    return {"id": event.identifier, "type": event.type, "date_time": event.date_time.isoformat(),
            "detail": event.detail, "outcome": event.outcome, "outcome_detail": event.outcome_detail,
            "agents": list(event.agents), "source_objects": list(event.source_objects),
            "outcome_objects": list(event.outcome_objects)}


def _event_from(item: dict[str, Any]) -> PremisEvent:
    return PremisEvent(identifier=item["id"], type=item["type"], date_time=datetime.fromisoformat(item["date_time"]),
                       detail=item["detail"], outcome=item["outcome"], outcome_detail=item["outcome_detail"],
                       agents=tuple(item["agents"]), source_objects=tuple(item["source_objects"]),
                       outcome_objects=tuple(item["outcome_objects"]))
