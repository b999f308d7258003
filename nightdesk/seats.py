"""Seats from votes: the common apportionment methods, per unit, vectorised over units.

Every method is "pick the S best entries" of a per-unit table of entries (quotients for
divisor methods, remainders for largest remainder, votes for first past the post), so one
vectorised picker and one tie rule serve them all. Units are processed in groups of equal
seat count, so one large unit never inflates the work for all the others. Exact ties are
found in integers (divisors are kept scaled by 5 so 1.4 stays exact), never by comparing
floats: entries that a float cannot tell apart are ranked with exact fractions.

Margins are exact, for every method and with thresholds. Each one is "the smallest change
of one party's votes after which its seats differ", where the unit's valid votes change
with the party's (so a threshold's base moves too: a gain can push other parties under the
threshold and free their seats, which can make a seat cheaper than the quotients say; a
loss can lift other parties over it):

* ``next_seat[p]``: the fewest extra votes with which ``p`` holds one seat more than now.
* ``votes_needed``: the challenger's ``next_seat``.
* ``holder_can_lose``: one less than the fewest lost votes that cost the holder a seat, so
  the holder keeps its seats losing any number of votes up to it, and loses one with one more.

Where a closed form is exact it is the answer: divisor methods and first past the post
where no seat of the unit is tied (the party's next quotient against the lowest winning
one of the others); Hare (the entries S·v − m·V, see ``_Group._remainder_steps``); in both
cases only while the set of parties over the threshold stays the same up to the answer (a
party under it first has to rise over it: then the answer is the later of that and the
closed form). Everywhere else — a threshold
that moves another party, a tied seat, Droop — the closed form is a guess, checked with
the exact allocation arithmetic (``_Group._holds``: integers, the tie rule, the threshold
as ``allocate`` applies it) and, where it fails, the smallest answer is searched for from
the guess, as whole-array operations over all the searches of a group. The searches rely
on these facts (tested on random cases in ``tests/engine/test_seats_properties.py``):

* Divisor methods and first past the post: the seats of ``p`` never fall as ``p`` gains
  votes, threshold included (a gain only pushes others under the threshold and lifts ``p``).
* Hare: the same while the set of parties over the threshold does not change (``p``'s
  share of the quotas rises and every other party's falls). The changes of that set are
  computed exactly and searched segment by segment, from a closed form for each.
* Droop: not monotone. The quota ⌊V/(S+1)⌋ + 1 steps up by one vote every S+1 votes and a
  step can cost ``p`` a seat it had just won (votes 271 and 86, four seats: 76 or 77 more
  votes give the first party all four seats, 78 more only three). Over any S+1 more
  votes, though, the quota grows by exactly one, ``p``'s share of it rises and every other
  party's falls, so the seats at x + S + 1 are at least those at x; and between two steps
  of the quota the seats never fall. The first point is therefore found through windows
  of S+1 consecutive vote counts, each checked at two points.

A national threshold is taken as it stands: votes won or lost in one unit are not assumed
to move a party over or under it, and a party below it has no ``next_seat``. Changes
larger than 2**48 votes are not searched for (``<NA>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from nightdesk.model import MAX_SEATS, typed_frame

Method = Literal["dhondt", "sainte-lague", "sainte-lague-modified", "hare", "droop", "fptp"]
TieRule = Literal["more-votes", "undecided"]
METHODS: tuple[str, ...] = (
    "dhondt",
    "sainte-lague",
    "sainte-lague-modified",
    "hare",
    "droop",
    "fptp",
)
TIE_RULES: tuple[str, ...] = ("more-votes", "undecided")
DIVISOR_METHODS: tuple[str, ...] = ("dhondt", "sainte-lague", "sainte-lague-modified")
LARGEST_REMAINDER: tuple[str, ...] = ("hare", "droop")

_SCALE = 5
# The largest vote change searched for; keeps every product of the arithmetic in int64
# (counts are at most 10**12, scaled divisors at most 10,005).
_X_MAX = 1 << 48
_NONE = np.iinfo(np.int64).max  # "no such point"


@dataclass(frozen=True)
class SeatRules:
    """How one election turns votes into seats."""

    method: Method = "dhondt"
    threshold: float = 0.0
    national_threshold: float = 0.0
    tie: TieRule = "more-votes"


@dataclass(frozen=True)
class LastSeat:
    """Who holds a unit's last seat and how close it is.

    ``holder`` holds the seat handed out last: the lowest winning quotient (divisor
    methods), the smallest remainder that won a seat (largest remainder; where every seat
    went by whole quotas, the smallest remainder of a party with seats), the winner (first
    past the post). Among equal values the party with fewer votes is last in line.
    ``challenger`` is the party next in line: the highest quotient, or the largest
    remainder, that did not win, among the parties other than the holder that are over the
    threshold (the runner-up for first past the post). ``votes_needed`` is the fewest extra
    votes the challenger needs to win one more seat, all else equal; ``holder_can_lose``
    the most votes the holder can lose and still keep all its seats (one more and it does
    not). Both are exact, thresholds included (see the module's docstring).
    """

    holder: str
    challenger: str | None
    votes_needed: int | None
    holder_can_lose: int | None


@dataclass(frozen=True)
class AllocationArrays:
    """An allocation as arrays (rows = units, columns = parties; −1 = not defined).

    What :func:`allocate` computes before it builds the tables; kept so that the next
    poll can copy the rows of the units that did not change instead of computing them.
    """

    won: np.ndarray  # int64 (unit, party)
    undecided: np.ndarray  # int64 (unit,)
    eligible: np.ndarray  # bool (unit, party)
    holder: np.ndarray  # party position (unit,)
    challenger: np.ndarray  # party position (unit,)
    votes_needed: np.ndarray  # int64 (unit,)
    holder_can_lose: np.ndarray  # int64 (unit,)
    next_seat: np.ndarray  # int64 (unit, party)

    def take(self, rows: np.ndarray) -> AllocationArrays:
        """These rows, in this order, as new arrays."""
        return AllocationArrays(
            **{name: np.take(getattr(self, name), rows, axis=0) for name in _ARRAY_FIELDS}
        )

    def copy(self) -> AllocationArrays:
        """New, writable arrays with the same rows."""
        return AllocationArrays(**{name: getattr(self, name).copy() for name in _ARRAY_FIELDS})

    def put(self, rows: np.ndarray, part: AllocationArrays) -> None:
        """Overwrite ``rows`` with ``part``'s rows (in place)."""
        for name in _ARRAY_FIELDS:
            getattr(self, name)[rows] = getattr(part, name)

    def frozen(self) -> AllocationArrays:
        """These arrays, made read-only (tables may share their memory)."""
        for name in _ARRAY_FIELDS:
            getattr(self, name).flags.writeable = False
        return self


_ARRAY_FIELDS: tuple[str, ...] = (
    "won",
    "undecided",
    "eligible",
    "holder",
    "challenger",
    "votes_needed",
    "holder_can_lose",
    "next_seat",
)


@dataclass(frozen=True)
class Allocation:
    """Seats per unit and party, what could not be decided, and how close the last seat is."""

    seats: pd.DataFrame  # index unit, columns party, int64
    undecided: pd.Series  # per unit, int64: seats tied (or nothing counted yet)
    eligible: pd.DataFrame  # bool: party passed the thresholds in the unit
    margins: pd.DataFrame  # per unit: holder, challenger, votes_needed, holder_can_lose
    next_seat: pd.DataFrame  # Int64: fewest extra votes for each party's next seat

    def totals(self) -> pd.Series:
        """National seats per party."""
        return self.seats.sum(axis=0).astype("int64")

    @cached_property
    def last_seat(self) -> Mapping[str, LastSeat | None]:
        """The margin of every unit's last seat (``None`` where no seat is allocated).

        A read-only mapping by unit id that builds each entry when asked: a screen that
        shows one unit does not pay for 20,000.
        """
        return _LastSeats(self.margins)


class _LastSeats(Mapping[str, "LastSeat | None"]):
    """``Allocation.last_seat``: unit id → :class:`LastSeat`, made on demand."""

    def __init__(self, margins: pd.DataFrame) -> None:
        self._m = margins
        index = margins.index
        self._keys = index if index.inferred_type in ("string", "empty") else index.astype(str)

    def __getitem__(self, unit: str) -> LastSeat | None:
        if not isinstance(unit, str):
            raise KeyError(unit)
        pos = self._keys.get_loc(unit)
        if not isinstance(pos, int):
            raise KeyError(unit)
        m = self._m
        holder = m["holder"].iat[pos]
        if pd.isna(holder):
            return None
        challenger = m["challenger"].iat[pos]
        needed = m["votes_needed"].iat[pos]
        lose = m["holder_can_lose"].iat[pos]
        return LastSeat(
            holder=str(holder),
            challenger=None if pd.isna(challenger) else str(challenger),
            votes_needed=None if pd.isna(needed) else int(needed),
            holder_can_lose=None if pd.isna(lose) else int(lose),
        )

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys.to_numpy(dtype=object))

    def __len__(self) -> int:
        return len(self._keys)


