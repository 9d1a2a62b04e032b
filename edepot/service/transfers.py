"""The Depot's rules for SIPs uploaded in chunks (the web's transfers; the protocol is tus 1.0).

Who may upload: whoever may ingest (rule "ingest": a records manager or archivist), for an organisation they
ingest for; another organisation is not found, never "forbidden". An upload is its starter's alone: nobody else
sees, adds to or removes it (their colleagues follow the ingest job it becomes). It may not exceed
`[transfers] max_bytes`, nor the room left in the data directory. When its last byte arrives it is checked
(a zip, 7z or tar archive by its content, whose list of entries can be read) and queued as an ingest job: the
file is moved into the job's intake folder, and the upload keeps only the job's id. An upload refused there has
its bytes removed at once (they are not a SIP; a corrected one is uploaded anew) and keeps the one-line reason,
shown on the transfers screen until it expires. An upload nobody added to for `[transfers] expire_hours` is
removed (by the worker, and by `edepot doctor`).
"""
from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, BinaryIO

from edepot.service.base import DepotBase, audited
from edepot.service.jobs import JobsService
from ingest.uploads import Upload, UploadArea, check_archive
from kernel.config import Config
from kernel.errors import EdepotError, InputError, InvalidPackage, NotFound, StorageFailure, UploadTooLarge
from preservation.directory import Organisation, person_key

if TYPE_CHECKING:
    from preservation.doctor import Finding

INGEST = "ingest"


