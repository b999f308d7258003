"""Why an AP body is wrong, said exactly: the careful reading of what the typed decode refused.

:mod:`adapters.ap_schema` decodes good bodies at C speed but, when it refuses one, its
message is msgspec's. This module walks the standard library's decoding of the same body
and raises the first :class:`FeedError` a desk can act on: which race, which reporting
unit, which candidate, which value. Only types and ranges are checked here; what the
values mean (missing ids, repeated units) is checked once, by :mod:`adapters.ap_races`,
for both readings.
"""

from __future__ import annotations

from typing import Any

from nightdesk.errors import FeedError
from nightdesk.model import MAX_COUNT, printable_text

__all__ = ["check_races", "shown", "text"]

_RACE_TEXT = ("officeName", "officeID", "seatName", "party", "raceType", "lastUpdated")
_UNIT_TEXT = ("stateName", "reportingunitName", "reportingunitID", "fipsCode")


def text(value: Any, what: str) -> str | None:
    """An id or label as text: JSON strings and whole numbers; anything else is an error."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FeedError(f"{what} must be a string, not {shown(value)}")


def shown(value: Any) -> str:
    """A feed value for a message: printable and at most 60 characters."""
    out = printable_text(repr(value))
    return out if len(out) <= 60 else out[:59] + "…"


def check_races(races: list[Any]) -> None:
    """Raise the first type or range error in ``races`` (the decoded ``"races"`` array)."""
    for position, race in enumerate(races):
        _check_race(race, position)


def _check_race(race: Any, position: int) -> None:
    where = f"races[{position}]"
    if not isinstance(race, dict):
        raise FeedError(f"{where} must be an object (a race), not {shown(race)}")
    race_id = text(race.get("raceID"), f"{where}.raceID") or where
    units = race.get("reportingUnits")
    if units is not None and not isinstance(units, list):
        raise FeedError(f"race {race_id}: reportingUnits must be an array, not {shown(units)}")
    state = text(race.get("statePostal"), f"race {race_id}: statePostal")
    for key in _RACE_TEXT:
        text(race.get(key), f"race {race_id}: {key}")
    for unit in units or ():
        if isinstance(unit, dict):
            state = state or text(unit.get("statePostal"), f"race {race_id}: statePostal")
    name = f"{state}-{race_id}" if state else race_id
    for u, unit in enumerate(units or ()):
        _check_unit(unit, f"race {printable_text(name)}, reportingUnits[{u}]")


def _check_unit(unit: Any, where: str) -> None:
    if not isinstance(unit, dict):
        raise FeedError(f"{where} must be an object, not {shown(unit)}")
    text(unit.get("statePostal"), f"{where}.statePostal")
    for key in _UNIT_TEXT:
        text(unit.get(key), f"{where}.{key}")
    level = unit.get("level")
    if level is not None and not isinstance(level, str):
        raise FeedError(f"{where}: level {shown(level)} is not a string")
    for key in ("precinctsReporting", "precinctsTotal"):
        value = unit.get(key)
        if value is not None and (type(value) is not int or value < 0):
            raise FeedError(f"{where}: {key} {shown(value)} is not a whole number ≥ 0")
    pct = unit.get("precinctsReportingPct")
    if pct is not None and (type(pct) not in (int, float) or not 0 <= pct <= 100):
        raise FeedError(f"{where}: precinctsReportingPct {shown(pct)} is not a percentage")
    candidates = unit.get("candidates", [])
    if not isinstance(candidates, list):
        raise FeedError(f"{where}: candidates must be an array, not {shown(candidates)}")
    for c, cand in enumerate(candidates):
        _check_candidate(cand, f"{where}, candidates[{c}]", where)


def _check_candidate(cand: Any, where: str, unit: str) -> None:
    if not isinstance(cand, dict):
        raise FeedError(f"{where} must be an object, not {shown(cand)}")
    pid = text(cand.get("candidateID"), f"{where}.candidateID") or text(
        cand.get("polID"), f"{where}.polID"
    )
    for key in ("first", "last"):
        text(cand.get(key), f"candidate {pid}: {key}")
    votes = cand.get("voteCount")
    if votes is not None and not (type(votes) is int and 0 <= votes <= MAX_COUNT):
        raise FeedError(
            f"{unit}, candidate {printable_text(str(pid))}: voteCount {shown(votes)} is not "
            f"a whole number of votes from 0 to {MAX_COUNT:,}"
        )
