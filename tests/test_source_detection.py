"""The other formats through the registry and the command line, as a user runs them: every corpus export
of those formats detected as its format (no ties), `edepot parse` printing one document per export that
validates against the schemas, and bad input of each format refused in one line with exit 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from referencing import Registry, Resource

from ingest.export import open_export
from ingest.sources import FORMATS, detect
from schemas import schema_path
from tests.conftest import shared_or_skip

EDEPOT = [sys.executable, "-m", "edepot.cli"]
CORPUS_FORMATS = {
    "sms-backup-restore-devadvance/sms_small.xml": ("sms-backup", 3),
    "sms-backup-restore-devadvance/sample_mms.xml": ("sms-backup", 1),
    "sms-backup-restore-devadvance/corrupt_attachments.xml": ("sms-backup", 1),
    "telegram-json-chat-miner/test_single_export.json": ("telegram", 1),
    "telegram-json-chat-miner/test_batch_export.json": ("telegram", 1),
    "telegram-desktop-json-frozenspider/telegram_2021-06_supergroup": ("telegram", 1),
    "telegram-desktop-json-frozenspider/telegram_2023-01": ("telegram", 1),
    "telegram-desktop-json-frozenspider/telegram_2023-10_audio-video/result.json": ("telegram", 1),
    "signal-export-md-chat-miner/test_export.txt": ("signal", 1),
    "meta-dyi-instagram-json-chat-miner/test_export.json": ("meta-dyi", 1),
}


def _validator(name: str) -> jsonschema.Draft202012Validator:
    one = json.loads(schema_path("conversation.schema.json").read_text(encoding="utf-8"))
    registry: Registry = Registry().with_resource(one["$id"], Resource.from_contents(one))
    return jsonschema.Draft202012Validator(json.loads(schema_path(name).read_text(encoding="utf-8")), registry=registry)


def run(*args: str | Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "EDEPOT_DATA": str(tmp_path / "data")}
    return subprocess.run([*EDEPOT, *map(str, args)], capture_output=True, text=True, env=env, timeout=300)


def test_every_format_is_registered() -> None:
    names = [f.name for f in FORMATS]
    for name in ("telegram", "signal", "meta-dyi", "sms-backup", "threema", "screenshots"):
        assert names.count(name) == 1


@pytest.mark.parametrize("relative", sorted(CORPUS_FORMATS))
def test_corpus_export_is_detected_and_printed(relative: str, tmp_path: Path) -> None:
    path = shared_or_skip() / "corpus" / relative
    expected, count = CORPUS_FORMATS[relative]
    detection = detect(open_export([path]))
    assert detection.format.name == expected, detection.evidence()
    ranked = sorted(detection.scores.values(), reverse=True)
    assert ranked[0] > ranked[1]
    result = run("parse", path, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    if count == 1:
        _validator("conversation.schema.json").validate(document)
        conversations = [document]
    else:
        _validator("conversations.schema.json").validate(document)
        conversations = document["conversations"]
    assert len(conversations) == count
    assert {c["source"]["format"] for c in conversations} == {expected}


def test_unsafe_and_truncated_input_is_one_line_exit_2(tmp_path: Path) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_text('<?xml version="1.0"?><!DOCTYPE smses [<!ENTITY e "x">]><smses count="1"><sms date="1" '
                    'type="1" address="1" body="&e;"/></smses>', encoding="utf-8")
    broken = tmp_path / "result.json"
    broken.write_text('{"personal_information": {}, "chats": {"list": [{"messages": [{"date_unixtime": "1"', encoding="utf-8")
    for path, ref in ((evil, "E103"), (broken, "E100")):
        result = run("parse", path, tmp_path=tmp_path)
        assert result.returncode == 2
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"edepot: error {ref}:"), result.stderr