class TransfersService(JobsService):
    """SIPs uploaded in chunks, and queued for ingest when whole."""

    @property
    def upload_area(self) -> UploadArea:
        """Where uploads in progress are kept (`<data>/uploads/`)."""
        return UploadArea(self.config.data_dir / "uploads")

    def upload_organisations(self) -> list[Organisation]:
        """The registered organisations the acting person may upload SIPs for (every one, for an ingest role of
        every organisation); NotPermitted when they may not ingest at all."""
        reach = self.reach(INGEST)
        return [o for o in self.store.directory.organisations() if reach is None or o.organisation_id in reach]

    @audited("upload start")
    def start_upload(self, filename: str, *, length: int, organisation: str) -> Upload:
        """A new upload of `length` bytes of the file `filename`, for `organisation` (one the acting person
        ingests for: NotFound otherwise; "" only in a depot that registers no organisations); UploadTooLarge
        (E131) past `[transfers] max_bytes`, StorageFailure (E500) when the data directory lacks the room."""
        self.authorise(INGEST)
        registered = {o.organisation_id for o in self.upload_organisations()}
        if organisation not in registered and (organisation or self.store.directory.organisations()):
            raise NotFound(f"no organisation {organisation!r} to upload for",
                           hint="choose one of the organisations you ingest for")
        person = self.authorise(INGEST, [organisation] if organisation else None)
        limit = self.config.transfers.max_bytes
        if length <= 0:
            raise InvalidPackage(f"{filename or 'the file'} is empty: no SIP", hint="choose the packed SIP")
        if length > limit:
            raise UploadTooLarge(f"an upload of {length} bytes is larger than the {limit} bytes accepted",
                                 hint="split the SIP, or ask the administrator to raise [transfers] max_bytes")
        area = self.upload_area
        area.root.mkdir(parents=True, exist_ok=True)
        if shutil.disk_usage(area.root).free < length:
            raise StorageFailure(f"the data directory has no room for {length} bytes", location="uploads",
                                 hint="free space in the data directory, then upload again")
        return area.create(owner=person.name, organisation=organisation, length=length, filename=filename,
                           now=self.now())

    def own_upload(self, upload_id: str) -> Upload:
        """The acting person's own upload; NotFound for anybody else's, as for one that does not exist."""
        person = self.identified(INGEST)
        found = self.upload_area.find(upload_id)
        if found is None or person_key(found.owner) != person_key(person.name):
            raise NotFound(f"no upload {upload_id!r}", hint="start the upload again")
        return found

    def own_uploads(self) -> list[Upload]:
        """The acting person's uploads not yet expired, newest first."""
        person = self.identified(INGEST)
        return sorted((u for u in self.upload_area.all() if person_key(u.owner) == person_key(person.name)),
                      key=lambda u: u.created, reverse=True)

    def receive_chunk(self, upload_id: str, stream: BinaryIO, *, offset: int, count: int) -> Upload:
        """`count` bytes of `stream` added to the acting person's upload at `offset` (UploadConflict, E130, when
        that is not its offset); with its last byte it is checked and queued (`complete_upload`). An empty chunk
        at the end of a complete upload gives its outcome again (queueing it, when a crash came between its last
        byte and its queueing). Not audited chunk by chunk: the start, the end and a removal are."""
        upload = self.own_upload(upload_id)
        self.authorise(INGEST, [upload.organisation] if upload.organisation else None)
        if upload.refused:  # asked again (its answer was lost): the same answer
            raise InvalidPackage(upload.refused.partition(": ")[2], hint="pack the SIP again and upload it anew")
        if upload.complete and count == 0 and offset == upload.length:  # an empty chunk asks for the outcome
            return upload if upload.job_id else self.complete_upload(upload_id)  # (one a crash interrupted)
        grown = self.upload_area.append(upload, stream, offset=offset, count=count, now=self.now())
        return self.complete_upload(upload_id) if grown.complete else grown

    @audited("upload complete")
    def complete_upload(self, upload_id: str) -> Upload:
        """The whole upload checked (a readable zip, 7z or tar archive) and queued as an ingest job; refused
        (InvalidPackage, E300, in one line) otherwise, its bytes removed and the reason kept with it."""
        upload = self.own_upload(upload_id)
        if not upload.complete or upload.job_id or upload.refused:
            raise InputError(f"upload {upload_id} is not complete, or was handled already")
        area = self.upload_area
        try:
            check_archive(upload.data, upload.filename)
            job = self.queue_ingest(area.received_file(upload), move=True)
        except EdepotError as refused:
            upload.data.unlink(missing_ok=True)
            shutil.rmtree(upload.folder / "sip", ignore_errors=True)
            area.settle(upload, refused=f"{refused.ref}: {refused.message}")
            raise
        return area.settle(upload, job_id=job.job_id)

    @audited("upload delete")
    def delete_upload(self, upload_id: str) -> None:
        """The acting person's upload removed (what was received of it, and its record)."""
        self.upload_area.remove(self.own_upload(upload_id))

    def expire_uploads(self, *, dry_run: bool = False) -> list[Finding]:
        """Every upload nobody added to for `[transfers] expire_hours` removed (`expired_uploads`)."""
        return expired_uploads(self, dry_run=dry_run)


def upload_expires(config: Config, upload: Upload) -> datetime:
    """When `upload` is removed unless it is added to."""
    return upload.touched + timedelta(hours=config.transfers.expire_hours)


def expired_uploads(depot: DepotBase, *, dry_run: bool = False) -> list[Finding]:
    """Every upload nobody added to for `[transfers] expire_hours` removed (listed only with `dry_run`), a
    finding for each (`edepot doctor`; the worker removes them as it goes)."""
    from preservation.doctor import Finding, Status

    area = UploadArea(depot.config.data_dir / "uploads")
    findings = []
    for upload in area.all():
        if depot.now() < upload_expires(depot.config, upload):
            continue
        if not dry_run:
            try:
                area.remove(upload)
            except (EdepotError, OSError):  # a chunk is being received now: it is not abandoned
                continue
        findings.append(Finding("uploads", Status.FOUND if dry_run else Status.REMOVED, str(upload.folder),
                                f"an upload of {upload.owner}, untouched since {upload.touched:%Y-%m-%d %H:%M}"))
    return findings
