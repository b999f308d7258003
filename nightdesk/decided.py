"""Seats that can no longer change: what each party keeps however the uncounted ballots fall.

A party's seat is **decided** when no distribution of the ballots still uncounted could take
it away, and **provisional** otherwise. The uncounted ballots of a unit (``remaining``) may go
to any of the listed parties, be blank (blank ballots count in the threshold's valid base), be
invalid, or never be cast. ``decided_seats`` gives, per unit and party, the fewest seats the
party ends with over all of those outcomes; it never exceeds the seats it holds now.

Divisor methods and first past the post are exact (see :func:`decided_seats`); largest
remainder and the national threshold are handled by sound bounds: they may call a decided seat
provisional, never a provisional seat decided. "Decided" is about the ballots still to count:
a correction of votes already counted (which the desk sees flagged) can still move any seat.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nightdesk.model import UNIT_COUNTS, Snapshot
from nightdesk.seats import DIVISOR_METHODS, SeatRules, divisors

#: Rounds of the threshold fixed point (see :func:`_keeps`) before giving up conservatively.
_MAX_ROUNDS = 200
_BIG = np.int64(2**62)
#: Elements per working array: rows are processed in blocks of about this size.
_BLOCK = 1 << 21
#: Settle what the cheap bounds can before the knapsack (tests turn it off to check the
#: knapsack alone against the brute force).
_USE_BOUNDS = True


def remaining_ballots(snapshot: Snapshot) -> pd.Series:
    """Ballots per unit that may still be counted (``Int64``; ``<NA>`` = not known).

    The one place that decides what "still uncounted" means:

    - a unit reporting 100 % (``reporting`` == 1) has nothing left: 0, whatever its turnout;
    - otherwise, where ``registered`` is known: registered voters minus the ballots counted so
      far (``ballots_cast``; where the feed does not give it, the ballots its other figures
      prove were counted: party votes plus blank (or ``valid``, if larger) plus invalid),
      never below 0. Voters who never turn up are counted as possible ballots, so this is an
      upper bound — the safe side;
    - otherwise not known, and every seat of the unit is provisional.
    """
    counted, _ = snapshot.vote_sums()
    figures, unknown = snapshot.figure_arrays()

    def figure(name: str) -> np.ndarray:
        return figures[:, UNIT_COUNTS.index(name)]

    seen = np.maximum(counted + figure("blank"), figure("valid")) + figure("invalid")
    cast = np.where(unknown[:, UNIT_COUNTS.index("ballots_cast")], seen, figure("ballots_cast"))
    left = np.maximum(figure("registered") - cast, 0)
    reporting = snapshot.units["reporting"].array.to_numpy(dtype=np.float64, na_value=np.nan)
    done = reporting == 1
    left = np.where(done, 0, left)
    missing = unknown[:, UNIT_COUNTS.index("registered")] & ~done
    return pd.Series(
        pd.arrays.IntegerArray(left.astype(np.int64), missing),
        index=snapshot.units.index,
        name="remaining",
    )


def decided_seats(
    votes: pd.DataFrame,
    seats: pd.Series,
    won: pd.DataFrame,
    remaining: pd.Series,
    rules: SeatRules,
    valid: pd.Series | None = None,
    national_valid: int | None = None,
) -> pd.DataFrame:
    """Seats each party keeps under every distribution of the uncounted ballots.

    Args:
        votes: index unit, columns party (``<NA>`` counts as 0, as in ``allocate``).
        seats: seats per unit.
        won: the seats held now (``Allocation.seats``).
        remaining: uncounted ballots per unit (``<NA>``/NaN: not known → nothing decided).
        rules: the same rules the allocation used.
        valid: the threshold's valid base per unit, as given to ``allocate`` (blank ballots
            then raise it); ``None``: the sum of party votes.
        national_valid: as given to ``allocate`` for the national threshold.

    Returns:
        int64, index unit, columns party: decided seats (≤ ``won``); the rest are provisional.

    Exact for the divisor methods and first past the post, ties included: party p keeps its
    k-th seat (quotient T) unless the others, with at most R more votes (and any number of
    blank ballots within R), can bring S − k + 1 of their quotients level with or above T in
    a way that beats or ties it under the tie rule. Every party's j-th quotient beats T from
    the same vote count θ_j, so the cheapest way to S − k + 1 such quotients is a small
    min-plus knapsack over parties (exact; greedy is not, because rounding makes the steps
    θ_j − θ_{j−1} uneven). With a unit threshold, a party needs at least the threshold of the
    final valid base to count, and the base grows with every vote given; the least fixed
    point of "votes spent → base → votes needed" is found by iteration (if it has not settled
    after many rounds, the seat is called provisional). Votes given to p itself, or ballots
    that stay blank or uncast, never cost p a seat, except that blank ballots can push p
    under the threshold: p is safe from that only if it passes at the valid base plus R.

    Conservative (may call a decided seat provisional, never the reverse):

    - largest remainder (Hare, Droop): a seat is decided only if R is 0, or it is within
      the whole quotas p is sure of: ⌊v_p·S / (V + R)⌋ (Hare) or ⌊v_p / (⌊(V + R)/(S + 1)⌋
      + 1)⌋ (Droop), with V every listed party's votes (as if all passed the threshold);
      the remainder seat is always provisional while ballots remain;
    - national threshold: p's seats are all provisional unless it passes the national
      threshold even if every uncounted ballot in the country goes elsewhere (any unit with
      an unknown remainder makes that unknown); the other parties are treated as passing it.
    """
    units, parties = votes.index, votes.columns
    v = votes.fillna(0).to_numpy(dtype=np.int64)
    s = seats.reindex(units).fillna(0).to_numpy(dtype=np.int64)
    w = won.reindex(index=units, columns=parties).fillna(0).to_numpy(dtype=np.int64)
    known, r = uncounted(remaining.reindex(units))
    val = (
        valid.reindex(units).fillna(0).to_numpy(dtype=np.int64)
        if valid is not None
        else v.sum(axis=1)
    )
    nat = national_sure(v, known, r, rules, national_valid)
    out = decided_array(v, s, w, known, r, val, rules, nat, valid_given=valid is not None)
    return pd.DataFrame(out, index=units, columns=parties)


def uncounted(remaining: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``remaining`` as arrays: (known, uncounted ballots with unknown as 0), both per unit."""
    if isinstance(remaining.array, pd.arrays.IntegerArray):  # remaining_ballots' own: fast
        known = ~remaining.array.isna()
        r = np.maximum(remaining.array.to_numpy(dtype=np.int64, na_value=0), 0)
        return known, r
    rem = pd.to_numeric(remaining, errors="coerce").astype("Float64")
    known = rem.notna().to_numpy(dtype=bool)
    r = np.maximum(rem.fillna(0).to_numpy(dtype=np.float64), 0).astype(np.int64)
    return known, r


