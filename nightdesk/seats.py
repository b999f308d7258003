"""Seats from votes: the common apportionment methods, per unit, vectorised over units.

Every method is expressed as "pick the S best entries" of a per-unit table of entries
(quotients for divisor methods, remainders for largest remainder, votes for first past the
post), so one vectorised picker, one tie rule and one margin routine serve them all.
Exact ties are detected in integers, never by comparing floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

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

#: Divisors are kept as integers scaled by 5 so 1.4 (modified Sainte-Laguë) stays exact.
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

    ``votes_needed``: the fewest extra votes the challenger needs to take a seat, all else
    equal. ``holder_can_lose``: the most votes the holder could lose and still keep it.
    """

    holder: str
    challenger: str | None
    votes_needed: int | None
    holder_can_lose: int | None


@dataclass(frozen=True)
class Allocation:
    """Seats per unit and party, with what could not be decided and how close the last was."""

    seats: pd.DataFrame  # index unit, columns party, int64
    undecided: pd.Series  # per unit, int64: seats tied (or nothing counted yet)
    eligible: pd.DataFrame  # bool: party passed the thresholds in the unit
    last_seat: dict[str, LastSeat | None]
    next_seat: pd.DataFrame  # Int64: fewest extra votes for each party's next seat

    def totals(self) -> pd.Series:
        """National seats per party."""
        return self.seats.sum(axis=0).astype("int64")


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
            tv = votes[u, tied_idx]
            ranked = tied_idx[np.argsort(-tv, kind="stable")]
            last_in, first_out = votes[u, ranked[free - 1]], votes[u, ranked[free]]
            if last_in > first_out:
                sure = ranked[:free]
            else:  # equal votes across the cut: still a tie for those seats
                sure = ranked[:free][votes[u, ranked[:free]] > last_in]
            still = free - len(sure)
        else:
            sure = np.array([], dtype=np.int64)
            still = free
        winners[u, tied_idx] = False
        winners[u, sure] = True
        undecided[u] += still
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
        seats: seats per unit (``<NA>``: not known, the unit gets none).
        valid: valid votes per unit for the threshold (defaults to the sum of party votes).
        rules: method, thresholds and tie rule.
        national_valid: national valid votes for the national threshold.
    """
    rules = rules or SeatRules()
    if rules.method not in METHODS:
        raise ValueError(f"unknown seats method {rules.method!r}")
    units, parties = votes.index, votes.columns
    v = votes.fillna(0).to_numpy(dtype=np.int64)
    s = seats.reindex(units).fillna(0).to_numpy(dtype=np.int64)
    val = (
        valid.reindex(units).fillna(0).to_numpy(dtype=np.int64)
        if valid is not None
        else v.sum(axis=1)
    )
    ok = eligibility(v, val, rules, national_valid)
    if rules.method in DIVISOR_METHODS:
        won, undecided, margins = _divisor(v, s, ok, rules)
    elif rules.method == "fptp":
        won, undecided, margins = _fptp(v, s, ok, rules)
    else:
        won, undecided, margins = _largest_remainder(v, s, ok, rules)

    # No votes counted yet: nothing to decide, every seat is open.
    counted = v.sum(axis=1) > 0
    undecided = np.where(counted, undecided, s)
    won[~counted] = 0

    last_seat: dict[str, LastSeat | None] = {}
    for i, unit in enumerate(units):
        m = margins[i] if counted[i] else None
        last_seat[str(unit)] = (
            LastSeat(
                holder=str(parties[m[0]]),
                challenger=str(parties[m[1]]) if m[1] is not None else None,
                votes_needed=m[2],
                holder_can_lose=m[3],
            )
            if m is not None
            else None
        )
    next_seat = pd.DataFrame(_next_seat(v, s, won, ok, val, rules), index=units, columns=parties)
    return Allocation(
        seats=pd.DataFrame(won, index=units, columns=parties),
        undecided=pd.Series(undecided, index=units, dtype="int64"),
        eligible=pd.DataFrame(ok, index=units, columns=parties),
        last_seat=last_seat,
        next_seat=next_seat.astype("Int64"),
    )


Margin = tuple[int, int | None, int | None, int | None] | None


def _divisor(
    v: np.ndarray, s: np.ndarray, ok: np.ndarray, rules: SeatRules
) -> tuple[np.ndarray, np.ndarray, list[Margin]]:
    n_units, n_parties = v.shape
    k = int(s.max()) if len(s) else 0
    d = divisors(rules.method, max(k, 1))
    num = np.repeat(v, len(d), axis=1)  # entry (p, j) → column p*len(d)+j
    den = np.tile(d, n_parties)[None, :].repeat(n_units, axis=0)
    keys = num / den
    keys[~np.repeat(ok, len(d), axis=1)] = -np.inf
    keys[:, np.tile(np.arange(len(d)), n_parties) >= np.maximum(k, 1)] = -np.inf
    winners, undecided = _pick(keys, num, den, num, s, rules.tie)
    won = winners.reshape(n_units, n_parties, len(d)).sum(axis=2)
    margins: list[Margin] = []
    for u in range(n_units):
        margins.append(_divisor_margin(v[u], won[u], ok[u], d, int(s[u])))
    return won, undecided, margins


def _divisor_margin(
    v: np.ndarray, won: np.ndarray, ok: np.ndarray, d: np.ndarray, seats: int
) -> Margin:
    """Holder of the lowest winning quotient, the party closest to taking it, and how close."""
    if seats <= 0 or won.sum() == 0:
        return None
    holders = np.flatnonzero(won > 0)
    # Lowest winning quotient v/d[won-1], exact comparison via cross-multiplication.
    h = min(holders, key=lambda p: (v[p] / d[won[p] - 1], v[p]))
    hn, hd = int(v[h]), int(d[won[h] - 1])
    best: tuple[int, int] | None = None
    for p in range(len(v)):
        if p == h or won[p] >= len(d):
            continue
        pd_ = int(d[won[p]])
        # (v_p + x) / pd_ > hn / hd  ⇔  (v_p + x)·hd > hn·pd_
        x = hn * pd_ // hd + 1 - int(v[p])
        x = max(x, 0)
        if best is None or x < best[1]:
            best = (p, x)
    can_lose: int | None = None
    if best is not None:
        c = best[0]
        cn, cd = int(v[c]), int(d[won[c]])
        # Holder keeps the seat while (hn - y)/hd > cn/cd  ⇔ (hn - y)·cd > cn·hd.
        can_lose = max(hn - (cn * hd // cd) - 1, 0)
    return (int(h), best[0] if best else None, best[1] if best else None, can_lose)


def _fptp(
    v: np.ndarray, s: np.ndarray, ok: np.ndarray, rules: SeatRules
) -> tuple[np.ndarray, np.ndarray, list[Margin]]:
    keys = np.where(ok, v.astype(float), -np.inf)
    ones = np.ones_like(v)
    winners, undecided = _pick(keys, v, ones, v, s, rules.tie)
    won = winners.astype(np.int64)
    margins: list[Margin] = []
    for u in range(v.shape[0]):
        if s[u] <= 0 or won[u].sum() == 0:
            margins.append(None)
            continue
        order = np.argsort(-np.where(ok[u], v[u], -1), kind="stable")
        w = order[int(won[u].sum()) - 1]
        r = order[int(won[u].sum())] if len(order) > won[u].sum() else None
        if r is None or not ok[u][r]:
            margins.append((int(w), None, None, None))
            continue
        gap = int(v[u, w] - v[u, r])
        margins.append((int(w), int(r), gap + 1, max(gap - 1, 0)))
    return won, undecided, margins


def _largest_remainder(
    v: np.ndarray, s: np.ndarray, ok: np.ndarray, rules: SeatRules
) -> tuple[np.ndarray, np.ndarray, list[Margin]]:
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
    ones = np.ones_like(v)
    extra, undecided = _pick(keys, rem_num, ones, v, left, rules.tie)
    won = base + extra.astype(np.int64)
    return won, undecided, [None] * v.shape[0]


def _next_seat(
    v: np.ndarray,
    s: np.ndarray,
    won: np.ndarray,
    ok: np.ndarray,
    valid: np.ndarray,
    rules: SeatRules,
) -> np.ndarray:
    """Fewest extra votes each party needs for one more seat (divisor methods; NA otherwise)."""
    out = np.full(v.shape, np.nan)
    if rules.method not in DIVISOR_METHODS:
        return out
    k = int(s.max()) if len(s) else 0
    d = divisors(rules.method, k + 1)
    for u in range(v.shape[0]):
        if s[u] <= 0 or won[u].sum() == 0:
            continue
        holders = np.flatnonzero(won[u] > 0)
        ordered = sorted(holders, key=lambda p: v[u, p] / d[won[u, p] - 1])
        for p in range(v.shape[1]):
            if won[u, p] >= s[u]:
                continue
            others = [h for h in ordered if h != p]
            if not others:
                continue
            h = others[0]
            hn, hd = int(v[u, h]), int(d[won[u, h] - 1])
            x = max(hn * int(d[won[u, p]]) // hd + 1 - int(v[u, p]), 0)
            if rules.threshold > 0 and not ok[u, p]:
                t = rules.threshold
                need = int(np.ceil((t * valid[u] - v[u, p]) / (1 - t))) if t < 1 else 0
                x = max(x, need, 1 if v[u, p] == 0 else 0)
            out[u, p] = x
    return out
