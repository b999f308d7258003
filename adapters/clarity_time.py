"""Clarity's ``<Timestamp>``: a US-style local time with a zone abbreviation.

``8/8/2018 3:49:07 PM EDT``. An abbreviation is ambiguous in general, but Clarity sites are
American and use the US zones, so those are read as their fixed offsets. A stamp without a
zone, or with one not in the table, is not guessed (a wrong zone shifts the time by hours):
the caller falls back to the server's ``Last-Modified`` instead.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

#: US zone abbreviations (and UTC) → offset from UTC in hours.
US_ZONES: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "AST": -4,
    "ADT": -3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "HDT": -9,
    "SST": -11,
    "CHST": 10,
}

_STAMP = re.compile(
    r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?"
    r"\s*([A-Za-z]{1,5}|[+-]\d{2}:?\d{2})?\s*"
)


def clarity_time(text: str | None) -> datetime | None:
    """The stamp as an aware datetime, or ``None`` when it has no zone nightdesk knows or
    does not read as a Clarity stamp (metadata: never an error)."""
    if not text:
        return None
    match = _STAMP.fullmatch(text)
    if match is None:
        return None
    month, day, year, hour, minute, second, half, zone = match.groups()
    offset = _offset(zone)
    if offset is None:
        return None
    h = int(hour)
    if half is not None:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if half.upper() == "PM" else 0)
    try:
        return datetime(
            int(year), int(month), int(day), h, int(minute), int(second or 0), tzinfo=offset
        )
    except ValueError:
        return None


def _offset(zone: str | None) -> timezone | None:
    if zone is None:
        return None
    if zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        if minutes >= 24 * 60:
            return None
        return timezone(timedelta(minutes=-minutes if zone[0] == "-" else minutes))
    hours = US_ZONES.get(zone.upper())
    return None if hours is None else timezone(timedelta(hours=hours))