def divisors(method: str, count: int) -> np.ndarray:
    """The first ``count`` divisors of a divisor method, scaled by 5 (integers)."""
    k = np.arange(count, dtype=np.int64)
    if method == "dhondt":
        return (k + 1) * _SCALE
    if method == "sainte-lague":
        return (2 * k + 1) * _SCALE
    if method == "sainte-lague-modified":
        d = (2 * k + 1) * _SCALE
        if count:
            d[0] = 7  # 1.4 × 5
        return d
    raise ValueError(f"{method!r} is not a divisor method")


def divisor_values(method: str, count: int) -> np.ndarray:
    """The divisors as people write them (1, 2, 3 … or 1.4, 3, 5 …)."""
    return divisors(method, count) / _SCALE


def _national(votes: np.ndarray, rules: SeatRules, national_valid: int | None) -> np.ndarray:
    """Per party: over the national threshold (all ``True`` without one)."""
    total = votes.sum(axis=0)
    if rules.national_threshold <= 0:
        return np.ones(votes.shape[1], dtype=bool)
    base = national_valid if national_valid is not None else int(total.sum())
    return total >= rules.national_threshold * base


def _over_threshold(
    votes: np.ndarray, valid: np.ndarray, national: np.ndarray, threshold: float
) -> np.ndarray:
    """Parties with votes, over the unit threshold and the national one (row-wise)."""
    ok = (votes > 0) & national
    if threshold > 0:
        ok &= votes >= threshold * valid[:, None]
    return ok


def eligibility(
    votes: np.ndarray, valid: np.ndarray, rules: SeatRules, national_valid: int | None = None
) -> np.ndarray:
    """Parties over the unit threshold (and the national one, if any)."""
    national = np.broadcast_to(_national(votes, rules, national_valid), votes.shape)
    return _over_threshold(votes, valid, national, rules.threshold)


