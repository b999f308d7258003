"""One AP race → one Snapshot: its reporting units as units, its candidates as parties.

One pass of plain Python over the decoded records (:mod:`adapters.ap_schema`: types and
ranges already checked) collects each race's rows; the pandas tables are built only when
something reads them (:class:`~nightdesk.deferred.DeferredSnapshot`): a feed of 400 races
pays for the one the desk watches. Everything :meth:`Snapshot.build` would refuse is
refused here, while reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from adapters.ap_schema import RaceRecord, Unit
from nightdesk.deferred import DeferredSnapshot, Tables
from nightdesk.errors import FeedError
from nightdesk.model import Race, has_control, printable_text, strings, typed_frame

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
    units: list[Unit] | None  # the reporting units (None or [] when AP gives none)
    updated: str | None  # the race's own lastUpdated, if it gives one


def _s(value: str | int | None) -> str | None:
    """An id or label the schema let through (a string or a whole number) as text."""
    return value if value is None or type(value) is str else str(value)


def race_info(race: RaceRecord, position: int) -> RaceInfo:
    """The race's identity and names; :class:`FeedError` naming the race when unusable."""
    race_id = _s(race.raceID)
    if not race_id:
        raise FeedError(f"races[{position}] has no raceID")
    units = race.reportingUnits
    state = _s(race.statePostal)
    state_name = None
    for unit in units or ():
        state = state or _s(unit.statePostal)
        if unit.level in TOP_LEVELS:
            state_name = _s(unit.stateName)
            break
    office, office_id = _s(race.officeName), _s(race.officeID)
    key = f"{state}-{race_id}" if state else race_id
    return RaceInfo(
        key=printable_text(key),
        race_id=race_id,
        state=state,
        state_name=state_name,
        office=office,
        office_id=office_id,
        name=printable_text(_race_name(race, race_id, state, office or office_id)),
        test=race.test is True,
        units=units,
        updated=_s(race.lastUpdated),
    )


def _race_name(race: RaceRecord, race_id: str, state: str | None, office: str | None) -> str:
    """ "CT President (GOP primary)", "CO Proposition, BB Retain Revenue"."""
    name = " ".join(p for p in (state, office or f"race {race_id}") if p)
    seat = _s(race.seatName)
    if seat:
        name += f", {seat}"
    party = _s(race.party)
    if party:
        kind = _s(race.raceType)
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


@dataclass(frozen=True)
class RaceShape:
    """What reading a race checks at once: its unit ids (unique, printable), each unit's
    parent and candidate ids (present, each once per unit). The rest waits for
    :meth:`tables`."""

    units: list[Unit]
    ids: list[str]
    parents: list[str | None]
    pids: list[list[str]]

    def tables(self) -> Tables:
        """The votes, units and parties tables (what :meth:`Snapshot.build` checks)."""
        party_at: dict[str, int] = {}
        firsts: list[str | None] = []
        lasts: list[str | None] = []
        at_unit: list[int] = []
        at_party: list[int] = []
        counts: list[int | None] = []
        top_calls: dict[int, str] | None = None  # the race call: the state row's
        any_calls: dict[int, str] = {}  # a race without a state row: the first call found
        for u, (unit, pids) in enumerate(zip(self.units, self.pids, strict=True)):
            cands = unit.candidates
            for pid, cand in zip(pids, cands, strict=True):
                if pid not in party_at:
                    party_at[pid] = len(firsts)
                    firsts.append(_s(cand.first))
                    lasts.append(_s(cand.last))
            here = [party_at[pid] for pid in pids]
            at_party.extend(here)
            at_unit.extend([u] * len(here))
            counts.extend([c.voteCount for c in cands])
            calls = any_calls
            if self.parents[u] is None and top_calls is None:
                calls = top_calls = {}
            for p, cand in zip(here, cands, strict=True):
                flag = cand.winner
                if flag and p not in calls and type(flag) is str and flag in CALLS:
                    calls[p] = CALLS[flag]
        calls = top_calls if top_calls is not None else any_calls
        n, k = len(self.ids), len(party_at)
        values = np.zeros((k, n), dtype=np.int64)
        missing = np.ones((k, n), dtype=bool)
        if counts:
            rows, cols = np.asarray(at_party), np.asarray(at_unit)
            given = np.array([c is not None for c in counts], dtype=bool)
            values[rows[given], cols[given]] = [c for c in counts if c is not None]
            missing[rows, cols] = ~given
        index = pd.Index(self.ids, dtype=str)
        party_ids = pd.Index(list(party_at), dtype=str)  # checked while reading
        votes = typed_frame(
            [pd.arrays.IntegerArray(values[j], missing[j]) for j in range(k)], party_ids, index
        )
        shares = np.array([_reporting(unit) for unit in self.units], dtype=np.float64)
        units = typed_frame(
            [
                strings(
                    np.array(
                        [_unit_name(unit, i) for unit, i in zip(self.units, self.ids, strict=True)],
                        dtype=object,
                    )
                ),
                strings(np.array(self.parents, dtype=object)),
                pd.arrays.FloatingArray(np.nan_to_num(shares), np.isnan(shares)),
            ],
            _UNIT_COLUMNS.copy(),
            index,
        )
        parties = typed_frame(
            [
                strings(np.array(_full_names(firsts, lasts, list(party_at)), dtype=object)),
                strings(np.array(_short_names(lasts), dtype=object)),
                strings(np.array([calls.get(p) for p in range(k)], dtype=object)),
            ],
            _PARTY_COLUMNS.copy(),
            party_ids,
        )
        return {"votes": votes, "units": units, "parties": parties}


