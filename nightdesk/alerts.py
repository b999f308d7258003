"""Alerts: what happened that the desk asked to be told about (``[alerts]``), each said once.

An :class:`AlertBook` watches the states a poller publishes, in order, and returns only the
alerts that are new. A rule fires on a *change* from one state to the next, never on a
condition that merely persists: a margin that stays under N is said once; if it goes back
over N and falls again it is said again (each fall is an event). A failing or stale source is
said once, and again only after a good poll in between.

The first results seen of a source — its first poll, or the night restored from the store —
are the reference, not events: starting the monitor (or restarting it mid-night) never
replays the night's alerts. What changed after that, including what changed while the monitor
was down and the first poll brings, is said. Health is different: a source failing on its
first poll is said at once, and staleness counts from when the book first saw the source (a
monitor restarted after an hour does not call every source stale for that hour).

Time comes from the states (the poller's clock) or from the clock given to the book (the
app's), never from the wall directly: a test with a frozen clock gets the same alerts each
run. Pure engine code: no terminal, no I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from nightdesk.alert_rules import (
    CORRECTION,
    FAILING,
    FULL_REPORTING,
    MARGIN,
    SEAT_CHANGE,
    STALE,
    AlertRules,
)
from nightdesk.changelog import Change
from nightdesk.delta import Delta, compare
from nightdesk.model import Snapshot, printable_text
from nightdesk.polling import SourceHealth, SourceState
from nightdesk.results import RaceResult

#: ``Change.kind`` of an alert in the change log (``item`` is the rule, ``note`` the message).
ALERT = "alert"
#: The book keeps this many alerts (the log screen lists them); the oldest go first.
MAX_KEPT = 10_000
#: A correction's alert names this many counts, then says how many more.
MOST_ITEMS = 3


@dataclass(frozen=True, slots=True)
class Alert:
    """One event the desk asked to be told about."""

    at: datetime
    rule: str  # nightdesk.alert_rules: SEAT_CHANGE, MARGIN, …
    source: str
    race: str  # the race key ("" for a source's health)
    unit: str  # the unit id; "" for the nation or the source
    name: str  # what it is about, as shown: the unit's name, "National", the source
    what: str  # what happened, one line

    @property
    def message(self) -> str:
        return f"{self.name}: {self.what}"

    def change(self, with_source: bool = False) -> Change:
        """The alert as a line of the change log (and so of the changes pane); its note
        names the source too when ``with_source`` (a desk watching several) and the alert
        is not about the source itself."""
        note = self.message
        if with_source and self.name != self.source:
            note = f"{self.source} · {note}"
        return Change(
            self.at,
            self.source,
            self.race,
            self.unit,
            self.rule,
            None,
            None,
            0,
            False,
            is_votes=False,
            kind=ALERT,
            note=note,
        )


@dataclass
class _Watched:
    """What the book remembers of one source."""

    since: datetime | None  # first seen: staleness counts from here at the earliest
    results: dict[str, RaceResult] = field(default_factory=dict)
    health: SourceHealth = field(default_factory=SourceHealth)
    failing: bool = False  # said, until a good poll
    stale: bool = False  # said, until a good poll


class AlertBook:
    """The night's alerts: :meth:`observe` each state as it comes, :meth:`tick` between polls
    (a source that stops answering publishes nothing to observe)."""

    def __init__(
        self,
        rules: AlertRules | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        keep: int = MAX_KEPT,
        counted: Collection[str] | None = None,
    ) -> None:
        self.rules = rules or AlertRules()
        self._clock = clock
        #: The sources whose counts raise alerts (None: every source); health: all of them.
        self._counted = None if counted is None else frozenset(counted)
        #: Every alert said, oldest first (at most ``keep``).
        self.log: deque[Alert] = deque(maxlen=keep)
        #: How many alerts were said in all (``log`` keeps the latest): alert ``n`` of the
        #: night is ``log[n - (said - len(log))]`` while kept.
        self.said = 0
        self._sources: dict[str, _Watched] = {}

    def observe(self, state: SourceState, now: datetime | None = None) -> list[Alert]:
        """The alerts this state brings (and remember it as the reference for the next).

        ``now``: the time of the state; by default its last poll attempt, else the clock.
        """
        name = state.source.name
        now = now or state.health.last_attempt or (self._clock() if self._clock else None)
        watched = self._sources.get(name)
        if watched is None:
            watched = self._sources[name] = _Watched(since=now)
        watched.since = watched.since or now
        watched.health = state.health
        counted = self._counted is None or name in self._counted
        new = self._results(watched, name, state.results) if state.results and counted else []
        new += self._health(watched, name, now)
        self._keep(new)
        return new

    def tick(self, now: datetime) -> list[Alert]:
        """Sources that went stale since their last state (call it every few seconds)."""
        new: list[Alert] = []
        for name, watched in self._sources.items():
            new += self._stale(watched, name, now)
        self._keep(new)
        return new

    def _keep(self, new: list[Alert]) -> None:
        self.log.extend(new)
        self.said += len(new)

    def numbered(self) -> list[tuple[int, Alert]]:
        """The kept alerts with their number in the night (0 the first), oldest first."""
        first = self.said - len(self.log)
        return list(enumerate(self.log, start=first))

    # -- results

    def _results(
        self, watched: _Watched, source: str, results: Iterable[RaceResult]
    ) -> list[Alert]:
        new: list[Alert] = []
        current: dict[str, RaceResult] = {}
        for result in results:
            key = result.race_key
            current[key] = result
            ref = watched.results.get(key)
            # A race seen for the first time is the reference; the same snapshot again (a
            # failed poll, "it is stored") has nothing new.
            if ref is not None and ref.snapshot is not result.snapshot:
                new += self.compare(source, ref, result)
        watched.results = current
        return new

    def compare(self, source: str, before: RaceResult, after: RaceResult) -> list[Alert]:
        """The alerts from one result of a race to the next: seats that changed hands, close
        last seats, units at 100%, corrections (in that order)."""
        rules = self.rules
        at, race = after.snapshot.fetched_at, after.race_key
        names = _Names(after)
        # Whether the units are the same as before, found once (every rule asks).
        same = _same(before.snapshot.votes.index, after.snapshot.votes.index)
        new: list[Alert] = []
        if rules.seat_change:
            new += [
                Alert(at, SEAT_CHANGE, source, race, unit, names[unit], what)
                for unit, what in seat_changes(before, after, same)
            ]
            national = national_change(before, after)
            if national:
                race_obj = after.snapshot.race
                label = f"National ({race_obj.name})" if race_obj and race_obj.name else "National"
                new.append(Alert(at, SEAT_CHANGE, source, race, "", label, national))
        if rules.margin_under is not None:
            new += [
                Alert(at, MARGIN, source, race, unit, names[unit], what)
                for unit, what in close_seats(before, after, rules.margin_under, same)
            ]
        if rules.full_reporting:
            new += [
                Alert(at, FULL_REPORTING, source, race, unit, names[unit], "100% reporting")
                for unit in fully_reported(before, after, same)
            ]
        if rules.corrections:
            delta = after.delta
            if delta.before is not before.snapshot:  # a state was skipped: compare directly
                delta = compare(before.snapshot, after.snapshot)
            new += [
                Alert(at, CORRECTION, source, race, unit, names[unit], what)
                for unit, what in corrections(delta)
            ]
        return new

    # -- health

    def _health(self, watched: _Watched, source: str, now: datetime | None) -> list[Alert]:
        health, rules = watched.health, self.rules
        new: list[Alert] = []
        if not health.failures:
            watched.failing = False
        elif rules.failing and not watched.failing and health.failures >= rules.failing_after:
            watched.failing = True
            error = health.last_error or "unknown error"
            times = f" ({health.failures} polls in a row)" if health.failures > 1 else ""
            at = health.last_attempt or now
            if at is not None:
                new.append(Alert(at, FAILING, source, "", "", source, f"failing: {error}{times}"))
        if now is not None:
            new += self._stale(watched, source, now)
        return new

    def _stale(self, watched: _Watched, source: str, now: datetime) -> list[Alert]:
        after = self.rules.stale_after
        if after is None:
            return []
        good, since = watched.health.last_success, watched.since
        start = max(good, since) if good and since else good or since
        if start is None:
            return []
        age = (now - start).total_seconds()
        if age <= after:
            watched.stale = False
            return []
        if watched.stale:
            return []
        watched.stale = True
        what = f"stale: no good poll for {duration(age)}"
        return [Alert(now, STALE, source, "", "", source, what)]


# -- the rules, one function each (pure: two results in, (unit, what) out)


def seat_changes(
    before: RaceResult, after: RaceResult, same: bool | None = None
) -> list[tuple[str, str]]:
    """Units (top level) where a party lost a seat to another party or to a tie.

    A unit's first seats (nothing allocated before) are not a change of hands, nor is a unit
    that loses a seat it no longer has (its seat figure went down) without anyone gaining.
    ``same``: whether both have the same units in the same order, if known.
    """
    old, new = before.allocation.seats, after.allocation.seats
    top = after.snapshot.top_level()
    parties = new.columns if _same(old.columns, new.columns) else new.columns.union(old.columns)
    if same if same is not None else _same(old.index, new.index):  # the usual poll: no reindex
        units = new.index[top]
        a = _frame(old, parties)[top]
        b = _frame(new, parties)[top]
        ta = before.allocation.undecided.to_numpy()[top]
        tb = after.allocation.undecided.to_numpy()[top]
    else:
        units = new.index[top]
        units = units[units.isin(old.index)]
        a = old.reindex(index=units, columns=parties, fill_value=0).to_numpy()
        b = new.reindex(index=units, columns=parties, fill_value=0).to_numpy()
        ta = before.allocation.undecided.reindex(units, fill_value=0).to_numpy()
        tb = after.allocation.undecided.reindex(units, fill_value=0).to_numpy()
    if not len(units):
        return []
    lost = (b < a).any(axis=1)
    gained = (b > a).any(axis=1) | (tb > ta)
    out = []
    for pos in np.flatnonzero(lost & gained).tolist():
        moves = [
            f"{printable_text(str(p))} {a[pos, k]} → {b[pos, k]}"
            for k, p in enumerate(parties)
            if a[pos, k] != b[pos, k]
        ]
        if tb[pos] != ta[pos]:
            moves.append(f"tied {ta[pos]} → {tb[pos]}")
        out.append((str(units[pos]), "seat changes hands: " + ", ".join(moves)))
    return out


def national_change(before: RaceResult, after: RaceResult) -> str | None:
    """The national seats per party, when a party lost any (seats only added — units
    reporting their first results — are the count going on, not an event)."""
    old, new = before.allocation.seats, after.allocation.seats
    parties = new.columns if _same(old.columns, new.columns) else new.columns.union(old.columns)
    a = _frame(old, parties).sum(axis=0)  # Allocation.totals(), without a Series each
    b = _frame(new, parties).sum(axis=0)
    if not (b < a).any():
        return None
    moves = [
        f"{printable_text(str(p))} {a[k]} → {b[k]}" for k, p in enumerate(parties) if a[k] != b[k]
    ]
    return "seats change: " + ", ".join(moves)


def close_seats(
    before: RaceResult, after: RaceResult, under: int, same: bool | None = None
) -> list[tuple[str, str]]:
    """Units (top level) whose last seat's challenger now needs fewer than ``under`` votes
    and did not at the previous result (or there was no contest then)."""
    m = after.allocation.margins
    need = _floats(m["votes_needed"])
    was = _floats(_aligned(before.allocation.margins["votes_needed"], m.index, same))
    rows = np.flatnonzero((need < under) & ~(was < under) & after.snapshot.top_level())
    out = []
    for pos in rows.tolist():
        holder = printable_text(str(m["holder"].iat[pos]))
        challenger = printable_text(str(m["challenger"].iat[pos]))
        n = int(need[pos])
        what = f"close last seat: {challenger} needs {n:,} votes to take it from {holder}"
        what += f" (under {under:,})"
        out.append((str(m.index[pos]), what))
    return out


def fully_reported(before: RaceResult, after: RaceResult, same: bool | None = None) -> list[str]:
    """Units (top level) at 100% reporting that were not at the previous result."""
    units = after.snapshot.units
    now = _floats(units["reporting"])
    was = _floats(_aligned(before.snapshot.units["reporting"], units.index, same))
    rows = np.flatnonzero((now >= 1.0) & ~(was >= 1.0) & after.snapshot.top_level())
    return [str(units.index[pos]) for pos in rows.tolist()]


def corrections(delta: Delta) -> list[tuple[str, str]]:
    """One line per unit with a count that went down (votes or unit figures, at any level:
    a correction is never hidden), and per unit that left the feed."""
    out: list[tuple[str, str]] = []
    frame = delta.corrections if delta.has_corrections else None
    if frame is not None and not frame.empty:
        grouped: dict[str, list[str]] = {}
        for unit, item, b, a, change in zip(
            frame["unit"].tolist(),
            frame["item"].tolist(),
            frame["before"].tolist(),
            frame["after"].tolist(),
            frame["change"].tolist(),
            strict=True,
        ):
            grouped.setdefault(str(unit), []).append(_count_change(str(item), b, a, change))
        for unit, items in grouped.items():
            more = f" +{len(items) - MOST_ITEMS} more" if len(items) > MOST_ITEMS else ""
            out.append((unit, "correction: " + ", ".join(items[:MOST_ITEMS]) + more))
    out += [(str(unit), "correction: left the feed") for unit in delta.vanished]
    return out


def duration(seconds: float) -> str:
    """A wait as a desk says it: 45 s, 5 min, 5 min 12 s, 1 h 05 min."""
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min" + (f" {s % 60:02d} s" if s % 60 else "")
    return f"{s // 3600} h" + (f" {s % 3600 // 60:02d} min" if s % 3600 // 60 else "")


def _count_change(item: str, before: object, after: object, change: object) -> str:
    item = printable_text(item)
    if item == "reporting":
        return f"reporting {_percent(before)} → {_percent(after)}"
    if _missing(before) or _missing(after):
        return f"{item} {_number(before)} → {_number(after)}"
    return f"{item} {_number(before)} → {_number(after)} ({int(change):+,})"  # type: ignore[call-overload]


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _number(value: object) -> str:
    return "—" if _missing(value) else f"{int(value):,}"  # type: ignore[call-overload]


def _percent(value: object) -> str:
    return "—" if _missing(value) else f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]


def _same(a: pd.Index, b: pd.Index) -> bool:
    return a is b or a.equals(b)


def _aligned(column: pd.Series, index: pd.Index, same: bool | None = None) -> pd.Series:
    """``column`` on ``index`` (<NA> where it has no row): itself when already so (``same``:
    known to be, or not)."""
    if same if same is not None else _same(column.index, index):
        return column
    return column.reindex(index)


def _frame(seats: pd.DataFrame, parties: pd.Index) -> np.ndarray:
    """Seats by unit × ``parties`` (0 for a party the table lacks) as an array."""
    if _same(seats.columns, parties):
        return seats.to_numpy()
    return seats.reindex(columns=parties, fill_value=0).to_numpy()


def _floats(column: pd.Series) -> np.ndarray:
    """A nullable column as float64, <NA> as NaN (NaN compares false: never fires)."""
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


class _Names:
    """Unit id → the name to show (the feed's name, else the id), looked up when asked: a
    poll alerts about a few units of thousands."""

    def __init__(self, result: RaceResult) -> None:
        self._units = result.snapshot.units
        self._previous: Snapshot | None = result.previous

    def __getitem__(self, unit: str) -> str:
        for snapshot_units in (self._units, self._previous.units if self._previous else None):
            if snapshot_units is not None and unit in snapshot_units.index:
                name = snapshot_units["name"].get(unit)
                if name is not None and name is not pd.NA:
                    return printable_text(str(name))
        return printable_text(unit)
