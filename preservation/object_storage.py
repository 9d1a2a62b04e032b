"""Archival Storage on object storage: an S3 bucket (or a prefix in one) as a storage location, beside folders.

The layout mirrors a folder location's: a blob `<AIP id>/<path>` is the object `<prefix>/<id[0:2]>/<id>/<path>`,
the event journal's segments are `<prefix>/journal/<yyyy-mm>/<name>.jsonl`, the location's identity is
`<prefix>/.edepot-location.json`. An object store has no rename, so a bag is made whole another way: ingest
uploads every file of the bag under its key, then writes the AIP's completion marker
`<prefix>/.edepot/complete/<AIP id>` last. A bag without its marker is not there: `get`, `digest`, `stat`, `list`
and `aip_ids` do not see it (an interrupted upload, or a bag being destroyed), and the next publication of that
AIP replaces it. Removing an AIP writes a tombstone `<prefix>/.edepot/destroying/<AIP id>` first, then removes the
completion marker and every object, then the tombstone: a re-run finishes what a crash left.

`put` verifies the digests it is given before it sends a small blob, and computes them while it streams a large
one, deleting what it wrote when they differ;
journal segments are written only when no object has their name (a conditional write).

Credentials are never in the catalogue or a job: boto3 takes them from the AWS environment variables (or its own
configuration files), unless the location names a `secrets` file (TOML: `access_key_id`, `secret_access_key`,
optionally `session_token`). A location is addressed in the catalogue as
`s3://<bucket>/<prefix>?endpoint_url=…&region=…&secrets=…` (the secrets file's path, never what it holds).
"""
from __future__ import annotations

import errno
import hashlib
import io
import json
import shutil
import threading
import tomllib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, cast
from urllib.parse import parse_qs, urlencode, urlsplit

from kernel.atomic import DigestMismatch
from kernel.config import ObjectStoreSetting
from kernel.errors import InputError
from kernel.hashing import digest_file, digest_stream
from preservation.blobstore import BlobInfo, BlobNotFound

SCHEME = "s3://"
COMPLETE = ".edepot/complete/"  # <AIP id>: the bag is whole
DESTROYING = ".edepot/destroying/"  # <AIP id>: the bag is being removed
MARKER = ".edepot-location.json"
JOURNAL = "journal/"
UPLOAD_THREADS = 8  # uploads wait on the network: more than the cores
SMALL = 8 << 20  # a blob smaller than this is put in one request; a larger one is streamed in parts


class ObjectStoreError(OSError):
    """The object store refused or failed a request (an I/O error of that storage location: a StorageFailure)."""


