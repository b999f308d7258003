"""What the screens show of one race result, computed over whole tables (no cell loops).

These frames are the view model: the widgets only compare them with what they show and
update the cells that differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightdesk.results import RaceResult


@dataclass(frozen=True)
class PartyLine:
    party: str
    name: str
    votes: int | None
    share: float | None
    seats: int
    decided: int
    change: int
    correction: bool
    #: The feed's race call: "winner", "runoff" or None.
    called: str | None = None
    #: What the pane shows: the short name when the feed gives one, else the name.
    label: str = ""

    @property
    def seats_text(self) -> str:
        """``68`` when every seat is decided, ``60+8`` (decided + provisional) otherwise."""
        provisional = self.seats - self.decided
        return f"{self.decided}+{provisional}" if provisional else str(self.seats)


def leading_parties(result: RaceResult, limit: int) -> list[str]:
    """Parties by national votes, most first (ties keep the feed's order)."""
    totals = result.snapshot.party_totals().fillna(0).astype("int64")
    order = np.argsort(-totals.to_numpy(), kind="stable")
    return [str(totals.index[i]) for i in order[:limit]]


def net_changes(result: RaceResult, by: str, labels: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Votes gained since the last poll per label (``by`` = "unit" or "party"), and whether a
    count went down among them; zeros for the first snapshot."""
    change = np.zeros(len(labels), dtype="int64")
    corrected = np.zeros(len(labels), dtype=bool)
    cells = result.delta.cells
    if result.previous is not None and not cells.empty:
        at = labels.get_indexer(cells[by])
        known = at >= 0
        top = result.snapshot.top_level()
        if by == "party" and not top.all():  # national: a county's change is its state's too
            known &= result.snapshot.units.index[top].get_indexer(cells["unit"]) >= 0
        np.add.at(change, at[known], cells["change"].fillna(0).to_numpy("int64")[known])
        corrected[at[known & cells["correction"].to_numpy(bool)]] = True
    return change, corrected


def party_lines(result: RaceResult) -> list[PartyLine]:
    """National lines, most votes first (NumPy over whole columns: a few µs per party)."""
    snap = result.snapshot
    votes = snap.votes
    parties = votes.columns
    top = snap.top_level()
    national = votes if top.all() else votes[top]  # a county's votes are also its state's
    counts = national.to_numpy(dtype="int64", na_value=0)
    reported = national.notna().to_numpy().any(axis=0)
    totals = counts.sum(axis=0)
    grand = int(totals.sum())
    seats = result.allocation.seats.reindex(columns=parties, fill_value=0).to_numpy().sum(axis=0)
    decided = result.decided.reindex(columns=parties, fill_value=0).to_numpy().sum(axis=0)
    change, corrected = net_changes(result, "party", parties)
    names = snap.parties["name"].reindex(parties).to_numpy(dtype=object)
    shorts = snap.parties["short_name"].reindex(parties).to_numpy(dtype=object, na_value=None)
    calls = snap.parties["called"].reindex(parties).to_numpy(dtype=object, na_value=None)
    lines = []
    for i in np.argsort(-totals, kind="stable"):
        lines.append(
            PartyLine(
                party=str(parties[i]),
                name=str(names[i]),
                votes=int(totals[i]) if reported[i] else None,
                share=(int(totals[i]) / grand) if grand and reported[i] else None,
                seats=int(seats[i]),
                decided=int(decided[i]),
                change=int(change[i]),
                correction=bool(corrected[i]),
                called=calls[i],
                label=str(shorts[i] or names[i]),
            )
        )
    return lines


def total_seats(result: RaceResult) -> int:
    return int(result.seats.fillna(0).sum())
