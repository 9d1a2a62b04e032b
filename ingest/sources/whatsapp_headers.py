"""WhatsApp message headers: which form a file uses, one compiled regex for it, its dates and times
(issue 4, "All header forms ... Day/month order inferred from the whole file ... recorded with its
evidence; an archivist can override it").

A header is the date and time that open every message: `[18.03.22, 14:56:01] ` on iPhone,
`18/03/2022, 14:56 - ` on Android, with every variation phones write: slashes, dots, dashes; commas or
none; a word between date and time (Finnish `klo`); 12-hour clocks (`PM`, `p. m.`, `م`, `오후`) with a
space, U+00A0 or U+202F; dotted times (`14.56.01`); the time first (`[14:56:01, 3/18/22]`);
Arabic-Indic and Persian digits with direction marks inside the date; two- and four-digit years;
Buddhist (`2565 BE`) and Japanese-era (`R4`) years.

`sniff_form` looks at the first lines once and returns the `HeaderForm` most of them share; its
`regex` is compiled for exactly that form, so the file is read with one regex and no per-line
detection. Digits are mapped to ASCII in a same-length view of the text (`ascii_digits`), so positions
found in the view cut the original text, which is kept as written.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo

from ingest.sources.whatsapp_phrases import AM_MARKERS, BUDDHIST_OFFSET, DATE_TIME_WORDS, JAPANESE_ERAS, PM_MARKERS

MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c"
STRIP_MARKS = str.maketrans("", "", MARKS)
_DIGIT_TABLE = {
    **{0x0660 + i: 0x30 + i for i in range(10)},  # Arabic-Indic
    **{0x06F0 + i: 0x30 + i for i in range(10)},  # Extended Arabic-Indic (Persian, Urdu)
    **{0x0966 + i: 0x30 + i for i in range(10)},  # Devanagari
    **{0x09E6 + i: 0x30 + i for i in range(10)},  # Bengali
    **{0x0E50 + i: 0x30 + i for i in range(10)},  # Thai
    **{0xFF10 + i: 0x30 + i for i in range(10)},  # full-width
}
_NON_ASCII_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\u09e6-\u09ef\u0e50-\u0e59\uff10-\uff19]")
DATE_ORDERS = ("DMY", "MDY", "YMD")


def ascii_digits(text: str) -> str:
    """`text` with every non-ASCII decimal digit replaced by its ASCII digit; same length as `text`."""
    return text.translate(_DIGIT_TABLE)


def has_foreign_digits(text: str) -> bool:
    """Whether `text` holds decimal digits outside ASCII (Arabic-Indic, Persian, ...)."""
    return _NON_ASCII_DIGIT.search(text) is not None


def _norm_marker(raw: str) -> str:
    return re.sub(r"[\s.\u00a0\u202f]", "", raw).lower()


_AMPM_ALTERNATIVES = sorted(
    {r"[AaPp]\.?[ \u00a0\u202f]?[Mm]\.?", r"vorm\.", r"nachm\.", r"ص", r"م", r"πμ", r"μμ", r"π\.μ\.", r"μ\.μ\.",
     r"午前", r"午後", r"上午", r"下午", r"오전", r"오후", r"SA", r"CH", r"fm", r"em", r"de\.", r"du\."},
    key=len, reverse=True,
)
_AMPM = "(?:" + "|".join(_AMPM_ALTERNATIVES) + ")"
_WORDS = "|".join(re.escape(w) for w in sorted(DATE_TIME_WORDS, key=len, reverse=True))
_M = f"[{MARKS}]*"
_YEAR = r"(?:\d{1,4}|[MTSHR]\d{1,2}|令和\d{1,2}|平成\d{1,2})"
# The loose grammar used only to sniff the form (and to tell a damaged header from text).
_LOOSE_DATE = (
    rf"(?P<a>{_YEAR}){_M}(?P<sep>[./\-])(?P<sp1> ?){_M}(?P<b>\d{{1,2}}){_M}(?P=sep) ?{_M}(?P<c>{_YEAR}){_M}"
    r"(?P<dot>\.?)(?P<be> BE| พ\.ศ\.)?"
)
_LOOSE_TIME = (
    rf"(?:(?P<pre>{_AMPM})[ \u00a0\u202f]?)?(?P<H>\d{{1,2}})(?P<tsep>[:.])(?P<M>\d{{2}})(?:[:.](?P<S>\d{{2}}))?"
    rf"(?:(?P<ampm_sp>[ \u00a0\u202f]?)(?P<ampm>{_AMPM}))?"
)
_LOOSE_DT = rf"(?P<dt>[,،]? (?:(?:{_WORDS}) )?)"
LOOSE_HEADER = re.compile(
    rf"^(?P<lead>{_M})(?P<open>\[?){_M}"
    rf"(?:{_LOOSE_DATE}{_LOOSE_DT}{_M}{_LOOSE_TIME}|(?P<tf>{_LOOSE_TIME.replace('?P<', '?P<t_')}){_LOOSE_DT.replace('?P<dt>', '?P<t_dt>')}"
    rf"{_LOOSE_DATE.replace('?P<', '?P<d_').replace('(?P=sep)', '(?P=d_sep)')})"
    rf"{_M}(?P<close>\] ?| [-–] |: )"
)


@dataclass(frozen=True)
class HeaderForm:
    """One header form, as sniffed; `regex` matches exactly this form at the start of a line.

    The regex's groups are 7 header fields in the form's own order (see `fields_of`), then the rest of
    the header's line (group 8)."""

    bracket: bool  # iPhone "[...] " rather than Android "... - "
    time_first: bool
    date_sep: str
    date_space: bool  # a space after each date separator ("2022. 03. 18.")
    date_dot: bool  # a dot after the last date field ("18.03.2022.")
    era: str  # "", "BE" (Buddhist, marked), "JP" (Japanese era letter)
    date_time: str  # what stands between date and time, e.g. ", " or " klo " (or between time and date)
    time_sep: str
    seconds: bool
    ampm: str  # "", "after" or "before"
    close: str  # "] " or " - " or ": "
    marks: bool  # direction marks inside the header (Arabic iPhone exports)
    year_first: bool
    regex: re.Pattern[str] = field(compare=False, repr=False, default=re.compile(""))

    @property
    def platform(self) -> str:
        return "ios" if self.bracket else "android"

    def describe(self) -> str:
        """The form as a pattern a person can read, e.g. '[d/m/yy, H:MM:SS] ' (order still open)."""
        year = "yyyy" if self.year_first else "y"
        if self.era == "JP":
            year = "era+y"
        date_part = f"{year}{self.date_sep}m{self.date_sep}d" if self.year_first else f"a{self.date_sep}b{self.date_sep}{year}"
        if self.era == "BE":
            date_part += " BE"
        time_part = f"H{self.time_sep}MM" + (f"{self.time_sep}SS" if self.seconds else "")
        if self.ampm == "after":
            time_part += " AM/PM"
        elif self.ampm == "before":
            time_part = "AM/PM " + time_part
        body = f"{time_part}{self.date_time}{date_part}" if self.time_first else f"{date_part}{self.date_time}{time_part}"
        return ("[" if self.bracket else "") + body + self.close