class ObjectStoreLocation:
    """An AIP store in an S3 bucket, known by its stable `id` (its `name` is for people). `scratch` is a local
    folder where a bag is assembled before it is uploaded (`open_incoming`)."""

    def __init__(self, setting: ObjectStoreSetting, *, name: str | None = None, scratch: Path | None = None) -> None:
        self.setting = setting
        self.id = setting.id
        self.name = name or setting.name or setting.id
        self.scratch = scratch
        self._prefix = f"{setting.prefix.strip('/')}/" if setting.prefix.strip("/") else ""
        self._complete: set[str] = set()  # AIPs whose completion marker was seen (or written) by this object

    @property
    def address(self) -> str:
        """Where this location is, as the catalogue registers it: `s3://bucket/prefix?endpoint_url=…` (no secret)."""
        options = {key: str(value) for key, value in (("endpoint_url", self.setting.endpoint_url),
                                                     ("region", self.setting.region),
                                                     ("secrets", self.setting.secrets)) if value}
        base = f"{SCHEME}{self.setting.bucket}/{self.setting.prefix.strip('/')}".rstrip("/")
        return base + (f"?{urlencode(options)}" if options else "")

    def bag_address(self, aip_id: str) -> str:
        """Where the AIP's bag is (whether or not it is there), as a replica records it."""
        return f"{SCHEME}{self.setting.bucket}/{self._bag_prefix(aip_id)}"

    # -- ingest: a bag assembled in a local folder, then uploaded, its completion marker last

    def store_bag(self, staged_bag: Path, aip_id: str) -> str:
        """Upload a finished bag under `aip_id` (completion marker last); replaces a leftover of an earlier run."""
        return self._upload_bag(staged_bag, aip_id)

    def open_incoming(self, aip_id: str, announce: Callable[[Path], None] = lambda _path: None) -> Path:
        """A new private local folder (in `scratch`) in which the bag of `aip_id` is assembled before `publish_bag`."""
        if self.scratch is None:
            raise ValueError(f"storage location {self.name} has no local folder to assemble bags in")
        self.scratch.mkdir(parents=True, exist_ok=True)
        for stale in self.scratch.glob(f"{self.id}-{aip_id}.*"):  # left by an interrupted ingest of the same AIP
            shutil.rmtree(stale, ignore_errors=True)
        incoming = self.scratch / f"{self.id}-{aip_id}.{uuid.uuid4().hex}"
        announce(incoming)
        incoming.mkdir()
        return incoming

    def publish_bag(self, incoming: Path, aip_id: str) -> str:
        """Upload the bag assembled in `incoming` as the AIP's bag (its completion marker last), then remove
        `incoming`; returns where it is."""
        address = self._upload_bag(incoming, aip_id)
        shutil.rmtree(incoming, ignore_errors=True)
        return address

    def _upload_bag(self, folder: Path, aip_id: str) -> str:
        _check_aip_id(aip_id)
        self._delete_object(f"{self._prefix}{COMPLETE}{aip_id}")  # a leftover of an earlier run is not there now
        self._complete.discard(aip_id)
        files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
        stale = set(self._keys(self._bag_prefix(aip_id))) - {self._object_key(aip_key) for aip_key in
                                                              (f"{aip_id}/{f}" for f in files)}

        def upload(relative: str) -> None:
            digests = digest_file(folder / relative, ("sha256",))[0]
            with open(folder / relative, "rb") as stream:
                self.put(f"{aip_id}/{relative}", stream, digests=digests)

        with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
            list(pool.map(upload, files))
        self._delete_keys(sorted(stale))
        self._put_object(f"{self._prefix}{COMPLETE}{aip_id}", json.dumps(
            {"aip_id": aip_id, "files": len(files)}).encode("utf-8"))
        self._complete.add(aip_id)
        return self.bag_address(aip_id)

    def complete_aip(self, aip_id: str) -> None:
        """Mark the AIP's bag, every blob of it put (a replica rebuilt by fixity), as whole: its completion marker."""
        _check_aip_id(aip_id)
        self._put_object(f"{self._prefix}{COMPLETE}{aip_id}", json.dumps({"aip_id": aip_id}).encode("utf-8"))
        self._complete.add(aip_id)

    def aip_ids(self) -> Iterator[str]:
        """Every AIP whose bag is whole here (has its completion marker), in order."""
        marker = f"{self._prefix}{COMPLETE}"
        for key in self._keys(marker):
            yield key[len(marker):]

    # -- the BlobStore port (preservation/blobstore.py)

    def put(self, key: str, stream: BinaryIO, *, digests: Mapping[str, str]) -> BlobInfo:
        """Upload `stream` under `key`, computing its digests on the way; when they differ from `digests`, the
        object is deleted again and DigestMismatch raised."""
        target = self._object_key(key)
        head = _read_up_to(stream, SMALL)
        if len(head) < SMALL:  # the whole blob in hand: verified before it is sent, in one request
            if any(hashlib.new(name, head).hexdigest() != want.lower() for name, want in digests.items()):
                raise DigestMismatch(f"{key}: the bytes do not have the digests they must have")
            self._put_object(target, head)
            return BlobInfo(key, len(head))
        hashing = _Hashing(stream, digests, head)
        self._call("put", key, lambda: self.client.upload_fileobj(
            cast(BinaryIO, io.BufferedReader(hashing, 1 << 20)), self.setting.bucket, target))
        found = {name: h.hexdigest() for name, h in hashing.hashers.items()}
        if any(found[name] != want.lower() for name, want in digests.items()):
            self._delete_object(target)
            raise DigestMismatch(f"{key}: the bytes do not have the digests they must have")
        return BlobInfo(key, hashing.size)

    @contextmanager
    def get(self, key: str, *, start: int = 0, end: int | None = None) -> Iterator[BinaryIO]:
        """The blob's bytes (from `start` up to `end`, by a Range request) as a stream; BlobNotFound."""
        self._require_complete(key)
        if end is not None and end <= start:
            yield cast(BinaryIO, io.BytesIO(b""))
            return
        extra = {"Range": f"bytes={start}-{'' if end is None else end - 1}"} if start or end is not None else {}
        try:
            answer = self._call("get", key, lambda: self.client.get_object(
                Bucket=self.setting.bucket, Key=self._object_key(key), **extra))
        except _InvalidRange:  # starts at or past the end
            yield cast(BinaryIO, io.BytesIO(b""))
            return
        body = answer["Body"]
        try:
            yield cast(BinaryIO, io.BufferedReader(_Body(body, self, key), 1 << 20))
        finally:
            body.close()

    def digest(self, key: str, algorithms: Sequence[str]) -> tuple[dict[str, str], int]:
        """Hex digests and size of the blob's bytes as stored now, read once; BlobNotFound."""
        with self.get(key) as stream:
            return digest_stream(stream, algorithms)

    def stat(self, key: str) -> BlobInfo | None:
        """The blob's size, or None."""
        try:
            self._require_complete(key)
            answer = self._call("stat", key, lambda: self.client.head_object(
                Bucket=self.setting.bucket, Key=self._object_key(key)))
        except BlobNotFound:
            return None
        return BlobInfo(key, int(answer["ContentLength"]))

    def list(self, prefix: str) -> Iterator[str]:
        """Every key of a whole bag starting with `prefix` ("" or "<AIP id>/…")."""
        if not prefix:
            for aip_id in self.aip_ids():
                yield from self.list(f"{aip_id}/")
            return
        aip_id, _, rest = prefix.partition("/")
        if aip_id not in self._complete and not self._has_marker(aip_id):
            return
        bag = self._bag_prefix(aip_id)
        for key in self._keys(bag + rest):
            yield f"{aip_id}/{key[len(bag):]}"

    def delete(self, key: str) -> bool:
        """Remove the blob; whether there was one."""
        target = self._object_key(key)
        there = self._exists(target)
        self._delete_object(target)
        return there

    def delete_aip(self, aip_id: str) -> bool:
        """Remove the AIP's bag in steps a re-run finishes: a tombstone, then the completion marker (from here on
        the bag is not there), then every object, then the tombstone; whether anything of it was there."""
        _check_aip_id(aip_id)
        tombstone, marker = f"{self._prefix}{DESTROYING}{aip_id}", f"{self._prefix}{COMPLETE}{aip_id}"
        keys = sorted(self._keys(self._bag_prefix(aip_id)))
        there = bool(keys) or self._exists(marker) or self._exists(tombstone)
        if not there:
            return False
        self._put_object(tombstone, b"")
        self._delete_object(marker)
        self._complete.discard(aip_id)
        self._delete_keys(keys)
        self._delete_object(tombstone)
        return True

    # -- the event journal: immutable segments

    def put_segment(self, name: str, data: bytes) -> None:
        """Write the segment only if no object has its name (a conditional write); FileExistsError when one holds
        other bytes."""
        key = self._segment_key(name)
        try:
            self._call("put", key, lambda: self.client.put_object(
                Bucket=self.setting.bucket, Key=key, Body=data, IfNoneMatch="*"))
        except _PreconditionFailed:
            if self.get_segment(name) != data:
                raise FileExistsError(errno.EEXIST, "a journal segment is never changed", f"{self.address} {name}")

    def get_segment(self, name: str) -> bytes:
        """The segment's bytes; BlobNotFound."""
        key = self._segment_key(name)
        answer = self._call("get", f"{JOURNAL}{name}", lambda: self.client.get_object(
            Bucket=self.setting.bucket, Key=key))
        with answer["Body"] as body:
            return cast(bytes, body.read())

    def segments(self) -> Iterator[str]:
        """Every segment's name, in order of name (of time)."""
        journal = f"{self._prefix}{JOURNAL}"
        for key in self._keys(journal):
            name = key[len(journal):]
            month, _, file = name.partition("/")
            if month and file.endswith(".jsonl") and "/" not in file and not file.startswith("."):
                yield name

    # -- the location's identity

    def read_marker(self) -> dict[str, str] | None:
        """The identity and name this location holds, if it holds them."""
        try:
            answer = self._call("get", MARKER, lambda: self.client.get_object(
                Bucket=self.setting.bucket, Key=f"{self._prefix}{MARKER}"))
            with answer["Body"] as body:
                held = json.loads(body.read())
        except (OSError, BlobNotFound, ValueError):
            return None
        if not isinstance(held, dict) or not isinstance(held.get("id"), str):
            return None
        return {"id": held["id"], "name": str(held.get("name") or held["id"])}

    def write_marker(self, identity: dict[str, str]) -> None:
        """Write the identity and name into the location."""
        self._put_object(f"{self._prefix}{MARKER}", json.dumps(identity, ensure_ascii=False).encode("utf-8") + b"\n")

    def reachable(self) -> str | None:
        """Why the bucket cannot be reached (or written), or None when it can."""
        probe = f"{self._prefix}.edepot/probe-{uuid.uuid4().hex}"
        try:
            self._put_object(probe, b"")
            self._delete_object(probe)
        except OSError as error:
            return str(error.strerror or error)
        return None

    # -- the client and the keys

    @property
    def client(self) -> Any:
        """The S3 client of this location's settings, made once a process (making one takes a good part of a
        second; boto3's clients may be shared between threads)."""
        key = (self.setting.endpoint_url, self.setting.region, self.setting.secrets)
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = _make_client(self.setting)
        return client

    def _object_key(self, key: str) -> str:
        aip_id, _, relative = key.partition("/")
        if not aip_id or aip_id.startswith(".") or any(p in ("", ".", "..") for p in relative.split("/")):
            raise ValueError(f"not a blob key: {key!r}")
        return f"{self._bag_prefix(aip_id)}{relative}"

    def _bag_prefix(self, aip_id: str) -> str:
        return f"{self._prefix}{aip_id[:2]}/{aip_id}/"

    def _segment_key(self, name: str) -> str:
        month, _, file = name.partition("/")
        if not month or not file.endswith(".jsonl") or "/" in file or month.startswith(".") or file.startswith("."):
            raise ValueError(f"not a journal segment: {name!r}")
        return f"{self._prefix}{JOURNAL}{name}"

    def _require_complete(self, key: str) -> None:
        aip_id = key.partition("/")[0]
        if aip_id not in self._complete and not self._has_marker(aip_id):
            raise BlobNotFound(key)

    def _has_marker(self, aip_id: str) -> bool:
        if self._exists(f"{self._prefix}{COMPLETE}{aip_id}"):
            self._complete.add(aip_id)
            return True
        return False

    def _exists(self, object_key: str) -> bool:
        try:
            self._call("stat", object_key, lambda: self.client.head_object(Bucket=self.setting.bucket,
                                                                             Key=object_key))
        except BlobNotFound:
            return False
        return True

    def _keys(self, prefix: str) -> Iterator[str]:
        pages = iter(self.client.get_paginator("list_objects_v2").paginate(Bucket=self.setting.bucket,
                                                                           Prefix=prefix))
        while True:
            page = self._call("list", prefix, lambda: next(pages, None))
            if page is None:
                return
            yield from (item["Key"] for item in page.get("Contents", []))

    def _put_object(self, object_key: str, data: bytes) -> None:
        self._call("put", object_key, lambda: self.client.put_object(Bucket=self.setting.bucket, Key=object_key,
                                                                     Body=data))

    def _delete_object(self, object_key: str) -> None:
        self._call("delete", object_key, lambda: self.client.delete_object(Bucket=self.setting.bucket,
                                                                           Key=object_key))

    def _delete_keys(self, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), 1000):  # S3 deletes at most 1000 objects a request
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            answer = self._call("delete", batch[0]["Key"], lambda: self.client.delete_objects(
                Bucket=self.setting.bucket, Delete={"Objects": batch, "Quiet": True}))
            if answer.get("Errors"):
                failed = answer["Errors"][0]
                raise ObjectStoreError(errno.EIO, f"{failed.get('Code')}: {failed.get('Message')}",
                                       f"{self.address} {failed.get('Key')}")

    def _call(self, action: str, key: str, request: Callable[[], Any]) -> Any:
        """Run one request; a missing object is BlobNotFound, a refused write of a conditional put
        _PreconditionFailed, any other failure an ObjectStoreError naming the location."""
        from boto3.exceptions import Boto3Error  # a failed upload_fileobj: S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return request()
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("NoSuchKey", "404", "NotFound") or (status == 404 and code != "NoSuchBucket"):
                raise BlobNotFound(key) from None
            if code == "PreconditionFailed" or status == 412:
                raise _PreconditionFailed(key) from None
            if code == "InvalidRange" or status == 416:
                raise _InvalidRange(key) from None
            raise ObjectStoreError(errno.EIO, f"{action} {key}: {code or status}: {error}", self.address) from None
        except (BotoCoreError, Boto3Error) as error:
            raise ObjectStoreError(errno.EIO, f"{action} {key}: {error}", self.address) from None