def national_sure(
    v: np.ndarray,
    known: np.ndarray,
    r: np.ndarray,
    rules: SeatRules,
    national_valid: int | None,
) -> np.ndarray | None:
    """Per party: over the national threshold whatever the uncounted ballots do (``None``
    without one). The one input of :func:`decided_array` that depends on every unit."""
    if rules.national_threshold <= 0:
        return None
    if not known.all():
        return np.zeros(v.shape[1], dtype=bool)
    total = v.sum(axis=0)
    base = national_valid if national_valid is not None else int(total.sum())
    return total >= rules.national_threshold * (base + int(r.sum()))


def decided_array(
    v: np.ndarray,
    s: np.ndarray,
    w: np.ndarray,
    known: np.ndarray,
    r: np.ndarray,
    val: np.ndarray,
    rules: SeatRules,
    nat_sure: np.ndarray | None,
    *,
    valid_given: bool = True,
) -> np.ndarray:
    """:func:`decided_seats` on arrays (int64, rows = units). Every row depends only on its
    own inputs and on ``nat_sure`` (:func:`national_sure`), so any subset of the units can
    be computed alone: that is how a poll recomputes only the units that changed."""
    if rules.method not in (*DIVISOR_METHODS, "fptp", "hare", "droop"):
        raise ValueError(f"unknown seats method {rules.method!r}")
    n_parties = v.shape[1]
    out = np.where((known & (r == 0))[:, None], w, 0)

    # Can p be pushed under the unit threshold? The base can grow by R (blank ballots, or
    # votes for others), unless it is the party votes alone and p is the only party.
    sure = np.ones(v.shape, dtype=bool)
    t = rules.threshold
    if t > 0:
        grow = r if (valid_given or n_parties > 1) else np.zeros_like(r)
        sure &= v >= t * (val + grow)[:, None]
    if rules.national_threshold > 0 and nat_sure is not None:
        sure &= nat_sure[None, :]

    todo = known & (r > 0) & (w.sum(axis=1) > 0)
    for seat_count in np.unique(s[todo]):
        idx = np.flatnonzero(todo & (s == seat_count))
        if rules.method in ("hare", "droop"):
            out[idx] = _remainder_bound(v[idx], int(seat_count), w[idx], r[idx], rules)
        else:
            out[idx] = _divisor_decided(
                v[idx], int(seat_count), w[idx] * sure[idx], r[idx], val[idx], rules
            )
    return np.where(sure, np.minimum(out, w), 0).astype(np.int64)


