"""Access: redaction (lakken) of text before it leaves the e-Depot, each passage labelled with its Woo ground.

Woo (Wet open overheid) art. 5.1 and 5.2 give the grounds. Automatic detection:

| what                | how it is recognised                                                      | ground |
| ------------------- | ------------------------------------------------------------------------- | ------ |
| e-mail address      | name@domain.tld                                                           | 5.1 lid 2 sub e |
| phone number        | Dutch (06-12345678, 020 123 4567, (020) 1234567, +31 6 1234 5678, 0031…) and international (+44 …) | 5.1 lid 2 sub e |
| IBAN                | two letters, two check digits, 11-30 letters/digits (spaces allowed), passing the ISO 13616 mod-97 check | 5.1 lid 2 sub e |
| BSN                 | nine digits (123456782, 1234.56.782, 123 456 782) passing the 11-proef     | 5.1 lid 1 sub e |
| a name from a list  | each line of the list, case, accents and spacing ignored, whole words      | 5.1 lid 2 sub e |

Manual redaction: a message's character span (code points, end exclusive) with a ground.

The text is removed, not covered: a passage is replaced by a label such as "[gelakt: 5.1.2e]" before
anything is rendered, so no later step ever sees it. Overlapping passages merge into one label with
every ground. A sender name that must be redacted becomes "[gelakt: 5.1.2e] persoon A" (the letter the
same for the same name throughout one DIP, so a reader can still follow who said what).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from kernel.config import Config
from kernel.errors import InputError

NAMES_SETTING = "names"  # [redaction] names = "FILE" in edepot.toml, relative to the data directory

# The grounds of Woo art. 5.1 and 5.2 a redaction may cite: canonical text → short label and meaning.
WOO_GROUNDS: dict[str, tuple[str, str]] = {
    "5.1 lid 1 sub a": ("5.1.1a", "eenheid van de Kroon"),
    "5.1 lid 1 sub b": ("5.1.1b", "veiligheid van de Staat"),
    "5.1 lid 1 sub c": ("5.1.1c", "vertrouwelijk verstrekte bedrijfs- en fabricagegegevens"),
    "5.1 lid 1 sub d": ("5.1.1d", "bijzondere persoonsgegevens"),
    "5.1 lid 1 sub e": ("5.1.1e", "nationale identificatienummers (BSN)"),
    "5.1 lid 2 sub a": ("5.1.2a", "betrekkingen met andere staten en internationale organisaties"),
    "5.1 lid 2 sub b": ("5.1.2b", "economische of financiële belangen van de Staat"),
    "5.1 lid 2 sub c": ("5.1.2c", "opsporing en vervolging van strafbare feiten"),
    "5.1 lid 2 sub d": ("5.1.2d", "inspectie, controle en toezicht"),
    "5.1 lid 2 sub e": ("5.1.2e", "eerbiediging van de persoonlijke levenssfeer"),
    "5.1 lid 2 sub f": ("5.1.2f", "concurrentiegevoelige bedrijfs- en fabricagegegevens"),
    "5.1 lid 2 sub g": ("5.1.2g", "bescherming van het milieu"),
    "5.1 lid 2 sub h": ("5.1.2h", "beveiliging van personen of bedrijven"),
    "5.1 lid 2 sub i": ("5.1.2i", "goed functioneren van de Staat of bestuursorganen"),
    "5.1 lid 5": ("5.1.5", "onevenredige benadeling"),
    "5.2": ("5.2", "persoonlijke beleidsopvattingen"),
    "5.2 lid 1": ("5.2.1", "persoonlijke beleidsopvattingen in intern beraad"),
}
PERSONAL = "5.1 lid 2 sub e"
NATIONAL_ID = "5.1 lid 1 sub e"

_LAW = re.compile(r"^(?:woo|wet open overheid)\s*,?\s*")
_GROUND_SHAPES = (
    re.compile(r"^(?:art(?:ikel)?\.?\s*)?5\.1(?:\s*,?\s*lid\s*|\.)([125])(?:\s*,?\s*(?:sub|onder)\s*|\.?)([a-i])?$"),
    re.compile(r"^(?:art(?:ikel)?\.?\s*)?5\.2(?:(?:\s*,?\s*lid\s*|\.)(1))?$"),
)


def woo_ground(text: str) -> str:
    """The canonical form of a Woo ground written as "5.1 lid 2 sub e", "5.1.2e", "art. 5.1, lid 2, onder e"
    or "5.2", with or without the law's name before it ("Woo art. 5.1 lid 2 sub h"); InputError for anything
    else."""
    cleaned = _LAW.sub("", " ".join(text.strip().lower().split()))
    if cleaned in WOO_GROUNDS:
        return cleaned
    for canonical, (short, _) in WOO_GROUNDS.items():
        if cleaned == short.lower():
            return canonical
    match = _GROUND_SHAPES[0].match(cleaned)
    if match:
        lid, sub = match.groups()
        candidate = f"5.1 lid {lid}" + (f" sub {sub}" if sub else "")
        if candidate in WOO_GROUNDS:
            return candidate
    match = _GROUND_SHAPES[1].match(cleaned)
    if match:
        return "5.2 lid 1" if match.group(1) else "5.2"
    raise InputError(f"{text!r} is not a Woo ground edepot knows",
                     hint="write it like '5.1 lid 2 sub e', '5.1.2e' or '5.2'")


def short_ground(canonical: str) -> str:
    return WOO_GROUNDS[canonical][0]


def label_for(grounds: Iterable[str]) -> str:
    """The text that replaces a redacted passage, e.g. "[gelakt: 5.1.2e]"."""
    shorts = sorted({short_ground(g) for g in grounds})
    return f"[gelakt: {', '.join(shorts)}]"


# ---------------------------------------------------------------------------------------------------
# Detection

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}(?![\w-])")
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[-./:])(?:"  # not inside a date or time stamp such as 2024-03-14-10-21-07
    r"(?:\+|00)31[\s.-]?(?:\(0\)[\s.-]?)?[1-9](?:[\s.-]?\d){8}"  # +31 6 12345678, 0031 20 1234567
    r"|\(0\d{1,3}\)[\s.-]?\d(?:[\s.-]?\d){5,7}"  # (020) 123 4567
    r"|0[1-9](?:[\s.-]?\d){8}"  # 06-12345678, 020 123 4567
    r"|(?:\+|00)(?!31)[1-9]\d{0,2}[\s.-]?(?:\(\d{1,4}\)[\s.-]?)?\d(?:[\s.-]?\d){5,12}"  # +44 20 7946 0958
    r")(?![\w])"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}")
_DIGIT = re.compile(r"\d")
_BSN = re.compile(r"(?<![\d.])(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3}[ .]\d{3}[ .]\d{3})(?![\d])")


# ISO 13616 lengths of the IBANs of countries Dutch governments deal with most; others: the longest that checks.
IBAN_LENGTHS = {"NL": 18, "BE": 16, "DE": 22, "FR": 27, "GB": 22, "LU": 20, "ES": 24, "IT": 27, "AT": 20, "PL": 28,
                "DK": 18, "IE": 22, "PT": 25, "CH": 21, "SE": 24, "NO": 15, "FI": 18}


def iban_valid(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, remainder mod 97 is 1."""
    compact = candidate.replace(" ", "").upper()
    if not (15 <= len(compact) <= 34 and compact[:2].isalpha() and compact[2:4].isdigit() and compact.isalnum()):
        return False
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    return int(digits) % 97 == 1