def object_store_at(address: str, *, identity: str, name: str, scratch: Path | None = None) -> ObjectStoreLocation:
    """The object store at a registered address (`ObjectStoreLocation.address`)."""
    parts = urlsplit(address)
    options = {key: values[0] for key, values in parse_qs(parts.query).items()}
    secrets = options.get("secrets")
    return ObjectStoreLocation(ObjectStoreSetting(identity, parts.netloc, name, parts.path.strip("/"),
                                                  options.get("endpoint_url"), options.get("region"),
                                                  Path(secrets) if secrets else None), scratch=scratch)


def is_object_address(address: str) -> bool:
    """Whether a registered location (or replica) address is in object storage."""
    return address.startswith(SCHEME)


_clients: dict[tuple[str | None, str | None, Path | None], Any] = {}  # by endpoint, region and secrets
_clients_lock = threading.Lock()


def _make_client(setting: ObjectStoreSetting) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    credentials: dict[str, str] = {}
    if setting.secrets is not None:
        try:
            held = tomllib.loads(setting.secrets.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"storage location {setting.id}: its secrets file {setting.secrets} cannot be read: "
                             f"{error}") from None
        credentials = {f"aws_{key}": str(held[key]) for key in ("access_key_id", "secret_access_key",
                                                                 "session_token") if held.get(key)}
    return boto3.session.Session().client(
        "s3", endpoint_url=setting.endpoint_url, region_name=setting.region, **credentials,
        config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32,
                          connect_timeout=10, read_timeout=60,
                          request_checksum_calculation="when_required", response_checksum_validation="when_required"))


