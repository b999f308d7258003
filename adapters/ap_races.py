"""One AP race → one Snapshot: its reporting units as units, its candidates as parties.

Pure Python over the decoded JSON (one pass over units and candidates, a few thousand
rows), then NumPy arrays per race and one :meth:`Snapshot.build`: no pandas work per cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from nightdesk.errors import FeedError
from nightdesk.model import MAX_COUNT, Race, Snapshot, printable_text, strings, typed_frame

#: AP's ``winner`` flags → the model's race calls ("N" and others: not called).
CALLS = {"X": "winner", "R": "runoff"}
#: Reporting-unit levels at the top of a race (everything else sits under its state).
TOP_LEVELS = frozenset({"state", "national"})
_UNIT_COLUMNS = pd.Index(["name", "parent", "reporting"])
_PARTY_COLUMNS = pd.Index(["name", "short_name", "called"])


@dataclass(frozen=True)
class RaceInfo:
    """What identifies a race and what the filters match on, read before any counting."""

    key: str  # unique in a feed and stable: "CT-7002" (AP repeats raceIDs across states)
    race_id: str  # AP's raceID: "7002"
    state: str | None  # statePostal
    state_name: str | None
    office: str | None  # officeName
    office_id: str | None
    name: str  # for people: "CT President (GOP primary)"
    test: bool
    units: list[Any] | None  # the raw reportingUnits (None or [] when AP gives none)
    updated: str | None  # the race's own lastUpdated, if it gives one


def text(value: Any, what: str) -> str | None:
    """An id or label as text: JSON strings and whole numbers; anything else is an error."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise FeedError(f"{what} must be a string, not {_shown(value)}")


def _shown(value: Any) -> str:
    shown = printable_text(repr(value))
    return shown if len(shown) <= 60 else shown[:59] + "…"


def race_info(race: Any, position: int) -> RaceInfo:
    """The race's identity and names; :class:`FeedError` naming the race when unusable."""
    where = f"races[{position}]"
    if not isinstance(race, dict):
        raise FeedError(f"{where} must be an object (a race), not {_shown(race)}")
    race_id = text(race.get("raceID"), f"{where}.raceID")
    if not race_id:
        raise FeedError(f"{where} has no raceID")
    units = race.get("reportingUnits")
    if units is not None and not isinstance(units, list):
        raise FeedError(f"race {race_id}: reportingUnits must be an array, not {_shown(units)}")
    state = text(race.get("statePostal"), f"race {race_id}: statePostal")
    state_name = None
    for unit in units or ():
        if isinstance(unit, dict):
            state = state or text(unit.get("statePostal"), f"race {race_id}: statePostal")
            if unit.get("level") in TOP_LEVELS:
                state_name = text(unit.get("stateName"), f"race {race_id}: stateName")
                break
    office = text(race.get("officeName"), f"race {race_id}: officeName")
    office_id = text(race.get("officeID"), f"race {race_id}: officeID")
    key = f"{state}-{race_id}" if state else race_id
    return RaceInfo(
        key=printable_text(key),
        race_id=race_id,
        state=state,
        state_name=state_name,
        office=office,
        office_id=office_id,
        name=printable_text(_race_name(race, race_id, state, office or office_id)),
        test=race.get("test") is True,
        units=units,
        updated=text(race.get("lastUpdated"), f"race {race_id}: lastUpdated"),
    )


def _race_name(race: dict[str, Any], race_id: str, state: str | None, office: str | None) -> str:
    """ "CT President (GOP primary)", "CO Proposition, BB Retain Revenue"."""
    name = " ".join(p for p in (state, office or f"race {race_id}") if p)
    seat = text(race.get("seatName"), f"race {race_id}: seatName")
    if seat:
        name += f", {seat}"
    party = text(race.get("party"), f"race {race_id}: party")
    if party:
        kind = text(race.get("raceType"), f"race {race_id}: raceType")
        name += f" ({party} {kind.lower()})" if kind else f" ({party})"
    return name


