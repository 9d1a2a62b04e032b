"""Destruction (vernietiging) of records whose bewaartermijn has passed: the list, its approval, its execution
and the proof (Archiefwet 1995 art. 3; Archiefbesluit 1995 art. 6-8: a destruction list (vernietigingslijst)
and a statement of destruction (verklaring van vernietiging) naming what was destroyed).

1. `draw_up_list` writes the vernietigingslijst (JSON, CSV, PDF/A-2b) of records due before a date, grouped by
   selectielijst category, and stores it in the catalogue with the sha256 of its canonical JSON (the digest)
   and the name of the person who drew it up.
2. `record_approval` records who approved it, in what role, when, bound to that digest.
3. `destroy_list`: for each record still due and not held it removes every replica, quarantined file, DIP and
   search-index entry, then replaces the AIPs' files and replicas in the catalogue by a tombstone (what was
   there, with checksums, and the approvals). Each step is journalled in the catalogue before it is done, so an
   interrupted run finishes on the next; only the AIPs named on the list are ever touched.
   Finally the catalogue file is vacuumed (no freed page keeps deleted bytes) and the certificate is written as
   XML and PDF/A-2b.

Four eyes (the drafter never approves, one person approves once, distinct people for the required roles, and
approvals count only for the digest of the list as drawn up) is the Depot service's rule, checked in
edepot/service/retention_and_holds.py before it calls `record_approval` or `destroy_list`: the service is
their only caller, and they trust the approvals they are given. Every PREMIS event names the acting person.

Files are unlinked, not overwritten: on journalling file systems and SSDs overwriting in place does not reach
every copy of a block; erasing media is the job of the storage (encrypted volumes, TRIM), outside edepot.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, Callable, Collection, Sequence

from lxml import etree

from kernel.atomic import remove_tree_durably, write_bytes_atomic
from kernel.config import Config
from kernel.errors import InputError, NotFound
from preservation.access_register import AccessRegister, DipEntry, DipState
from preservation.blobstore import BlobStore
from preservation.catalogue import GONE_STATES, AipState, Catalogue
from preservation.directory import Organisation
from preservation.metadata.record import WAARDERINGEN
from preservation.retention import (
    RetentionSettings,
    RetentionStatus,
    Schedule,
    compute_schedule,
    due_cutoff,
    due_for_destruction,
    held_records,
    local_today,
    person_agents,
    premis_event,
    refresh_schedules,
)
from preservation.retention_catalogue import Approval, Rejection, StoredList
from preservation.retention_render import render_pdf
from preservation.search_index import SearchIndex
from preservation.storage import TRASH, location_of_bag
from preservation.unit_of_work import UnitOfWork
from preservation.work_locks import WorkLocks, aip_lock, holding, record_lock

LIST_SCHEMA = "edepot/vernietigingslijst/1"
CERTIFICATE_NS = "urn:edepot:verklaring-van-vernietiging:1"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DrawnUpList:
    """A destruction list as stored, with the files written for it."""

    list_id: str
    digest: str
    content: dict[str, Any]
    files: tuple[Path, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"list_id": self.list_id, "digest": self.digest, "records": len(self.content["items"]),
                "before": self.content["before"], "files": [str(p) for p in self.files],
                "items": self.content["items"]}


@dataclass
class DestructionResult:
    """What one run of `destroy_list` did: records destroyed (now or in an earlier run), and passed over."""

    list_id: str
    destroyed: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    certificate: tuple[Path, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.skipped

    def to_dict(self) -> dict[str, Any]:
        return {"list_id": self.list_id, "destroyed": self.destroyed, "skipped": self.skipped,
                "complete": self.complete, "certificate": [str(p) for p in self.certificate]}


def reports_dir(config: Config, list_id: str) -> Path:
    """Where a list's files and its certificate go by default."""
    return config.data_dir / "reports" / "retention" / list_id


def list_digest(content: dict[str, Any]) -> str:
    """sha256 of the list's canonical JSON (keys sorted, no whitespace, UTF-8): what approval binds to."""
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------------
# 1. Drawing up the list


