"""The provinces table's data: one result as whole-table arrays, compared array against array.

A poll at 20,000 units must not cost 20,000 Python steps on the event loop. So the table keeps
numbers, not text: every column is a NumPy array in the feed's unit order, two results are
compared column by column in one vectorised step, and text is made only for the rows on
screen, when a line is drawn (``text``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

from nightdesk import hierarchy
from nightdesk.model import Snapshot
from nightdesk.results import RaceResult
from tui import board
from tui.formatting import net_change

T = TypeVar("T", pd.Series, pd.DataFrame)

NONE = -1  # "not reported" / "no such party" in the integer arrays

#: Columns whose text comes from a feed or a party id: left-aligned; numbers are right-aligned.
LEFT = frozenset({"name", "leader", "seats"})

#: Columns that sort smallest first on the first press (names A–Z, the closest last seat
#: first); every other column sorts largest first (most votes, most reported, biggest change).
ASCENDING = frozenset({"name", "leader", "margin"})

#: Letters NFKD does not take apart, as a desk would type them on a plain keyboard.
_PLAIN = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)


def fold(text: str) -> str:
    """``text`` as a desk types it: case and accents ignored ("kep" finds "Kép", "bac ninh"
    finds "Bắc Ninh"). Only combining marks go: Khmer vowel signs, which are letters of their
    own, stay, so a Khmer name is still found by typing it."""
    if text.isascii():  # most names: ~10× faster than taking them apart
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_PLAIN)


def _ints(values: pd.Series | pd.DataFrame) -> np.ndarray:
    """Nullable integers as int64 with ``NONE`` for missing (counts are never negative)."""
    return values.fillna(NONE).to_numpy(dtype="int64", na_value=NONE)


def _aligned(frame: T, units: pd.Index, columns: pd.Index | None = None) -> T:
    """``frame`` on these units (and columns): a reindex only when they differ."""
    if not (frame.index is units or frame.index.equals(units)):
        frame = frame.reindex(units)
    if (
        columns is not None
        and isinstance(frame, pd.DataFrame)
        and not (frame.columns is columns or frame.columns.equals(columns))
    ):
        frame = frame.reindex(columns=columns)
    return frame


def _flagged(result: RaceResult, units: pd.Index) -> np.ndarray:
    """Per unit: whether any feed check fails (the findings are in the snapshot's order)."""
    found = result.findings
    if found.units is units or found.units.equals(units):
        return found.flagged
    at = found.units.get_indexer(units)
    return (at >= 0) & found.flagged[at]


def _same_tree(a: TableData, b: TableData) -> bool:
    if a.parents is None or b.parents is None:
        return a.parents is None and b.parents is None
    assert a.branch is not None and b.branch is not None
    return bool(np.array_equal(a.parents, b.parents) and np.array_equal(a.branch, b.branch))


@dataclass(frozen=True, eq=False)
class TableData:
    """One result as the table shows it; every array is in ``units`` order.

    ``parties`` are the party columns on screen; ``seat_parties`` every party that can win a
    seat (the seats text names them). Party references are indices into ``seat_parties``.
    """

    units: pd.Index
    ids: np.ndarray  # object: the unit ids as str (a NumPy lookup is far cheaper than Index[i])
    names: np.ndarray  # object: unit names
    reporting: np.ndarray  # float64, NaN when not reported
    parties: tuple[str, ...]
    votes: np.ndarray  # int64 units × parties shown, NONE when not reported
    seat_parties: tuple[str, ...]
    leader: np.ndarray  # int64 index into seat_parties, NONE when nothing is counted
    seats: np.ndarray  # int64 units × seat_parties
    undecided: np.ndarray  # int64
    challenger: np.ndarray  # int64 index into seat_parties, NONE when uncontested
    needed: np.ndarray  # int64 votes the challenger needs, NONE when uncontested
    change: np.ndarray  # int64 net votes since the last poll
    correction: np.ndarray  # bool: a count went down in the last poll
    flagged: np.ndarray  # bool: a feed check fails for the unit (nightdesk.checks)
    #: object: each unit's parent id (None at the top); ``None`` for a flat feed.
    parents: np.ndarray | None = None
    #: bool: the unit has units below it (Enter goes down to them); ``None`` for a flat feed.
    branch: np.ndarray | None = None
    #: How ``seat_parties`` are shown (short name, else name): AP and Clarity ids are numbers.
    seat_labels: tuple[str, ...] = ()

    @classmethod
    def build(cls, result: RaceResult, parties: tuple[str, ...]) -> TableData:
        snap, alloc = result.snapshot, result.allocation
        units = snap.votes.index
        all_votes = snap.votes
        seat_parties = tuple(str(p) for p in all_votes.columns)
        # The snapshot's own arrays (made once, on the poller's thread): no pandas per poll.
        filled, missing = snap.vote_arrays()
        sums, _ = snap.vote_sums()
        if len(seat_parties):
            leader = np.where(sums > 0, filled.argmax(axis=1), NONE)
        else:
            leader = np.full(len(units), NONE, dtype="int64")
        shown = all_votes.columns.get_indexer(list(parties))
        # A shown party the feed dropped (-1) shows as not reported, never as another column.
        gone = (shown < 0)[None, :]
        votes = np.where(missing[:, shown] | gone, NONE, filled[:, shown]) if len(shown) else None
        seats = _aligned(alloc.seats, units, all_votes.columns)
        undecided = _aligned(alloc.undecided, units).fillna(0)
        margins = _aligned(alloc.margins, units)
        needed = _ints(margins["votes_needed"])
        # Index lookups, not a per-unit map: the challenger's column, -1 (NONE) for none.
        challenger = pd.Index(seat_parties).get_indexer(
            margins["challenger"].to_numpy(dtype=object, na_value=None)
        )
        contested = (challenger != NONE) & (needed != NONE)
        change, correction = board.net_changes(result, "unit", units)
        parents = branch = None
        if not hierarchy.is_flat(snap):
            parents = hierarchy.parents(snap)
            branch = hierarchy.has_children(snap)
        return cls(
            units=units,
            ids=units.astype(str).to_numpy(dtype=object),
            names=_aligned(snap.units["name"], units).astype(str).to_numpy(dtype=object),
            reporting=_aligned(snap.units["reporting"], units)
            .astype("Float64")
            .to_numpy(dtype="float64", na_value=np.nan),
            parties=parties,
            votes=votes if votes is not None else np.zeros((len(units), 0), dtype="int64"),
            seat_parties=seat_parties,
            leader=leader.astype("int64"),
            seats=_ints(seats).clip(min=0),
            undecided=undecided.to_numpy(dtype="int64"),
            challenger=np.where(contested, challenger, NONE),
            needed=np.where(contested, needed, NONE),
            change=change,
            correction=correction,
            flagged=_flagged(result, units),
            seat_labels=_labels(snap, seat_parties),
            parents=parents,
            branch=branch,
        )

    def __len__(self) -> int:
        return len(self.units)

    def same_shape(self, other: TableData | None) -> bool:
        """Same units in the same order and the same party columns: cells can be compared."""
        return (
            other is not None
            and _same_tree(self, other)
            and self.parties == other.parties
            and self.seat_parties == other.seat_parties
            and self.seat_labels == other.seat_labels
            and (self.units is other.units or self.units.equals(other.units))
        )

    def changed(self, old: TableData) -> dict[str, np.ndarray]:
        """Per column key, the unit positions whose text may differ from ``old``'s."""
        out = {
            "name": (self.names != old.names) | (self.flagged != old.flagged),
            "reporting": ~(
                (self.reporting == old.reporting)
                | (np.isnan(self.reporting) & np.isnan(old.reporting))
            ),
            "leader": self.leader != old.leader,
            "seats": (self.seats != old.seats).any(axis=1) | (self.undecided != old.undecided),
            "margin": (self.challenger != old.challenger) | (self.needed != old.needed),
            "change": (self.change != old.change) | (self.correction != old.correction),
        }
        for i, party in enumerate(self.parties):
            out[f"v:{party}"] = self.votes[:, i] != old.votes[:, i]
        return {key: np.flatnonzero(mask) for key, mask in out.items() if mask.any()}

    # --- text for one cell, made only for rows on screen -------------------------------

    def text(self, pos: int, key: str) -> str:
        if key == "name":
            if self.branch is not None and self.branch[pos]:
                return f"{self.names[pos]} ›"  # Enter goes down to the units below
            return str(self.names[pos])
        if key == "reporting":
            r = self.reporting[pos]
            return "" if np.isnan(r) else f"{r * 100:.0f}%"
        if key.startswith("v:"):
            v = int(self.votes[pos, self.parties.index(key[2:])])
            return "—" if v == NONE else f"{v:,}"
        if key == "leader":
            i = int(self.leader[pos])
            return "" if i == NONE else self.label(i)
        if key == "seats":
            return self.seats_text(pos)
        if key == "margin":
            i = int(self.challenger[pos])
            return "" if i == NONE else f"{self.label(i)} +{int(self.needed[pos]):,}"
        if key == "change":
            return net_change(int(self.change[pos]), bool(self.correction[pos]))
        raise KeyError(key)

    def label(self, i: int) -> str:
        """Seat party ``i`` as people know it."""
        return self.seat_labels[i] if self.seat_labels else self.seat_parties[i]

    def seats_text(self, pos: int) -> str:
        """``CPP 5·CNRP 6``, with `` ?1`` for seats still tied; empty before any count."""
        if self.leader[pos] == NONE:
            return ""
        row = self.seats[pos]
        text = "·".join(f"{self.label(i)} {row[i]}" for i in np.flatnonzero(row))
        undecided = int(self.undecided[pos])
        return f"{text} ?{undecided}" if undecided else text

    # --- sort keys (values, so any column sorts without making text) ----------------

    def sort_values(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Values that order the units by a column, smallest first, and which are missing
        (a missing value sorts last whichever the direction)."""
        if key == "name":
            names = np.array([fold(str(n)) for n in self.names], dtype=object)
            return names, np.zeros(len(self), dtype=bool)
        if key == "reporting":
            missing = np.isnan(self.reporting)
            return np.where(missing, 0.0, self.reporting), missing
        if key.startswith("v:"):
            v = self.votes[:, self.parties.index(key[2:])]
            return v, v == NONE
        if key == "margin":
            return self.needed, self.needed == NONE
        if key == "change":
            return np.abs(self.change), np.zeros(len(self), dtype=bool)
        if key == "seats":  # the unit's seats, decided or not: the biggest units first
            total = self.seats.sum(axis=1) + self.undecided
            return total, self.leader == NONE
        if key == "leader":
            labels = np.array(
                [fold(self.label(int(i))) if i != NONE else "" for i in self.leader], dtype=object
            )
            return labels, self.leader == NONE
        raise KeyError(key)


def _labels(snap: Snapshot, parties: tuple[str, ...]) -> tuple[str, ...]:
    """Each party's short name, else its name (the model fills a missing name with the id)."""
    table = snap.parties
    short = table["short_name"].to_numpy(dtype=object, na_value=None)
    names = table["name"].to_numpy(dtype=object, na_value=None)
    at = table.index.get_indexer(list(parties))
    return tuple(
        str(short[j] or names[j] or p) if j >= 0 else p for j, p in zip(at, parties, strict=True)
    )
