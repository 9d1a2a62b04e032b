"""Crash safety of ingest: the real command killed (SIGKILL) at random moments, many times over. After every
kill no half AIP is visible in any storage location or in the catalogue; a re-run then completes."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import bagit

from ingest.sip import create_sip
from kernel.config import Config
from preservation.catalogue import open_catalogue
from preservation.storage import open_locations
from tests.conftest import REPO

SAMPLE = next((REPO / "samples" / "whatsapp-ios-nl").glob("*.zip"))
KILLS = 8


def start_ingest(config: Config, sip: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "EDEPOT_DATA"}
    return subprocess.Popen([sys.executable, "-m", "edepot.cli", "--data-dir", str(config.data_dir), "--json",
                             "ingest", str(sip)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=REPO, start_new_session=True)


def visible_bags(config: Config) -> list[Path]:
    return [loc.bag_path(aip_id) for loc in open_locations(config.storage_locations) for aip_id in loc.aip_ids()]


def test_ingest_killed_at_random_moments_leaves_no_half_aip_and_a_rerun_finishes(config: Config,
                                                                                 tmp_path: Path) -> None:
    sip = create_sip([SAMPLE], tmp_path / "sip", config).path
    started = time.perf_counter()
    clean = start_ingest(config, sip)
    clean.wait(timeout=300)
    full = time.perf_counter() - started
    assert clean.returncode == 0, clean.stderr.read() if clean.stderr else ""
    # start over: the timing run only told how long a whole ingest takes here
    for location in config.storage_locations:
        subprocess.run(["rm", "-rf", str(location)], check=True)
    (config.data_dir / "catalogue.sqlite").unlink()
    for leftover in config.data_dir.glob("catalogue.sqlite-*"):
        leftover.unlink()

    rng = random.Random(20261123)
    for _ in range(KILLS):
        process = start_ingest(config, sip)
        time.sleep(rng.uniform(0.05, full))
        os.killpg(process.pid, signal.SIGKILL)  # the renderer's worker processes die with it
        process.wait(timeout=60)
        catalogue = open_catalogue(config.catalogue_url)
        recorded = {aip.aip_id for aip in catalogue.aips()}
        catalogue.close()
        for bag in visible_bags(config):
            bagit.Bag(str(bag)).validate()  # whatever is visible is whole
        for aip_id in recorded:  # a recorded AIP has every replica
            assert all(loc.bag_path(aip_id).is_dir() for loc in open_locations(config.storage_locations))

    final = start_ingest(config, sip)
    out, err = final.communicate(timeout=300)
    if final.returncode != 0:  # a killed run may have got as far as committing: then it is refused as known
        assert "E106" in err, err
    else:
        assert len(json.loads(out)["locations"]) == 2
    catalogue = open_catalogue(config.catalogue_url)
    (aip,) = catalogue.aips()
    catalogue.close()
    bags = visible_bags(config)
    assert len(bags) == 2 and all(b.name == aip.aip_id for b in bags)
    for location in config.storage_locations:  # what killed runs left half-copied was cleared by the re-run
        assert not list((location / ".incoming").glob(f"{aip.aip_id}.*"))
    for bag in bags:
        bagit.Bag(str(bag)).validate()