def draw_up_list(config: Config, catalogue: Catalogue, settings: RetentionSettings, before: date | None, *,
                 stores: Sequence[BlobStore], person: str, out: Path | None = None,
                 organisation: Organisation | None = None,
                 categories: Collection[str] | None = None) -> DrawnUpList | None:
    """The vernietigingslijst of every record due before `before` (default: due today or earlier) — of one
    `organisation`'s records, and of the selectielijst `categories` (codes, else labels), when given — drawn up
    by `person`, stored and written as JSON, CSV and PDF/A; None when nothing is due. Missing schedules are
    computed first."""
    now = config.clock()
    drafter = " ".join(person.split())
    refresh_schedules(config, catalogue, stores=stores, person=drafter, only_missing=True)
    today = local_today(now, settings)
    cutoff = before or due_cutoff(now, settings)
    due = due_for_destruction(catalogue, settings, cutoff, categories=categories,
                              organisations=None if organisation is None else [organisation.organisation_id])
    if not due:
        return None
    prefix = f"VL-{today:%Y%m%d}-"
    list_id = f"{prefix}{len(catalogue.destruction_list_ids_since(prefix)) + 1}"
    content: dict[str, Any] = {
        "schema": LIST_SCHEMA,
        "list_id": list_id,
        "created": now.isoformat(),
        "before": cutoff.isoformat(),
        "archiefvormer": organisation.name if organisation else config.organisation.archiefvormer,
        **({"organisation": organisation.organisation_id} if organisation else {}),
        **({"categories": sorted(categories)} if categories else {}),
        "drawn_up_by": drafter,
        "items": [_item(catalogue, s) for s in due],
    }
    digest = list_digest(content)
    with catalogue.batch():  # the list and its events: one transaction, one journal segment
        catalogue.save_destruction_list(StoredList(list_id, now, digest, content))
        for item in content["items"]:
            for aip_id in item["aips"]:
                catalogue.add_events(aip_id, [premis_event(
                    "appraisal", now, f"placed on destruction list {list_id} by {drafter}", item["why"],
                    person_agents(drafter))])
    return DrawnUpList(list_id, digest, content, write_list_files(content, digest, out or reports_dir(config, list_id)))


def _item(catalogue: Catalogue, schedule: Schedule) -> dict[str, Any]:
    aips = [a for a, state in catalogue.aips_of_record(schedule.record_id) if state not in GONE_STATES]
    files = [f for a in aips for f in catalogue.files(a) if f.role != "tag"]
    return {**schedule.to_dict(), "aips": aips, "files": len(files), "bytes": sum(f.size for f in files)}