def bsn_valid(candidate: str) -> bool:
    """The 11-proef: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11 (and not all zeros)."""
    digits = [int(c) for c in candidate if c.isdigit()]
    if len(digits) != 9 or not any(digits):
        return False
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1))) - digits[8]
    return total % 11 == 0


def _iban_spans(text: str) -> Iterable[tuple[int, int]]:
    position = 0
    while (match := _IBAN.search(text, position)) is not None:
        raw = match.group()
        position = match.start() + 1
        # The pattern may run on into the next words ("NL91ABNA0417164300 en"): try shorter ends.
        positions = [i for i, c in enumerate(raw) if c != " "]
        known = IBAN_LENGTHS.get(raw[:2].upper())
        lengths = [known] if known else range(min(34, len(positions)), 14, -1)
        for count in lengths:
            if count > len(positions):
                continue
            end = positions[count - 1] + 1
            if iban_valid(raw[:end]) and (end == len(raw) or not raw[end].isalnum()):
                yield match.start(), match.start() + end
                position = match.start() + end
                break


@dataclass(frozen=True)
class Passage:
    """One span of a text to redact and why (the ground in canonical form, the detector's name)."""

    start: int
    end: int
    ground: str
    kind: str  # email, phone, iban, bsn, name, manual


def detect(text: str, names: "NameList | None" = None) -> list[Passage]:
    """Every passage of `text` the automatic detectors (and the name list) find."""
    found: list[Passage] = []
    if "@" in text:
        found += [Passage(m.start(), m.end(), PERSONAL, "email") for m in _EMAIL.finditer(text)]
    if _DIGIT.search(text):  # every detector below needs a digit
        found += [Passage(s, e, PERSONAL, "iban") for s, e in _iban_spans(text)]
        found += [Passage(m.start(), m.end(), PERSONAL, "phone") for m in _PHONE.finditer(text)]
        found += [Passage(m.start(), m.end(), NATIONAL_ID, "bsn") for m in _BSN.finditer(text)
                  if bsn_valid(m.group())]
    if names is not None:
        found += names.find(text)
    return found


