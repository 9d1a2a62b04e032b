"""BagIt validation of any bag (RFC 8493 and the earlier drafts 0.93-0.97), with errors and warnings apart.

bagit-python (Library of Congress) does the reading; this module runs its steps one by one so that every
finding is reported (the checksum step with edepot's threaded hashing, same findings), and adds what it
leaves out, checked against the Library of Congress BagIt conformance suite:
- refusals before bagit-python reads anything (its line reader takes time in the square of a line's length,
  and it stops with a decoding error on bytes its codec cannot read): a `bagit.txt` that is not UTF-8 or starts
  with a byte-order mark (RFC 8493 §2.1.1), a bag-info.txt over `[sip] max_bag_info_bytes`, a line of a tag
  file it parses (bagit.txt, bag-info.txt, manifests, fetch.txt) over `[sip] max_tag_line_bytes`, and such a
  tag file that is not in the bag's declared encoding;
- refusals before any file is hashed: a manifest path that climbs out of the bag (bagit-python's own check lets
  a sibling folder whose name starts with the bag's pass);
- errors: a `bagit.txt` whose lines are not exactly `Key: value` (RFC 8493 §2.1.1), a `fetch.txt` naming a path
  outside the payload (§2.2.3, §5.2), a manifest or fetch path that points outside the bag on Windows (a drive
  letter, a UNC prefix, a %VARIABLE%: bags move between systems, so the verdict must not depend on the machine
  that checks it), and every structural, completeness and checksum failure of bagit-python;
- warnings (the bag stays valid): manifest lines written by md5sum-style tools (`*` before the path), paths
  starting with `./`, a path listed twice with the same checksum (an error from BagIt 1.0 on), two manifest paths
  that differ only in Unicode normalization or in case, and operating-system litter (.DS_Store, Thumbs.db).
"""
from __future__ import annotations

import codecs
import logging
import os
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import bagit

from kernel.config import TagFileLimits
from kernel.hashing import digest_file

SPLIT_ALGORITHMS_FROM = 64 << 20  # files this large are hashed with each algorithm on its own thread
SYSTEM_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".directory"})
_WINDOWS_OUT_OF_SCOPE = re.compile(r"^(?:[A-Za-z]:|\\\\|%[^%]+%)")
_BAGIT_TXT_LINE = re.compile(r"^(BagIt-Version: \d+\.\d+|Tag-File-Character-Encoding: \S+)$")
_DECLARED_ENCODING = re.compile(r"^Tag-File-Character-Encoding\s*:\s*(\S+)\s*$", re.MULTILINE)
INFO_FILES = ("bag-info.txt", "package-info.txt")  # package-info.txt in BagIt 0.93-0.95
READ_BLOCK = 1 << 20


@dataclass(frozen=True)
class BagitFindings:
    """What checking one bag found: errors make it invalid, warnings do not."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    version: str | None
    readable: bool = True  # False: refused before bagit-python read it; nothing else may read it either

    @property
    def valid(self) -> bool:
        return not self.errors


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Refused(Exception):
    """A tag file bagit-python must not be given: its message is the finding."""


def check_bagit(root: Path, limits: TagFileLimits = TagFileLimits()) -> BagitFindings:
    """Every BagIt finding for the bag at `root` (which must hold bagit.txt); never raises for a bad bag.

    Tag files over `limits`, or not in their encoding, are refused before any is parsed: one finding, and
    `readable` False."""
    try:
        errors, encoding = _check_bagit_txt(root, limits)
        if encoding is not None:
            _check_tag_files(root, encoding, limits)
    except _Refused as refused:
        return BagitFindings((str(refused),), (), None, readable=False)
    collector = _Collect()
    logger = logging.getLogger("bagit")
    logger.addHandler(collector)
    propagate, logger.propagate = logger.propagate, False
    try:
        try:
            bag = bagit.Bag(str(root))
        except bagit.BagError as exc:
            return BagitFindings(tuple(errors + [str(exc)]), (), None)
        outside = _paths_outside(bag)
        if outside:  # bagit-python would hash them: a checksum oracle on the files beside the bag
            return BagitFindings(tuple(errors + outside), (), None, readable=False)
        errors += _run_steps(bag)
        errors += _check_fetch(bag)
        errors += _check_windows_paths(root, bag)
    finally:
        logger.removeHandler(collector)
        logger.propagate = propagate
    warnings = _manifest_warnings(root, bag)
    errors, excused = _excuse_normalization_twins(bag, root, errors)
    warnings += excused
    # bagit-python logs each failure it also raises; keep only the logged lines that are warnings alone
    warnings += [m for m in collector.messages if m not in errors and not any(m in e for e in errors)
                 and "multiple times" in m]
    version = ".".join(str(n) for n in bag.version_info)
    return BagitFindings(tuple(dict.fromkeys(errors)), tuple(dict.fromkeys(warnings)), version)


def _check_bagit_txt(root: Path, limits: TagFileLimits) -> tuple[list[str], str | None]:
    """bagit.txt's findings, and the tag-file encoding it declares (None when there is none to go on)."""
    path = root / "bagit.txt"
    try:
        size = path.stat().st_size
        if size > limits.max_tag_line_bytes:
            raise _Refused(f"bagit.txt is {size} bytes, over the limit of {limits.max_tag_line_bytes} "
                           "([sip] max_tag_line_bytes)")
        raw = path.read_bytes()
    except OSError as exc:
        return [f"bagit.txt cannot be read: {exc.strerror}"], None
    if raw.startswith(codecs.BOM_UTF8):
        raise _Refused("bagit.txt starts with a byte-order mark, which RFC 8493 §2.1.1 forbids")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(f"bagit.txt is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}), "
                       "as RFC 8493 §2.1.1 requires") from None
    errors = [f"bagit.txt line {n}: {line!r} is not 'BagIt-Version: M.N' or 'Tag-File-Character-Encoding: NAME'"
              for n, line in enumerate(text.splitlines(), 1) if line and not _BAGIT_TXT_LINE.match(line)]
    declared = _DECLARED_ENCODING.search(text)
    try:
        return errors, codecs.lookup(declared.group(1)).name if declared else None
    except LookupError:
        return errors, None  # bagit-python reports it: "Unsupported encoding"


