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

    @property
    def seats_text(self) -> str:
        """``68`` when every seat is decided, ``60+8`` (decided + provisional) otherwise."""
        provisional = self.seats - self.decided
        return f"{self.decided}+{provisional}" if provisional else str(self.seats)


def leading_parties(result: RaceResult, limit: int) -> list[str]:
    """Parties by national votes, most first (ties keep the feed's order)."""
    totals = result.snapshot.votes.sum(axis=0).astype("int64")
    order = np.argsort(-totals.to_numpy(), kind="stable")
    return [str(totals.index[i]) for i in order[:limit]]


def unit_rows(result: RaceResult) -> pd.DataFrame:
    """Per unit: name, reporting, leader, seat split text, votes added since the last poll."""
    snap, alloc = result.snapshot, result.allocation
    votes = snap.votes
    filled = votes.fillna(0).astype("int64")
    any_votes = filled.sum(axis=1) > 0
    leader = filled.idxmax(axis=1).where(any_votes, "")
    seats = alloc.seats
    seat_text = pd.Series("", index=votes.index, dtype=object)
    for party in seats.columns:  # one pass per party column, vectorised over units
        n = seats[party]
        part = np.where(n > 0, f"{party} " + n.astype(str), "")
        seat_text = np.where(
            (seat_text != "") & (part != ""), seat_text + "·" + part, seat_text + part
        )
    seat_text = pd.Series(seat_text, index=votes.index)
    undecided = alloc.undecided.reindex(votes.index).fillna(0).astype(int)
    seat_text = seat_text.where(undecided == 0, seat_text + " ?" + undecided.astype(str))
    seat_text = seat_text.where(any_votes, "")
    cells = result.delta.cells
    if result.previous is not None and not cells.empty:
        change = cells.groupby("unit")["change"].sum().reindex(votes.index).fillna(0)
        corr = cells.groupby("unit")["correction"].any().reindex(votes.index).fillna(False)
    else:
        change = pd.Series(0, index=votes.index)
        corr = pd.Series(False, index=votes.index)
    margins = alloc.margins.reindex(votes.index)
    contested = margins["challenger"].notna() & margins["votes_needed"].notna()
    needed = margins["votes_needed"].fillna(0).astype("int64")
    margin_text = pd.Series(
        np.where(
            contested,
            margins["challenger"].astype(str) + " +" + needed.map("{:,}".format),
            "",
        ),
        index=votes.index,
    )
    return pd.DataFrame(
        {
            "name": snap.units["name"].astype(str),
            "reporting": snap.units["reporting"],
            "leader": leader,
            "seats": seat_text,
            "margin": margin_text,
            "votes_needed": margins["votes_needed"].where(contested),
            "change": change.astype("int64"),
            "correction": corr.astype(bool),
        },
        index=votes.index,
    )


def party_lines(result: RaceResult) -> list[PartyLine]:
    """National lines, most votes first."""
    snap = result.snapshot
    totals = snap.votes.sum(axis=0, min_count=1)
    grand = int(totals.fillna(0).sum())
    seats = result.allocation.totals()
    decided = result.decided.sum(axis=0)
    cells = result.delta.cells if result.previous is not None else result.delta.cells.iloc[0:0]
    change = cells.groupby("party")["change"].sum()
    corr = cells.groupby("party")["correction"].any()
    lines = []
    for party in leading_parties(result, len(totals)):
        v = totals[party]
        lines.append(
            PartyLine(
                party=party,
                name=str(snap.parties.at[party, "name"]),
                votes=None if v is pd.NA else int(v),
                share=(int(v) / grand) if grand and v is not pd.NA else None,
                seats=int(seats.get(party, 0)),
                decided=int(decided.get(party, 0)),
                change=int(change.get(party, 0)),
                correction=bool(corr.get(party, False)),
            )
        )
    return lines


def total_seats(result: RaceResult) -> int:
    return int(result.seats.fillna(0).sum())