def write_list_files(content: dict[str, Any], digest: str, out: Path) -> tuple[Path, ...]:
    """Write the list as `<id>.json` (content plus digest), `<id>.csv` and `<id>.pdf` (PDF/A-2b) in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    name = f"vernietigingslijst-{content['list_id']}"
    document = {**content, "digest": digest}
    json_path, csv_path, pdf_path = out / f"{name}.json", out / f"{name}.csv", out / f"{name}.pdf"
    write_bytes_atomic(json_path, (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    write_bytes_atomic(csv_path, _csv(content).encode("utf-8"))
    write_bytes_atomic(pdf_path, render_pdf("vernietigingslijst", {**document, "groups": _groups(content["items"])},
                                            created=datetime.fromisoformat(content["created"])))
    return json_path, csv_path, pdf_path


CSV_COLUMNS = ("categorie_code", "categorie", "selectielijst", "record_id", "titel", "waardering", "bewaartermijn",
               "start", "start_basis", "vernietigingsdatum", "dekking_begin", "dekking_eind", "aips", "bestanden",
               "bytes", "reden")


def _csv(content: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for i in content["items"]:
        c = i["category"]
        writer.writerow([c.get("code") or "", c.get("label") or "", c.get("list") or "", i["record_id"], i["title"],
                         i["waardering"], i["bewaartermijn"] or "", i["start"] or "", i["start_basis"],
                         i["destruction_date"], i["dekking_begin"] or "", i["dekking_eind"] or "",
                         " ".join(i["aips"]), i["files"], i["bytes"], i["why"]])
    return buffer.getvalue()


def _groups(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for item in items:
        c = item["category"]
        key = c.get("code") or c.get("label") or ""
        groups.setdefault(key, {"code": c.get("code") or "", "label": c.get("label") or "zonder categorie",
                                "list": c.get("list") or "", "items": []})["items"].append(item)
    return list(groups.values())


# ---------------------------------------------------------------------------------------------------
# 2. Approval


def read_list(catalogue: Catalogue, reference: str) -> tuple[StoredList, dict[str, Any] | None]:
    """The stored list named by its id, or by the path of its JSON file, with that file's content (without its
    digest) when a file was given. Whether either still has the digest it was drawn up with is for the
    caller to judge (`list_digest`)."""
    path = Path(reference)
    given: dict[str, Any] | None = None
    if path.suffix == ".json" and path.is_file():
        try:
            given = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not a destruction list (JSON): {exc}") from None
        if not isinstance(given, dict) or given.get("schema") != LIST_SCHEMA:
            raise InputError(f"{path}: not an edepot destruction list")
        reference = str(given.get("list_id"))
        given = {k: v for k, v in given.items() if k != "digest"}
    stored = catalogue.destruction_list(reference)
    if stored is None:
        raise NotFound(f"no destruction list {reference!r}", hint="see the destruction lists drawn up so far")
    return stored, given


def record_approval(catalogue: Catalogue, stored: StoredList, approval: Approval) -> Approval:
    """Record an approval of the list (bound to its digest), with an event naming the approver on each listed
    AIP. Whether the approval may be given (four eyes) is checked by the Depot service, its only caller."""
    events = [(aip_id, premis_event("appraisal", approval.at, f"destruction list {stored.list_id} approved by "
                                    f"{approval.by} ({approval.role})", f"list digest sha256:{stored.digest}",
                                    person_agents(approval.by)))
              for item in stored.content["items"] for aip_id in item["aips"]]
    catalogue.add_approval(approval, events)
    return approval


def record_rejection(catalogue: Catalogue, stored: StoredList, rejection: Rejection) -> Rejection:
    """Record that the list was rejected, and why, with an event naming who rejected it on each listed AIP.
    Whether it may be rejected is checked by the Depot service, its only caller."""
    by, role = rejection.approval.by, rejection.approval.role
    events = [(aip_id, premis_event("appraisal", rejection.approval.at, f"destruction list {stored.list_id} rejected "
                                    f"by {by} ({role}): {rejection.reason}", f"list digest sha256:{stored.digest}",
                                    person_agents(by)))
              for item in stored.content["items"] for aip_id in item["aips"]]
    catalogue.add_rejection(rejection, events)
    return rejection


def executed(catalogue: Catalogue, stored: StoredList) -> bool:
    """Whether every record on the list has been destroyed (under this list or another)."""
    return all(catalogue.tombstone(i["record_id"]) is not None for i in stored.content["items"])


# ---------------------------------------------------------------------------------------------------
# 3. Destruction


def destroy_list(config: Config, store: UnitOfWork, stored: StoredList, *, approvals: Sequence[Approval],
                 settings: RetentionSettings, person: str, locks: WorkLocks, out: Path | None = None,
                 progress: Progress = lambda _s: None) -> DestructionResult:
    """Destroy, as `person`, every record of the list that is still due and not held; resumable; writes the
    certificate of everything this list destroyed. The approvals were judged sufficient by the Depot service,
    its only caller (see the module docstring). Each record is destroyed holding its lock and its AIPs' in
    `locks`; one that another run holds (an ingest of a new version, a fixity run) is passed over, with why."""
    catalogue = store.catalogue
    now = config.clock()
    today = local_today(now, settings)
    held = held_records(catalogue)
    result = DestructionResult(stored.list_id)
    for item in stored.content["items"]:
        record_id = item["record_id"]
        tomb = catalogue.tombstone(record_id)
        if tomb is not None:
            if tomb["list_id"] == stored.list_id:
                result.destroyed.append(record_id)
            else:
                result.skipped.append({"record_id": record_id, "reason": f"destroyed under list {tomb['list_id']}"})
            continue
        started = bool(catalogue.journal_entries(stored.list_id, record_id))
        reason = None if started else _why_not(catalogue, item, settings, today, held)
        if reason:
            result.skipped.append({"record_id": record_id, "reason": reason})
            continue
        names = [record_lock(record_id), *(aip_lock(a) for a in item["aips"])]
        with holding(locks, names, kind="destruction", started=now.isoformat()) as busy:
            if busy is not None:
                result.skipped.append({"record_id": record_id, "reason": f"in use now by {busy}: run the list again"})
                continue
            progress(f"destroying {record_id}")
            _destroy_record(config, store, stored, item, approvals, " ".join(person.split()), now)
        result.destroyed.append(record_id)
    if result.destroyed:
        catalogue.scrub()
        result.certificate = write_certificate(config, catalogue, stored, approvals,
                                               out or reports_dir(config, stored.list_id))
    return result


def _why_not(catalogue: Catalogue, item: dict[str, Any], settings: RetentionSettings, today: date,
             held: set[str]) -> str | None:
    """Why a listed record is not destroyed now, or None when it may be."""
    record_id = item["record_id"]
    if record_id in held:
        hold = next(h for h in catalogue.holds(record_id, active_only=True))
        return f"held since {hold.placed_at.date()} by {hold.placed_by}: {hold.reason}"
    row = catalogue.retention_row(record_id)
    if row is None:
        return "no retention schedule"
    schedule = compute_schedule(row, settings)
    if schedule.status is not RetentionStatus.DESTROY or schedule.destruction_date is None:
        return f"no longer to be destroyed: {schedule.why}"
    if schedule.destruction_date > today:
        return f"not due before {schedule.destruction_date}"
    kept = [a for a, state in catalogue.aips_of_record(record_id) if state not in GONE_STATES]
    if sorted(kept) != sorted(item["aips"]):
        return "the record's AIPs changed since the list was drawn up (a new version?): draw up a new list"
    return None


def _destroy_record(config: Config, store: UnitOfWork, stored: StoredList, item: dict[str, Any],
                    approvals: Sequence[Approval], person: str, now: datetime) -> None:
    catalogue = store.catalogue
    list_id, record_id, aip_ids = stored.list_id, item["record_id"], list(item["aips"])
    done = {(e["step"], e["target"]) for e in catalogue.journal_entries(list_id, record_id) if e["state"] == "done"}

    def step(name: str, target: str, action: Callable[[], str | None], aip_id: str | None = None) -> None:
        if (name, target) in done:
            return
        catalogue.journal(list_id, record_id, name, target, "started", config.clock())
        detail = action()
        with catalogue.batch():
            catalogue.journal(list_id, record_id, name, target, "done", config.clock())
            if detail and aip_id:
                catalogue.add_events(aip_id, [premis_event("deletion", config.clock(), detail,
                                                           f"under destruction list {list_id}",
                                                           person_agents(person))])

    step("begin", record_id, partial(_mark, catalogue, aip_ids))
    snapshot: list[dict[str, Any]] = []
    for aip_id in aip_ids:
        files = [{"path": f.path, "role": f.role, "size": f.size, "sha256": f.sha256} for f in catalogue.files(aip_id)]
        replicas = [{"location": r.location, "path": r.path} for r in catalogue.replicas(aip_id)]
        delivered = {entry.dip_id: entry for entry in store.register.dips_holding(aip_id)}
        dips = sorted({**dict(catalogue.dip_paths(aip_id)), **{d: e.path for d, e in delivered.items()}}.items())
        snapshot.append({"aip_id": aip_id, "files": files, "replicas": replicas,
                         "dips": [{"dip_id": d, "path": p} for d, p in dips]})
        # The search index first: it may read the AIP's record while it removes it.
        step("index", aip_id, partial(_remove_from_index, store.search, aip_id), aip_id)
        stores: dict[str, BlobStore] = {loc.id: loc for loc in store.storage}
        for replica in replicas:  # a location no longer configured still gives up its replica
            if replica["location"] not in stores:
                stores[replica["location"]] = location_of_bag(replica["path"], aip_id, replica["location"],
                                                              catalogue.locations())
        for name, blobs in sorted(stores.items()):
            step("replica", f"{aip_id}@{name}", partial(_remove_bag, blobs, aip_id), aip_id)
        for folder in sorted(config.quarantine_dir.glob(f"*/{aip_id}")):
            step("quarantine", str(folder), partial(_remove_tree, folder), aip_id)
        for dip_id, path in dips:
            step("dip", dip_id, partial(_withdraw_dip, store.register, delivered.get(dip_id), Path(path), dip_id,
                                        by=person, now=now, list_id=list_id), aip_id)
    tombstone = {
        **{k: item[k] for k in ("record_id", "title", "category", "waardering", "bewaartermijn", "start",
                                "start_basis", "destruction_date", "dekking_begin", "dekking_eind", "why")},
        "list_id": list_id, "list_digest": stored.digest,
        "approvals": [{"by": a.by, "role": a.role, "at": a.at.isoformat()} for a in approvals],
        "destroyed_at": now.isoformat(), "destroyed_by": person, "aips": snapshot,
    }
    events = [(aip_id, premis_event("deaccession", config.clock(), f"record {record_id} destroyed under destruction "
                                    f"list {list_id} (sha256:{stored.digest})", "every replica, DIP and index entry "
                                    "removed; the tombstone keeps identifier, title, category, dates and checksums",
                                    person_agents(person))) for aip_id in aip_ids]
    catalogue.complete_destruction(record_id, list_id, now, tombstone, aip_ids, AipState.DESTROYED.value, events)
    catalogue.journal(list_id, record_id, "end", record_id, "done", config.clock())


def _mark(catalogue: Catalogue, aip_ids: Sequence[str]) -> str | None:
    catalogue.mark_destroying(aip_ids, AipState.DESTROYING.value)
    return None


def _remove_bag(store: BlobStore, aip_id: str) -> str | None:
    """Remove one replica: the whole AIP from one location, in one step a re-run finishes."""
    return f"removed AIP {aip_id} from storage location {store.name}" if store.delete_aip(aip_id) else None


def _remove_tree(folder: Path) -> str | None:
    """Delete `folder` (parked in a trash beside it first, so a crash leaves it where a re-run finds it);
    returns what was done, or None when there was nothing left to remove."""
    return f"removed {folder}" if remove_tree_durably(folder, folder.parent / TRASH) else None


def _withdraw_dip(register: AccessRegister, entry: DipEntry | None, path: Path, dip_id: str, *, by: str,
                  now: datetime, list_id: str) -> str | None:
    """Remove a delivered DIP holding the destroyed record, and mark it withdrawn in the access register (logged
    as withdrawn by `by`)."""
    removed = _remove_dip(path, dip_id)
    if entry is not None:
        register.mark_removed(entry, DipState.WITHDRAWN, now, by,
                              f"withdrawn: a record it holds was destroyed under destruction list {list_id}")
    return removed


def _remove_dip(path: Path, dip_id: str) -> str | None:
    """Remove a delivered DIP: every file its manifest lists, its inventory and manifest; the folder when empty.

    Files the DIP did not hold (someone's notes beside it) are left where they are."""
    if not path.is_dir():
        return None
    listed = ["manifest-sha256.txt", "INVENTARIS.txt"]
    manifest = path / "manifest-sha256.txt"
    if manifest.is_file():
        for line in manifest.read_text(encoding="utf-8", errors="replace").splitlines():
            _digest, _sep, relative = line.partition("  ")
            if relative and ".." not in Path(relative).parts and not Path(relative).is_absolute():
                listed.append(relative)
    for relative in listed:
        target = path / relative
        if target.is_file():
            target.unlink()
    for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda w: -len(w[0])):
        if not os.listdir(dirpath):
            os.rmdir(dirpath)
    return f"removed DIP {dip_id} at {path}"


