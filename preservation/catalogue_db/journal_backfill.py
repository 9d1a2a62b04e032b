"""What a catalogue holds that the event journal lacks, as one journal segment: the AIPs, retention schedules, holds
and destruction lists of a catalogue older than the journal (an upgraded one), with each AIP's preservation state.
`edepot doctor` writes it, so that `edepot catalogue rebuild` finds them too.

A base of `DjangoCatalogue`. Each row becomes the change that would have made it (the kinds of
`preservation.catalogue_db.store`), carrying the row as it is now; a rebuild replays the segment after the
changes journalled before it, so what it says wins.
"""
from __future__ import annotations

from typing import Any, Collection, Sequence

from preservation.catalogue import AipRecord, AipState, AipVersion, FileRecord, IdentificationRecord
from preservation.catalogue_db import models as m
from preservation.event_journal import Change, Segment


class JournalBackfill:
    """The catalogue's rows the journal lacks."""

    def _objects(self, model: Any) -> Any:
        raise NotImplementedError

    def aips(self, *, include_gone: bool = False) -> list[AipRecord]:
        raise NotImplementedError

    def files(self, aip_id: str) -> list[FileRecord]:
        raise NotImplementedError

    def identifications(self, aip_id: str) -> list[IdentificationRecord]:
        raise NotImplementedError

    def unjournalled_rows(self, journalled_aips: Collection[str], changes: Sequence[Change]) -> Segment:
        """Every AIP not among `journalled_aips` (its rows, each replica's last verification, its state and files
        declared lost), and every retention schedule, hold and destruction list (with its approvals, steps and
        tombstones) that no journalled change in `changes` made, as one segment (empty when there are none)."""
        made = {(c["kind"], c[MADE_BY[c["kind"]]]) for c in changes if c["kind"] in MADE_BY}
        segment = Segment()
        for aip in self.aips(include_gone=True):
            if aip.aip_id not in journalled_aips:
                segment.aips.append(self._aip_entry(aip))
                segment.changes += self._aip_changes(aip)
        for row in self._objects(m.Retention).order_by("record_id").values():
            if not {("retention", row["record_id"]), ("retention_restored", row["record_id"])} & made:
                history = list(self._objects(m.AppraisalChange).filter(record_id=row["record_id"]).order_by("at", "id")
                               .values("at", "action", "by", "reason", "before", "after"))
                segment.changes.append(change("retention_restored", **row, history=history))
        for hold in self._objects(m.Hold).order_by("placed_at", "id").values():
            if ("hold", hold["hold_id"]) not in made:
                segment.changes.append(change("hold", **{k: hold[k] for k in HOLD_PLACED}))
                if hold["lifted_at"] is not None:
                    segment.changes.append(change("holds_lifted", hold_ids=[hold["hold_id"]], by=hold["lifted_by"],
                                                  at=hold["lifted_at"], reason=hold["lift_reason"]))
        for listed in self._objects(m.DestructionList).order_by("created", "list_id").values():
            if ("destruction_list", listed["list_id"]) not in made:
                segment.changes += self._list_changes(listed)
        return segment

    def _aip_entry(self, aip: AipRecord) -> dict[str, Any]:
        row = self._objects(m.AipVersion).filter(aip_id=aip.aip_id).values_list(
            "version", "previous_aip_id", "first_aip").first()
        version = AipVersion(aip.aip_id, *row) if row else None
        return ingest_entry(aip, self.files(aip.aip_id), version, self.identifications(aip.aip_id))

    def _aip_changes(self, aip: AipRecord) -> list[Change]:
        found = [change("verification", aip_id=aip.aip_id, location=r["location"], when=r["last_verified"],
                        status=r["status"])
                 for r in self._objects(m.Replica).filter(aip_id=aip.aip_id, last_verified__isnull=False)
                 .order_by("location").values("location", "last_verified", "status")]
        if aip.state is not AipState.STORED:
            found.append(change("aip_state", aip_ids=[aip.aip_id], state=aip.state.value, unless_gone=False))
        losses = list(self._objects(m.FileLoss).filter(aip_id=aip.aip_id).order_by("path")
                      .values("aip_id", "path", "declared", "declared_by", "reason"))
        return found + ([change("losses_declared", losses=losses)] if losses else [])

    def _list_changes(self, listed: dict[str, Any]) -> list[Change]:
        list_id = listed["list_id"]
        found = [change("destruction_list", **listed)]
        found += [change("approval", list_id=list_id, **a) for a in self._objects(m.DestructionApproval)
                  .filter(destruction_list_id=list_id).order_by("at", "id")
                  .values("digest", "by", "role", "at", "verdict", "reason")]
        found += [change("destruction_step", **s) for s in self._objects(m.DestructionStep).filter(list_id=list_id)
                  .order_by("id").values("list_id", "record_id", "step", "target", "state", "at")]
        for tomb in self._objects(m.Tombstone).filter(list_id=list_id).order_by("record_id").values():
            destroyed = list(self._objects(m.Aip).filter(record_id=tomb["record_id"], state=AipState.DESTROYED.value)
                             .order_by("created", "aip_id").values_list("aip_id", flat=True))
            found.append(change("destruction_done", record_id=tomb["record_id"], list_id=list_id,
                                at=tomb["destroyed"], tombstone=tomb["content"], aip_ids=destroyed,
                                state=AipState.DESTROYED.value))
        return found


HOLD_PLACED = ("hold_id", "record_id", "reason", "placed_by", "placed_at")
MADE_BY = {"retention": "record_id", "retention_restored": "record_id", "hold": "hold_id",
           "destruction_list": "list_id"}  # the changes that make a row, by the key of what they make


def change(kind: str, **rows: Any) -> Change:
    """A change as the journal keeps it: its kind and its rows as JSON (times in ISO 8601 with their offset, which
    a model field reads back)."""
    return {"kind": kind, **plain(rows)}


def plain(value: Any) -> Any:
    """`value` with every time in it as ISO 8601 text."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def ingest_entry(aip: AipRecord, files: Sequence[FileRecord], version: AipVersion | None,
                 identifications: Sequence[IdentificationRecord]) -> dict[str, Any]:
    """The catalogue's rows of a recorded AIP, as the journal keeps them (for `edepot catalogue rebuild`)."""
    return {
        "aip_id": aip.aip_id, "sip_digest": aip.sip_digest, "record_id": aip.record_id, "title": aip.title,
        "created": aip.created.isoformat(), "payload_bytes": aip.payload_bytes, "payload_files": aip.payload_files,
        "organisation": aip.organisation,
        "version": [version.version, version.previous_aip, version.first_aip] if version else None,
        "files": [[f.path, f.role, f.size, f.sha256, f.puid, f.format_name, f.mime_type] for f in files],
        "identifications": [[i.path, i.tool, i.signature_release, i.puid, i.format_name, i.format_version,
                             i.mime_type, i.basis] for i in identifications],
    }
