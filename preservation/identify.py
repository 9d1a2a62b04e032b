"""Format identification with FIDO and PRONOM, in-process (OAIS Ingest: "identify" before normalisation).

Implements the identification step of DESIGN.md's data flow with FIDO 1.6.1 and the PRONOM release it ships
(read from FIDO's `conf/versions.xml`). FIDO's signatures are loaded once per process, not once per file as
Archivematica does by starting `fido` for every file. Behaviour follows siegfried's model: every result
records its basis and warnings, and one unreadable file is a result with basis "fail", never an exception that
ends the run.

FIDO's own matching looks up each of its ~2,300 regular expressions through Python's `re` cache, which holds
fewer entries than that, so every file recompiles them all; `_CompiledFido` compiles them once and applies the
same patterns in the same order with the same priority rules, so it reports the PUIDs `fido` itself reports.
Most signatures fix the byte at some offset of the file (a magic number at offset 0, or after a fixed number of
bytes); they are only tried on files holding such a byte there, which leaves about a tenth of the patterns to try
on a typical file.
Deviation from the `fido` command: a zero-byte file is reported as "fail" (there are no bytes to identify),
where `fido` guesses from the extension.

A file edepot wrote itself in a format it knows (the canonical conversation JSON, a selection statement) is
recorded as that format (`as_written`), not as what a signature tool guesses: FIDO calls any `.json` "Tweet
JSON" (fmt/1311) for want of a signature. The tool's verdict is kept beside it by the caller.
"""
from __future__ import annotations

import contextlib
import io
import os
import re
import re._constants as sre_constants  # the parsed form of a pattern, to read which bytes it can start with
import re._parser as sre_parser
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import fido
from fido.fido import Fido

FIDO_CONF_DIR = Path(fido.CONFIG_DIR)
TOOL = f"fido {fido.__version__}"


@dataclass(frozen=True)
class Identification:
    """What one file is, how that was decided, and anything the archivist should know about it."""

    puid: str | None  # PRONOM unique identifier, e.g. "fmt/43"; None when nothing matched
    format_name: str | None
    format_version: str | None
    mime_type: str | None
    basis: str  # "signature: NAME", "container: NAME", "extension: .EXT" or "fail"
    tool: str  # e.g. "fido 1.6.1"
    signature_release: str  # e.g. "PRONOM v109"
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class WrittenFormat:
    """A PRONOM format edepot writes files in."""

    puid: str
    format_name: str
    mime_type: str


JSON = WrittenFormat("fmt/817", "JSON Data Interchange Format", "application/json")


def as_written(found: Identification, written: WrittenFormat, *, writer: str, why: str) -> Identification:
    """The identification of a file `writer` (e.g. "edepot 1.2") wrote in the format `written`: that format,
    declared, with `why` as its basis; `found` (the tool's own verdict) gives the PRONOM release."""
    return Identification(written.puid, written.format_name, None, written.mime_type, f"declared: {why}", writer,
                          found.signature_release)


@dataclass(frozen=True)
class _SignatureFiles:
    """The signature files of FIDO's configuration, as named by its versions.xml."""

    release: str
    format_files: tuple[str, ...]
    container_file: str


def _read_signature_files(conf_dir: Path) -> _SignatureFiles:
    root = ET.parse(conf_dir / "versions.xml").getroot()
    return _SignatureFiles(
        release=f"PRONOM v{root.findtext('pronomVersion')}",
        format_files=(root.findtext("pronomSignature") or "", root.findtext("fidoExtensionSignature") or ""),
        container_file=root.findtext("pronomContainerSignature") or "",
    )


# One compiled pattern: (position, compiled regex); position is "BOF", "EOF" or "VAR"/"IFB".
_Pattern = tuple[str, "re.Pattern[bytes]"]
_Signature = tuple[str, tuple[_Pattern, ...]]
_Match = Callable[[bytes], "re.Match[bytes] | None"]


@dataclass(frozen=True)
class _CompiledFormat:
    puid: str
    element: ET.Element
    signatures: tuple[_Signature, ...]