def _remove_from_index(index: SearchIndex, aip_id: str) -> str | None:
    """Remove the AIP's entries from the search index."""
    removed = index.remove(aip_id)
    return f"removed AIP {aip_id} from the search index ({removed} messages)" if removed else None


# ---------------------------------------------------------------------------------------------------
# 4. The certificate of destruction


def certificate_data(config: Config, catalogue: Catalogue, stored: StoredList,
                     approvals: Sequence[Approval]) -> dict[str, Any]:
    """Everything the certificate states: the list, its approvals and each destroyed record with its files."""
    tombs = catalogue.tombstones(stored.list_id)
    return {
        "list_id": stored.list_id, "digest": stored.digest, "list_created": stored.created.isoformat(),
        "archiefvormer": config.organisation.archiefvormer,
        "approvals": [{"by": a.by, "role": a.role, "at": a.at.isoformat()} for a in approvals],
        "records": tombs,
        "listed": len(stored.content["items"]),
        "files": sum(len(a["files"]) for t in tombs for a in t["aips"]),
        "bytes": sum(f["size"] for t in tombs for a in t["aips"] for f in a["files"]),
    }


def write_certificate(config: Config, catalogue: Catalogue, stored: StoredList,
                      approvals: Sequence[Approval], out: Path) -> tuple[Path, Path]:
    """The verklaring van vernietiging as XML and PDF/A-2b in `out`; returns both paths."""
    data = certificate_data(config, catalogue, stored, approvals)
    name = f"verklaring-van-vernietiging-{stored.list_id}"
    xml_path, pdf_path = out / f"{name}.xml", out / f"{name}.pdf"
    out.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(xml_path, certificate_xml(data))
    latest = max((t["destroyed_at"] for t in data["records"]), default=stored.created.isoformat())
    pdf_data = {**data, "waarderingen": WAARDERINGEN, "generated": latest}
    write_bytes_atomic(pdf_path, render_pdf("verklaring", pdf_data, created=datetime.fromisoformat(latest)))
    return xml_path, pdf_path


