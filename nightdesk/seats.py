"""Seats from votes: the common apportionment methods, per unit, vectorised over units.

Every method is "pick the S best entries" of a per-unit table of entries (quotients for
divisor methods, remainders for largest remainder, votes for first past the post), so one
vectorised picker and one tie rule serve them all. Units are processed in groups of equal
seat count, so one large unit never inflates the work for all the others. Exact ties are
found in integers (divisors are kept scaled by 5 so 1.4 stays exact), never by comparing
floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import pandas as pd

from nightdesk.model import MAX_SEATS

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

_SCALE = 5


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

    ``challenger`` is the party next in line (its next quotient is the highest that did not
    win); ``votes_needed`` the fewest extra votes it needs to take a seat, all else equal;
    ``holder_can_lose`` the most votes the holder could lose and still keep the seat (one
    more and it goes to the challenger).
    """

    holder: str
    challenger: str | None
    votes_needed: int | None
    holder_can_lose: int | None


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
    def last_seat(self) -> dict[str, LastSeat | None]:
        """The margin of every unit's last seat (``None`` where no seat is allocated)."""
        out: dict[str, LastSeat | None] = {}
        m = self.margins
        for unit, holder, challenger, needed, lose in zip(
            m.index,
            m["holder"],
            m["challenger"],
            m["votes_needed"],
            m["holder_can_lose"],
            strict=True,
        ):
            out[str(unit)] = (
                None
                if pd.isna(holder)
                else LastSeat(
                    holder=str(holder),
                    challenger=None if pd.isna(challenger) else str(challenger),
                    votes_needed=None if pd.isna(needed) else int(needed),
                    holder_can_lose=None if pd.isna(lose) else int(lose),
                )
            )
        return out


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


def eligibility(
    votes: np.ndarray, valid: np.ndarray, rules: SeatRules, national_valid: int | None = None
) -> np.ndarray:
    """Parties over the unit threshold (and the national one, if any)."""
    ok = votes > 0
    if rules.threshold > 0:
        ok &= votes >= rules.threshold * valid[:, None]
    if rules.national_threshold > 0:
        total = votes.sum(axis=0)
        base = national_valid if national_valid is not None else int(total.sum())
        ok &= (total >= rules.national_threshold * base)[None, :]
    return ok


def _pick(
    keys: np.ndarray, num: np.ndarray, den: np.ndarray, votes: np.ndarray, n: np.ndarray, tie: str
) -> tuple[np.ndarray, np.ndarray]:
    """Choose the ``n[u]`` best entries of each row.

    ``keys`` are float sort keys (−inf = not a candidate); the exact value of an entry is
    ``num / den`` (integers), used to find true ties; ``votes`` breaks ties under
    ``more-votes``. Returns (winners mask, undecided count per row).
    """
    rows, cols = keys.shape
    order = np.lexsort((-votes, -keys), axis=-1)
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(cols)[None, :].repeat(rows, axis=0), axis=-1)
    candidates = np.isfinite(keys)
    n_eff = np.minimum(n, candidates.sum(axis=1))
    winners = (rank < n_eff[:, None]) & candidates
    undecided = (n - n_eff).astype(np.int64)

    # Exact ties across the cut: only rows where the last winner and first loser tie.
    has_cut = (n_eff > 0) & (n_eff < candidates.sum(axis=1))
    for u in np.flatnonzero(has_cut):
        last = order[u, n_eff[u] - 1]
        first_out = order[u, n_eff[u]]
        if num[u, last] * den[u, first_out] != num[u, first_out] * den[u, last]:
            continue
        tied = candidates[u] & (num[u] * den[u, last] == num[u, last] * den[u])
        above = int((winners[u] & ~tied).sum())
        free = int(n_eff[u]) - above
        tied_idx = np.flatnonzero(tied)
        if tie == "more-votes":
            ranked = tied_idx[np.argsort(-votes[u, tied_idx], kind="stable")]
            last_in, first_out_votes = votes[u, ranked[free - 1]], votes[u, ranked[free]]
            if last_in > first_out_votes:
                sure = ranked[:free]
            else:  # equal votes across the cut: still a tie for those seats
                sure = ranked[:free][votes[u, ranked[:free]] > last_in]
        else:
            sure = np.array([], dtype=np.int64)
        winners[u, tied_idx] = False
        winners[u, sure] = True
        undecided[u] += free - len(sure)
    return winners, undecided