class Times:
    """ISO 8601 times as AP writes them, parsed once each (a feed repeats a few values)."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime | None] = {}

    def latest(self, values: set[str]) -> datetime | None:
        found = [t for t in map(self.parse, values) if t is not None]
        return max(found) if found else None

    def parse(self, value: str) -> datetime | None:
        if value not in self._seen:
            try:
                when = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                when = None  # metadata: an unreadable time is not worth refusing counts for
            if when is not None and when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            self._seen[value] = when
        return self._seen[value]


def race_snapshot(
    info: RaceInfo,
    *,
    source: str,
    fetched_at: datetime,
    published_at: datetime | None,
    times: Times,
) -> Snapshot:
    """The race's Snapshot. The state row keeps AP's own totals; subunits name it as parent.

    Unit ids: the state's postal code ("CT"); a subunit's is qualified by it and uses AP's
    ``reportingunitID`` (stable, unique in a state; ``fipsCode`` is not: New England towns
    share their county's), else ``fipsCode``, else its name. Parties are the candidates
    (``candidateID``, else ``polID``), called as the state row calls them.
    """
    race = info.key
    ids: list[str] = []
    names: list[str | None] = []
    parents: list[str | None] = []
    reporting: list[float] = []
    at_unit: list[int] = []
    at_party: list[int] = []
    counts: list[int] = []
    given: list[bool] = []
    party_at: dict[str, int] = {}
    firsts: list[str | None] = []
    lasts: list[str | None] = []
    top_calls: dict[int, str] | None = None  # the race call: the state row's
    any_calls: dict[int, str] = {}  # a race without a state row: the first call found
    updated: set[str] = {info.updated} if info.updated else set()
    for u, unit in enumerate(info.units or ()):
        where = f"race {race}, reportingUnits[{u}]"
        if not isinstance(unit, dict):
            raise FeedError(f"{where} must be an object, not {_shown(unit)}")
        state = text(unit.get("statePostal"), f"{where}.statePostal") or info.state
        if not state:
            raise FeedError(f"{where} has no statePostal")
        top = unit.get("level") in TOP_LEVELS
        if top:
            ids.append(state)
            names.append(text(unit.get("stateName"), f"{where}.stateName") or state)
            parents.append(None)
        else:
            label = text(unit.get("reportingunitName"), f"{where}.reportingunitName")
            key = (
                text(unit.get("reportingunitID"), f"{where}.reportingunitID")
                or text(unit.get("fipsCode"), f"{where}.fipsCode")
                or label
            )
            if not key:
                raise FeedError(f"{where} has no reportingunitID, fipsCode or name")
            ids.append(f"{state}/{key}")
            names.append(label or key)
            parents.append(state)
        reporting.append(_reporting(unit, where))
        stamp = unit.get("lastUpdated")
        if isinstance(stamp, str):
            updated.add(stamp)
        candidates = unit.get("candidates", [])
        if not isinstance(candidates, list):
            raise FeedError(f"{where}: candidates must be an array, not {_shown(candidates)}")
        calls = any_calls
        if top and top_calls is None:
            calls = top_calls = {}
        for c, cand in enumerate(candidates):
            if not isinstance(cand, dict):
                raise FeedError(f"{where}, candidates[{c}] must be an object, not {_shown(cand)}")
            pid = text(cand.get("candidateID"), f"{where}, candidates[{c}].candidateID") or text(
                cand.get("polID"), f"{where}, candidates[{c}].polID"
            )
            if not pid:
                raise FeedError(f"{where}, candidates[{c}] has no candidateID or polID")
            p = party_at.get(pid)
            if p is None:
                p = party_at[pid] = len(firsts)
                firsts.append(text(cand.get("first"), f"candidate {pid}: first"))
                lasts.append(text(cand.get("last"), f"candidate {pid}: last"))
            votes = cand.get("voteCount")
            at_unit.append(u)
            at_party.append(p)
            if votes is None:
                counts.append(0)
                given.append(False)
            elif type(votes) is int and 0 <= votes <= MAX_COUNT:
                counts.append(votes)
                given.append(True)
            else:
                raise FeedError(
                    f"{where}, candidate {printable_text(pid)}: voteCount {_shown(votes)} is not "
                    f"a whole number of votes from 0 to {MAX_COUNT:,}"
                )
            flag = cand.get("winner")
            if flag and p not in calls and isinstance(flag, str) and flag in CALLS:
                calls[p] = CALLS[flag]
    calls = top_calls if top_calls is not None else any_calls
    n, k = len(ids), len(firsts)
    values = np.zeros((k, n), dtype=np.int64)
    missing = np.ones((k, n), dtype=bool)
    if counts:
        rows, cols = np.asarray(at_party), np.asarray(at_unit)
        flat = rows * n + cols
        if len(np.unique(flat)) != len(flat):
            raise FeedError(f"race {race}: {_repeated(flat, n, ids, list(party_at))}")
        values[rows, cols] = counts
        missing[rows, cols] = ~np.asarray(given, dtype=bool)
    index = pd.Index(ids, dtype=str)
    party_ids = pd.Index(list(party_at), dtype=str)
    votes = typed_frame(
        [pd.arrays.IntegerArray(values[j], missing[j]) for j in range(k)], party_ids, index
    )
    shares = np.asarray(reporting, dtype=np.float64)
    units = typed_frame(
        [
            strings(np.asarray(names, dtype=object)),
            strings(np.asarray(parents, dtype=object)),
            pd.arrays.FloatingArray(np.nan_to_num(shares), np.isnan(shares)),
        ],
        _UNIT_COLUMNS.copy(),
        index,
    )
    parties = typed_frame(
        [
            strings(np.asarray(_full_names(firsts, lasts, list(party_at)), dtype=object)),
            strings(np.asarray(_short_names(lasts), dtype=object)),
            strings(np.asarray([calls.get(p) for p in range(k)], dtype=object)),
        ],
        _PARTY_COLUMNS.copy(),
        party_ids,
    )
    return Snapshot.build(
        source=source,
        votes=votes,
        units=units,
        parties=parties,
        fetched_at=fetched_at,
        published_at=times.latest(updated) or published_at,
        race=Race(info.key, info.name, test=info.test),
    )


def _reporting(unit: Mapping[str, Any], where: str) -> float:
    """Precincts reporting / total (exact); AP's rounded percentage only when that fails."""
    done, total = unit.get("precinctsReporting"), unit.get("precinctsTotal")
    for name, value in (("precinctsReporting", done), ("precinctsTotal", total)):
        if value is not None and (type(value) is not int or value < 0):
            raise FeedError(f"{where}: {name} {_shown(value)} is not a whole number ≥ 0")
    if done is not None and total:
        return done / total
    pct = unit.get("precinctsReportingPct")
    if pct is None:
        return float("nan")
    if type(pct) not in (int, float) or not 0 <= pct <= 100:
        raise FeedError(f"{where}: precinctsReportingPct {_shown(pct)} is not a percentage")
    return pct / 100


def _full_names(firsts: list[str | None], lasts: list[str | None], ids: list[str]) -> list[str]:
    return [
        " ".join(p for p in (first, last) if p) or pid
        for first, last, pid in zip(firsts, lasts, ids, strict=True)
    ]


def _short_names(lasts: list[str | None]) -> list[str | None]:
    """Last names, except where two candidates of the race share one (then the full name
    shows: a short name must tell candidates apart)."""
    seen: dict[str, int] = {}
    for last in lasts:
        if last:
            seen[last] = seen.get(last, 0) + 1
    return [last if last and seen[last] == 1 else None for last in lasts]


def _repeated(flat: np.ndarray, n: int, ids: list[str], parties: list[str]) -> str:
    values, counts = np.unique(flat, return_counts=True)
    first = int(values[counts > 1][0])
    party, unit = divmod(first, n)
    return (
        f"candidate {printable_text(parties[party])} appears twice in reporting unit "
        f"{printable_text(ids[unit])}"
    )
