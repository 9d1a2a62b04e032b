"""Build a small AIP without the ingest pipeline, to test storage, fixity and DIPs in isolation."""
from __future__ import annotations

import random
import uuid
from pathlib import Path

from kernel.config import Config
from preservation.aip import AipBuilder
from preservation.catalogue import (
    AipRecord,
    AipState,
    FileRecord,
    ReplicaRecord,
    ReplicaStatus,
    open_catalogue,
)
from preservation.storage import configured_locations, open_locations, register_locations


def make_aip(config: Config, files: int = 6, seed: int = 0, *, original_name: str = "file 0%.bin") -> str:
    """An AIP of `files` random payload files stored in every location and recorded in the catalogue; the first is
    `data/original/<original_name>`."""
    rng = random.Random(seed)
    aip_id = str(uuid.UUID(int=rng.getrandbits(128)))
    builder = AipBuilder(config.staging_dir / f"build-{aip_id}")
    for n in range(files):
        size = rng.choice([0, 1, 100, 4096, 70_000])
        name = f"data/original/{original_name}" if n == 0 else f"data/preservation/f{n}.bin"
        builder.add_bytes(name, rng.randbytes(size), "original" if n == 0 else "preservation")
    payload = builder.digest_payload()
    sealed = builder.seal(payload, {"External-Identifier": aip_id}, config.clock().date())
    catalogue = open_catalogue(config.catalogue_url)
    locations = configured_locations(config, catalogue)
    stored = [loc.store_bag(builder.root, aip_id) for loc in locations]
    try:
        now = config.clock()
        register_locations(locations, catalogue, now=now)  # as ingest does, when it records the AIP
        catalogue.record_ingest(
            AipRecord(aip_id, uuid.uuid4().hex, f"R-{seed}", "test record", now, AipState.STORED, 0, files),
            [ReplicaRecord(aip_id, loc.id, str(p), now, ReplicaStatus.INTACT) for loc, p in zip(locations, stored)],
            [FileRecord(aip_id, f.path, f.role, f.size, f.sha256, None, None, None) for f in sealed],
            [],
        )
    finally:
        catalogue.close()
    return aip_id


def bag_of(config: Config, aip_id: str, location: int) -> Path:
    return open_locations(config.storage_locations)[location].bag_path(aip_id)
