"""Wall-clock times without a zone, made aware in the archivist's `--tz` (issue 4: "record what it inferred").

Used by the formats whose exports write local time only (Signal's signal-export, Threema). A time in a
DST gap is moved forward by the gap; a time in a DST fold is read as the earlier of its two instants.
Each such case is appended to a list the format puts into `source.inferred["dst"]`.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Any


def aware(wall: datetime, zone: tzinfo, seq: int, cases: list[dict[str, Any]]) -> datetime:
    """`wall` (naive) read in `zone`; gaps and folds resolved as the module says and noted in `cases`."""
    earlier = wall.replace(tzinfo=zone, fold=0)
    later = wall.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier
    round_trip = earlier.astimezone(timezone.utc).astimezone(zone)
    if round_trip.replace(tzinfo=None) != wall:
        cases.append({"seq": seq, "case": "dst_gap", "wall_clock": wall.isoformat(), "read_as": round_trip.isoformat()})
        return round_trip
    cases.append({"seq": seq, "case": "dst_fold", "wall_clock": wall.isoformat(), "chosen": "earlier"})
    return earlier