class _CompiledFido(Fido):
    """FIDO with its regular expressions compiled once and its container signatures extracted once.

    `match_formats` is FIDO 1.6.1's algorithm unchanged in its results: formats in file order, a format skipped
    when one already matched has priority over it, all patterns of a signature must match (BOF anchored at the
    start of the first buffer, EOF searched in the last buffer, VAR/IFB searched in the first), and inferior
    matches removed at the end.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._compiled = self._compile_formats()
        self._container_signatures: dict[str, dict[str, Any]] = {}
        self._index = _SignatureIndex(self._compiled or ())

    def _compile_formats(self) -> tuple[_CompiledFormat, ...] | None:
        compiled = []
        try:
            for element in self.formats:
                signatures = tuple(
                    (
                        sig.findtext("name") or "",
                        tuple((self.get_pos(pat), re.compile(self.get_regex(pat))) for pat in self.get_patterns(sig)),
                    )
                    for sig in self.get_signatures(element)
                )
                compiled.append(_CompiledFormat(self.get_puid(element), element, signatures))
        except (re.error, AttributeError, TypeError):
            return None  # a pattern FIDO itself would trip over: keep FIDO's own matching and its error handling
        return tuple(compiled)

    def match_formats(self, bofbuffer: bytes, eofbuffer: bytes) -> list[tuple[ET.Element, str]]:
        if self._compiled is None:
            return super().match_formats(bofbuffer, eofbuffer)
        self.current_count += 1
        priority = self.puid_has_priority_over_map
        result: list[tuple[ET.Element, str]] = []
        matched_puids: list[str] = []
        outranked: set[str] = set()  # PUIDs that a format already matched has priority over
        # a signature left out cannot match, so skipping it changes neither the results nor what outranks what
        current: _CompiledFormat | None = None
        skipped = False
        for fmt, (name, patterns), starts in self._index.candidates(bofbuffer):
            if fmt is not current:  # whether a format is outranked is decided as its first signature is tried
                current, skipped = fmt, fmt.puid in outranked
            if skipped or starts is not None and starts(bofbuffer) is None:
                continue
            if _all_patterns_match(patterns, bofbuffer, eofbuffer):
                result.append((fmt.element, name))
                if not matched_puids or matched_puids[-1] != fmt.puid:
                    matched_puids.append(fmt.puid)
                    outranked |= priority[fmt.puid]
        if len(matched_puids) < 2:
            return result
        return [match for match in result if self.as_good_as_any(match[0], result)]

    def match_container(self, signature_type: str, klass: Any, file: Any, signature_file: Any) -> list:
        signatures = self._container_signatures.get(signature_type)
        if signatures is None:
            signatures = self.extract_signatures(signature_file, signature_type=signature_type)
            self._container_signatures[signature_type] = signatures
        return [
            (self.puid_format_map[puid], self.puid_format_map[puid].findtext("name"))
            for puid in klass(file, signatures).detect_formats()
        ]


class _SignatureIndex:
    """Every signature in FIDO's order, each with the bytes a file must hold at one fixed offset for it to match
    (`_fixed_byte`); a file is tried only against the signatures whose byte it holds and those that fix none."""

    def __init__(self, formats: Iterable[_CompiledFormat]) -> None:
        # each with its first pattern's match when that is a BOF pattern: most fail there, tried without a call
        self._entries = [(fmt, signature, _bof_match(signature)) for fmt in formats for signature in fmt.signatures]
        unconditional: set[int] = set()
        by_offset: dict[int, dict[int, set[int]]] = {}
        for number, (_fmt, signature, _starts) in enumerate(self._entries):
            fixed = _fixed_byte(signature)
            if fixed is None:
                unconditional.add(number)
                continue
            offset, allowed = fixed
            for byte in allowed:
                by_offset.setdefault(offset, {}).setdefault(byte, set()).add(number)
        self._unconditional = frozenset(unconditional)
        self._by_offset = tuple((offset, {byte: frozenset(numbers) for byte, numbers in table.items()})
                                for offset, table in sorted(by_offset.items()))

    def candidates(self, buffer: bytes) -> list[tuple[_CompiledFormat, _Signature, _Match | None]]:
        """The (format, signature, match of its first BOF pattern) that can match a file starting with `buffer`, in
        FIDO's order."""
        if not buffer:
            return self._entries
        numbers = set(self._unconditional)
        for offset, table in self._by_offset:
            if offset >= len(buffer):
                break  # a signature fixing a byte past the end cannot match
            found = table.get(buffer[offset])
            if found:
                numbers |= found
        return [self._entries[number] for number in sorted(numbers)]


