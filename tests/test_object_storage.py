"""Object storage as a storage location, on a real S3 server on loopback (moto's, tests/object_store_server.py):
an archive on a folder and a bucket goes from ingest (a journal segment lost in the bucket comes back from the
folder; reordering the locations changes no replica) through fixity (damage in the bucket found and mended from
the folder, a lost folder replica mended from the bucket), a DIP and a search index read from the bucket alone,
destruction, to a catalogue rebuilt from storage; an archive in buckets alone is rebuilt the same; a bag whose
upload was interrupted is not there until a re-run finishes it."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from access.dip import create_dip
from edepot.cli import main
from ingest.pipeline import ingest
from kernel.config import Config, ObjectStoreSetting, load_config
from preservation.blobstore import BlobNotFound, DigestMismatch
from preservation.catalogue import open_catalogue
from preservation.catalogue_db.database import sqlite_path
from preservation.object_storage import COMPLETE, ObjectStoreLocation
from tests.conftest import TEST_OPERATOR, store_of
from tests.object_store_server import REGION, ObjectStoreServer
from tests.test_catalogue_rebuild import lose_catalogue, rebuild, tables
from tests.test_destruction import acting, catalogue_of, ingest_record

SECRET = "edepot-test-secret-never-in-the-catalogue"


def on_storage(config: Config, locations: str) -> Config:
    """`config` with these `[[storage.locations]]` in its edepot.toml (and its SQLite catalogue named there)."""
    config.data_dir.mkdir(parents=True, exist_ok=True)
    (config.data_dir / "edepot.toml").write_text(f'[catalogue]\nurl = "{config.catalogue_url}"\n\n{locations}',
                                                 encoding="utf-8")
    return dataclasses.replace(load_config(config.data_dir, clock=config.clock), schema_dir=config.schema_dir)


def folder_toml(identity: str, root: Path) -> str:
    return f'[[storage.locations]]\nid = "{identity}"\nroot = "{root}"\n'


def secrets_file(tmp_path: Path) -> Path:
    secrets = tmp_path / "s3-secrets.toml"
    secrets.write_text(f'access_key_id = "edepot-test"\nsecret_access_key = "{SECRET}"\n', encoding="utf-8")
    secrets.chmod(0o600)
    return secrets


def bag_prefix(aip_id: str) -> str:
    return f"archief/{aip_id[:2]}/{aip_id}/"


def cli(config: Config, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["--data-dir", str(config.data_dir), "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_an_archive_on_a_folder_and_a_bucket_goes_from_ingest_to_a_rebuilt_catalogue(
        config: Config, tmp_path: Path, s3: ObjectStoreServer, request: pytest.FixtureRequest,
        capsys: pytest.CaptureFixture[str]) -> None:
    bucket, folder = s3.bucket(), tmp_path / "kelder"
    config = on_storage(config, folder_toml("kelder", folder) + s3.location_toml("bak", bucket,
                                                                                  secrets=secrets_file(tmp_path)))
    due, _token = ingest_record(config, tmp_path)  # waardering V: due for destruction
    kept, token = ingest_record(config, tmp_path, {"waardering": "B"})
    with catalogue_of(config) as catalogue:
        replicas = {r.location: r.path for r in catalogue.replicas(kept.aip_id)}
        files = {f.path: f for f in catalogue.files(kept.aip_id)}
    assert replicas == {"kelder": str(folder / kept.aip_id[:2] / kept.aip_id),
                        "bak": f"s3://{bucket}/{bag_prefix(kept.aip_id)}"}
    assert s3.keys(bucket, bag_prefix(kept.aip_id)) == sorted(bag_prefix(kept.aip_id) + p for p in files)
    assert s3.keys(bucket, f"archief/{COMPLETE}") == sorted(f"archief/{COMPLETE}{a}" for a in (due.aip_id,
                                                                                               kept.aip_id))

    # A journal segment lost in the bucket: `edepot doctor` copies it back from the folder.
    segments = s3.keys(bucket, "archief/journal/")
    assert segments and len(segments) == len(list((folder / "journal").rglob("*.jsonl")))
    s3.client.delete_object(Bucket=bucket, Key=segments[0])
    code, report = cli(config, capsys, "doctor")
    journal = [f for f in report["findings"] if f["check"] == "event journal"]
    assert code == 0 and [(f["status"], f["subject"]) for f in journal] == [("restored", "bak")], report
    assert s3.client.get_object(Bucket=bucket, Key=segments[0])["Body"].read() == (
        folder / segments[0].removeprefix("archief/")).read_bytes()

    # The locations reordered in the configuration: the same replicas (fixity below finds only the damage).
    config = on_storage(config, s3.location_toml("bak", bucket, secrets=secrets_file(tmp_path))
                        + folder_toml("kelder", folder))

    # Damage in the bucket: one object changed, one gone. Fixity finds both and mends them from the folder.
    conversation, bag_info = "data/preservation/conversation.json", "bag-info.txt"
    held = s3.client.get_object(Bucket=bucket, Key=bag_prefix(kept.aip_id) + conversation)["Body"].read()
    s3.client.put_object(Bucket=bucket, Key=bag_prefix(kept.aip_id) + conversation, Body=held.replace(b"{", b"[", 1))
    s3.client.delete_object(Bucket=bucket, Key=bag_prefix(kept.aip_id) + bag_info)
    code, report = cli(config, capsys, "fixity", "run", "--all")
    found = sorted((f["location"], f["path"], f["kind"], f["repaired_from"]) for f in report["findings"])
    assert code == 0 and found == [("bak", bag_info, "missing", "kelder"),
                                   ("bak", conversation, "modified", "kelder")], report
    stored = s3.client.get_object(Bucket=bucket, Key=bag_prefix(kept.aip_id) + conversation)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == files[conversation].sha256
    with catalogue_of(config) as catalogue:
        assert {r.location: r.path for r in catalogue.replicas(kept.aip_id)} == replicas

    # The folder's replica lost: the DIP and the search index are made from the bucket alone, and fixity
    # rebuilds the folder's replica from it.
    shutil.rmtree(folder / kept.aip_id[:2] / kept.aip_id)
    dip = create_dip(kept.aip_id, tmp_path / "dip", config, store=store_of(config), by=TEST_OPERATOR)
    originals = [f for f in files.values() if f.role == "original"]
    delivered = {hashlib.sha256(p.read_bytes()).hexdigest() for p in dip.path.rglob("*") if p.is_file()}
    assert originals and {f.sha256 for f in originals} <= delivered
    code, _out = cli(config, capsys, "search", "reindex")
    assert code == 0
    code, hits = cli(config, capsys, "search", token, "--as", "archivist")
    assert code == 0 and kept.record_id in json.dumps(hits)
    code, report = cli(config, capsys, "fixity", "run", "--all")
    assert code == 0 and [(f["location"], f["kind"], f["repaired_from"]) for f in report["findings"]] == [
        ("kelder", "replica missing", "bak")], report

    # Destruction removes the record from the bucket too: its objects and its completion marker.
    beheer = acting(config, "B. Beheer")
    drawn = beheer.draw_up_destruction_list()
    assert drawn is not None
    acting(config, "A. Archivaris").approve_destruction_list(drawn.list_id, role="archivaris")
    assert beheer.destroy_destruction_list(drawn.list_id).destroyed == [due.record_id]
    assert not [k for k in s3.keys(bucket) if due.aip_id in k]
    assert not (folder / due.aip_id[:2] / due.aip_id).exists()

    # The catalogue lost: rebuilt from the folder and the bucket, the same table by table, and no credential in it.
    before = tables(config)
    assert SECRET.encode() not in sqlite_path(config.catalogue_url).read_bytes()
    config = lose_catalogue(config, request)
    code, report = rebuild(config, capsys)
    assert code == 0 and report["aips"] == [kept.aip_id] and report["destroyed"] == [due.aip_id], report
    assert report["divergence"] == []
    assert tables(config) == before


def test_a_catalogue_is_rebuilt_from_an_archive_in_buckets_alone(config: Config, tmp_path: Path,
                                                                 s3: ObjectStoreServer, request: pytest.FixtureRequest,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    secrets = secrets_file(tmp_path)
    config = on_storage(config, s3.location_toml("eerste", s3.bucket(), secrets=secrets)
                        + s3.location_toml("tweede", s3.bucket(), prefix="", secrets=secrets))
    assert config.storage_locations == ()
    first, _token = ingest_record(config, tmp_path)
    acting(config, "W. Woo").place_hold(first.record_id, reason="Woo-verzoek")
    code, report = cli(config, capsys, "fixity", "run", "--all")
    assert code == 0 and report["findings"] == []
    before = tables(config)
    assert before["aips"] and before["replicas"] and before["holds"]
    config = lose_catalogue(config, request)
    code, report = rebuild(config, capsys)
    assert code == 0 and report["aips"] == [first.aip_id], report
    assert report["divergence"] == []
    assert tables(config) == before


def test_an_interrupted_upload_is_not_there_until_a_rerun_finishes_it(config: Config, tmp_path: Path,
                                                                      s3: ObjectStoreServer,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    bucket, folder = s3.bucket(), tmp_path / "kelder"
    config = on_storage(config, folder_toml("kelder", folder) + s3.location_toml("bak", bucket,
                                                                                  secrets=secrets_file(tmp_path)))
    real_put = ObjectStoreLocation._put_object

    def killed_before_the_marker(self: ObjectStoreLocation, key: str, data: bytes) -> None:
        if COMPLETE in key:
            raise KeyboardInterrupt  # the process dies after the bag's last object, before its completion marker
        real_put(self, key, data)

    monkeypatch.setattr(ObjectStoreLocation, "_put_object", killed_before_the_marker)
    with pytest.raises(KeyboardInterrupt):
        ingest_record(config, tmp_path, refresh=False)
    monkeypatch.setattr(ObjectStoreLocation, "_put_object", real_put)
    [uploaded] = {key.split("/")[2] for key in s3.keys(bucket, "archief/") if key.count("/") > 2
                  and not key.startswith(("archief/journal/", "archief/.edepot/"))}
    stray = bag_prefix(uploaded) + "data/only-in-the-interrupted-run.txt"
    s3.client.put_object(Bucket=bucket, Key=stray, Body=b"half")
    assert s3.keys(bucket, f"archief/{COMPLETE}") == [] and not (folder / uploaded[:2] / uploaded).exists()

    # Not there for any reader: no AIP, no key, no bytes; fixity finds no bag it does not know.
    [location] = [loc for loc in store_of(config).storage if loc.id == "bak"]
    assert list(location.aip_ids()) == [] and list(location.list("")) == [] and location.stat(
        f"{uploaded}/bagit.txt") is None
    with pytest.raises(BlobNotFound):
        location.digest(f"{uploaded}/bagit.txt", ("sha256",))
    code, report = cli(config, capsys, "fixity", "run", "--all")
    assert code == 0 and report["findings"] == [], report

    # The ingest run again finishes it: the whole bag, its marker, nothing of the interrupted run left over.
    result = ingest(next(tmp_path.glob("sip-*")), config)
    assert result.aip_id == uploaded
    with catalogue_of(config) as catalogue:
        files = [f.path for f in catalogue.files(uploaded)]
    assert s3.keys(bucket, bag_prefix(uploaded)) == sorted(bag_prefix(uploaded) + p for p in files)
    assert s3.keys(bucket, f"archief/{COMPLETE}") == [f"archief/{COMPLETE}{uploaded}"]
    with location.get(f"{uploaded}/bagit.txt", start=0, end=7) as stream:
        assert stream.read() == b"BagIt-V"


def test_a_put_keeps_only_bytes_with_their_digests_and_segments_are_never_changed(
        tmp_path: Path, s3: ObjectStoreServer) -> None:
    bucket = s3.bucket()
    location = ObjectStoreLocation(ObjectStoreSetting("bak", bucket, endpoint_url=s3.endpoint_url, region=REGION,
                                                      secrets=secrets_file(tmp_path)))
    data = b"0123456789" * 1000
    location.put("a1/data/x", io.BytesIO(data), digests={"sha256": hashlib.sha256(data).hexdigest()})
    with pytest.raises(DigestMismatch):
        location.put("a1/data/y", io.BytesIO(data), digests={"sha256": hashlib.sha256(b"other").hexdigest()})
    large = b"x" * (9 << 20)  # streamed in parts, its digests computed on the way
    with pytest.raises(DigestMismatch):
        location.put("a1/data/z", io.BytesIO(large), digests={"sha256": hashlib.sha256(b"other").hexdigest()})
    assert s3.keys(bucket) == ["a1/a1/data/x"]  # the bytes that did not verify are gone again
    assert location.put("a1/data/z", io.BytesIO(large), digests={"sha256": hashlib.sha256(large).hexdigest()}).size \
        == len(large)
    location.complete_aip("a1")
    with location.get("a1/data/x", start=9995) as stream:
        assert stream.read() == b"56789"
    with location.get("a1/data/x", start=20000) as stream:
        assert stream.read() == b""
    location.put_segment("2026-11/a.jsonl", b"{}\n")
    location.put_segment("2026-11/a.jsonl", b"{}\n")  # the same bytes again: nothing to do
    with pytest.raises(FileExistsError):
        location.put_segment("2026-11/a.jsonl", b"[]\n")
    assert location.get_segment("2026-11/a.jsonl") == b"{}\n" and list(location.segments()) == ["2026-11/a.jsonl"]
    assert location.delete_aip("a1") and not location.delete_aip("a1")
    assert s3.keys(bucket) == ["journal/2026-11/a.jsonl"]  # the journal outlives what it tells of


def test_an_unreachable_object_store_is_a_storage_failure_naming_it(config: Config, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from tests.postgres_cluster import _free_port

    closed = f"http://127.0.0.1:{_free_port()}"
    config = on_storage(config, f'[[storage.locations]]\nkind = "s3"\nid = "bak"\nbucket = "nergens"\n'
                                f'endpoint_url = "{closed}"\nregion = "{REGION}"\n'
                                f'secrets = "{secrets_file(tmp_path)}"\n')
    with pytest.raises(Exception) as failed:
        ingest_record(config, tmp_path, refresh=False)
    assert getattr(failed.value, "ref", None) == "E500" and "s3://nergens" in str(failed.value), failed.value
    assert open_catalogue(config.catalogue_url).aips() == []
