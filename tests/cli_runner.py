"""Runs the edepot command line in-process as a named person with their own token, as its users do."""
from __future__ import annotations

import contextlib
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from edepot.cli import main


@dataclass
class Depot:
    data: Path
    tokens: dict[str, str] = field(default_factory=dict)
    aips: dict[str, str] = field(default_factory=dict)  # een, gesloten, twee → AIP id
    records: dict[str, str] = field(default_factory=dict)
    actions: int = 0
    catalogue_url: str | None = None  # None: the data directory's SQLite file

    def run(self, person: str | None, *args: str, token: str | None = None) -> tuple[int, str, str]:
        """`edepot ARGS` as `person`, with their own token unless another is given; counts each command that
        reached the Depot service (every one but a usage error), which the audit log must hold."""
        env = {"EDEPOT_USER": person or "", "EDEPOT_TOKEN": token if token is not None else self.tokens.get(person or "", "")}
        saved = {k: os.environ.get(k) for k in env}
        out, err = io.StringIO(), io.StringIO()
        try:
            os.environ.update(env)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(["--data-dir", str(self.data), *args])
                except SystemExit as exit_:  # a usage error
                    code = int(exit_.code or 0)
                else:
                    self.actions += 1
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return code, out.getvalue(), err.getvalue()

    def ok(self, person: str | None, *args: str) -> dict:
        code, out, err = self.run(person, *args, "--json")
        assert code == 0, err
        return json.loads(out)