def _bof_match(signature: _Signature) -> _Match | None:
    patterns = signature[1]
    return patterns[0][1].match if patterns and patterns[0][0] == "BOF" else None


def _fixed_byte(signature: _Signature) -> tuple[int, frozenset[int]] | None:
    """An offset and the bytes a file matching `signature` can hold there, read from its first BOF pattern that
    fixes one (after a fixed number of any bytes); None when none does (the signature is then tried on every file)."""
    for position, regex in signature[1]:
        if position != "BOF":
            continue
        parsed = sre_parser.parse(regex.pattern, regex.flags)
        if parsed.state.flags & sre_constants.SRE_FLAG_IGNORECASE:
            continue
        found = _first_fixed(list(parsed.data))
        if found is not None:
            return found
    return None


def _first_fixed(items: list[Any]) -> tuple[int, frozenset[int]] | None:
    offset = 0
    for op, value in items:
        if op is sre_constants.AT:  # \A: BOF patterns are matched at the start anyway
            continue
        if op is sre_constants.ANY:
            offset += 1
            continue
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and value[0] == value[1] and _one_byte(value[2]):
            offset += value[0]  # `.{4}`: a fixed number of single bytes
            continue
        allowed = _starts_with([(op, value)])
        return None if allowed is None else (offset, allowed)
    return None


def _one_byte(pattern: Any) -> bool:
    items = list(pattern.data)
    return len(items) == 1 and items[0][0] in (sre_constants.ANY, sre_constants.LITERAL, sre_constants.NOT_LITERAL,
                                                sre_constants.IN)


def _starts_with(items: list[Any]) -> frozenset[int] | None:
    """The bytes a match of the parsed pattern `items` must start with (None: any byte, or not known)."""
    for op, value in items:
        if op is sre_constants.AT:  # \A: BOF patterns are matched at the start anyway
            continue
        if op is sre_constants.LITERAL:
            return frozenset((value,))
        if op is sre_constants.IN:
            allowed: set[int] = set()
            for kind, item in value:
                if kind is sre_constants.LITERAL:
                    allowed.add(item)
                elif kind is sre_constants.RANGE:
                    allowed.update(range(item[0], item[1] + 1))
                else:
                    return None
            return frozenset(allowed)
        if op is sre_constants.SUBPATTERN:
            _group, add_flags, _del_flags, inner = value
            return None if add_flags & sre_constants.SRE_FLAG_IGNORECASE else _starts_with(list(inner.data))
        if op is sre_constants.BRANCH:
            branches = [_starts_with(list(branch.data)) for branch in value[1]]
            if any(b is None for b in branches):
                return None
            return frozenset().union(*[b for b in branches if b is not None])
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and value[0] >= 1:
            return _starts_with(list(value[2].data))
        return None
    return None


def _all_patterns_match(patterns: tuple[_Pattern, ...], bofbuffer: bytes, eofbuffer: bytes) -> bool:
    for position, regex in patterns:
        if position == "BOF":
            if not regex.match(bofbuffer):
                return False
        elif position == "EOF":
            if not regex.search(eofbuffer):
                return False
        elif position in ("VAR", "IFB"):
            if not regex.search(bofbuffer):
                return False
    return True


@dataclass
class _FidoCall:
    """What FIDO reported for one file through its match handler."""

    matches: list[tuple[ET.Element, str]]
    matchtype: str


