"""Writing the tag files of a BagIt bag whose payload is already in place, and reading manifests (RFC 8493 §2).

edepot hashes every payload file once for all algorithms (the digests also go into PREMIS and the
catalogue), so it writes the manifests from those digests instead of hashing again.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Mapping

from kernel.hashing import digest_file

BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


def encode_manifest_path(path: str) -> str:
    """A path for a manifest line with CR and LF percent-encoded (RFC 8493 §2.1.3).

    The RFC also asks for "%" as %25, but bagit-python 1.9 (which most validators use) does not decode
    %25, so a bag written that way would fail there; edepot writes "%" as is, as bagit-python does.
    """
    return path.replace("\r", "%0D").replace("\n", "%0A")


def decode_manifest_path(field: str) -> str:
    """The path a manifest line names (the inverse of `encode_manifest_path`)."""
    return field.replace("%0D", "\r").replace("%0d", "\r").replace("%0A", "\n").replace("%0a", "\n")


def read_manifest(path: Path) -> dict[str, str]:
    """A BagIt manifest as {path: digest}, paths decoded as edepot and bagit-python encode them."""
    return parse_manifest(path.read_text(encoding="utf-8"))


def parse_manifest(text: str) -> dict[str, str]:
    """A BagIt manifest's text as {path: digest}, paths decoded as edepot and bagit-python encode them."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        digest, _, name = line.partition(" ")
        entries[decode_manifest_path(name.lstrip(" "))] = digest.lower()
    return entries


def write_bag_tags(
    root: Path,
    payload_digests: Mapping[str, Mapping[str, int | str]],
    bag_info: Mapping[str, str],
    bagging_date: date,
    algorithms: tuple[str, ...] = ("sha256", "sha512"),
) -> dict[str, dict[str, int | str]]:
    """Write bagit.txt, bag-info.txt, manifests and tag manifests for the payload under `root/data`.

    `payload_digests` maps each payload path ("data/...") to {"size": n, "sha256": ..., "sha512": ...}.
    Returns the digests of the tag files written (tag manifests included), keyed by their names.
    """
    oxum_bytes = sum(int(d["size"]) for d in payload_digests.values())
    info = {
        **bag_info,
        "Bagging-Date": bagging_date.isoformat(),
        "Payload-Oxum": f"{oxum_bytes}.{len(payload_digests)}",
    }
    (root / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    (root / "bag-info.txt").write_text(
        "".join(f"{key}: {' '.join(str(value).split())}\n" for key, value in info.items()), encoding="utf-8"
    )
    for algorithm in algorithms:
        lines = [f"{d[algorithm]}  {encode_manifest_path(p)}\n" for p, d in sorted(payload_digests.items())]
        (root / f"manifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")

    tag_names = ["bagit.txt", "bag-info.txt", *(f"manifest-{a}.txt" for a in algorithms)]
    tag_digests: dict[str, dict[str, int | str]] = {}
    for name in tag_names:
        digests, size = digest_file(root / name, algorithms)
        tag_digests[name] = {"size": size, **digests}
    for algorithm in algorithms:
        lines = [f"{tag_digests[n][algorithm]}  {n}\n" for n in sorted(tag_names)]
        (root / f"tagmanifest-{algorithm}.txt").write_text("".join(lines), encoding="utf-8")
    for algorithm in algorithms:
        name = f"tagmanifest-{algorithm}.txt"
        digests, size = digest_file(root / name, algorithms)
        tag_digests[name] = {"size": size, **digests}
    return tag_digests
