"""A real S3 server on loopback for the tests: moto's server in a thread of the test process, on a free port at
127.0.0.1, started once per session. Each test gets a bucket of its own; edepot talks to it with boto3 over HTTP,
as it would to any S3 service (nothing of boto3 is mocked)."""
from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REGION = "eu-west-1"


def moto_or_skip() -> Any:
    """moto's threaded server class; a skip when moto is not installed, outside CI (in CI, a failure)."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("moto[server] is not installed, and CI is set")
        pytest.skip("moto[server] is not installed")
    return ThreadedMotoServer


@dataclass
class ObjectStoreServer:
    """A running S3 server: its endpoint, and a client for tests to look at (or damage) what edepot stored."""

    endpoint_url: str
    client: Any

    def bucket(self) -> str:
        """A new empty bucket."""
        name = f"edepot-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def location_toml(self, identity: str, bucket: str, *, prefix: str = "archief", secrets: Path | None = None,
                      name: str | None = None) -> str:
        """A `[[storage.locations]]` table of kind s3 for edepot.toml."""
        lines = ["[[storage.locations]]", 'kind = "s3"', f'id = "{identity}"', f'bucket = "{bucket}"',
                 f'prefix = "{prefix}"', f'endpoint_url = "{self.endpoint_url}"', f'region = "{REGION}"']
        lines += [f'name = "{name}"'] if name else []
        lines += [f'secrets = "{secrets}"'] if secrets else []
        return "\n".join(lines) + "\n"


def start() -> tuple[Any, ObjectStoreServer]:
    """Start the server (returned to be stopped) with a client on it."""
    import boto3

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line a request otherwise
    server = moto_or_skip()(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="edepot-test",
                          aws_secret_access_key="edepot-test-secret")
    return server, ObjectStoreServer(endpoint, client)