class FormatIdentifier:
    """Identifies files with FIDO's PRONOM signatures, loaded once at construction."""

    def __init__(self) -> None:
        """Load FIDO's signatures (the slow part, about half a second); identify() is then cheap."""
        files = _read_signature_files(FIDO_CONF_DIR)
        self.signature_release = files.release
        self.tool = TOOL
        self._calls: list[_FidoCall] = []
        self._fido = _CompiledFido(
            quiet=True,
            handle_matches=self._record_matches,
            conf_dir=str(FIDO_CONF_DIR),
            format_files=list(files.format_files),
        )
        self._fido.containersignature_file = files.container_file  # FIDO's constructor ignores this argument
        self._lock = threading.Lock()

    def _record_matches(self, fullname: str, matches: list, delta_t: float, matchtype: str = "") -> None:
        self._calls.append(_FidoCall(list(matches), matchtype))

    def identify(self, path: Path) -> Identification:
        """Identify one file. Never raises for a bad file: an unreadable one gives basis "fail" and a warning."""
        with self._lock:  # FIDO keeps per-file state on the instance
            self._calls = []
            stderr = io.StringIO()
            try:
                with contextlib.redirect_stderr(stderr):
                    self._fido.identify_file(os.fspath(path))
            except Exception as error:  # noqa: BLE001 - one bad file is a row in the report, not the end of the run
                return self._failed((f"FIDO failed on this file: {type(error).__name__}: {error}",))
            fido_warnings = tuple(line.strip() for line in stderr.getvalue().splitlines() if line.strip())
            return self._result(self._calls, self._fido.current_filesize, fido_warnings)

    def identify_many(self, paths: Iterable[Path]) -> Iterator[tuple[Path, Identification]]:
        """Identify each path in turn with the signatures already loaded, yielding (path, identification)."""
        for path in paths:
            yield path, self.identify(path)

    def _result(self, calls: list[_FidoCall], size: int, fido_warnings: tuple[str, ...]) -> Identification:
        if not calls:
            return self._failed(fido_warnings or ("FIDO reported nothing for this file",))
        if size == 0:
            return self._failed(("zero-byte file: there are no bytes to identify",))
        call = calls[-1]
        if not call.matches:
            return self._failed(fido_warnings + ("no signature, container or extension matched",))
        return self._matched(call, fido_warnings)

    def _matched(self, call: _FidoCall, fido_warnings: tuple[str, ...]) -> Identification:
        puids = _unique([self._fido.get_puid(element) for element, _ in call.matches])
        element, signature_name = call.matches[0]  # FIDO's priority already removed inferior matches
        warnings = fido_warnings
        if len(puids) > 1:
            warnings += (f"{len(puids)} formats matched: {', '.join(puids)}; kept {puids[0]}",)
        return Identification(
            puid=puids[0],
            format_name=_text_or_none(element, "name"),
            format_version=_text_or_none(element, "version"),
            mime_type=_text_or_none(element, "mime"),
            basis=_basis(call.matchtype, signature_name, self._fido.current_file),
            tool=self.tool,
            signature_release=self.signature_release,
            warnings=warnings,
        )

    def _failed(self, warnings: tuple[str, ...]) -> Identification:
        return Identification(None, None, None, None, "fail", self.tool, self.signature_release, warnings)


def _basis(matchtype: str, signature_name: str, filename: str) -> str:
    if matchtype == "extension":
        return f"extension: {os.path.splitext(filename)[1].lower()}"
    return f"{matchtype or 'signature'}: {signature_name}"


def _text_or_none(element: ET.Element, tag: str) -> str | None:
    return element.findtext(tag) or None


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


_shared: FormatIdentifier | None = None
_shared_lock = threading.Lock()


def shared_identifier(factory: Callable[[], FormatIdentifier] = FormatIdentifier) -> FormatIdentifier:
    """The process-wide identifier, created on first use so that signatures are loaded at most once."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = factory()
        return _shared
