"""Destruction on real AIPs (made by the real ingest from SIPs with waardering V and a short bewaartermijn): the
list, approval bound to its content, holds, resumable destruction, nothing of the record left anywhere, and the
certificate naming exactly what was destroyed. Everything is asked of the Depot service, as the people who do
it: the rules (four eyes, a reason, a person) are the service's."""
from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import preservation.destruction as destruction
from access.dip import OWN_USE, DipRequest, build_dip, create_dip
from edepot.service import Depot, Person
from ingest.pipeline import IngestResult, ingest
from ingest.sip import create_sip
from kernel.config import Config
from kernel.errors import InputError, NoActingPerson, NotFound
from preservation.access_register import DipState
from preservation.blobstore import BlobStore
from preservation.catalogue import AipState, Catalogue, open_catalogue
from preservation.catalogue_db.database import sqlite_path
from preservation.fixity import run_fixity
from preservation.pdfa_check import check_pdfa
from preservation.storage import open_locations
from tests.conftest import TEST_OPERATOR, cluster_folder, on_catalogue, store_of


def write_export(folder: Path, token: str, last_day: str = "15-03-2024") -> Path:
    """A small WhatsApp (Android, Dutch) export whose messages carry `token`, a text found nowhere else."""
    folder.mkdir(parents=True, exist_ok=True)
    # The token is in the messages only: the title and file names are kept in the tombstone and ingest report.
    path = folder / f"WhatsApp-chat met {uuid.uuid4().hex[:8]}.txt"
    path.write_text(f"14-03-2024 09:12 - Wethouder Jansen: Goedemorgen, over dossier {token}\n"
                    f"{last_day} 10:00 - Petra de Vries: Bericht {token} over de vergunning\n", encoding="utf-8")
    return path


def ingest_record(config: Config, tmp: Path, metadata: dict[str, Any] | None = None,
                  refresh: bool = True, last_day: str = "15-03-2024") -> tuple[IngestResult, str]:
    """Ingest a new record through the real pipeline (waardering V, P1Y by default); returns it and its token."""
    token, name = f"ZQX{uuid.uuid4().hex}", uuid.uuid4().hex[:8]
    export = write_export(tmp / f"export-{name}", token, last_day)
    meta = tmp / f"meta-{name}.yaml"
    meta.write_text(yaml.safe_dump(metadata or {
        "waardering": "V", "bewaartermijn": "P1Y",
        "informatiecategorie": {"code": "1.1", "label": "Correspondentie", "begrippenlijst": "Selectielijst 2020"},
    }), encoding="utf-8")
    sip = create_sip([export], tmp / f"sip-{name}", config, metadata_file=meta)
    result = ingest(sip.path, config)
    if refresh:
        acting(config, TEST_OPERATOR).refresh_schedules()
    return result, token


@pytest.fixture
def config(config: Config, catalogue_url: str) -> Config:
    """Each test on a catalogue in SQLite and in PostgreSQL."""
    return on_catalogue(config, catalogue_url)


def add_settings(config: Config, toml: str) -> None:
    """Add settings to the data directory's edepot.toml."""
    with open(config.data_dir / "edepot.toml", "a", encoding="utf-8") as settings:
        settings.write(toml)


def acting(config: Config, name: str | None) -> Depot:
    """The Depot as the person `name` (nobody with None)."""
    return Depot(config, person=Person(name) if name else None, store=store_of(config))


def require_roles(config: Config, *roles: str) -> None:
    """`[retention] required_roles` in the data directory's edepot.toml."""
    listed = ", ".join(f'"{r}"' for r in roles)
    add_settings(config, f"[retention]\nrequired_roles = [{listed}]\n")


class catalogue_of:
    def __init__(self, config: Config) -> None:
        self.catalogue = open_catalogue(config.catalogue_url)

    def __enter__(self) -> Catalogue:
        return self.catalogue

    def __exit__(self, *exc: object) -> None:
        self.catalogue.close()