def _check_tag_files(root: Path, encoding: str, limits: TagFileLimits) -> None:
    """The tag files bagit-python parses line by line, checked before it does: size, line length, encoding."""
    for name in INFO_FILES:
        size = (root / name).stat().st_size if (root / name).is_file() else 0
        if size > limits.max_bag_info_bytes:
            raise _Refused(f"{name} is {size} bytes, over the limit of {limits.max_bag_info_bytes} "
                           "([sip] max_bag_info_bytes)")
    parsed = [root / name for name in (*INFO_FILES, "fetch.txt")] + sorted(root.glob("manifest-*.txt")) + sorted(
        root.glob("tagmanifest-*.txt"))
    for path in parsed:
        if path.is_file():
            _check_lines(path, encoding, limits.max_tag_line_bytes)


def _check_lines(path: Path, encoding: str, max_line_bytes: int) -> None:
    """Every line of `path` decodes in `encoding` and is at most `max_line_bytes` long; read in blocks, so a
    file of any size, with lines of any length, is judged in one linear pass."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    unfinished, line_number, offset = "", 1, 0

    def too_long(line: str) -> bool:  # a character takes one to four bytes
        return len(line) > max_line_bytes or (
            len(line) * 4 > max_line_bytes and len(line.encode(encoding)) > max_line_bytes)

    with open(path, "rb") as stream:
        while True:
            block = stream.read(READ_BLOCK)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                raise _Refused(f"{path.name} is not {encoding} (byte {offset + exc.start})") from None
            offset += len(block)
            # the line breaks of bagit-python's reader (str.splitlines); a line's own break counts towards it
            lines = (unfinished + text).splitlines(keepends=True)
            longer = next((n for n, line in enumerate(lines) if too_long(line)), None) if (
                lines and max(map(len, lines)) * 4 > max_line_bytes) else None
            if longer is not None:
                raise _Refused(f"{path.name} line {line_number + longer} is longer than {max_line_bytes} bytes "
                               "([sip] max_tag_line_bytes)")
            unfinished = lines.pop() if lines and lines[-1].splitlines() == [lines[-1]] and block else ""
            line_number += len(lines)
            if not block:
                return


def _paths_outside(bag: bagit.Bag) -> list[str]:
    """Manifest paths that climb out of the bag. bagit-python lets `data/../../<bag name>-x/file` pass (it
    compares the resolved path with the bag's as strings, and `/in/bag-x` starts with `/in/bag`)."""
    return [f'Path "{path}" in a manifest is outside the bag' for path in sorted(bag.entries)
            if os.path.isabs(path) or ".." in path.split("/")]


def _run_steps(bag: bagit.Bag) -> list[str]:
    """Structure, Payload-Oxum, completeness and every checksum; `Bag.validate` would stop at the first."""
    details: list[str] = []
    steps = (bag._validate_structure, bag._validate_bagittxt, bag._validate_oxum, bag._validate_completeness,
             lambda: _validate_entries(bag))
    for step in steps:
        try:
            step()
        except bagit.BagValidationError as exc:
            details += [str(d) for d in exc.details] or [str(exc.message)]
        except bagit.BagError as exc:
            details.append(str(exc))
            break
    return details


def _validate_entries(bag: bagit.Bag) -> None:
    """bagit-python's checksum step, with its findings and messages, hashed in threads: every file read once
    for all its algorithms, and a large file read once per algorithm at the same time, so one big export
    does not leave a core idle (hashlib works outside the interpreter lock)."""
    root = Path(bag.path)
    tasks: list[tuple[str, tuple[str, ...]]] = []
    for relative, expected in bag.entries.items():
        algorithms = tuple(a for a in expected if a in bag.algorithms)
        path = root / bag.normalized_filesystem_names.get(relative, relative)
        try:
            large = path.stat().st_size >= SPLIT_ALGORITHMS_FROM
        except OSError:
            large = False
        tasks += [(relative, (a,)) for a in algorithms] if large else [(relative, algorithms)]

    def digest(task: tuple[str, tuple[str, ...]]) -> dict[str, str]:
        relative, algorithms = task
        try:
            return digest_file(root / bag.normalized_filesystem_names.get(relative, relative), algorithms)[0]
        except OSError as exc:  # as bagit-python: the failure stands in for the digest, so it mismatches
            return {a: f"could not read {relative}: {exc}" for a in algorithms}

    found: dict[str, dict[str, str]] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for (relative, _algorithms), digests in zip(tasks, pool.map(digest, tasks)):
            found.setdefault(relative, {}).update(digests)
    errors = [bagit.ChecksumMismatch(relative, algorithm, stored.lower(), found[relative][algorithm])
              for relative, expected in bag.entries.items() for algorithm, stored in expected.items()
              if algorithm in found.get(relative, {}) and stored.lower() != found[relative][algorithm]]
    if errors:
        raise bagit.BagValidationError("Bag validation failed", errors)


def _check_fetch(bag: bagit.Bag) -> list[str]:
    try:
        list(bag.fetch_entries())
    except bagit.BagError as exc:
        return [str(exc)]
    except ValueError:
        return ["fetch.txt has a line that is not 'URL LENGTH PATH'"]
    return []


def _check_windows_paths(root: Path, bag: bagit.Bag) -> list[str]:
    paths = [(path, "a manifest") for path in bag.entries]
    fetch = root / "fetch.txt"
    if fetch.is_file():
        for line in fetch.read_text(encoding=bag.encoding or "utf-8", errors="replace").splitlines():
            parts = line.strip().split(None, 2)
            if len(parts) == 3:
                paths.append((parts[2], "fetch.txt"))
    return [f'Path "{path}" in {where} is outside the bag on Windows' for path, where in paths
            if _WINDOWS_OUT_OF_SCOPE.match(path)]


def _manifest_warnings(root: Path, bag: bagit.Bag) -> list[str]:
    warnings: list[str] = []
    for manifest in sorted(root.glob("manifest-*.txt")) + sorted(root.glob("tagmanifest-*.txt")):
        try:
            lines = manifest.read_text(encoding=bag.encoding or "utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            _, _, path = line.strip().partition(" ")
            path = path.strip()
            if path.startswith("*"):
                warnings.append(f"{manifest.name}: '{path}' carries md5sum's binary marker '*'")
            elif path.startswith("./"):
                warnings.append(f"{manifest.name}: '{path}' starts with './'")
    listed = sorted(bag.entries)
    by_case: dict[str, list[str]] = {}
    for path in listed:
        by_case.setdefault(unicodedata.normalize("NFC", path).casefold(), []).append(path)
    for paths in by_case.values():
        if len({unicodedata.normalize("NFC", p) for p in paths}) > 1:
            warnings.append(f"manifest paths differ only in case: {', '.join(paths)}")
    for path in listed:
        if Path(path).name in SYSTEM_FILES:
            warnings.append(f"{path} is an operating system's file, not a record")
    return warnings


def _excuse_normalization_twins(bag: bagit.Bag, root: Path, errors: list[str]) -> tuple[list[str], list[str]]:
    """A path listed in two Unicode normalizations of which one is on disk: a warning, not two failures."""
    groups: dict[str, list[str]] = {}
    for path in bag.entries:
        groups.setdefault(unicodedata.normalize("NFC", path), []).append(path)
    excused_paths: set[str] = set()
    warnings: list[str] = []
    for paths in groups.values():
        if len(paths) < 2:
            continue
        on_disk = [p for p in paths if (root / p).is_file()]
        hashes = {tuple(sorted(bag.entries[p].items())) for p in paths}
        if on_disk and len(hashes) == 1:
            excused_paths.update(p for p in paths if p not in on_disk)
            warnings.append(f"{paths[0]!r} is listed {len(paths)} times in different Unicode normalizations")
    kept = [e for e in errors if not any(e.startswith(f"{p} ") for p in excused_paths)]
    return kept, warnings