def race_snapshot(
    info: RaceInfo,
    *,
    source: str,
    fetched_at: datetime,
    published_at: datetime | None,
    times: Times,
) -> DeferredSnapshot:
    """The race's Snapshot. The state row keeps AP's own totals; subunits name it as parent.

    Unit ids: the state's postal code ("CT"); a subunit's is qualified by it and uses AP's
    ``reportingunitID`` (stable, unique in a state; ``fipsCode`` is not: New England towns
    share their county's), else ``fipsCode``, else its name. Parties are the candidates
    (``candidateID``, else ``polID``), called as the state row calls them.

    Reading checks all that could make the tables fail; the tables are built when read.
    """
    race = info.key
    units = info.units or []
    ids: list[str] = []
    parents: list[str | None] = []
    all_pids: list[list[str]] = []
    counted_tops: set[str] = set()  # state rows with some vote given
    candidates: set[str] = set()
    for u, unit in enumerate(units):
        state = _s(unit.statePostal) or info.state
        if not state:
            raise FeedError(f"race {race}, reportingUnits[{u}] has no statePostal")
        cands = unit.candidates
        if unit.level in TOP_LEVELS:
            unit_id = state
            parents.append(None)
            if any(c.voteCount is not None for c in cands):
                counted_tops.add(state)
        else:
            key = _s(unit.reportingunitID) or _s(unit.fipsCode) or _s(unit.reportingunitName)
            if not key:
                raise FeedError(
                    f"race {race}, reportingUnits[{u}] has no reportingunitID, fipsCode or name"
                )
            unit_id = f"{state}/{key}"
            parents.append(state)
        ids.append(unit_id)
        pids = [p if type(p := c.candidateID) is str and p else _s(p) or _s(c.polID) for c in cands]
        all_pids.append(pids)  # type: ignore[arg-type]
        candidates.update(pids)  # type: ignore[arg-type]
        if len(set(pids)) != len(pids) or not all(pids):
            _bad_candidates(pids, race, u, unit_id)
    updated = {t for unit in units if type(t := unit.lastUpdated) is str}
    if info.updated:
        updated.add(info.updated)
    _unique_ids(list(candidates), "candidate", race)  # still apart once printable
    shape = RaceShape(units, _unique_ids(ids, "unit", race), parents, all_pids)
    return DeferredSnapshot(
        source=source,
        fetched_at=fetched_at,
        published_at=times.latest(updated) or published_at,
        race=Race(info.key, info.name, test=info.test),
        make=shape.tables,
        # The records as decoded: equal records make equal tables.
        content=units,
        # Every subunit's parent is a state row the race gives with votes: nothing to roll up.
        tree_complete=all(p is None or p in counted_tops for p in parents),
    )


def _bad_candidates(pids: list[str | None], race: str, u: int, unit_id: str) -> None:
    """Raise for a unit whose candidates lack an id or repeat one."""
    seen: set[str] = set()
    for c, pid in enumerate(pids):
        if not pid:
            raise FeedError(
                f"race {race}, reportingUnits[{u}], candidates[{c}] has no candidateID or polID"
            )
        if pid in seen:
            raise FeedError(
                f"race {race}: candidate {printable_text(pid)} appears twice in "
                f"reporting unit {printable_text(unit_id)}"
            )
        seen.add(pid)


def _unit_name(unit: Unit, unit_id: str) -> str:
    if unit.level in TOP_LEVELS:
        return _s(unit.stateName) or unit_id
    return _s(unit.reportingunitName) or unit_id.split("/", 1)[1]


def _reporting(unit: Unit) -> float:
    """Precincts reporting / total (exact); AP's rounded percentage only when that fails."""
    done, total = unit.precinctsReporting, unit.precinctsTotal
    if done is not None and total:
        return done / total
    pct = unit.precinctsReportingPct
    return float("nan") if pct is None else pct / 100


def _unique_ids(values: list[str], what: str, race: str) -> list[str]:
    """The ids as the tables will show them (control characters replaced), each once."""
    if has_control("".join(values)):
        values = [printable_text(v) for v in values]
    if len(set(values)) != len(values):
        seen: set[str] = set()
        dup = next(v for v in values if v in seen or seen.add(v))  # type: ignore[func-returns-value]
        raise FeedError(f"race {race}: {what} {dup!r} appears twice")
    return values


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
