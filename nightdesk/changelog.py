"""The night's change log: every vote count that moved, and every correction, in order.

The first snapshot of a source is its starting point, not a change: a desk wants to see
what moved after it started watching.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from nightdesk.delta import Delta


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

    def record(self, source: str, delta: Delta, at: datetime) -> list[Change]:
        """Add a delta's vote changes and figure corrections; returns the new entries."""
        if delta.before is None:
            return []
        race = delta.after.race.id if delta.after.race else ""
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
                Change(
                    at, source, race, unit, "(unit withdrawn)", None, None, 0, True, is_votes=False
                )
            )
        for entry in new:
            if len(self.entries) == self.entries.maxlen:
                self._forget(self.entries[0])
            self.entries.append(entry)
            self._by_unit[(entry.source, entry.race, entry.unit)].append(entry)
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

    def __len__(self) -> int:
        return len(self.entries)