def _fold_char(c: str) -> str:
    base = unicodedata.normalize("NFKD", c)
    kept = [x for x in base if not unicodedata.combining(x)]
    return (kept[0] if kept else c).lower()[:1] or c


def fold_keep_length(text: str) -> str:
    """Lower case without accents, one character for each character (so offsets stay valid)."""
    return text.lower() if text.isascii() else "".join(_fold_char(c) for c in text)


@dataclass
class NameList:
    """Names to redact, matched as whole words with case, accents and spacing ignored."""

    names: tuple[str, ...]
    pattern: re.Pattern[str] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        parts = sorted({" ".join(fold_keep_length(n).split()) for n in self.names if n.strip()}, key=len, reverse=True)
        if parts:
            alternatives = "|".join(r"\s+".join(map(re.escape, p.split(" "))) for p in parts)
            self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    @classmethod
    def from_file(cls, path: Path) -> "NameList":
        """One name a line; empty lines and lines starting with # are skipped."""
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"cannot read the name list {path}: {error}") from None
        return cls(tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")))

    def find(self, text: str) -> list[Passage]:
        if self.pattern is None:
            return []
        return [Passage(m.start(), m.end(), PERSONAL, "name") for m in self.pattern.finditer(fold_keep_length(text))]


def organisation_names(config: Config) -> NameList | None:
    """The organisation's redaction list: `[redaction] names = "FILE"` in `<data-dir>/edepot.toml` (a path
    relative to the data directory, one name a line), applied to every delivery to a requester and to
    every researcher's search; None when not configured. InputError when it is configured but unreadable."""
    import tomllib

    path = config.data_dir / "edepot.toml"
    if not path.is_file():
        return None
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("redaction", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    given = table.get(NAMES_SETTING)
    if given is None:
        return None
    if not isinstance(given, str) or not given.strip():
        raise InputError(f"{path}: [redaction] {NAMES_SETTING} must be the path of a file of names")
    return NameList.from_file(config.data_dir / Path(given).expanduser())


@dataclass(frozen=True)
class Redacted:
    """A text after redaction and the grounds of each passage removed from it."""

    text: str
    passages: tuple[Passage, ...]

    @property
    def changed(self) -> bool:
        return bool(self.passages)


def apply(text: str, passages: Sequence[Passage]) -> Redacted:
    """Replace each passage (merged where they overlap or touch) by its label."""
    if not passages:
        return Redacted(text, ())
    ordered = sorted(passages, key=lambda p: (p.start, p.end))
    merged: list[tuple[int, int, set[str]]] = []
    for p in ordered:
        if merged and p.start <= merged[-1][1]:
            start, end, grounds = merged[-1]
            merged[-1] = (start, max(end, p.end), grounds | {p.ground})
        else:
            merged.append((p.start, p.end, {p.ground}))
    out, last = [], 0
    for start, end, grounds in merged:
        out.append(text[last:start])
        out.append(label_for(grounds))
        last = end
    out.append(text[last:])
    return Redacted("".join(out), tuple(ordered))


@dataclass(frozen=True)
class ManualRedaction:
    """`--redact [AIP:]SEQ:START-END:GROUND`: a span of one message's text, end exclusive."""

    seq: int
    start: int
    end: int
    ground: str
    aip: str | None = None

    @classmethod
    def parse(cls, spec: str) -> "ManualRedaction":
        parts = spec.rsplit(":", 2)
        try:
            head, span, ground = parts
            aip, _, seq = head.rpartition(":")
            start, _, end = span.partition("-")
            result = cls(int(seq), int(start), int(end), woo_ground(ground), aip or None)
        except ValueError:
            raise InputError(f"redaction {spec!r}: write SEQ:START-END:GROUND, e.g. 12:5-17:5.1.2e "
                             "(AIP:SEQ:START-END:GROUND when the DIP holds several records)") from None
        if result.start < 0 or result.end <= result.start:
            raise InputError(f"redaction {spec!r}: the span must have START < END")
        return result


@dataclass(frozen=True)
class Withholding:
    """`--withhold [AIP:]SEQ:GROUND`: a whole message refused (niet openbaar)."""

    seq: int
    ground: str  # canonical grounds, ", "-separated
    aip: str | None = None
    decision: str = "niet openbaar"  # as the inventory names it ("reeds openbaar" for a document already public)
    note: str = ""  # shown in the message's place instead of the grounds ("opgeschort", "reeds openbaar: URL")

    @property
    def placeholder(self) -> str:
        """What stands in the withheld message's place."""
        if self.note:
            return f"[{self.note}]"
        return f"[niet openbaar: {', '.join(short_ground(g) for g in self.ground.split(', '))}]"

    @classmethod
    def parse(cls, spec: str) -> "Withholding":
        head, _, ground = spec.rpartition(":")
        aip, _, seq = head.rpartition(":")
        try:
            return cls(int(seq), woo_ground(ground), aip or None)
        except ValueError:
            raise InputError(f"withheld message {spec!r}: write SEQ:GROUND, e.g. 12:5.2 "
                             "(AIP:SEQ:GROUND when the DIP holds several records)") from None


class Redactor:
    """Redacts every string of one DIP the same way: automatic detectors, a name list, pseudonyms."""

    def __init__(self, names: NameList | None = None, automatic: bool = True) -> None:
        self.names = names
        self.automatic = automatic
        self._pseudonyms: dict[str, str] = {}

    def passages(self, text: str) -> list[Passage]:
        if self.automatic:
            return detect(text, self.names)
        return self.names.find(text) if self.names is not None else []

    def text(self, text: str, manual: Sequence[Passage] = ()) -> Redacted:
        """A message text with automatic, name and manual passages removed."""
        for p in manual:
            if p.end > len(text):
                raise InputError(f"a manual redaction {p.start}-{p.end} runs past the end of the text "
                                 f"({len(text)} characters)")
        return apply(text, [*self.passages(text), *manual])

    def clean(self, text: str) -> str:
        """Any other string that goes into the DIP (titles, file names, the query), redacted."""
        return self.text(text).text

    def visible(self, text: str) -> str:
        """The text with every passage removed (a space in its place, no label): what a query may match."""
        passages = self.passages(text)
        if not passages:
            return text
        out, last = [], 0
        for p in sorted(passages, key=lambda p: (p.start, p.end)):
            if p.end <= last:
                continue
            out += [text[last:max(last, p.start)], " "]
            last = p.end
        return "".join(out) + text[last:]

    def person(self, name: str | None) -> str | None:
        """A sender or participant name: as it is, or a labelled pseudonym when any of it must go."""
        if name is None:
            return None
        found = self.passages(name)
        if not found:
            return name
        if name not in self._pseudonyms:
            letter = _letters(len(self._pseudonyms))
            self._pseudonyms[name] = f"{label_for({p.ground for p in found})} persoon {letter}"
        return self._pseudonyms[name]


def _letters(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters
