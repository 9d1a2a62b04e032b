"""Both replicas of a file damaged: restore it from an outside copy that matches the manifest, or declare it
lost, after which fixity, DIPs and the search index go on with what is intact and name what is missing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import bagit
import pytest

from edepot.cli import main
from kernel.config import Config, load_config
from preservation.catalogue import AipState, open_catalogue
from tests.access_factory import SAMPLE, make_config

PHOTO = "data/preservation/media/00000005-PHOTO-2024-03-14-10-21-07.jpg"
ORIGINAL = f"data/original/{SAMPLE.name}"


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The bundled sample ingested once; each test works on its own copy of the data directory."""
    from ingest.pipeline import ingest
    from ingest.sip import create_sip

    root = tmp_path_factory.mktemp("recovery")
    config = make_config(root)
    aip_id = ingest(create_sip([SAMPLE], root / "sip", config).path, config).aip_id
    return config.data_dir, aip_id


@pytest.fixture
def archive(ingested: tuple[Path, str], tmp_path: Path) -> tuple[Config, str]:
    data = tmp_path / "data"
    shutil.copytree(ingested[0], data)
    return load_config(data), ingested[1]


def edepot(config: Config, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run one command in-process: its exit code, stdout and stderr."""
    code = main(["--data-dir", str(config.data_dir), *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def replicas(config: Config, aip_id: str, path: str) -> list[Path]:
    return [root / aip_id[:2] / aip_id / path for root in config.storage_locations]


def events(config: Config, aip_id: str, kind: str) -> list:
    catalogue = open_catalogue(config.catalogue_url)
    try:
        return [e for e in catalogue.events(aip_id) if e.type == kind]
    finally:
        catalogue.close()


def test_both_copies_damaged_are_restored_from_an_outside_copy_only_when_it_matches(
        archive: tuple[Config, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, aip_id = archive
    first, second = replicas(config, aip_id, ORIGINAL)
    first.write_bytes(b"bit rot")
    second.unlink()
    assert edepot(config, capsys, "fixity", "run")[0] == 1

    impostor = tmp_path / "elsewhere" / SAMPLE.name
    impostor.parent.mkdir()
    impostor.write_bytes(SAMPLE.read_bytes()[:-1] + b"!")
    code, _, err = edepot(config, capsys, "aip", "restore", aip_id, "--from", impostor)
    assert code == 2 and "does not match" in err and ORIGINAL in err and "Traceback" not in err
    bag_copy = tmp_path / "bag"
    (bag_copy / ORIGINAL).parent.mkdir(parents=True)
    shutil.copy(impostor, bag_copy / ORIGINAL)
    code, _, err = edepot(config, capsys, "aip", "restore", aip_id, "--from", bag_copy)
    assert code == 2 and "nothing was written" in err
    assert first.read_bytes() == b"bit rot" and not second.exists()  # a refused restore writes nothing

    code, out, err = edepot(config, capsys, "--json", "aip", "restore", aip_id, "--from", SAMPLE,
                            "--user", "A. Archivaris")
    assert code == 0, err
    assert json.loads(out)["restored"] == [{"path": ORIGINAL, "locations": ["location-1", "location-2"],
                                            "lifted_loss": False}]
    assert first.read_bytes() == second.read_bytes() == SAMPLE.read_bytes()
    [recovery] = events(config, aip_id, "recovery")
    assert "person:A. Archivaris" in recovery.agents and recovery.source_objects == (ORIGINAL,)
    assert edepot(config, capsys, "fixity", "run")[0] == 0
    for bag in (first.parents[2], second.parents[2]):
        bagit.Bag(str(bag)).validate()


def test_a_declared_loss_is_known_to_fixity_and_dips_and_reindex_go_on_naming_it(
        archive: tuple[Config, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, aip_id = archive
    catalogue = open_catalogue(config.catalogue_url)
    try:
        record_id = catalogue.aip(aip_id).record_id
    finally:
        catalogue.close()
    mdto = f"data/metadata/{record_id}.mdto.xml"
    kept = tmp_path / "backup"  # a good copy of the MDTO, found after the loss was declared
    (kept / mdto).parent.mkdir(parents=True)
    shutil.copy(replicas(config, aip_id, mdto)[0], kept / mdto)
    for path in (PHOTO, mdto):
        for n, copy in enumerate(replicas(config, aip_id, path)):
            copy.write_bytes(f"damaged in replica {n}".encode())
    assert edepot(config, capsys, "fixity", "run")[0] == 1

    code, _, err = edepot(config, capsys, "aip", "declare-loss", aip_id, "--file", ORIGINAL, "--reason", "x")
    assert code == 2 and "not lost" in err  # an intact file cannot be declared lost
    code, out, err = edepot(config, capsys, "aip", "declare-loss", aip_id, "--file", PHOTO, "--file", mdto,
                            "--reason", "no other copy exists; the phone was wiped", "--user", "B. Beheerder")
    assert code == 0, err
    declared = events(config, aip_id, "loss declaration")
    assert len(declared) == 2 and all("person:B. Beheerder" in e.agents for e in declared)

    code, out, _ = edepot(config, capsys, "--json", "fixity", "run")
    report = json.loads(out)
    assert code == 0 and report["intact"] and report["findings"] == []
    assert sorted((x["path"], x["declared_by"]) for x in report["known_losses"]) == [
        (mdto, "B. Beheerder"), (PHOTO, "B. Beheerder")]
    assert "Bekende verliezen" in Path(report["report_html"]).read_text(encoding="utf-8")

    code, out, err = edepot(config, capsys, "dip", "create", "--aip", aip_id, "--out", tmp_path / "dip")
    assert code == 0, err
    assert f"missing (declared lost in the archive): {record_id} {PHOTO}" in out
    [record] = json.loads((tmp_path / "dip" / "dip.json").read_text())["records"]
    assert record["missing"] == sorted([PHOTO, mdto])
    assert f"{record_id}: {PHOTO}" in (tmp_path / "dip" / "INVENTARIS.txt").read_text(encoding="utf-8")
    assert (tmp_path / "dip" / "original" / SAMPLE.name).read_bytes() == SAMPLE.read_bytes()

    code, out, err = edepot(config, capsys, "search", "reindex")
    assert code == 0, err
    assert "indexed 25 messages of 1 AIPs" in out and PHOTO in out and mdto in out
    code, out, err = edepot(config, capsys, "dip", "create", "--query", "noordkant", "--context", "1",
                            "--out", tmp_path / "woo")  # the archive's own query DIP: every record in scope
    assert code == 0, err
    assert PHOTO in out and not list((tmp_path / "woo").rglob(PHOTO.rsplit("/", 1)[1]))

    code, out, err = edepot(config, capsys, "aip", "restore", aip_id, "--from", kept, "--user", "B. Beheerder")
    assert code == 0 and "its declared loss is lifted" in out, err
    assert "still damaged" in out and PHOTO in out
    catalogue = open_catalogue(config.catalogue_url)
    try:
        assert [x.path for x in catalogue.losses(aip_id)] == [PHOTO]
    finally:
        catalogue.close()
    code, out, _ = edepot(config, capsys, "--json", "fixity", "run")
    assert code == 0 and [x["path"] for x in json.loads(out)["known_losses"]] == [PHOTO]
    catalogue = open_catalogue(config.catalogue_url)
    try:
        assert catalogue.aip(aip_id).state is AipState.INCOMPLETE
    finally:
        catalogue.close()
