"""What the big screen shows of one race result: the national lines and one unit's lines.

Pure functions over the engine's result (no widgets), so the screen only compares what it
shows with these and redraws what differs — and tests can read them without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightdesk.results import RaceResult
from tui import board
from tui.formatting import count, percent
from tui.province_screen import margin_sentence
from tui.widgets.plain import printable

#: A party with no seats and less of the national vote than this goes on the "others" line,
#: however much room there is: a wall display shows who matters, not eight rows of zeros.
MINOR_SHARE = 0.01


@dataclass(frozen=True)
class BigLine:
    """One party nationally: the big number is its seats (or its votes without seats)."""

    party: str
    label: str
    #: The party's full name when it differs from the label, else "".
    name: str
    votes: int | None
    share: float | None
    seats: int


@dataclass(frozen=True)
class National:
    lines: tuple[BigLine, ...]
    #: Parties beyond the ones shown big, summed on one line.
    others: tuple[BigLine, ...]
    #: True when the race allocates seats: the big number is seats, else votes.
    by_seats: bool
    total_seats: int
    #: Top-level units with any votes, and all of them.
    counted: int
    units: int

    def big(self, line: BigLine) -> str:
        """The big number of a line: seats, or votes with thousands separators."""
        return str(line.seats) if self.by_seats else count(line.votes)

    def title(self) -> str:
        what = "seats" if self.by_seats else "votes"
        text = f"National {what}"
        if self.by_seats and self.total_seats:
            text += f" · majority {self.total_seats // 2 + 1} of {self.total_seats}"
        return f"{text} · {self.counted:,} of {self.units:,} units with results"

    def others_text(self) -> str:
        if not self.others:
            return ""
        votes = sum(line.votes or 0 for line in self.others)
        seats = sum(line.seats for line in self.others)
        share = sum(line.share or 0.0 for line in self.others)
        text = f"{len(self.others)} other parties: {count(votes)} votes ({percent(share, 1)})"
        return f"{text}, {seats} seats" if self.by_seats else text


def national(result: RaceResult, limit: int) -> National:
    """The national lines, most votes first; up to ``limit`` of them big (never the minor
    ones beyond the first two), the rest as "others"."""
    lines = []
    for p in board.party_lines(result):
        label = printable(p.label or p.party)
        name = printable(p.name)
        lines.append(
            BigLine(p.party, label, "" if name == label else name, p.votes, p.share, p.seats)
        )
    snap = result.snapshot
    top = snap.top_level()
    reported = snap.votes.notna().to_numpy().any(axis=1)
    total = board.total_seats(result)
    major = sum(1 for x in lines if x.seats or (x.share or 0.0) >= MINOR_SHARE)
    shown = max(0, min(limit, max(2, major)))
    return National(
        lines=tuple(lines[:shown]),
        others=tuple(lines[shown:]),
        by_seats=total > 0,
        total_seats=total,
        counted=int((reported & top).sum()),
        units=int(top.sum()),
    )


def cycle(result: RaceResult) -> list[str]:
    """The units the big screen cycles through: the top level, in the feed's order."""
    snap = result.snapshot
    return [str(u) for u in snap.units.index[snap.top_level()]]


@dataclass(frozen=True)
class UnitLine:
    label: str
    votes: int | None
    share: float | None
    seats: int | None


@dataclass(frozen=True)
class UnitView:
    unit: str
    name: str
    seats: int | None
    reporting: float | None
    lines: tuple[UnitLine, ...]
    #: The last seat in words (who needs how many votes to take it).
    margin: str

    def big(self, line: UnitLine) -> str:
        """The big number of a line: seats where the unit has seats, else votes."""
        if self.seats is None:
            return count(line.votes)
        return "" if line.seats is None else str(line.seats)

    def title(self, position: int, units: int) -> str:
        text = self.name
        if self.seats is not None:
            text += f" · {self.seats} seat{'' if self.seats == 1 else 's'}"
        if self.reporting is not None:
            text += f" · {percent(self.reporting)} reporting"
        return f"{text} · {position + 1} of {units}"


def unit_view(result: RaceResult, unit: str, limit: int) -> UnitView:
    """One unit: its ``limit`` leading parties by votes (the feed's order among equals)."""
    snap = result.snapshot
    info = snap.units.loc[unit]
    name = info["name"]
    votes = snap.votes.loc[unit]
    counts = votes.to_numpy(dtype="int64", na_value=0)
    known = votes.notna().to_numpy()
    total = int(counts.sum())
    seats = result.seats.get(unit)
    has_seats = seats is not None and seats is not pd.NA
    won = result.allocation.seats.loc[unit] if unit in result.allocation.seats.index else None
    lines = []
    for i in np.argsort(-counts, kind="stable")[: max(0, limit)]:
        party = str(snap.votes.columns[i])
        lines.append(
            UnitLine(
                label=printable(snap.party_label(party)),
                votes=int(counts[i]) if known[i] else None,
                share=counts[i] / total if total and known[i] else None,
                seats=int(won[party]) if has_seats and won is not None and party in won else None,
            )
        )
    rep = info["reporting"]
    return UnitView(
        unit=unit,
        name=printable(str(unit if name is None or pd.isna(name) or name == "" else name)),
        seats=int(seats) if has_seats else None,
        reporting=None if rep is None or pd.isna(rep) else float(rep),
        lines=tuple(lines),
        margin=margin_sentence(result, unit) if has_seats else "",
    )