def _form_of(m: re.Match[str]) -> tuple:
    """The signature of one loose match: everything that makes a form, nothing that varies per line."""
    tf = m.group("tf") is not None
    g = (lambda n: m.group("t_" + n)) if tf else m.group  # time fields
    d = (lambda n: m.group("d_" + n)) if tf else m.group  # date fields
    a, c = d("a"), d("c")
    era = "BE" if d("be") else ("JP" if not c[0].isdigit() else "")
    ampm = "before" if g("pre") else ("after" if g("ampm") else "")
    return (
        bool(m.group("open")), tf, d("sep"), bool(d("sp1")), bool(d("dot")), era,
        m.group("t_dt") if tf else m.group("dt"), g("tsep"), g("S") is not None, ampm,
        m.group("close").replace("–", "-"), bool(re.search(f"[{MARKS}]", m.group(0)[len(m.group("lead")):])),
        len(a) == 4 and a.isdigit(),
    )


def sniff_form(lines: list[str]) -> tuple[HeaderForm | None, int]:
    """The header form most of `lines` use (digits already ASCII), and how many lines had it."""
    counts: Counter[tuple] = Counter()
    for line in lines:
        m = LOOSE_HEADER.match(line)
        if m is not None:
            counts[_form_of(m)] += 1
    if not counts:
        return None, 0
    signature, n = counts.most_common(1)[0]
    form = HeaderForm(*signature)
    return _with_regex(form), n


def _with_regex(form: HeaderForm) -> HeaderForm:
    mark = _M if form.marks else ""
    sp = " " if form.date_space else ""
    sep = re.escape(form.date_sep)
    year = r"(\d{2}|\d{4})"
    if form.era == "JP":
        year = r"((?:[MTSHR]|令和|平成)\d{1,2})"
    if form.year_first:
        date_re = rf"(\d{{4}}){mark}{sep}{sp}{mark}(\d{{1,2}}){mark}{sep}{sp}{mark}(\d{{1,2}}){mark}"
    else:
        date_re = rf"(\d{{1,2}}){mark}{sep}{sp}{mark}(\d{{1,2}}){mark}{sep}{sp}{mark}{year}{mark}"
    if form.date_dot:
        date_re += r"\."
    if form.era == "BE":
        date_re += r" (?:BE|พ\.ศ\.)"
    tsep = re.escape(form.time_sep)
    secs = rf"{tsep}(\d{{2}})" if form.seconds else "()"
    clock = rf"(\d{{1,2}}){tsep}(\d{{2}}){secs}"
    if form.ampm == "after":
        time_re = rf"{clock}[ \u00a0\u202f]?({_AMPM})"
    elif form.ampm == "before":
        time_re = rf"({_AMPM})[ \u00a0\u202f]?{clock}"
    else:
        time_re = clock + "()"
    dt = re.escape(form.date_time)
    body = rf"{time_re}{dt}{mark}{date_re}" if form.time_first else rf"{date_re}{dt}{mark}{time_re}"
    close = re.escape(form.close) if form.close != " - " else r" [-–] "
    opening = r"\[" if form.bracket else ""
    pattern = rf"^[{MARKS}]*{opening}{mark}{body}{mark}{close}(.*)"
    return HeaderForm(**{**form.__dict__, "regex": re.compile(pattern, re.M)})