def _remainder_bound(
    v: np.ndarray, seats: int, w: np.ndarray, r: np.ndarray, rules: SeatRules
) -> np.ndarray:
    """Whole quotas each party is sure of, whatever happens to the uncounted ballots."""
    most = v.sum(axis=1) + r  # the largest the eligible total can become
    if rules.method == "hare":
        sure = (v * seats) // np.maximum(most, 1)[:, None]
    else:
        quota = most // (seats + 1) + 1
        sure = v // quota[:, None]
    return np.minimum(sure, w)


def _divisor_decided(
    v: np.ndarray, seats: int, w: np.ndarray, r: np.ndarray, val: np.ndarray, rules: SeatRules
) -> np.ndarray:
    """Decided seats of units that share a seat count (divisor methods and fptp).

    Keeping the k-th seat is monotone in k, so each (unit, party) holding seats is settled
    by a bisection over k, all of them at once, in blocks of bounded memory.
    """
    unit, party = np.nonzero(w)
    lo = np.zeros(len(unit), dtype=np.int64)  # kept for sure
    hi = w[unit, party]  # at most what it holds
    block = max(1, _BLOCK // max(1, v.shape[1] * seats))
    while True:
        active = np.flatnonzero(lo < hi)
        if not len(active):
            break
        mid = (lo[active] + hi[active] + 1) // 2
        kept = np.zeros(len(active), dtype=bool)
        for start in range(0, len(active), block):
            rows = active[start : start + block]
            u = unit[rows]
            kept[start : start + block] = _keeps(
                v[u], party[rows], mid[start : start + block], seats, r[u], val[u], rules
            )
        lo[active] = np.where(kept, mid, lo[active])
        hi[active] = np.where(kept, hi[active], mid - 1)
    out = np.zeros_like(w)
    out[unit, party] = lo
    return out


def _keeps(
    v: np.ndarray,
    p: np.ndarray,
    k: np.ndarray,
    seats: int,
    r: np.ndarray,
    val: np.ndarray,
    rules: SeatRules,
) -> np.ndarray:
    """Whether party ``p[i]`` keeps its ``k[i]``-th seat in unit row ``v[i]``, whatever the
    others get from the ``r[i]`` uncounted ballots."""
    n, n_parties = v.shape
    rows = np.arange(n)
    fptp = rules.method == "fptp"
    d = np.full(seats, 5, dtype=np.int64) if fptp else divisors(rules.method, seats)
    vp = v[rows, p]
    dk = d[k - 1]
    need = seats - k + 1  # other quotients that must beat T = vp/dk for p to lose the seat
    most = 1 if fptp else int(need.max())  # quotients per party that can matter
    # θ_j: the fewest votes with which a party's j-th quotient beats or ties p's k-th in a
    # way that costs p the seat (a tie is lost unless "more-votes" and p has strictly more).
    target = vp[:, None] * d[None, :most]
    theta = target // dk[:, None] + 1
    exact = target % dk[:, None] == 0
    level = target // dk[:, None]
    tie_hurts = True if rules.tie == "undecided" else level >= vp[:, None]
    theta = np.where(exact & tie_hurts, level, theta)
    # Every party but p, per row.
    pick = (p[:, None] + 1 + np.arange(n_parties - 1)[None, :]) % n_parties
    others = np.take_along_axis(v, pick, axis=1)
    cap = r + 1  # any cost above R is as good as infinite
    t = rules.threshold

    def floor_at(spent: np.ndarray) -> np.ndarray | None:
        """The fewest votes that pass the threshold once ``spent`` more votes are in."""
        return np.ceil(t * (val + spent)).astype(np.int64) if t > 0 else None

    # Settle what cheap, exact arguments can, in stages, before the knapsack.
    # 1. The quotients already over the line (at X = 0, the smallest base) are enough → lost.
    #    Too few, and not one more is affordable (nor are there enough) → kept.
    start = _entry_costs(theta, others, floor_at(np.zeros_like(r)))
    n_entries = start.shape[1] * start.shape[2]
    free = (start == 0).sum(axis=(1, 2))
    one_more = np.where(start > 0, start, _BIG).min(axis=(1, 2), initial=_BIG)
    kept = (free < need) & ((one_more > r) | (need > n_entries))
    lost = (free >= need) & (need <= n_entries)
    if not _USE_BOUNDS:
        lost[:] = False
    open_ = np.flatnonzero(~kept & ~lost)
    # 2. Lower: the ``need`` smallest increments (raising a party from its (ℓ−1)-th to its
    #    ℓ-th quotient), priced at X = 0. Upper: the parties raised as far as those
    #    increments reach, priced at X = R, the largest base. Lower > R → kept; upper ≤ R →
    #    lost.
    if len(open_) and _USE_BOUNDS:
        o = open_
        take = need[o] - 1
        steps, order = _ranked_steps(start[o])
        lower = np.cumsum(np.take_along_axis(steps, order, axis=1), axis=1)
        lower = lower[np.arange(len(o)), take]
        kept[o] = lower > r[o]
        dearest = start[o]
        if t > 0:
            dearest = _entry_costs(theta[o], others[o], floor_at(r)[o])
            steps, order = _ranked_steps(dearest)
        rank = np.empty_like(order)
        rank[np.arange(len(o))[:, None], order] = np.arange(n_entries)[None, :]
        chosen = (rank <= take[:, None]).reshape(dearest.shape)
        reach = np.where(chosen, np.arange(1, dearest.shape[2] + 1), 0).max(axis=2)
        priced = np.take_along_axis(dearest, np.maximum(reach - 1, 0)[:, :, None], axis=2)
        upper = np.where(reach > 0, priced[:, :, 0], 0).sum(axis=1)
        lost[o] = ~kept[o] & (upper <= r[o])
        open_ = o[~kept[o] & ~lost[o]]
    if not len(open_):
        return kept
    # 3. The knapsack, exact.
    o = open_
    if t <= 0:
        kept[o] = _cheapest(start[o], need[o], cap[o]) > r[o]
        return kept
    # With a threshold: the least X with cost(X) ≤ X, where cost(X) is what the others need
    # once X votes in all have been given (base val + X). Iterating from 0 climbs to it from
    # below, so every step is a lower bound: above R → kept; settled at or below R → lost.
    spent = np.zeros(n, dtype=np.int64)
    for _ in range(_MAX_ROUNDS):
        costs = _entry_costs(theta[o], others[o], floor_at(spent)[o])
        cost = _cheapest(costs, need[o], cap[o])
        over = cost > r[o]
        kept[o[over]] = True
        settled = over | (cost <= spent[o])
        spent[o] = cost
        o = o[~settled]
        if not len(o):
            break
    return kept  # still open after _MAX_ROUNDS: provisional (the safe side)


def _ranked_steps(costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each quotient's increment over the party's previous one, flat per row, and their
    order, cheapest first (stable, so a party's lower quotients come first among equals)."""
    steps = np.diff(costs, axis=2, prepend=0).reshape(len(costs), -1)
    return steps, np.argsort(steps, axis=1, kind="stable")


def _entry_costs(
    theta: np.ndarray, others: np.ndarray, floor_votes: np.ndarray | None
) -> np.ndarray:
    """Votes party q needs for its ℓ-th quotient to count against p: (row, q, ℓ).

    That is max(θ_ℓ, the threshold's floor, 1) − v_q, or 0 if it already has them: a party
    counts only with at least one vote and over the threshold.
    """
    line = theta
    if floor_votes is not None:
        line = np.maximum(line, floor_votes[:, None])
    line = np.maximum(line, 1)
    return np.maximum(line[:, None, :] - others[:, :, None], 0)


def _cheapest(costs: np.ndarray, need: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Fewest votes (capped at ``cap``) that give the others ``need`` quotients over the line.

    ``costs`` from :func:`_entry_costs` (non-decreasing in ℓ: raising a party to its ℓ-th
    quotient brings all the ones before). Quotients that cost nothing are counted first; the
    rest is a min-plus knapsack over parties, per row, on the further quotients only:
    ``best[c]`` is the cheapest way to ``c`` more with the parties seen so far.
    """
    n, n_parties, n_levels = costs.shape
    free = (costs == 0).sum(axis=2)
    extra = need - free.sum(axis=1)
    out = np.zeros(n, dtype=np.int64)
    rows = np.flatnonzero(extra > 0)
    if not len(rows):
        return out
    top = int(extra[rows].max())
    levels = min(n_levels, top)
    block = max(1, _BLOCK // ((top + 1) * (levels + 1)))
    if len(rows) > block:  # bound the (row, count, level) arrays
        for at in range(0, len(rows), block):
            part = rows[at : at + block]
            out[part] = _cheapest(costs[part], need[part], cap[part])
        return out
    costs, free, extra, cap = costs[rows], free[rows], extra[rows], cap[rows]
    m = len(rows)
    at = free[:, :, None] + np.arange(levels)[None, None, :]  # the j-th further quotient
    further = np.take_along_axis(costs, np.minimum(at, n_levels - 1), axis=2)
    further = np.where(at < n_levels, np.minimum(further, cap[:, None, None]), cap[:, None, None])
    best = np.repeat(cap[:, None], top + 1, axis=1)
    best[:, 0] = 0
    src = np.arange(top + 1)[:, None] - np.arange(levels + 1)[None, :]
    usable = src >= 0
    src = np.maximum(src, 0)
    zero = np.zeros((m, 1), dtype=np.int64)
    for q in range(n_parties):
        cost = further[:, q, :]
        if (cost[:, 0] >= cap).all():
            continue  # this party cannot reach a single further quotient anywhere
        cost = np.concatenate([zero, cost], axis=1)
        cand = np.where(usable[None], best[:, src] + cost[:, None, :], _BIG)
        best = np.minimum(cand.min(axis=2), cap[:, None])
    out[rows] = best[np.arange(m), extra]
    return out
