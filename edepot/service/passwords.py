"""Web passwords as the directory keeps them: a salted scrypt hash, never the password.

    scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**15, 8, 1  # about 32 MiB and a few tens of milliseconds a check: slow to guess, quick to sign in
_MAXMEM = 64 * 1024 * 1024


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def hash_password(password: str) -> str:
    """A new salted hash of `password`."""
    salt = secrets.token_bytes(16)
    digest = _derive(password, salt, N, R, P)
    return "$".join(["scrypt", str(N), str(R), str(P), base64.b64encode(salt).decode(), base64.b64encode(digest).decode()])


def password_matches(password: str, hashed: str) -> bool:
    """Whether `password` is the one `hashed` was made from; with no hash, a hash is still made and False
    returned, so that the time taken does not tell whether a person has a password."""
    try:
        kind, n, r, p, salt, digest = hashed.split("$")
        if kind != "scrypt":
            raise ValueError(kind)
        return hmac.compare_digest(_derive(password, base64.b64decode(salt), int(n), int(r), int(p)),
                                   base64.b64decode(digest))
    except ValueError:
        _derive(password, b"no-password-here", N, R, P)
        return False