def field_groups(form: HeaderForm) -> tuple[int, ...]:
    """The group numbers of (a, b, c, H, M, S, marker) in `form.regex`, for `match.group(*numbers)`."""
    if form.time_first:
        return (5, 6, 7, 2, 3, 4, 1) if form.ampm == "before" else (5, 6, 7, 1, 2, 3, 4)
    return (1, 2, 3, 5, 6, 7, 4) if form.ampm == "before" else (1, 2, 3, 4, 5, 6, 7)


def fields_of(form: HeaderForm, m: re.Match[str]) -> tuple[str, str, str, str, str, str, str]:
    """(a, b, c, H, M, S, marker) of a match of `form.regex`, in date-then-time order."""
    g = m.groups()
    if form.time_first:
        if form.ampm == "before":
            marker, hh, mm, ss, a, b, c, _ = g
        else:
            hh, mm, ss, marker, a, b, c, _ = g
    elif form.ampm == "before":
        a, b, c, marker, hh, mm, ss, _ = g
    else:
        a, b, c, hh, mm, ss, marker, _ = g
    return a, b, c, hh, mm, ss or "", marker or ""


# --- dates --------------------------------------------------------------------------------------


def year_of(raw: str, era: str) -> int | None:
    """The Gregorian year written as `raw` in a header of era kind `era` ("", "BE" or "JP")."""
    if era == "JP" or not raw[0].isdigit():
        for letter, base in JAPANESE_ERAS.items():
            if raw.startswith(letter) and raw[len(letter):].isdigit():
                return base + int(raw[len(letter):])
        return None
    year = int(raw)
    if era == "BE":
        return year - BUDDHIST_OFFSET
    if year < 100:
        return 2000 + year
    if year >= 2400:  # a Buddhist year written without "BE" (Thai phones): 2565 BE = 2022
        return year - BUDDHIST_OFFSET
    return year


def date_of(a: str, b: str, c: str, order: str, era: str) -> date | None:
    """The date of header fields a, b, c read in `order`; None when there is no such date."""
    try:
        if order == "YMD":
            year, month, day = int(a), int(b), int(c)
            year = year - BUDDHIST_OFFSET if year >= 2400 else year
        else:
            y = year_of(c, era)
            if y is None:
                return None
            year = y
            day, month = (int(a), int(b)) if order == "DMY" else (int(b), int(a))
        return date(year, month, day)
    except ValueError:
        return None


@dataclass
class DateOrderVotes:
    """Evidence for the day/month order collected over the headers of a file."""

    dmy: int = 0  # headers whose first field is > 12 (so it is the day)
    mdy: int = 0  # headers whose second field is > 12
    first_dmy: tuple[int, int] | None = None  # (line, value) of the first such header
    first_mdy: tuple[int, int] | None = None
    backward: dict[str, int] = field(default_factory=lambda: {"DMY": 0, "MDY": 0})
    _previous: dict[str, tuple[int, int, str] | None] = field(default_factory=lambda: {"DMY": None, "MDY": None})
    headers: int = 0

    def add(self, a: str, b: str, c: str, line: int) -> None:
        """Count one header's date fields (as written, ASCII digits)."""
        self.headers += 1
        x, y = int(a), int(b)
        if x > 12 >= y:
            self.dmy += 1
            if self.first_dmy is None:
                self.first_dmy = (line, x)
        elif y > 12 >= x:
            self.mdy += 1
            if self.first_mdy is None:
                self.first_mdy = (line, y)
        elif x <= 12 and y <= 12:
            for order, key in (("DMY", (y, x)), ("MDY", (x, y))):
                stamp = (key[0], key[1], c.zfill(4))
                previous = self._previous[order]
                if previous is not None and (stamp[2], stamp[0], stamp[1]) < (previous[2], previous[0], previous[1]):
                    self.backward[order] += 1
                self._previous[order] = stamp

    @property
    def decided(self) -> bool:
        return (self.dmy > 0) != (self.mdy > 0)