def _pick(
    keys: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
    votes: np.ndarray,
    n: np.ndarray | int,
    tie: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose the ``n`` best entries of each row (``n`` per row or for all).

    ``keys`` are float sort keys (−inf = not a candidate); the exact value of an entry is
    ``num / den`` (integers); ``votes`` breaks ties under ``more-votes``. Returns (winners
    mask, undecided count per row). The n-th largest key is found by a plain sort;
    entries clearly above it win; where another entry lies within floating-point reach
    of it (an exact tie, or quotients of huge counts closer than a float can tell), the
    near entries are ranked with exact fractions.
    """
    rows, cols = keys.shape
    n = np.broadcast_to(np.asarray(n, dtype=np.int64), (rows,))
    finite = np.isfinite(keys)
    candidates = _rowsum(finite)
    few = candidates <= n  # every candidate wins (the rest of the seats stay open)
    none = n <= 0
    if cols == 0:
        return finite, np.maximum(n, 0) - candidates
    srt = -np.sort(-keys, axis=1)
    cut = srt[np.arange(rows), _clip(n - 1, 0, cols - 1)]
    cut = np.where(few | none, np.inf, cut)[:, None]
    sure = keys > cut * (1 + 1e-12)
    near = finite & ~sure & (keys >= cut * (1 - 1e-12))
    winners = np.where(few[:, None], finite, sure | near)
    undecided = np.where(few, np.maximum(n, 0) - candidates, 0).astype(np.int64)
    clean = few | none | ((_rowsum(sure) == n - 1) & (_rowsum(near) == 1))
    for u in np.flatnonzero(~clean):
        winners[u], undecided[u] = _resolve_near(
            num[u], den[u], votes[u], sure[u], near[u], int(n[u]), tie
        )
    return winners, undecided


def _resolve_near(
    num: np.ndarray,
    den: np.ndarray,
    votes: np.ndarray,
    sure: np.ndarray,
    near: np.ndarray,
    n: int,
    tie: str,
) -> tuple[np.ndarray, int]:
    """One row of ``_pick``: the entries near the cut ranked with exact fractions (more
    votes break ties under ``more-votes``; equal votes stay undecided)."""
    free = n - int(sure.sum())
    value = {int(e): Fraction(int(num[e]), int(den[e])) for e in np.flatnonzero(near)}
    ranked = sorted(value, key=lambda e: (value[e], int(votes[e])), reverse=True)
    winners = sure.copy()
    if free >= len(ranked) or value[ranked[free - 1]] > value[ranked[free]]:
        winners[ranked[:free]] = True
        return winners, 0
    cut = value[ranked[free - 1]]
    above = [e for e in ranked if value[e] > cut]
    tied = [e for e in ranked if value[e] == cut]  # by votes, most first
    winners[above] = True
    free -= len(above)
    won: list[int] = []
    if tie == "more-votes":
        last_in, first_out = int(votes[tied[free - 1]]), int(votes[tied[free]])
        won = tied[:free] if last_in > first_out else [e for e in tied[:free] if votes[e] > last_in]
    winners[won] = True
    return winners, free - len(won)


def allocate(
    votes: pd.DataFrame,
    seats: pd.Series,
    valid: pd.Series | None = None,
    rules: SeatRules | None = None,
    national_valid: int | None = None,
    *,
    margins: bool = True,
) -> Allocation:
    """Allocate every unit's seats among its parties, with exact margins.

    Args:
        votes: index unit, columns party, counts (``<NA>`` = not reported, counted as 0).
        seats: seats per unit (``<NA>`` or 0: not known / none; the unit gets none).
        valid: valid votes per unit for the threshold (defaults to the sum of party votes).
        rules: method, thresholds and tie rule.
        national_valid: national valid votes for the national threshold.
        margins: ``False`` skips the margins (``margins`` and ``next_seat`` all ``<NA>``),
            for callers that only need the seats of many what-if tables.

    A unit with no seats, with no votes counted yet or with no parties gets no seats and
    no margins (``last_seat`` is ``None``); with seats but nothing counted, every seat is
    ``undecided``. Bad rules and seat counts are a ``ValueError``.
    """
    rules = rules or SeatRules()
    check_rules(rules)
    units, parties = votes.index, votes.columns
    v = _counts(votes.fillna(0).to_numpy(), units, "votes")
    check_inputs(v, None, units)
    s = _counts(seats.reindex(units).fillna(0).to_numpy(), units, "seats")
    check_inputs(None, s, units)
    val = (
        _counts(valid.reindex(units).fillna(0).to_numpy(), units, "valid votes")
        if valid is not None
        else _rowsum(v)
    )
    arrays = allocate_arrays(v, s, val, _national(v, rules, national_valid), rules, margins)
    return allocation_tables(arrays, units, parties)


def check_rules(rules: SeatRules) -> None:
    """A ``ValueError`` for rules ``allocate`` cannot apply."""
    if rules.method not in METHODS:
        raise ValueError(f"unknown seats method {rules.method!r}")
    if rules.tie not in TIE_RULES:
        raise ValueError(f"unknown tie rule {rules.tie!r}")
    for name in ("threshold", "national_threshold"):
        value = getattr(rules, name)
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be a fraction from 0 up to 1, not {value!r}")


def check_inputs(v: np.ndarray | None, s: np.ndarray | None, units: pd.Index) -> None:
    """A ``ValueError`` for negative votes or impossible seat counts (whole tables)."""
    if v is not None and v.size and (v < 0).any():
        bad = units[(v < 0).any(axis=1)][0]
        raise ValueError(f"unit {bad!r}: votes must not be negative")
    if s is not None and ((s < 0).any() or (s > MAX_SEATS).any()):
        bad = units[(s < 0) | (s > MAX_SEATS)][0]
        raise ValueError(f"unit {bad!r}: seats must be from 0 to {MAX_SEATS}")


def national_eligible(
    v: np.ndarray, rules: SeatRules, national_valid: int | None = None
) -> np.ndarray:
    """Per party: over the national threshold (all ``True`` without one). The one input of
    :func:`allocate_arrays` that depends on every unit."""
    return _national(v, rules, national_valid)


def allocate_arrays(
    v: np.ndarray,
    s: np.ndarray,
    val: np.ndarray,
    national: np.ndarray,
    rules: SeatRules,
    margins: bool = True,
) -> AllocationArrays:
    """:func:`allocate` on checked arrays: votes (int64, rows = units), seats and valid votes
    per unit, and the parties over the national threshold (:func:`national_eligible`).

    Every row depends only on its own inputs and on ``national``, so any subset of the units
    can be allocated alone: that is how a poll recomputes only the units that changed.
    """
    national = np.broadcast_to(national, v.shape)
    ok = _over_threshold(v, val, national, rules.threshold)
    n_units = len(v)
    won = np.zeros_like(v)
    undecided = np.zeros(n_units, dtype=np.int64)
    margin_cols = {
        "holder": np.full(n_units, -1),
        "challenger": np.full(n_units, -1),
        "votes_needed": np.full(n_units, -1, dtype=np.int64),
        "holder_can_lose": np.full(n_units, -1, dtype=np.int64),
    }
    next_seat = np.full(v.shape, -1, dtype=np.int64)
    counted = _rowsum(v) > 0
    for seat_count in np.unique(s[counted & (s > 0)]):
        idx = np.flatnonzero(counted & (s == seat_count))
        group = _Group(v[idx], int(seat_count), national[idx], val[idx], rules)
        won[idx] = group.won
        undecided[idx] = group.undecided
        if not margins:
            continue
        group_next = group.next_seat()
        for key, values in group.margins(group_next).items():
            margin_cols[key][idx] = values
        next_seat[idx] = group_next
    undecided = np.where(counted, undecided, s)  # nothing counted yet: every seat is open
    return AllocationArrays(
        won=won,
        undecided=undecided.astype(np.int64),
        eligible=ok,
        next_seat=next_seat,
        **margin_cols,
    )


def allocation_tables(
    arrays: AllocationArrays, units: pd.Index, parties: pd.Index, *, share: bool = False
) -> Allocation:
    """The :class:`Allocation` tables of ``arrays`` (one construction for every path, so a
    full and an incremental allocation of the same counts are equal, dtypes included).

    ``share``: the seat, eligibility and undecided tables use the arrays' memory instead of
    a copy (for read-only arrays, see :meth:`AllocationArrays.frozen`).
    """
    copy = not share
    names = np.asarray([str(p) for p in parties], dtype=object)

    def party_or_none(col: np.ndarray) -> np.ndarray:
        out = np.full(len(col), None, dtype=object)
        out[col >= 0] = names[col[col >= 0]] if len(parties) else None
        return out

    margin_table = pd.DataFrame(
        {
            "holder": party_or_none(arrays.holder),
            "challenger": party_or_none(arrays.challenger),
            "votes_needed": _nullable(arrays.votes_needed),
            "holder_can_lose": _nullable(arrays.holder_can_lose),
        },
        index=units,
    )
    next_seat = arrays.next_seat
    nxt = typed_frame([_nullable(next_seat[:, i]) for i in range(len(parties))], parties, units)
    return Allocation(
        seats=pd.DataFrame(arrays.won, index=units, columns=parties, copy=copy),
        undecided=pd.Series(arrays.undecided, index=units, dtype="int64", copy=copy),
        eligible=pd.DataFrame(arrays.eligible, index=units, columns=parties, copy=copy),
        margins=margin_table,
        next_seat=nxt,
    )


def _counts(values: np.ndarray, units: pd.Index, what: str) -> np.ndarray:
    """Whole numbers as int64; a fraction or a non-number is a clear error."""
    if values.dtype.kind in "iub":
        return values.astype(np.int64)
    try:
        f = values.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be whole numbers") from None
    bad = ~np.isfinite(f) | (f != np.floor(f))
    if bad.any():
        rows = bad.any(axis=1) if bad.ndim == 2 else bad
        raise ValueError(f"unit {units[rows][0]!r}: {what} must be whole numbers")
    # Exact for counts past 2**53 too, where the float could round.
    return values.astype(np.int64) if values.dtype == object else f.astype(np.int64)


def _clip(a: np.ndarray, lo: object, hi: object) -> np.ndarray:
    """``np.clip`` without its per-call overhead (a few µs, paid dozens of times per unit)."""
    return np.minimum(np.maximum(a, lo), hi)


def _rowsum(a: np.ndarray) -> np.ndarray:
    """Sum along rows as int64: a plain ``sum(axis=1)`` is slow on a few columns."""
    if a.dtype == bool:
        if a.shape[1] < 256:
            return np.einsum("ij->i", a.view(np.uint8)).astype(np.int64)
        return a.sum(axis=1, dtype=np.int64)
    return np.einsum("ij->i", a.astype(np.int64, copy=False))


def _nullable(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 with −1 meaning "not defined" turned into <NA>."""
    return pd.arrays.IntegerArray(np.maximum(values, 0).astype(np.int64), values < 0)


# A search point tester: (search indices, points) → bool per search.
Tester = Callable[[np.ndarray, np.ndarray], np.ndarray]


class _Group:
    """Units that share a seat count: allocation and margins as whole-array operations."""

    def __init__(
        self,
        v: np.ndarray,
        seats: int,
        national: np.ndarray,
        valid: np.ndarray,
        rules: SeatRules,
    ) -> None:
        self.v, self.seats, self.national, self.valid, self.rules = (
            v,
            seats,
            national,
            valid,
            rules,
        )
        self.ok = ok = _over_threshold(v, valid, national, rules.threshold)
        # Droop's seats are monotone only over whole windows of S+1 vote counts.
        self.window = seats + 1 if rules.method == "droop" else 1
        n = np.full(len(v), seats, dtype=np.int64)
        if rules.method in DIVISOR_METHODS:
            self.d = divisors(rules.method, seats + 1)
            num = np.repeat(v, seats, axis=1)  # entry (p, j) → column p*seats+j
            den = np.tile(self.d[:seats], v.shape[1])[None, :].repeat(len(v), axis=0)
            keys = num / den
            keys[~np.repeat(ok, seats, axis=1)] = -np.inf
            winners, self.undecided = _pick(keys, num, den, num, seats, rules.tie)
            self.won = winners.reshape(len(v), v.shape[1], seats).sum(axis=2)
        elif rules.method == "fptp":
            self.d = np.full(seats + 1, _SCALE, dtype=np.int64)  # every "quotient" is the vote
            keys = np.where(ok, v.astype(float), -np.inf)
            winners, self.undecided = _pick(keys, v, np.ones_like(v), v, n, rules.tie)
            self.won = winners.astype(np.int64)
        else:
            base, self.rem = _quotas(v, ok, seats, rules.method)
            keys = np.where(ok, self.rem.astype(float), -np.inf)
            left = seats - _rowsum(base)
            extra, self.undecided = _pick(keys, self.rem, np.ones_like(v), v, left, rules.tie)
            self.base, self.extra = base, extra
            self.won = base + extra.astype(np.int64)

    # ----------------------------------------------------------------- exact tests

    def _holds(
        self, unit: np.ndarray, party: np.ndarray, k: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        """Whether ``party`` holds at least ``k`` seats in ``unit`` once its votes, and the
        unit's valid votes, change by ``delta`` — by the exact arithmetic of ``allocate``.

        One entry (quotient or remainder) of a party wins exactly when the entries ranked
        above it, plus those tied with it (under the tie rule), are fewer than the seats.
        """
        rows = np.arange(len(unit))
        v = self.v[unit]
        v[rows, party] += delta
        valid = self.valid[unit] + delta
        ok = _over_threshold(v, valid, self.national[unit], self.rules.threshold)
        vp = v[rows, party]
        okp = ok[rows, party]
        others = ok.copy()
        others[rows, party] = False
        more_votes = self.rules.tie == "more-votes"
        seats = self.seats
        method = self.rules.method
        if method in LARGEST_REMAINDER:
            base, rem = _quotas(v, ok, seats, method)
            left = seats - _rowsum(base)
            bp, rp = base[rows, party], rem[rows, party]
            above = rem > rp[:, None]
            same = rem == rp[:, None]
            if more_votes:
                above |= same & (v > vp[:, None])
                same &= v == vp[:, None]
            ahead = _rowsum(above & others) + _rowsum(same & others)
            by_remainder = okp & (bp == k - 1) & (ahead + 1 <= left)
            return (k <= 0) | (bp >= k) | by_remainder
        if method == "fptp":
            ahead = _rowsum((v >= vp[:, None]) & others)  # equal votes: still a tie
            return (k <= 0) | ((k == 1) & okp & (ahead + 1 <= seats))
        kk = _clip(k, 1, seats)
        den = self.d[kk - 1]  # the divisor of p's k-th quotient, vp / den
        n = np.maximum(vp, 1)[:, None]
        t = v * den[:, None]  # other's quotient v / d(i) beats it ⇔ d(i)·vp < v·den
        below, equal = _divisors_under(self.d, t, n, seats)
        if more_votes:
            below = below + equal * (v > vp[:, None])
            equal = equal * (v == vp[:, None])
        ahead = _rowsum((below + equal) * others)
        return (k <= 0) | ((k <= seats) & okp & (kk - 1 + ahead + 1 <= seats))

    def _breaks(self, unit: np.ndarray, party: np.ndarray, sign: int) -> np.ndarray:
        """Where the set of parties over the unit threshold changes as ``party`` gains
        (``sign`` +1) or loses (−1) votes: per search, the changes' points (``_NONE`` for
        none), computed with the threshold's own floating-point comparison."""
        t = self.rules.threshold
        rows = np.arange(len(unit))
        v, valid = self.v[unit], self.valid[unit][:, None]
        ok, nat = self.ok[unit], self.national[unit]
        vp = v[rows, party][:, None]
        is_p = np.arange(v.shape[1])[None, :] == party[:, None]
        if sign > 0:
            # Another party falls under: v < t·(valid + x). The party itself rises over.
            def other(x: np.ndarray) -> np.ndarray:
                return v < t * (valid + x)

            def own(x: np.ndarray) -> np.ndarray:
                return (vp + x > 0) & (vp + x >= t * (valid + x))

            guess_other = np.floor(v / t - valid) + 1
            guess_own = np.ceil((t * valid - vp) / (1 - t))
            want_other, want_own = ok & ~is_p, nat & ~ok & is_p
        else:
            # Another party rises over: v ≥ t·(valid − y). The party itself falls under.
            def other(x: np.ndarray) -> np.ndarray:
                return v >= t * (valid - x)

            def own(x: np.ndarray) -> np.ndarray:
                return (vp - x <= 0) | (vp - x < t * (valid - x))

            guess_other = np.ceil(valid - v / t)
            guess_own = np.floor((vp - t * valid) / (1 - t)) + 1
            want_other, want_own = nat & ~ok & (v > 0) & ~is_p, ok & is_p

        def cond(x: np.ndarray) -> np.ndarray:
            return np.where(is_p, own(x), other(x))

        guess = np.where(is_p, guess_own, guess_other)
        hi = _X_MAX if sign > 0 else np.broadcast_to(vp, v.shape)
        found = _settle(cond, np.nan_to_num(guess, posinf=_X_MAX), 1, hi)
        return np.where(want_other | want_own, found, _NONE)

    # ---------------------------------------------------------------- the searches

    def _eligible_total(
        self, unit: np.ndarray, party: np.ndarray, delta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Votes of the parties over the threshold once ``party`` changes by ``delta``, and
        whether ``party`` is one of them."""
        rows = np.arange(len(unit))
        v = self.v[unit]
        v[rows, party] += delta
        ok = _over_threshold(v, self.valid[unit] + delta, self.national[unit], self.rules.threshold)
        return _rowsum(np.where(ok, v, 0)), ok[rows, party]

    def _first_change(
        self,
        unit: np.ndarray,
        party: np.ndarray,
        k: np.ndarray,
        sign: int,
        guess: np.ndarray,
        x_max: np.ndarray,
    ) -> np.ndarray:
        """Per search, the smallest x in 1 … x_max at which ``party`` holds ``k`` seats
        (``sign`` +1: gaining x votes) or no longer does (``sign`` −1: losing x votes).
        −1 where there is none. At x = 0 the answer is known to be "no"."""
        n = len(unit)
        out = np.full(n, -1, dtype=np.int64)
        if n == 0:
            return out
        window = self.window
        seats = self.seats

        def test(i: np.ndarray, x: np.ndarray) -> np.ndarray:
            if not len(i):
                return np.zeros(0, dtype=bool)
            holds = self._holds(unit[i], party[i], k[i], sign * x)
            return holds if sign > 0 else ~holds

        def block_end(i: np.ndarray, x: np.ndarray) -> np.ndarray:
            """Droop: the last point of x's run of equal quotas (the set of parties over
            the threshold being fixed); the test is monotone along such a run."""
            total, in_ = self._eligible_total(unit[i], party[i], sign * x)
            rest = total % (seats + 1)
            end = x + (seats - rest if sign > 0 else rest)
            return np.where(in_, end, x if sign < 0 else _NONE)

        blocks = block_end if window > 1 else None
        blocks0 = blocks
        if window > 1:
            # In the first segment the parties over the threshold are those at no change
            # (the party itself from one vote on, without a threshold), so the quota's
            # base moves one for one with x.
            own_in = self.ok[unit, party]
            if self.rules.threshold <= 0:
                own_in = own_in | self.national[unit, party]
            base0 = _rowsum(np.where(self.ok[unit], self.v[unit], 0))
            base0 += np.where(own_in, self.v[unit, party], 0) - np.where(
                self.ok[unit, party], self.v[unit, party], 0
            )

            def block0(i: np.ndarray, x: np.ndarray) -> np.ndarray:
                rest = (base0[i] + sign * x) % (seats + 1)
                end = x + (seats - rest if sign > 0 else rest)
                return np.where(own_in[i], end, x if sign < 0 else _NONE)

            blocks0 = block0
        x_max = np.broadcast_to(np.asarray(x_max, dtype=np.int64), (n,))
        # Segments over which the set of parties over the threshold stays the same. Divisor
        # methods and first past the post are monotone across them, so need none.
        if self.rules.threshold > 0 and self.rules.method in LARGEST_REMAINDER:
            starts = np.sort(self._breaks(unit, party, sign), axis=1)
            starts = np.minimum(starts, x_max[:, None] + 1)
        else:
            starts = np.empty((n, 0), dtype=np.int64)
        starts = np.concatenate([np.ones((n, 1), dtype=np.int64), starts], axis=1)
        ends = np.concatenate([starts[:, 1:] - 1, x_max[:, None]], axis=1)
        guess = _clip(guess, 1, x_max)

        # The guess is the answer if it holds and the window before it does not.
        fast = np.flatnonzero(guess <= ends[:, 0])
        at = guess[fast]
        hit = test(fast, at)
        held, at_held = fast[hit], at[hit]
        before = _any_in(test, blocks0, held, np.maximum(at_held - window, 1), at_held - 1)
        out[held[~before]] = at_held[~before]
        if window > 1:
            # Droop's guess is often a vote or two off: look within a window either side.
            # Held, and so did a point before: the first such, if the window before it is
            # clear (up to the guess's window, known clear from the search).
            idx, c = held[before], at_held[before]
            f = _first_in(test, blocks0, idx, np.maximum(c - window, 1), c - 1)
            clear = ~_any_in(test, blocks0, idx, np.maximum(f - window, 1), c - window - 1)
            out[idx[clear]] = f[clear]
            # Did not hold: the first point after it, if within a window and the window
            # before it is clear.
            idx, c = fast[~hit], at[~hit]
            f = _first_in(test, blocks0, idx, c + 1, np.minimum(c + window, ends[idx, 0]))
            idx, c, f = idx[f >= 0], c[f >= 0], f[f >= 0]
            clear = ~_any_in(test, blocks0, idx, np.maximum(f - window, 1), c - 1)
            out[idx[clear]] = f[clear]
        rest = np.flatnonzero(out < 0)

        # Otherwise: the first segment with a change in its last window holds the answer.
        seg_a = np.zeros(n, dtype=np.int64)
        seg_b = np.full(n, -1, dtype=np.int64)
        later_segment = np.zeros(n, dtype=bool)
        pending = rest
        for j in range(starts.shape[1]):
            if not len(pending):
                break
            a, b = starts[pending, j], ends[pending, j]
            has = np.zeros(len(pending), dtype=bool)
            live = b >= a
            has[live] = _any_in(
                test, blocks, pending[live], np.maximum(a[live], b[live] - window + 1), b[live]
            )
            seg_a[pending[has]], seg_b[pending[has]] = a[has], b[has]
            later_segment[pending[has]] = j > 0
            pending = pending[~has]
        rest = rest[seg_b[rest] >= seg_a[rest]]  # those with no change at all stay −1
        a, b = seg_a[rest], seg_b[rest]
        # Past a change of the parties over the threshold the guess did not know of it:
        # guess again from the segment's start with the parties over it there.
        redo = rest[later_segment[rest]]
        if len(redo):
            a_r = seg_a[redo]
            v_r = self.v[unit[redo]]
            v_r[np.arange(len(redo)), party[redo]] += sign * a_r
            over = _over_threshold(
                v_r,
                self.valid[unit[redo]] + sign * a_r,
                self.national[unit[redo]],
                self.rules.threshold,
            )
            again, _ = self._remainder_steps(
                unit[redo], party[redo], k[redo], sign, start=a_r, over=over
            )
            guess[redo] = _clip(again, a_r, seg_b[redo])
        if window == 1:
            out[rest] = _gallop(lambda i, x: test(rest[i], x), a - 1, b, guess[rest])
            return out
        early = _first_in(test, blocks, rest, a, np.minimum(a + window - 1, b))
        out[rest] = early
        late = early < 0
        idx, a, b = rest[late], a[late], b[late]

        def in_window(i: np.ndarray, x: np.ndarray) -> np.ndarray:
            return _any_in(test, blocks, idx[i], x, x + window - 1)

        first_window = _gallop(in_window, a, b - window + 1, guess[idx] - window + 1)
        out[idx] = first_window + window - 1
        return out

    # ---------------------------------------------------------------- margins

    def _den(self, offset: int) -> np.ndarray:
        """Divisor of each party's next quotient (0) or last winning one (−1)."""
        if self.rules.method == "fptp":
            return np.full(self.v.shape, _SCALE, dtype=np.int64)
        return self.d[_clip(self.won + offset, 0, len(self.d) - 1)]

    def _holders(self) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, the party with the lowest winning entry, and the lowest among the
        others (−1 where none): for divisor methods the last quotient, for largest
        remainder the remainder (remainder seats first)."""
        v, won = self.v, self.won
        if self.rules.method in LARGEST_REMAINDER:
            # Remainder winners first; then, where every seat went by whole quotas, the
            # parties with seats, by their remainders.
            tier = np.where(self.extra, 0, np.where(won > 0, 1, 2))
            q = np.where(won > 0, self.rem, _NONE).astype(float)
            order = np.lexsort((v, q, tier), axis=-1)
            finite = won > 0
        else:
            q = np.where(won > 0, v / self._den(-1), np.inf)
            # Lowest quotient first; among equals the one with fewer votes is last in line.
            order = np.lexsort((v, q), axis=-1)
            finite = np.isfinite(q)
        rows = np.arange(len(v))
        first = np.where(finite[rows, order[:, 0]], order[:, 0], -1)
        if v.shape[1] < 2:
            return first, np.full(len(v), -1)
        second = order[:, 1]
        return first, np.where(finite[rows, second], second, -1)

    def _needed(
        self, p_votes: np.ndarray, p_den: np.ndarray, h_votes: np.ndarray, h_den: np.ndarray
    ) -> np.ndarray:
        """Fewest x with (p + x) / p_den beating h / h_den under the tie rule."""
        target = h_votes * p_den
        x = target // h_den + 1 - p_votes
        if self.rules.tie == "more-votes":
            exact = target % h_den == 0
            x_eq = target // h_den - p_votes
            x = np.where(exact & (p_votes + x_eq > h_votes), x_eq, x)
        return np.maximum(x, 1)

    def _unchanged(
        self, unit: np.ndarray, party: np.ndarray, sign: int, x: np.ndarray
    ) -> np.ndarray:
        """Whether the other parties over the threshold are the same at every change up
        to x (included) as at none; and the party itself over it at x (gaining; from
        its lift on, see ``_lift``) or throughout (losing)."""
        if self.rules.threshold <= 0:
            return self.ok[unit, party] | (sign > 0)
        rows = np.arange(len(unit))
        v = self.v[unit]
        v[rows, party] += sign * x
        ok = _over_threshold(
            v, self.valid[unit] + sign * x, self.national[unit], self.rules.threshold
        )
        # Gains only push others under and lift the party; losses the other way round, so
        # the end point tells for the whole way.
        changed = ok != self.ok[unit]
        own = ok[rows, party]
        changed[rows, party] = False
        same = _rowsum(changed) == 0
        return same & (own if sign > 0 else own & self.ok[unit, party])

    def _guess(
        self, unit: np.ndarray, party: np.ndarray, sign: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """A first guess of the first change (see ``_first_change``), and whether it is
        exact: the closed forms are, for divisor methods and first past the post where no
        seat of the unit is tied, and for Hare, as long as the parties over the threshold
        stay the same."""
        v, won = self.v, self.won
        method = self.rules.method
        k = won[unit, party] + (1 if sign > 0 else 0)
        if method in LARGEST_REMAINDER:
            x, exact = self._remainder_steps(unit, party, k, sign)
            exact &= method == "hare"
        else:
            first, second = self._holders()
            f, s = first[unit], second[unit]
            if sign > 0:
                rival = np.where(party == f, s, f)
                p_votes, h_votes = v[unit, party], v[unit, np.maximum(rival, 0)]
                h_den = self._den(-1)[unit, np.maximum(rival, 0)]
                x = self._needed(p_votes, self._den(0)[unit, party], h_votes, h_den)
                exact = rival >= 0
            else:
                x, exact = self._divisor_loss(unit, party)
            exact &= self.undecided[unit] == 0
            # Holder and challenger are picked by floating-point quotients, which tell all
            # distinct quotients apart while votes × divisor stay under 2**52.
            exact &= self.v[unit].max(axis=1) * int(self.d.max()) < 2**52
        x = _clip(x, 1, _X_MAX if sign > 0 else v[unit, party])
        if sign > 0 and self.rules.threshold > 0:
            # A party under the threshold first has to rise over it: the closed forms hold
            # from there on (they counted it as over), so the answer is the later of both.
            x = np.maximum(x, self._lift(unit, party))
        exact &= self._unchanged(unit, party, sign, x)
        return x, exact

    def _lift(self, unit: np.ndarray, party: np.ndarray) -> np.ndarray:
        """The fewest extra votes that lift ``party`` over the unit threshold (0 where it
        is over it already), with the threshold's own floating-point comparison."""
        t = self.rules.threshold
        vp, valid = self.v[unit, party], self.valid[unit]
        out = np.zeros(len(unit), dtype=np.int64)
        under = np.flatnonzero(~self.ok[unit, party])
        vp, valid = vp[under], valid[under]

        def over(x: np.ndarray) -> np.ndarray:
            return (vp + x > 0) & (vp + x >= t * (valid + x))

        guess = np.nan_to_num(np.ceil((t * valid - vp) / (1 - t)), posinf=_X_MAX)
        found = _settle(over, guess, 1, _X_MAX)
        out[under] = np.where(found == _NONE, _X_MAX, found)
        return out

    def _divisor_loss(self, unit: np.ndarray, holder: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Divisor methods, first past the post: the first loss at which the holder's last
        quotient no longer beats the best quotient that did not win."""
        v, won = self.v[unit], self.won[unit]
        rows = np.arange(len(unit))
        nxt = self._den(0)[unit]
        value = np.where(self.ok[unit] & (won < self.seats), v / nxt, -np.inf)
        if self.rules.method == "fptp":
            value = np.where(won > 0, -np.inf, value)
        value[rows, holder] = -np.inf
        c = np.lexsort((-v, -value), axis=-1)[:, 0]
        has_c = np.isfinite(value[rows, c])
        h_votes, c_votes = v[rows, holder], v[rows, c]
        h_den, c_den = self._den(-1)[unit, holder], nxt[rows, c]
        # The holder keeps its last quotient while (h − y)/h_den beats c/c_den.
        target = c_votes * h_den
        keep_at = target // c_den + 1
        if self.rules.tie == "more-votes":
            eq = target // c_den
            keep_at = np.where((target % c_den == 0) & (eq > c_votes), eq, keep_at)
        return np.where(has_c, h_votes - keep_at + 1, h_votes), has_c

    def _remainder_steps(
        self,
        unit: np.ndarray,
        party: np.ndarray,
        k: np.ndarray,
        sign: int,
        start: np.ndarray | None = None,
        over: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Largest remainder with the parties over the threshold fixed: the first change
        as the n-th of the moments at which the party's entry passes another's.

        Hare is "the S largest of the entries S·v − m·V (m = 0, 1, …)": whole quotas, then
        remainders. The party (votes p + x, total V + x) holds k seats while the entries of
        the others ahead of its k-th, A_j = max(0, k − 1 + ⌈S(v_j − p − x)/(V + x)⌉), plus
        ties not in its favour, are at most S − k. Each A_j moves monotonically with x, one
        step at a time, at moments that are a closed form; the change comes at the n-th
        moment overall, n = how far the count is from S − k. That is exact for Hare; for
        Droop, whose quota ⌊V/(S+1)⌋ + 1 is on average about (V + x)/(S + 1) + 1/2, it
        is a guess. The moments are taken two per party at a time; where a party may pass
        a third time before the n-th, the count is taken again just before its second.
        Returns the answer and whether it is exact. ``start`` and ``over``: look from
        there on (where the answer is known to be no sooner), with those parties over the
        threshold.
        """
        rows = np.arange(len(unit))
        v = self.v[unit]
        others = (self.ok[unit] if over is None else over).copy()
        others[rows, party] = False
        vp = v[rows, party][:, None]
        total = _rowsum(np.where(others, v, 0)) + vp[:, 0]
        if self.rules.method == "hare":
            m, c = self.seats, 0
        else:
            m, c = self.seats + 1, (self.seats + 1) // 2
        more = self.rules.tie == "more-votes"
        lim = self.seats - k
        vt = (total + c)[:, None]
        cap = v[rows, party] if sign < 0 else np.full(len(unit), _X_MAX)
        # x is always before the change, or (the first time, from ``start``) at it.
        x = np.zeros(len(unit), dtype=np.int64) if start is None else start.copy()
        out = np.ones(len(unit), dtype=np.int64)
        exact = np.zeros(len(unit), dtype=bool)
        active = rows
        for round_ in range(12):
            if not len(active):
                break
            whole = len(active) == len(unit)
            va, pa, vta, oth = (
                (v, vp, vt, others)
                if whole
                else (v[active], vp[active], vt[active], others[active])
            )
            ka, xa = k[active][:, None], x[active][:, None]
            gap = m * (va - pa)
            # A_j now: the others' entries ahead of the party's k-th.
            own = pa + sign * xa
            q, r = np.divmod(gap - m * sign * xa, np.maximum(vta + sign * xa, 1))
            tie_against = r == 0
            if more:
                tie_against &= ~(own > va)
            a = np.maximum(ka - 1 + q + (r > 0) + tie_against, 0) * oth
            count = _rowsum(a)
            need = count - lim[active] if sign > 0 else lim[active] + 1 - count
            if round_ == 0 and start is not None:
                there = need <= 0
                out[active[there]], exact[active[there]] = xa[there, 0], True

            cols = (a, va, pa, vta, ka, xa, gap, oth)
            first = _moments(sign, 1, m, more, cols)
            at = first.min(axis=1)
            # The first moment is certain; the n-th is, unless a party's second one comes by
            # then (it may pass a third time). Up to just before the earliest such second
            # one, all is known.
            unsure = np.full(len(active), _NONE)
            more_steps = np.flatnonzero(need >= 2)
            if len(more_steps):
                second = _moments(sign, 2, m, more, [col[more_steps] for col in cols])
                merged = np.sort(np.concatenate([first[more_steps], second], axis=1), axis=1)
                pick = np.minimum(need[more_steps] - 1, merged.shape[1] - 1)
                at[more_steps] = merged[np.arange(len(more_steps)), pick]
                unsure[more_steps] = second.min(axis=1)
            at = np.minimum(at, cap[active])
            ok = (need >= 1) & ((at < unsure) | (at >= cap[active]))
            out[active[ok]] = at[ok]
            exact[active[ok]] = True
            x[active] = np.maximum(unsure - 1, xa[:, 0] + 1)
            active = active[~ok & (need >= 1) & (x[active] < cap[active])]
        return np.maximum(out, 1), exact

    def next_seat(self) -> np.ndarray:
        """Fewest extra votes each party needs for one more seat (−1 where not defined:
        it has every seat, or one seat under first past the post, or is under the national
        threshold)."""
        v, won = self.v, self.won
        out = np.full(v.shape, -1, dtype=np.int64)
        if v.shape[1] == 0:
            return out
        limit = 1 if self.rules.method == "fptp" else self.seats
        unit, party = np.nonzero((won < limit) & self.national)
        guess, exact = self._guess(unit, party, +1)
        out[unit, party] = np.where(exact, guess, -1)
        check = ~exact
        out[unit[check], party[check]] = self._first_change(
            unit[check],
            party[check],
            won[unit[check], party[check]] + 1,
            +1,
            guess[check],
            np.int64(_X_MAX),
        )
        return out

    def margins(self, next_seat: np.ndarray) -> dict[str, np.ndarray]:
        """Holder of the last seat, the party next in line, and how close each is."""
        v, won, ok = self.v, self.won, self.ok
        rows = np.arange(len(v))
        n = len(v)
        out = {
            "holder": np.full(n, -1),
            "challenger": np.full(n, -1),
            "votes_needed": np.full(n, -1, dtype=np.int64),
            "holder_can_lose": np.full(n, -1, dtype=np.int64),
        }
        if v.shape[1] == 0:
            return out
        first, _ = self._holders()
        has_holder = first >= 0
        out["holder"] = first
        # Next in line: the best entry that did not win among the other eligible parties.
        if self.rules.method in LARGEST_REMAINDER:
            value = self.rem.astype(float)
            open_ = ok & (self.extra == 0) & (won < self.seats)
        else:
            value = v / self._den(0)
            open_ = ok & (won < self.seats)
            if self.rules.method == "fptp":
                open_ &= won == 0
        q_next = np.where(open_, value, -np.inf)
        q_next[rows[has_holder], first[has_holder]] = -np.inf
        c = np.lexsort((-v, -q_next), axis=-1)[:, 0]
        has_c = has_holder & np.isfinite(q_next[rows, c])
        out["challenger"] = np.where(has_c, c, -1)
        out["votes_needed"] = np.where(has_c, next_seat[rows, c], -1)
        # The holder keeps its seats up to the first loss that costs one, less one vote.
        unit = np.flatnonzero(has_holder)
        h = first[unit]
        lose, exact = self._guess(unit, h, -1)
        check = ~exact
        lose[check] = self._first_change(
            unit[check],
            h[check],
            won[unit[check], h[check]],
            -1,
            lose[check],
            v[unit[check], h[check]],
        )
        out["holder_can_lose"][unit] = np.where(lose > 0, lose - 1, -1)
        return out


def _moments(sign: int, level: int, m: int, more: bool, cols: Sequence[np.ndarray]) -> np.ndarray:
    """``_remainder_steps``: when each A_j (``a`` at ``x``) has moved by ``level`` steps."""
    a, v, p, w, k, x, gap, others = cols
    if sign > 0:  # falls to a − level: N/W < b, or = b with the tie in favour
        b = a - level - k + 1
        at, rest = np.divmod(gap - b * w, np.maximum(m + b, 1))
        equal_wins = rest == 0
        equal_wins &= (p + at > v) if more else False
        at = at + 1 - equal_wins
        live = others & (a >= level)
    else:  # rises to a + level: N/W > b, or = b with the tie against
        b = a + level - k
        at, rest = np.divmod(b * w - gap, np.maximum(m + b, 1))
        equal_loses = rest == 0
        if more:
            equal_loses &= p - at <= v
        at = at + 1 - equal_loses
        live = others
    return np.where(live, np.maximum(at, x + 1), _NONE)


def _quotas(
    v: np.ndarray, ok: np.ndarray, seats: int, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Largest remainder: whole quotas and remainders (integers, in a common unit).

    Hare: the exact rational quota V/S; base ⌊v·S/V⌋, remainder v·S mod V. Droop: the
    quota ⌊V/(S+1)⌋ + 1; base ⌊v/q⌋, remainder v mod q. V is the votes of the parties
    over the threshold. Both quotas give at most S whole seats: Σ⌊v/q⌋ ≤ V/q < S + 1.
    """
    ve = np.where(ok, v, 0)
    total = _rowsum(ve)
    if method == "hare":
        qn, qd = total, seats
    else:  # droop: floor(V/(S+1)) + 1
        qn, qd = total // (seats + 1) + 1, 1
    safe_qn = np.maximum(qn, 1)[:, None]
    base = np.where(ok, (ve * qd) // safe_qn, 0)
    base = np.minimum(base, seats)
    return base, ve * qd - base * safe_qn


def _divisors_under(
    d: np.ndarray, t: np.ndarray, n: np.ndarray, seats: int
) -> tuple[np.ndarray, np.ndarray]:
    """How many of the first ``seats`` scaled divisors ``d`` satisfy d·n < t, and whether
    the next one has d·n == t (integers, n > 0): a floating-point estimate made exact by
    integer comparisons."""
    step = int(d[min(2, seats)] - d[min(1, seats - 1)]) or _SCALE
    c = _clip(np.ceil((t / n - d[min(1, seats - 1)]) / step) + 1, 0, seats).astype(np.int64)
    top = seats - 1
    while True:  # the estimate is off by at most one or two
        down = (c > 0) & (np.take(d, np.maximum(c - 1, 0)) * n >= t)
        up = (c < seats) & (np.take(d, np.minimum(c, top)) * n < t)
        if not (down.any() or up.any()):
            break
        c = c - down + up
    equal = (c < seats) & (np.take(d, np.minimum(c, top)) * n == t)
    return c, equal


def _any_in(
    test: Tester, blocks: Tester | None, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Per search ``idx``: does ``test`` hold anywhere in lo … hi? The range lies in one
    segment and, with ``blocks`` (Droop), spans at most two of its runs of equal quotas,
    along each of which the test is monotone; without, it is a single point or empty."""
    out = np.zeros(len(idx), dtype=bool)
    live = np.flatnonzero(hi >= lo)
    if not len(live):
        return out
    idx, lo, hi = idx[live], lo[live], hi[live]
    if blocks is None:
        out[live] = test(idx, hi)
        return out
    end = np.minimum(blocks(idx, lo), hi)
    hit = test(idx, end)
    later = np.flatnonzero(~hit & (end < hi))
    hit[later] = test(idx[later], hi[later])
    out[live] = hit
    return out


def _first_in(
    test: Tester, blocks: Tester | None, idx: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """Per search ``idx``: the first point in lo … hi where ``test`` holds, −1 where none
    (the range as for ``_any_in``)."""
    out = np.full(len(idx), -1, dtype=np.int64)
    live = np.flatnonzero(hi >= lo)
    idx, lo, hi = idx[live], lo[live], hi[live]
    end = np.minimum(blocks(idx, lo), hi) if blocks is not None else hi
    hit = test(idx, end)
    out[live[hit]] = _gallop(lambda i, x: test(idx[hit][i], x), lo[hit] - 1, end[hit], lo[hit])
    later = np.flatnonzero(~hit & (end < hi))
    if len(later):
        i2 = idx[later]
        hit2 = test(i2, hi[later])
        sub = later[hit2]
        out[live[sub]] = _gallop(lambda i, x: test(idx[sub][i], x), end[sub], hi[sub], end[sub] + 1)
    return out


def _gallop(test: Tester, lo: np.ndarray, hi: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """Per search i: the smallest x in lo+1 … hi where ``test`` holds, for a monotone test
    known false at lo and true at hi. Probes the guess first, then gallops away from it
    (1, 2, 4 … points) until the answer is bracketed, then bisects."""
    lo, hi = lo.astype(np.int64), hi.astype(np.int64)
    n = len(lo)
    down = np.zeros(n, dtype=bool)
    up = np.zeros(n, dtype=bool)
    g = _clip(guess, lo + 1, hi)
    idx = np.flatnonzero(g < hi)
    hit = test(idx, g[idx])
    hi[idx[hit]], lo[idx[~hit]] = g[idx[hit]], g[idx[~hit]]
    down[idx[hit]], up[idx[~hit]] = True, True
    down[g >= hi] = True
    step = np.ones(n, dtype=np.int64)
    while True:
        idx = np.flatnonzero(hi - lo > 1)
        if not len(idx):
            return hi
        low, high, s, d, u = lo[idx], hi[idx], step[idx], down[idx], up[idx]
        probe = np.where(d, high - s, np.where(u, low + s, low + (high - low) // 2))
        probe = _clip(probe, low + 1, high - 1)
        hit = test(idx, probe)
        hi[idx] = np.where(hit, probe, high)
        lo[idx] = np.where(hit, low, probe)
        down[idx], up[idx] = d & hit, u & ~hit
        step[idx] = s * 2


def _settle(
    cond: Callable[[np.ndarray], np.ndarray], guess: np.ndarray, lo: int, hi: np.ndarray | int
) -> np.ndarray:
    """Elementwise, the smallest x in lo … hi where the monotone ``cond`` holds, from a
    guess that is close (a float formula); ``_NONE`` where it holds nowhere."""
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.int64), guess.shape)
    x = _clip(np.asarray(guess, dtype=np.float64), lo, hi_arr).astype(np.int64)
    for _ in range(64):
        up = ~cond(x) & (x < hi_arr)
        down = (x > lo) & cond(np.maximum(x - 1, lo))
        if not (up.any() or down.any()):
            break
        x = x + up - down
    else:  # a guess far off: bisect the rest exactly
        lo_a = np.full(x.shape, lo - 1, dtype=np.int64)
        hi_a = hi_arr.copy()
        while (hi_a - lo_a > 1).any():
            mid = lo_a + (hi_a - lo_a) // 2
            c = cond(np.maximum(mid, lo))
            hi_a = np.where((hi_a - lo_a > 1) & c, mid, hi_a)
            lo_a = np.where((hi_a - lo_a > 1) & ~c, mid, lo_a)
        x = hi_a
    return np.where(cond(x), x, _NONE)