def files_holding(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def checkpoint(url: str) -> None:
    """Have the test cluster write every changed page to its files (a PostgreSQL catalogue's pages are kept in
    memory until a checkpoint; the files are what must not hold destroyed bytes)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def index_if_search_exists(config: Config, result: IngestResult) -> bool:
    """Put the record's messages in the full-text index (in the catalogue's file), where the index exists."""
    from kernel.model import Conversation
    from preservation import search_index

    bag = Path(result.locations[0])
    conversation = Conversation.from_dict(json.loads((bag / "data/preservation/conversation.json").read_bytes()))
    search_index.index_aip(store_of(config).search, result.aip_id, conversation, bag / "data" / "metadata" / "sip")
    return True


def behind_edepots_back(config: Config, sql: str, params: tuple[str, ...]) -> None:
    """Change the catalogue the way someone with the database, not edepot, would (`?` marks a parameter)."""
    if cluster_folder(config.catalogue_url) is not None:
        import psycopg

        with psycopg.connect(config.catalogue_url, autocommit=True) as connection:
            connection.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]
        return
    db = sqlite3.connect(sqlite_path(config.catalogue_url), isolation_level=None, timeout=60)
    try:
        db.execute(sql, params)
    finally:
        db.close()


def test_held_record_is_never_destroyed(config: Config, tmp_path: Path) -> None:
    first, _ = ingest_record(config, tmp_path)
    second, _ = ingest_record(config, tmp_path)
    with catalogue_of(config) as catalogue:
        woo, jurist = acting(config, "W. Woo"), acting(config, "J. Jurist")
        beheer = acting(config, "B. Beheer")
        woo.place_hold(second.record_id, reason="Woo-verzoek 2024-17")
        drawn = beheer.draw_up_destruction_list()
        assert drawn is not None
        assert [i["record_id"] for i in drawn.content["items"]] == [first.record_id]
        acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
        # A hold placed after approval still stops destruction.
        jurist.place_hold(first.record_id, reason="Rechtszaak 2026/3")
        result = beheer.destroy_destruction_list(drawn.list_id)
        assert result.destroyed == [] and "Rechtszaak 2026/3" in result.skipped[0]["reason"]
        assert all(Path(r).is_dir() for r in first.locations) and all(Path(r).is_dir() for r in second.locations)
        assert beheer.draw_up_destruction_list() is None  # both held: nothing due
        assert jurist.lift_holds(first.record_id, reason="zaak geschikt") == 1
        result = beheer.destroy_destruction_list(drawn.list_id)
        assert result.destroyed == [first.record_id] and result.complete
        assert not any(Path(r).exists() for r in first.locations)
        assert all(Path(r).is_dir() for r in second.locations)
        events = [e.type for e in catalogue.events(second.aip_id)]
        assert "hold" in events and "deaccession" not in events
        holds = catalogue.holds(first.record_id)
        assert holds[0].lifted_by == "J. Jurist" and holds[0].lift_reason == "zaak geschikt"
        with pytest.raises(InputError, match="reason") as empty:
            jurist.lift_holds(second.record_id, reason=" ")
        assert "--" not in empty.value.message  # the service speaks of what is missing, not of a flag
        assert [h.record_id for h in woo.holds()] == [second.record_id]


def test_unapproved_or_changed_list_is_refused(config: Config, tmp_path: Path) -> None:
    result, _ = ingest_record(config, tmp_path)
    with catalogue_of(config) as catalogue:
        beheer, archivist = acting(config, "B. Beheer"), acting(config, "A. Archivaris")
        drawn = beheer.draw_up_destruction_list()
        assert drawn is not None
        with pytest.raises(InputError, match="not approved") as refused:
            beheer.destroy_destruction_list(drawn.list_id)
        assert "edepot" not in refused.value.hint and "--" not in refused.value.hint
        json_file = next(p for p in drawn.files if p.suffix == ".json")
        document = json.loads(json_file.read_text(encoding="utf-8"))
        archivist.approve_destruction_list(str(json_file), role="archivaris")  # the file as written: fine
        document["items"][0]["destruction_date"] = "2020-01-01"
        changed = tmp_path / "changed.json"
        changed.write_text(json.dumps(document), encoding="utf-8")
        with pytest.raises(InputError, match="differs"):
            acting(config, "G. Secretaris").approve_destruction_list(str(changed), role="archivaris")
        with pytest.raises(InputError, match="differs"):
            beheer.destroy_destruction_list(str(changed))
        # Roles required by the settings: one approval is not enough.
        require_roles(config, "archivaris", "gemeentesecretaris")
        with pytest.raises(InputError, match="gemeentesecretaris"):
            beheer.destroy_destruction_list(drawn.list_id)
        # The stored list changed behind edepot's back: its approval no longer counts.
        stored = catalogue.destruction_list(drawn.list_id)
        assert stored is not None
        tampered = {**stored.content, "before": "2099-01-01"}
        behind_edepots_back(config, "UPDATE destruction_lists SET content = ? WHERE list_id = ?",
                            (json.dumps(tampered), drawn.list_id))
        with pytest.raises(InputError, match="changed"):
            beheer.destroy_destruction_list(drawn.list_id)
        behind_edepots_back(config, "UPDATE destruction_lists SET content = ? WHERE list_id = ?",
                            (json.dumps(stored.content), drawn.list_id))
        assert all(Path(r).is_dir() for r in result.locations)
        assert catalogue.tombstone(result.record_id) is None
        acting(config, "G. Secretaris").approve_destruction_list(drawn.list_id, role="gemeentesecretaris")
        assert beheer.destroy_destruction_list(drawn.list_id).destroyed == [result.record_id]
        with pytest.raises(InputError, match="already executed"):
            acting(config, "C. Derde").approve_destruction_list(drawn.list_id, role="archivaris")


def test_four_eyes_the_drafter_and_one_name_in_two_roles_are_refused_and_nothing_is_destroyed(
        config: Config, tmp_path: Path) -> None:
    result, _ = ingest_record(config, tmp_path)
    require_roles(config, "archivaris", "gemeentesecretaris")
    with catalogue_of(config) as catalogue:
        drafter, archivist = acting(config, "D. Opsteller"), acting(config, "A. Archivaris")
        drawn = drafter.draw_up_destruction_list()
        assert drawn is not None and drawn.content["drawn_up_by"] == "D. Opsteller"
        with pytest.raises(InputError, match="drew the list up"):
            acting(config, " d.  opsteller ").approve_destruction_list(drawn.list_id, role="archivaris")
        with pytest.raises(InputError, match="role"):
            archivist.approve_destruction_list(drawn.list_id, role=" ")
        archivist.approve_destruction_list(drawn.list_id, role="archivaris")
        with pytest.raises(InputError, match="already approved"):
            acting(config, "a. archivaris").approve_destruction_list(drawn.list_id,
                                                                                role="gemeentesecretaris")
        assert [a.by for a in catalogue.approvals(drawn.list_id)] == ["A. Archivaris"]  # the refusals left nothing
        with pytest.raises(InputError, match="gemeentesecretaris"):
            drafter.destroy_destruction_list(drawn.list_id)
        # Approvals recorded another way (an older edepot, the database) are judged again before destroying.
        for by, role in (("D. Opsteller", "gemeentesecretaris"), ("A. Archivaris", "gemeentesecretaris")):
            behind_edepots_back(config, "INSERT INTO destruction_approvals (list_id, digest, \"by\", role, at) "
                                "VALUES (?, ?, ?, ?, ?)", (drawn.list_id, drawn.digest, by, role,
                                                           config.clock().isoformat()))
            with pytest.raises(InputError, match="nothing was destroyed"):
                drafter.destroy_destruction_list(drawn.list_id)
            behind_edepots_back(config, "DELETE FROM destruction_approvals WHERE \"by\" = ? AND role = ?", (by, role))
        # An approval of another digest (the list as it was before some change) does not count either.
        behind_edepots_back(config, "INSERT INTO destruction_approvals (list_id, digest, \"by\", role, at) "
                            "VALUES (?, ?, ?, ?, ?)", (drawn.list_id, "0" * 64, "G. Secretaris",
                                                       "gemeentesecretaris", config.clock().isoformat()))
        with pytest.raises(InputError, match="gemeentesecretaris"):
            drafter.destroy_destruction_list(drawn.list_id)
        assert all(Path(r).is_dir() for r in result.locations) and catalogue.tombstone(result.record_id) is None
        acting(config, "G. Secretaris").approve_destruction_list(drawn.list_id, role="gemeentesecretaris")
        beheer = acting(config, "B. Beheer")
        assert beheer.destroy_destruction_list(drawn.list_id).destroyed == [result.record_id]


def test_interrupted_destruction_completes_and_touches_nothing_else(config: Config, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    due, token = ingest_record(config, tmp_path)
    kept, kept_token = ingest_record(config, tmp_path, {"waardering": "V", "bewaartermijn": "P50Y"})
    with catalogue_of(config) as catalogue:
        beheer = acting(config, "B. Beheer")
        before = {f.path: f.sha256 for f in catalogue.files(due.aip_id)}
        drawn = beheer.draw_up_destruction_list()
        assert drawn is not None and [i["record_id"] for i in drawn.content["items"]] == [due.record_id]
        acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")

        real_remove, calls = destruction._remove_bag, []

        def crash_on_second_replica(store: BlobStore, aip_id: str) -> str | None:
            calls.append(store.id)
            if len(calls) == 2:
                raise RuntimeError("power cut")
            return real_remove(store, aip_id)

        monkeypatch.setattr(destruction, "_remove_bag", crash_on_second_replica)
        with pytest.raises(RuntimeError, match="power cut"):
            beheer.destroy_destruction_list(drawn.list_id)
        monkeypatch.setattr(destruction, "_remove_bag", real_remove)
        assert sum(Path(r).exists() for r in due.locations) == 1
        assert catalogue.aips_of_record(due.record_id)[0][1] == AipState.DESTROYING.value
        # Fixity, run in between, neither checks nor rebuilds the half-destroyed AIP.
        report = run_fixity(config, catalogue, open_locations(config.storage_locations))
        assert sum(Path(r).exists() for r in due.locations) == 1
        # It reports the remaining bag as one the catalogue does not keep (an unfinished destruction) and
        # leaves it alone.
        assert {f.kind.value for f in report.findings if f.aip_id == due.aip_id} <= {"unknown bag"}
        assert all(f.repaired_from is None for f in report.findings)
        with pytest.raises(InputError, match="being destroyed") as refused:
            acting(config, "W. Woo").place_hold(due.record_id, reason="te laat")
        assert "edepot" not in refused.value.hint

        result = beheer.destroy_destruction_list(drawn.list_id)
        assert result.destroyed == [due.record_id] and result.complete
        assert not any(Path(r).exists() for r in due.locations)
        assert all(e["state"] == "done" for e in catalogue.journal_entries(drawn.list_id))
        assert {e["record_id"] for e in catalogue.journal_entries()} == {due.record_id}
        assert catalogue.files(due.aip_id) == [] and catalogue.replicas(due.aip_id) == []
        assert due.aip_id not in {a.aip_id for a in catalogue.aips()}
        with pytest.raises(NotFound):
            catalogue.aip(due.aip_id)
        # The record outside the list is whole: every file verifies.
        assert run_fixity(config, catalogue, open_locations(config.storage_locations)).findings == []
        assert {a.aip_id for a in catalogue.aips()} == {kept.aip_id}
        xml = result.certificate[0].read_text(encoding="utf-8")
        listed = {line.split(">")[1].split("<")[0] for line in xml.splitlines() if "<bestand " in line}
        assert listed == set(before)
        assert all(sha in xml for sha in before.values())
    assert files_holding(config.data_dir, token.encode()) == []
    assert files_holding(config.data_dir, kept_token.encode())  # the kept record is still there


def test_nothing_of_the_record_remains_and_the_certificate_says_what_went(config: Config, tmp_path: Path) -> None:
    result, token = ingest_record(config, tmp_path)
    indexed = index_if_search_exists(config, result)
    cluster = cluster_folder(config.catalogue_url)  # a PostgreSQL catalogue's tables are files of its cluster
    database_files = cluster / "data" / "base" if cluster else config.data_dir
    if cluster:
        checkpoint(config.catalogue_url)
    if indexed:  # the messages are now in the catalogue's file (or its WAL) as well
        assert files_holding(database_files, token.encode())
    dip = create_dip(result.aip_id, tmp_path / "delivered" / "dip", config, store=store_of(config), by=TEST_OPERATOR)
    kept, _ = ingest_record(config, tmp_path, {"waardering": "B"})  # permanent: not on the list
    both = build_dip(tmp_path / "delivered" / "both", DipRequest(requester=OWN_USE, purpose=OWN_USE, own_use=True),
                     config, store=store_of(config), by=TEST_OPERATOR, aip_ids=(result.aip_id, kept.aip_id))
    (tmp_path / "delivered" / "dip" / "notes-of-the-researcher.txt").write_text("mine", encoding="utf-8")
    quarantined = config.quarantine_dir / "location-1" / result.aip_id / "data" / "stray.txt.1234"
    quarantined.parent.mkdir(parents=True)
    quarantined.write_text(f"stray copy {token}", encoding="utf-8")
    with catalogue_of(config) as catalogue:
        destroyed_files = {f.path: (f.size, f.sha256) for f in catalogue.files(result.aip_id)}
        beheer = acting(config, "B. Beheer")
        drawn = beheer.draw_up_destruction_list()
        assert drawn is not None
        acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
        outcome = beheer.destroy_destruction_list(drawn.list_id)
        tomb = catalogue.tombstone(result.record_id)
        events = [e.type for e in catalogue.events(result.aip_id)]
        deletion_details = [e.detail for e in catalogue.events(result.aip_id) if e.type == "deletion"]
    if indexed:
        assert any("search index" in d for d in deletion_details)
    assert files_holding(config.data_dir, token.encode()) == []  # the catalogue file (and its index) too
    if cluster:
        checkpoint(config.catalogue_url)
    assert files_holding(database_files, token.encode()) == []
    assert files_holding(tmp_path / "delivered", token.encode()) == []
    assert not (dip.path / "conversation.json").exists()
    assert (dip.path / "notes-of-the-researcher.txt").read_text(encoding="utf-8") == "mine"
    content_digests = {sha for path, (_size, sha) in destroyed_files.items() if path.startswith("data/")}
    for root in (config.data_dir, tmp_path / "delivered"):
        for path in (p for p in root.rglob("*") if p.is_file()):
            from kernel.hashing import digest_file

            assert digest_file(path, ("sha256",))[0]["sha256"] not in content_digests, path
    assert tomb is not None and tomb["title"] == result.title and tomb["category"]["code"] == "1.1"
    assert tomb["approvals"][0]["by"] == "A. Archivaris" and tomb["destroyed_by"] == "B. Beheer"
    assert {f["path"]: (f["size"], f["sha256"]) for f in tomb["aips"][0]["files"]} == destroyed_files
    assert sorted(d["dip_id"] for d in tomb["aips"][0]["dips"]) == sorted([dip.dip_id, both.dip_id])
    states = {d.dip_id: d.state for d in store_of(config).register.dips()}
    assert states[dip.dip_id] is DipState.WITHDRAWN and states[both.dip_id] is DipState.WITHDRAWN
    assert {"policy assignment", "appraisal", "deletion", "deaccession"} <= set(events)
    xml_path, pdf_path = outcome.certificate
    assert check_pdfa(pdf_path).ok
    xml = xml_path.read_text(encoding="utf-8")
    assert xml.count("<bestand ") == len(destroyed_files) and result.record_id in xml
    assert xml.count("<record ") == 1 and "A. Archivaris" in xml


def test_reappraisal_and_start_dates_are_recorded_events(config: Config, tmp_path: Path) -> None:
    zaak = {"waardering": "V", "bewaartermijn": {"looptijd": "P1Y", "trigger": "Afsluiting zaak"}}
    result, _ = ingest_record(config, tmp_path, zaak)
    with catalogue_of(config) as catalogue:
        beheer, archivist = acting(config, "R. Beheer"), acting(config, "A. Archivaris")
        assert [s.record_id for s in beheer.to_appraise()] == [result.record_id]
        assert beheer.draw_up_destruction_list() is None
        schedule = beheer.set_retention_start(result.record_id, day=date(2024, 2, 29),
                                              reason="zaak gesloten op 29-02-2024")
        assert str(schedule.destruction_date) == "2025-02-28"
        permanent = archivist.reappraise(result.record_id, reason="toch van blijvende waarde", waardering="B")
        assert permanent.transfer_date is not None and str(permanent.transfer_date) == "2034-02-28"
        assert beheer.draw_up_destruction_list() is None
        assert beheer.due_for_transfer(permanent.transfer_date) == []
        add_settings(config, '[retention]\ntransfer_term = "P1Y"\n')
        assert [s.record_id for s in beheer.due_for_transfer(config.clock().date())] == [result.record_id]
        history = catalogue.appraisal_history(result.record_id)
        assert [h["action"] for h in history] == ["ingest", "set-start", "reappraisal"]  # scheduled at ingest
        assert history[-1]["by"] == "A. Archivaris" and history[-1]["before"]["waardering"] == "V"
        events = catalogue.events(result.aip_id)
        assert sum(e.type == "appraisal" for e in events) == 2
        assert any("toch van blijvende waarde" in e.detail for e in events)
        with pytest.raises(InputError):
            archivist.reappraise(result.record_id, reason="y", bewaartermijn="ten years")
        with pytest.raises(InputError, match="waardering, the bewaartermijn or both") as nothing:
            archivist.reappraise(result.record_id, reason="y")
        with pytest.raises(InputError, match="reason") as no_reason:
            beheer.set_retention_start(result.record_id, day=date(2024, 3, 1), reason="")
        assert "--" not in nothing.value.message + no_reason.value.message
        assert len(catalogue.appraisal_history(result.record_id)) == 3  # the refusals changed nothing


def test_a_new_user_destroys_what_is_due_this_year_with_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from edepot.cli import main
    from kernel.config import load_config

    data = tmp_path / "data"
    monkeypatch.setenv("EDEPOT_DATA", str(data))
    result, token = ingest_record(load_config(data), tmp_path, refresh=False)  # `due` computes what is missing

    def run(*argv: str) -> tuple[int, Any]:
        code = main([*argv, "--json"])
        out = capsys.readouterr().out
        return code, json.loads(out) if out.strip() else None

    code, listed = run("retention", "due", "--before", "2027-01-01")
    assert code == 0 and [i["record_id"] for i in listed["items"]] == [result.record_id]
    assert {Path(f).suffix for f in listed["files"]} == {".json", ".csv", ".pdf"}
    assert all(check_pdfa(f).ok for f in listed["files"] if f.endswith(".pdf"))
    csv_text = next(Path(f) for f in listed["files"] if f.endswith(".csv")).read_text(encoding="utf-8")
    assert result.record_id in csv_text and "Correspondentie" in csv_text
    assert listed["items"] and json.loads(Path(listed["files"][0]).read_text())["drawn_up_by"] == TEST_OPERATOR
    assert main(["retention", "destroy", listed["list_id"]]) == 2  # not approved: refused, one line
    assert "not approved" in capsys.readouterr().err
    # The acting person ($EDEPOT_USER here) drew the list up, so may not approve it.
    assert main(["retention", "approve", listed["list_id"], "--role", "archivaris"]) == 2
    assert "drew the list up" in capsys.readouterr().err
    monkeypatch.delenv("EDEPOT_USER")
    assert main(["retention", "approve", listed["list_id"], "--role", "archivaris"]) == 2
    assert "E112" in capsys.readouterr().err  # nobody named: nothing is approved anonymously
    assert run("retention", "lists")[1]["lists"][0]["approvals"] == []
    assert run("retention", "approve", listed["list_id"], "--user", "A. Archivaris", "--role", "archivaris")[0] == 0
    code, done = run("retention", "destroy", listed["list_id"], "--by", "B. Beheer")
    assert code == 0 and done["destroyed"] == [result.record_id] and done["complete"]
    code, lists = run("retention", "lists")
    assert lists["lists"][0]["destroyed"] == 1 and len(lists["lists"][0]["certificate"]) == 2
    assert check_pdfa(next(c for c in lists["lists"][0]["certificate"] if c.endswith(".pdf"))).ok
    code, shown = run("retention", "show", "--record", result.record_id)
    assert shown["tombstone"]["list_id"] == listed["list_id"]
    assert main(["hold", "add", "--record", result.record_id, "--reason", "Woo", "--by", "x"]) == 2
    assert files_holding(data, token.encode()) == []
    assert run("hold", "list")[1] == {"holds": []}
    assert run("retention", "transfer-due")[0] == 0 and run("retention", "to-appraise")[0] == 0  # listings: nobody needed
    code, refreshed = run("retention", "refresh", "--user", "R. Beheer")
    assert code == 0 and refreshed == {"records": [], "not_scheduled": []}  # the destroyed one is not scheduled again


@pytest.mark.parametrize("moment, listed", [
    ("2026-03-28T22:59:59+00:00", False),  # 23:59:59 CET on the 28th
    ("2026-03-28T23:00:00+00:00", True),  # 00:00 on the 29th, the night the clocks go forward
])
def test_a_record_becomes_due_at_local_midnight_across_dst(config: Config, tmp_path: Path, moment: str,
                                                           listed: bool) -> None:
    # Last message on 29 March 2025, P1Y: due from 29 March 2026 (the day of the switch to CEST).
    result, _ = ingest_record(config, tmp_path, last_day="29-03-2025")
    at = replace(config, clock=lambda: datetime.fromisoformat(moment))
    drawn = acting(at, TEST_OPERATOR).draw_up_destruction_list()
    assert (drawn is not None) is listed
    if drawn is not None:
        assert drawn.content["items"][0]["destruction_date"] == "2026-03-29"
        assert drawn.content["items"][0]["record_id"] == result.record_id


def test_an_aip_without_mdto_is_reported_and_never_due(config: Config, tmp_path: Path) -> None:
    from ingest.sip import SipOptions

    export = write_export(tmp_path / "export", f"ZQX{uuid.uuid4().hex}")
    meta = tmp_path / "meta.yaml"
    meta.write_text(yaml.safe_dump({"waardering": "V", "bewaartermijn": "P1Y"}), encoding="utf-8")
    sip = create_sip([export], tmp_path / "sip", config, metadata_file=meta,
                     options=SipOptions(metadata_standard="topx"))
    topx_only = ingest(sip.path, config)
    described, _ = ingest_record(config, tmp_path)
    refreshed = acting(config, TEST_OPERATOR).refresh_schedules()
    drawn = acting(config, TEST_OPERATOR).draw_up_destruction_list()
    assert [s.record_id for s in refreshed.schedules] == [described.record_id]
    problems = refreshed.not_scheduled
    assert len(problems) == 1 and topx_only.record_id in problems[0] and "ToPX" in problems[0]
    assert drawn is not None and [i["record_id"] for i in drawn.content["items"]] == [described.record_id]


def test_nothing_is_done_anonymously_and_every_retention_event_names_who_acted(config: Config,
                                                                              tmp_path: Path) -> None:
    result, _ = ingest_record(config, tmp_path, refresh=False)
    # A record whose schedule is missing (as after an ingest that stopped before scheduling it).
    behind_edepots_back(config, "DELETE FROM retention WHERE record_id = ?", (result.record_id,))
    with catalogue_of(config) as catalogue:
        written = len(catalogue.events(result.aip_id))
        nobody = acting(config, None)
        assert nobody.holds() == [] and nobody.destruction_lists() == []  # reading needs nobody
        for action in (lambda: nobody.place_hold(result.record_id, reason="Woo-verzoek 9"),
                       lambda: nobody.lift_holds(result.record_id, reason="klaar"),
                       lambda: nobody.reappraise(result.record_id, reason="besluit", waardering="B"),
                       lambda: nobody.set_retention_start(result.record_id, day=date(2024, 1, 1), reason="zaak"),
                       nobody.refresh_schedules, nobody.to_appraise, nobody.draw_up_destruction_list,
                       lambda: nobody.approve_destruction_list("VL-20261123-1", role="archivaris"),
                       lambda: nobody.destroy_destruction_list("VL-20261123-1")):
            with pytest.raises(NoActingPerson) as refused:
                action()
            assert refused.value.ref == "E112"
        assert len(catalogue.events(result.aip_id)) == written and catalogue.retention_row(result.record_id) is None

        assert acting(config, "R. Beheer").to_appraise() == []  # computes the missing schedule
        woo = acting(config, "W. Woo")
        woo.place_hold(result.record_id, reason="Woo-verzoek 9")
        woo.lift_holds(result.record_id, reason="Woo-besluit onherroepelijk")
        archivist = acting(config, "A. Archivaris")
        archivist.reappraise(result.record_id, reason="besluit 12", bewaartermijn="P1Y")
        drawn = acting(config, "D. Opsteller").draw_up_destruction_list()
        assert drawn is not None
        archivist.approve_destruction_list(drawn.list_id, role="archivaris")
        acting(config, "B. Beheer").destroy_destruction_list(drawn.list_id)
        events = catalogue.events(result.aip_id)[written:]
        tomb = catalogue.tombstone(result.record_id)
    people = [(e.type, [a for a in e.agents if a.startswith("person:")]) for e in events]
    assert all(names for _type, names in people), people  # every event of these steps names a person
    by_type = {(kind, name) for kind, names in people for name in names}
    assert {("policy assignment", "person:R. Beheer"), ("hold", "person:W. Woo"), ("hold release", "person:W. Woo"),
            ("appraisal", "person:A. Archivaris"), ("appraisal", "person:D. Opsteller"),
            ("deletion", "person:B. Beheer"), ("deaccession", "person:B. Beheer")} <= by_type
    assert tomb is not None and tomb["destroyed_by"] == "B. Beheer" and tomb["approvals"][0]["by"] == "A. Archivaris"


def test_a_record_in_use_by_another_run_is_passed_over_and_destroyed_by_the_next(config: Config,
                                                                                 tmp_path: Path) -> None:
    from preservation.work_locks import aip_lock, open_work_locks

    record, _ = ingest_record(config, tmp_path)
    beheer = acting(config, "B. Beheer")
    drawn = beheer.draw_up_destruction_list()
    assert drawn is not None
    acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
    other_run = open_work_locks(config, holder="fixity")  # lock files, or advisory locks on PostgreSQL
    assert other_run.try_hold(aip_lock(record.aip_id), kind="fixity", started="") is not None
    with catalogue_of(config) as catalogue:
        checked = run_fixity(config, catalogue, open_locations(config.storage_locations), [record.aip_id],
                             person="A. Archivaris")
    assert checked.aips_busy and checked.aips_busy[0]["aip_id"] == record.aip_id  # never two runs on one AIP
    result = beheer.destroy_destruction_list(drawn.list_id)
    assert result.destroyed == [] and "in use now by fixity" in result.skipped[0]["reason"]
    assert all(Path(r).is_dir() for r in record.locations)
    other_run.close()
    assert beheer.destroy_destruction_list(drawn.list_id).destroyed == [record.record_id]
    assert not any(Path(r).exists() for r in record.locations)