def decide_date_order(form: HeaderForm, votes: DateOrderVotes, locale_hint: str | None) -> tuple[str, str]:
    """"DMY", "MDY" or "YMD" with the evidence that decided it: a value above 12 (the majority when
    lines disagree); else the order in which dates run forward most often; else the header form
    (AM/PM and the bracketed m/d/yy form are US usage, '-' and '.' separators are not); else the
    language of the markers; else day first."""
    if form.year_first:
        return "YMD", "four-digit year first"
    if votes.dmy or votes.mdy:
        if votes.dmy >= votes.mdy:
            assert votes.first_dmy is not None
            line, value = votes.first_dmy
            evidence = f"day value {value} > 12 on line {line}"
            if votes.mdy:
                evidence += f" ({votes.dmy} headers say day first, {votes.mdy} say month first)"
            return "DMY", evidence
        assert votes.first_mdy is not None
        line, value = votes.first_mdy
        evidence = f"day value {value} > 12 on line {line}"
        if votes.dmy:
            evidence += f" ({votes.mdy} headers say month first, {votes.dmy} say day first)"
        return "MDY", evidence
    if votes.backward["DMY"] != votes.backward["MDY"]:
        best = min(votes.backward, key=lambda o: votes.backward[o])
        return best, f"dates run forward more often read as {best} (backward steps: {votes.backward})"
    if form.date_sep in "-.":
        return "DMY", f"date separator '{form.date_sep}' is not used with month first"
    if form.ampm:
        return "MDY", "12-hour clock with AM/PM, the US form"
    if locale_hint == "en" and form.bracket and form.date_sep == "/":
        return "MDY", "iPhone m/d/yy form in English (US)"
    return "DMY", "no value above 12 and no ordering evidence; day first assumed"


# --- times --------------------------------------------------------------------------------------


def hour24(hour: int, marker: str) -> int | None:
    """The 24-hour hour of `hour` with a 12-hour `marker` ("" for a 24-hour clock); None if invalid."""
    if not marker:
        return hour if hour <= 23 else None
    key = _norm_marker(marker)
    if hour > 12:
        return None
    if key in PM_MARKERS or key.startswith("p") or key == "م":
        return hour if hour == 12 else hour + 12
    if key in AM_MARKERS or key.startswith("a"):
        return 0 if hour == 12 else hour
    return None


class WallClock:
    """Wall-clock times made aware in one zone, fast: the UTC offset is looked up once per local hour,
    and only hours that hold a DST gap or fold are resolved minute by minute."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self._hours: dict[tuple[date, int], tzinfo | None] = {}
        self._fixed: dict[timedelta, tzinfo] = {}

    def offset_zone(self, day: date, hour: int) -> tzinfo | None:
        """A fixed-offset zone valid for the whole local hour, or None when a DST change falls in it."""
        key = (day, hour)
        if key in self._hours:
            return self._hours[key]
        start = datetime(day.year, day.month, day.day, hour, 0)
        end = start.replace(minute=59, second=59)
        offsets = {
            moment.replace(tzinfo=self.zone, fold=fold).utcoffset() for moment in (start, end) for fold in (0, 1)
        }
        result: tzinfo | None = None
        if len(offsets) == 1:
            offset = offsets.pop()
            assert offset is not None
            result = self._fixed.get(offset)
            if result is None:
                result = self._fixed[offset] = timezone(offset)
        self._hours[key] = result
        return result

    def resolve(self, wall: datetime, previous: datetime | None) -> tuple[datetime, str, str]:
        """`wall` (naive) made aware in a DST-troubled hour: (time, case, choice). A gap moves forward by
        the gap's length; in a fold the earlier reading is taken unless it would put the message before
        the previous one."""
        earlier = wall.replace(tzinfo=self.zone, fold=0)
        later = wall.replace(tzinfo=self.zone, fold=1)
        if earlier.utcoffset() == later.utcoffset():
            return self._fixed_time(earlier), "", ""
        round_trip = earlier.astimezone(timezone.utc).astimezone(self.zone)
        if round_trip.replace(tzinfo=None) != wall:
            return self._fixed_time(round_trip), "dst_gap", ""
        chosen, which = earlier, "earlier"
        if previous is not None and earlier.astimezone(timezone.utc) < previous <= later.astimezone(timezone.utc):
            chosen, which = later, "later"
        return self._fixed_time(chosen), "dst_fold", which

    def _fixed_time(self, aware: datetime) -> datetime:
        offset = aware.utcoffset()
        assert offset is not None
        fixed = self._fixed.get(offset)
        if fixed is None:
            fixed = self._fixed[offset] = timezone(offset)
        return aware.replace(tzinfo=fixed, fold=0) if aware.tzinfo is not fixed else aware
