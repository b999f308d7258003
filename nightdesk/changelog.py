"""The night's change log: every vote count that moved, every correction, and every
finding of the feed checks as it appears and clears, in order.

The first snapshot of a source is its starting point, not a change: a desk wants to see
what moved after it started watching. Findings are not changes but problems, so those of
the first snapshot are logged (as found).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from nightdesk.checks import CHECKS, TITLES, Findings, findings
from nightdesk.delta import Delta

#: The ``item`` of a change that says a unit left the feed.
WITHDRAWN = "(unit withdrawn)"
#: ``Change.kind``: a count that moved; a check that started failing; one that stopped.
COUNT, FOUND, CLEARED = "count", "found", "cleared"


@dataclass(frozen=True, slots=True)
class Change:
    """One count that changed between two polls of one source (slots: the log keeps up to
    100,000 of them)."""

    at: datetime
    source: str
    race: str
    unit: str
    item: str  # a party id, or a unit figure such as "ballots_cast"
    before: int | float | None
    after: int | float | None
    change: int | float
    correction: bool
    is_votes: bool = True
    #: :data:`COUNT`, or :data:`FOUND` / :data:`CLEARED` for a finding (``item`` is then the
    #: check id of ``nightdesk.checks.CHECKS``).
    kind: str = COUNT
    #: For a finding: the message with its numbers (found) or the check's title (cleared).
    note: str = ""

    @property
    def is_finding(self) -> bool:
        return self.kind != COUNT


def _opt(value: object) -> int | float | None:
    return None if value is None or value is pd.NA else value  # type: ignore[return-value]


#: The in-memory log keeps this many recent changes (the history store keeps everything).
MAX_ENTRIES = 100_000
#: … and this many per unit.
MAX_PER_UNIT = 1_000


class ChangeLog:
    """Recent changes of the night, oldest first, with an index by unit; bounded in memory:
    at most ``max_entries`` changes in all, of which at most ``max_per_unit`` per unit."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_per_unit: int = MAX_PER_UNIT) -> None:
        self.entries: deque[Change] = deque(maxlen=max_entries)
        self._max_per_unit = max_per_unit
        self._by_unit: dict[tuple[str, str, str], deque[Change]] = defaultdict(
            lambda: deque(maxlen=self._max_per_unit)
        )

    def record(
        self,
        source: str,
        delta: Delta,
        at: datetime,
        found: Findings | None = None,
    ) -> list[Change]:
        """Add a delta's vote changes, figure corrections and the findings that appeared or
        cleared since ``delta.before``; returns the new entries.

        ``found``: the findings of ``delta.after`` (``RaceResult.findings``); by default
        those of :func:`nightdesk.checks.findings`, which are the same object.
        """
        race = delta.after.race.id if delta.after.race else ""
        new = self._counts(source, race, delta, at) if delta.before is not None else []
        new += finding_changes(
            source,
            race,
            findings(delta.before) if delta.before is not None else None,
            found if found is not None else findings(delta.after),
            at,
        )
        self.add(new)
        return new

    def add(self, changes: Iterable[Change]) -> None:
        """Append entries as they are (a log read back from the store), oldest first."""
        for entry in changes:
            if len(self.entries) == self.entries.maxlen:
                self._forget(self.entries[0])
            self.entries.append(entry)
            self._by_unit[(entry.source, entry.race, entry.unit)].append(entry)

    def _counts(self, source: str, race: str, delta: Delta, at: datetime) -> list[Change]:
        new = [
            *self._changes(delta.cells, "party", source, race, at, is_votes=True),
            *self._changes(
                delta.figures[delta.figures["correction"]],
                "figure",
                source,
                race,
                at,
                is_votes=False,
            ),
        ]
        for unit in delta.vanished:
            new.append(
                Change(at, source, race, unit, WITHDRAWN, None, None, 0, True, is_votes=False)
            )
        return new

    def _forget(self, oldest: Change) -> None:
        """The unit index never outlives the log: memory stays bounded by ``max_entries``."""
        key = (oldest.source, oldest.race, oldest.unit)
        history = self._by_unit.get(key)
        if history and history[0] is oldest:
            history.popleft()
            if not history:
                del self._by_unit[key]

    @staticmethod
    def _changes(
        frame: pd.DataFrame, item: str, source: str, race: str, at: datetime, *, is_votes: bool
    ) -> list[Change]:
        """Change records from a Delta table (vote cells, or unit figures that went down)."""
        return [
            Change(
                at,
                source,
                race,
                unit,
                name,
                _opt(before),
                _opt(after),
                _opt(change) or 0,
                bool(corr),
                is_votes=is_votes,
            )
            # tolist(): one conversion per column, not a pandas scalar per cell.
            for unit, name, before, after, change, corr in zip(
                frame["unit"].tolist(),
                frame[item].tolist(),
                frame["before"].tolist(),
                frame["after"].tolist(),
                frame["change"].tolist(),
                frame["correction"].tolist(),
                strict=True,
            )
        ]

    def for_unit(self, source: str, race: str, unit: str) -> list[Change]:
        return list(self._by_unit.get((source, race, unit), ()))

    def for_race(self, source: str, race: str) -> list[Change]:
        """One race's entries, oldest first (a scan: for switching races, not per poll)."""
        return [c for c in self.entries if c.source == source and c.race == race]

    def __len__(self) -> int:
        return len(self.entries)


def finding_changes(
    source: str, race: str, before: Findings | None, after: Findings, at: datetime
) -> list[Change]:
    """The findings that appeared or cleared from ``before`` to ``after``, as log entries:
    found ones first (unit order, then check order), then cleared ones.

    A finding that persists is not logged again, whatever its numbers do. A unit that
    appears counts as never flagged before; one that vanishes is logged as withdrawn by the
    delta, so its findings are not said to clear. The comparison is one array operation;
    entries (and their text) are made only for what changed.
    """
    now = after.flags
    if before is None:
        was = np.zeros_like(now)
    elif before.units is after.units or before.units.equals(after.units):
        was = before.flags
    else:
        at_old = before.units.get_indexer(after.units)
        was = np.zeros_like(now)
        kept = at_old >= 0
        was[:, kept] = before.flags[:, at_old[kept]]
    if np.array_equal(now, was):
        return []
    out: list[Change] = []
    for pos, k in _by_unit(now & ~was):
        f = after.finding(pos, k)
        out.append(_finding(at, source, race, f.unit, f.check, FOUND, f.message))
    for pos, k in _by_unit(was & ~now):
        check, unit = CHECKS[k], str(after.units[pos])
        out.append(_finding(at, source, race, unit, check, CLEARED, TITLES[check]))
    return out


def _by_unit(flags: np.ndarray) -> list[tuple[int, int]]:
    """(unit position, check index) of each set flag (checks × units), unit by unit."""
    check, pos = np.nonzero(flags)
    order = np.argsort(pos, kind="stable")
    return list(zip(pos[order].tolist(), check[order].tolist(), strict=True))


def _finding(
    at: datetime, source: str, race: str, unit: str, check: str, kind: str, note: str
) -> Change:
    return Change(
        at, source, race, unit, check, None, None, 0, False, is_votes=False, kind=kind, note=note
    )
