"""The web's secret key: the configured one, else the data directory's own, made once and kept private."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from kernel.atomic import fsync_dir, temporary_name
from kernel.config import Config

SECRET_KEY_FILE = "web-secret-key"


def secret_key(config: Config) -> str:
    """`[web] secret_key`, else the key in `<data-dir>/web-secret-key`, written on first use with a new random
    key readable by its owner only (0600); two processes starting at once end up with the same key."""
    if config.web.secret_key:
        return config.web.secret_key
    path = config.data_dir / SECRET_KEY_FILE
    if not path.exists():
        _write_new_key(path)
    return path.read_text(encoding="ascii").strip()


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(temporary_name(path.name))
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(50) + "\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(staged, path)  # whole or not at all, and never over a key another process has just written
        except FileExistsError:
            pass
        fsync_dir(path.parent)
    finally:
        staged.unlink(missing_ok=True)