def allocate(
    votes: pd.DataFrame,
    seats: pd.Series,
    valid: pd.Series | None = None,
    rules: SeatRules | None = None,
    national_valid: int | None = None,
) -> Allocation:
    """Allocate every unit's seats among its parties.

    Args:
        votes: index unit, columns party, counts (``<NA>`` = not reported, counted as 0).
        seats: seats per unit (``<NA>`` or 0: not known / none; the unit gets none).
        valid: valid votes per unit for the threshold (defaults to the sum of party votes).
        rules: method, thresholds and tie rule.
        national_valid: national valid votes for the national threshold.
    """
    rules = rules or SeatRules()
    if rules.method not in METHODS:
        raise ValueError(f"unknown seats method {rules.method!r}")
    if rules.tie not in TIE_RULES:
        raise ValueError(f"unknown tie rule {rules.tie!r}")
    for name in ("threshold", "national_threshold"):
        value = getattr(rules, name)
        if not 0 <= value < 1:
            raise ValueError(f"{name} must be a fraction from 0 up to 1, not {value!r}")
    units, parties = votes.index, votes.columns
    v = votes.fillna(0).to_numpy(dtype=np.int64)
    s = seats.reindex(units).fillna(0).to_numpy(dtype=np.int64)
    if (s < 0).any() or (s > MAX_SEATS).any():
        bad = units[(s < 0) | (s > MAX_SEATS)][0]
        raise ValueError(f"unit {bad!r}: seats must be from 0 to {MAX_SEATS}")
    val = (
        valid.reindex(units).fillna(0).to_numpy(dtype=np.int64)
        if valid is not None
        else v.sum(axis=1)
    )
    ok = eligibility(v, val, rules, national_valid)
    n_units, n_parties = v.shape

    won = np.zeros_like(v)
    undecided = np.zeros(n_units, dtype=np.int64)
    margin_cols = {
        "holder": np.full(n_units, -1),
        "challenger": np.full(n_units, -1),
        "votes_needed": np.full(n_units, -1, dtype=np.int64),
        "holder_can_lose": np.full(n_units, -1, dtype=np.int64),
    }
    next_seat = np.full(v.shape, -1, dtype=np.int64)
    counted = v.sum(axis=1) > 0
    for seat_count in np.unique(s[counted & (s > 0)]):
        idx = np.flatnonzero(counted & (s == seat_count))
        group = _Group(v[idx], int(seat_count), ok[idx], val[idx], rules)
        won[idx] = group.won
        undecided[idx] = group.undecided
        for key, values in group.margins().items():
            margin_cols[key][idx] = values
        next_seat[idx] = group.next_seat()
    undecided = np.where(counted, undecided, s)  # nothing counted yet: every seat is open

    names = np.asarray([str(p) for p in parties], dtype=object)

    def party_or_none(col: np.ndarray) -> np.ndarray:
        out = np.full(len(col), None, dtype=object)
        out[col >= 0] = names[col[col >= 0]] if n_parties else None
        return out

    margins = pd.DataFrame(
        {
            "holder": party_or_none(margin_cols["holder"]),
            "challenger": party_or_none(margin_cols["challenger"]),
            "votes_needed": _nullable(margin_cols["votes_needed"]),
            "holder_can_lose": _nullable(margin_cols["holder_can_lose"]),
        },
        index=units,
    )
    nxt = pd.DataFrame({p: _nullable(next_seat[:, i]) for i, p in enumerate(parties)}, index=units)
    nxt.columns = parties
    return Allocation(
        seats=pd.DataFrame(won, index=units, columns=parties),
        undecided=pd.Series(undecided, index=units, dtype="int64"),
        eligible=pd.DataFrame(ok, index=units, columns=parties),
        margins=margins,
        next_seat=nxt,
    )


def _nullable(values: np.ndarray) -> pd.arrays.IntegerArray:
    """Int64 with −1 meaning "not defined" turned into <NA>."""
    return pd.arrays.IntegerArray(np.maximum(values, 0).astype(np.int64), values < 0)


