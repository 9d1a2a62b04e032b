"""The same bytes in an AIP more than once (a photo forwarded again in the chat) are identified and validated once,
and every file still gets its own identification, its own validation and its own events."""
from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from PIL import Image

from ingest import stages
from ingest.file_workers import FileWorkers, Validation
from ingest.job import IngestJob
from kernel.config import Config
from preservation.aip import AipBuilder
from preservation.identify import Identification
from preservation.validate_formats import FormatCheck


class CountingWorkers(FileWorkers):
    """The ingest's own workers (this process), keeping which files they were asked to read."""

    def __init__(self) -> None:
        super().__init__(None)
        self.identified: list[str] = []
        self.validated: list[str] = []

    def identify(self, paths: Sequence[Path]) -> Iterator[Identification]:
        self.identified += [p.name for p in paths]
        return super().identify(paths)

    def validate(self, files: Sequence[Validation]) -> Iterable[FormatCheck | None]:
        self.validated += [f[0].name for f in files]
        return super().validate(files)


def _photo(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), colour).save(out, "JPEG")
    return out.getvalue()


def test_a_photo_sent_twice_is_read_once_and_recorded_for_each_name(config: Config, tmp_path: Path) -> None:
    aip = AipBuilder(tmp_path / "aip")
    photo, other = _photo((200, 30, 30)), _photo((30, 200, 30))
    for name, data in (("a.jpg", photo), ("b.jpg", other), ("c.jpg", photo), ("d.jpeg", photo)):
        path = aip.path(f"data/preservation/media/{name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        aip.register(f"data/preservation/media/{name}", "preservation",
                     {"sha256": hashlib.sha256(data).hexdigest(), "sha512": hashlib.sha512(data).hexdigest()})
    job = IngestJob(config)
    workers = CountingWorkers()
    stages.identify(aip, job, workers=workers)
    stages.validate_formats(aip, job, workers=workers)
    assert workers.identified == ["a.jpg", "b.jpg", "d.jpeg"]  # c.jpg is a.jpg's bytes under the same extension
    assert workers.validated == ["a.jpg", "b.jpg"]  # d.jpeg: a.jpg's bytes, identified as the same format
    media = [f"data/preservation/media/{name}" for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpeg")]
    assert all(job.identifications[p].mime_type == "image/jpeg" for p in media)
    assert sorted(job.format_checks) == media and all(check.ok for check in job.format_checks.values())
    for kind in ("format identification", "validation"):
        assert sorted(s for e in job.events if e.type == kind for s in e.source_objects) == media