def certificate_xml(data: dict[str, Any]) -> bytes:
    """The certificate as XML (namespace urn:edepot:verklaring-van-vernietiging:1): list, approvals, records,
    and for each destroyed AIP every file with its size and sha256 and every copy removed."""
    def sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: Any) -> etree._Element:
        element = etree.SubElement(parent, f"{{{CERTIFICATE_NS}}}{tag}",
                                   {k: str(v) for k, v in attrs.items() if v is not None})
        if text is not None:
            element.text = text
        return element

    root = etree.Element(f"{{{CERTIFICATE_NS}}}verklaringVanVernietiging", nsmap={None: CERTIFICATE_NS})
    sub(root, "vernietigingslijst", data["list_id"], digest=f"sha256:{data['digest']}", opgesteld=data["list_created"],
        records=data["listed"])
    sub(root, "archiefvormer", data["archiefvormer"])
    for a in data["approvals"]:
        sub(root, "goedkeuring", naam=a["by"], rol=a["role"], datum=a["at"])
    for t in data["records"]:
        record = sub(root, "record", identificatie=t["record_id"])
        sub(record, "naam", t["title"])
        c = t.get("category") or {}
        sub(record, "informatiecategorie", c.get("label"), code=c.get("code"), lijst=c.get("list"))
        sub(record, "waardering", t["waardering"])
        sub(record, "bewaartermijn", t["bewaartermijn"], start=t["start"])
        sub(record, "dekkingInTijd", begin=t["dekking_begin"], eind=t["dekking_eind"])
        sub(record, "vernietigingsdatum", t["destruction_date"])
        sub(record, "vernietigd", t["destroyed_at"], door=t["destroyed_by"])
        for a in t["aips"]:
            aip = sub(record, "aip", identificatie=a["aip_id"])
            for f in a["files"]:
                sub(aip, "bestand", f["path"], omvang=f["size"], sha256=f["sha256"])
            for r in a["replicas"]:
                sub(aip, "replica", r["path"], locatie=r["location"])
            for d in a["dips"]:
                sub(aip, "dip", d["path"], identificatie=d["dip_id"])
    etree.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8") + b"\n"