class _Group:
    """Units that share a seat count: allocation and margins as whole-array operations."""

    def __init__(
        self, v: np.ndarray, seats: int, ok: np.ndarray, valid: np.ndarray, rules: SeatRules
    ) -> None:
        self.v, self.seats, self.ok, self.valid, self.rules = v, seats, ok, valid, rules
        n = np.full(len(v), seats, dtype=np.int64)
        if rules.method in DIVISOR_METHODS:
            self.d = divisors(rules.method, seats + 1)
            num = np.repeat(v, seats, axis=1)  # entry (p, j) → column p*seats+j
            den = np.tile(self.d[:seats], v.shape[1])[None, :].repeat(len(v), axis=0)
            keys = num / den
            keys[~np.repeat(ok, seats, axis=1)] = -np.inf
            winners, self.undecided = _pick(keys, num, den, num, n, rules.tie)
            self.won = winners.reshape(len(v), v.shape[1], seats).sum(axis=2)
        elif rules.method == "fptp":
            self.d = np.full(seats + 1, _SCALE, dtype=np.int64)  # every "quotient" is the vote
            keys = np.where(ok, v.astype(float), -np.inf)
            winners, self.undecided = _pick(keys, v, np.ones_like(v), v, n, rules.tie)
            self.won = winners.astype(np.int64)
        else:
            self.won, self.undecided = _largest_remainder(v, n, ok, rules)

    # Divisor of each party's next quotient, and of its last winning quotient.
    def _den(self, offset: int) -> np.ndarray:
        if self.rules.method == "fptp":
            return np.full(self.v.shape, _SCALE, dtype=np.int64)
        return self.d[np.clip(self.won + offset, 0, len(self.d) - 1)]

    def _holders(self) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, the party with the lowest winning quotient, and the lowest among the
        others (the seat a gaining holder would take is the second one)."""
        v, won = self.v, self.won
        last_den = self._den(-1)
        q = np.where(won > 0, v / last_den, np.inf)
        rows = np.arange(len(v))
        # Lowest quotient first; among equals the one with fewer votes is last in line.
        order = np.lexsort((v, q), axis=-1)
        first = order[:, 0]
        second = order[:, 1] if v.shape[1] > 1 else first
        has_second = np.isfinite(q[rows, second])
        return first, np.where(has_second, second, -1)

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
        return np.maximum(x, 0)

    def next_seat(self) -> np.ndarray:
        """Fewest extra votes each party needs for one more seat (−1 where not defined)."""
        v, won = self.v, self.won
        if self.rules.method not in (*DIVISOR_METHODS, "fptp"):
            return np.full(v.shape, -1, dtype=np.int64)
        rows = np.arange(len(v))
        first, second = self._holders()
        has_holder = won.sum(axis=1) > 0
        last_den = self._den(-1)
        # Against whom each party competes: the lowest winner that is not itself.
        is_first = np.arange(v.shape[1])[None, :] == first[:, None]
        rival = np.where(is_first, second[:, None], first[:, None])
        valid_rival = (rival >= 0) & has_holder[:, None]
        rival_c = np.maximum(rival, 0)
        h_votes = v[rows[:, None], rival_c]
        h_den = last_den[rows[:, None], rival_c]
        x = self._needed(v, self._den(0), h_votes, h_den)
        if self.rules.method == "fptp":
            x = np.where(won > 0, -1, x)  # a candidate holds at most one seat
        t = self.rules.threshold
        if t > 0:
            need = np.ceil((t * self.valid[:, None] - v) / (1 - t)).astype(np.int64)
            x = np.where(self.ok, x, np.maximum(x, np.maximum(need, 1)))
        cannot = ~valid_rival | (won >= self.seats)
        return np.where(cannot, -1, x)

    def margins(self) -> dict[str, np.ndarray]:
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
        if self.rules.method not in (*DIVISOR_METHODS, "fptp") or v.shape[1] == 0:
            return out
        first, _ = self._holders()
        has_holder = won.sum(axis=1) > 0
        out["holder"] = np.where(has_holder, first, -1)
        # Next in line: the highest next quotient among the other eligible parties.
        nxt_den = self._den(0)
        q_next = np.where(ok & (won < self.seats), v / nxt_den, -np.inf)
        if self.rules.method == "fptp":
            q_next = np.where(won > 0, -np.inf, q_next)
        q_next[rows, first] = -np.inf
        order = np.lexsort((-v, -q_next), axis=-1)
        c = order[:, 0]
        has_c = has_holder & np.isfinite(q_next[rows, c])
        out["challenger"] = np.where(has_c, c, -1)
        h_votes, h_den = v[rows, first], self._den(-1)[rows, first]
        c_votes, c_den = v[rows, c], nxt_den[rows, c]
        needed = self._needed(c_votes, c_den, h_votes, h_den)
        out["votes_needed"] = np.where(has_c, needed, -1)
        # The holder keeps the seat while (h − y)/h_den beats c/c_den (ties by more votes).
        target = c_votes * h_den
        keep_at = target // c_den + 1  # fewest votes that still beat it outright
        if self.rules.tie == "more-votes":
            exact = target % c_den == 0
            eq = target // c_den
            keep_at = np.where(exact & (eq > c_votes), eq, keep_at)
        out["holder_can_lose"] = np.where(has_c, np.maximum(h_votes - keep_at, 0), -1)
        return out


def _largest_remainder(
    v: np.ndarray, s: np.ndarray, ok: np.ndarray, rules: SeatRules
) -> tuple[np.ndarray, np.ndarray]:
    ve = np.where(ok, v, 0)
    total = ve.sum(axis=1)
    if rules.method == "hare":
        # Exact rational quota total/s: base = floor(v·s/total), remainder v·s mod total.
        qn, qd = total, np.maximum(s, 1)
    else:  # droop: floor(V/(S+1)) + 1
        qn, qd = total // (s + 1) + 1, np.ones_like(s)
    safe_qn = np.maximum(qn, 1)
    base = np.where(ok, (ve * qd[:, None]) // safe_qn[:, None], 0)
    base = np.minimum(base, s[:, None])
    # Both quotas give at most S whole seats: Σ⌊v/q⌋ ≤ V/q < S + 1.
    rem_num = ve * qd[:, None] - base * safe_qn[:, None]
    left = s - base.sum(axis=1)
    keys = np.where(ok, rem_num.astype(float), -np.inf)
    extra, undecided = _pick(keys, rem_num, np.ones_like(v), v, left, rules.tie)
    return base + extra.astype(np.int64), undecided