def _read_up_to(stream: BinaryIO, size: int) -> bytes:
    """`size` bytes of `stream`, fewer only at its end (a raw stream may give less at a time)."""
    chunks, left = [], size
    while left and (chunk := stream.read(left)):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _check_aip_id(aip_id: str) -> None:
    if not aip_id or aip_id.startswith(".") or "/" in aip_id:
        raise ValueError(f"not an AIP identifier: {aip_id!r}")


class _PreconditionFailed(Exception):
    pass


class _InvalidRange(Exception):
    pass


class _Hashing(io.RawIOBase):
    """The rest of `stream`, hashed (every algorithm in `digests`) and counted as it is read."""

    def __init__(self, stream: BinaryIO, digests: Mapping[str, str], head: bytes = b"") -> None:
        self._stream, self._head = stream, head  # `head`: what was read of `stream` already
        self.hashers = {name: hashlib.new(name) for name in digests}
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            data, self._head = self._head[:len(view)], self._head[len(view):]
        else:
            data = self._stream.read(len(view))
        n = len(data)
        view[:n] = data
        self.size += n
        for hasher in self.hashers.values():
            hasher.update(data)
        return n


class _Body(io.RawIOBase):
    """An object's body as a raw stream; a failed read is an ObjectStoreError naming the location."""

    def __init__(self, body: Any, store: ObjectStoreLocation, key: str) -> None:
        self._body, self._store, self._key = body, store, key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._store._call("get", self._key, lambda: self._body.read(len(view)))
        view[:len(data)] = data
        return len(data)
