"""A deterministic simulated counting night shaped like Cambodia's 2013 election.

The seats, the seat split of every province, the national CPP and CNRP totals and the reported
late revisions are real (:mod:`nightdesk.demo.definition`); the votes per province, the
registered voters per province and the small parties' votes are **simulated**, because they were
never published. The simulation is built so that the real facts come out exactly: D'Hondt in
every province gives the real split, both before and after the late revision, and the national
totals are the NEC's 12 August figures to the vote.

The night, at speed 1 (simulated seconds):

- from a few seconds in, each province reports its polling-station batches across its own
  window; small provinces finish first, the big ones last, everyone by :data:`LAST_BATCH_BY`;
- a few seconds after :data:`TYPO_AROUND` (mid-night, the big provinces still counting), the
  CPP figure of a single-seat province that has already finished counting is re-entered 1,000
  too high, and fixed :data:`TYPO_FIXED_AFTER` seconds later. Nothing else in that province changes
  within :data:`TYPO_QUIET` seconds of either, so a monitor polling every 2 s at speed 1 sees a
  clean +1,000 and then a clean −1,000: a count that goes down;
- at :data:`REVISION_TIME` the official preliminary count replaces the early one: Takeo and
  Kratie change as the press reported, and Kandal's CNRP margin for a 7th seat falls from just
  under 900 to 166 (CNRP gains fewer than 500, CPP goes down);
- from :data:`NIGHT_LENGTH` on nothing changes.

Pure: no clock, no I/O. Everything is precomputed as cumulative arrays so that
:meth:`Night.state_at`, called on every HTTP request, is one lookup and one small DataFrame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightdesk.demo.definition import (
    KANDAL_CNRP_REVISION_BELOW,
    KANDAL_MARGIN_EARLY_BELOW,
    KANDAL_MARGIN_FINAL,
    NATIONAL_VOTES,
    PARTIES,
    PROVINCES,
    REGISTERED_VOTERS,
    REVISIONS,
    TURNOUT,
)
from nightdesk.seats import allocate

NIGHT_LENGTH = 180.0
REVISION_TIME = 175.0
LAST_BATCH_BY = 170.0
TYPO_AROUND = 105.0  # the typo lands in the 5 s after this
TYPO_FIXED_AFTER = 10.0
TYPO_QUIET = 5.0  # the typo's province is still this long before the typo and after its fix
TYPO_SIZE = 1_000

#: The long table :meth:`Night.state_at` returns (and the feed serves), one row per
#: province × party.
COLUMNS: tuple[str, ...] = (
    "province",
    "party",
    "votes",
    "seats",
    "registered",
    "ballots_cast",
    "reporting",
)

NOTE = (
    "Simulated night shaped like Cambodia's 2013 National Assembly election: seats, the seat "
    "split per province, the national CPP and CNRP totals (NEC, 12 Aug 2013) and the reported "
    "revisions are real; the votes per province, registered voters per province and the small "
    "parties' votes are simulated."
)

PARTY_IDS: tuple[str, ...] = tuple(p.id for p in PARTIES)
PROVINCE_NAMES: tuple[str, ...] = tuple(p.name for p in PROVINCES)

_CPP, _CNRP = PARTY_IDS.index("CPP"), PARTY_IDS.index("CNRP")
_KANDAL = PROVINCE_NAMES.index("Kandal")
# Small parties' shares relative to the two big parties' votes, before per-province noise:
# together about 6 %, FUNCINPEC the largest (the real 2013 order, roughly).
_SMALL_SHARES = np.array([0.030, 0.011, 0.007, 0.004, 0.006, 0.005])
_SMALL_CAP = 0.045  # no small party comes near a seat, even in Kampong Cham (18 seats)
_SHARE_MARGIN = 0.012  # keeps every province but Kandal clear of its seat boundaries
# Columns of the per-event delta arrays: the parties' votes, then these two.
_BALLOTS = len(PARTY_IDS)
_BATCHES = _BALLOTS + 1


@dataclass(frozen=True)
class Correction:
    """A count the night deliberately lowers; the monitor must flag every one of them."""

    time: float
    province: str
    field: str  # a party id, or "ballots_cast"
    change: int
    reason: str


def cnrp_votes_for_next_seat(cpp: int, cnrp: int, cpp_seats: int, cnrp_seats: int) -> int:
    """Fewest extra CNRP votes whose next quotient beats CPP's last winning quotient."""
    return (cnrp_seats + 1) * cpp // cpp_seats - cnrp + 1


def _largest_remainder(weights: np.ndarray, total: int) -> np.ndarray:
    """Whole numbers proportional to ``weights`` that add up to ``total`` exactly."""
    exact = weights / weights.sum() * total
    whole = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - whole), kind="stable")
    whole[order[: total - int(whole.sum())]] += 1
    return whole


@dataclass(frozen=True)
class _Counts:
    """The final (official preliminary) figures and the late revision that led to them."""

    registered: np.ndarray  # (province,)
    final: np.ndarray  # (province, party) votes after the revision
    revision: np.ndarray  # (province, party) change at the revision
    invalid: np.ndarray  # (province,) ballots that count for no party
    kandal_cnrp_gain: int
    kandal_cpp_loss: int


def _simulate_counts(rng: np.random.Generator) -> _Counts:
    """Invent province figures that reproduce every public fact exactly."""
    n = len(PROVINCES)
    seats = np.array([p.seats for p in PROVINCES])
    cpp_seats = np.array([p.cpp_seats for p in PROVINCES])

    # Registered voters: about proportional to seats; the single-seat provinces small, varied.
    size = np.where(seats == 1, rng.uniform(0.3, 1.3, n), seats * np.exp(rng.normal(0.0, 0.06, n)))
    registered = _largest_remainder(size, REGISTERED_VOTERS)
    turnout = TURNOUT + rng.uniform(-0.045, 0.045, n)
    small_share = np.minimum(
        _SMALL_SHARES * np.exp(rng.normal(0.0, 0.3, (n, len(_SMALL_SHARES)))), _SMALL_CAP
    )
    invalid_share = rng.uniform(0.008, 0.016, n)
    two_party_total = NATIONAL_VOTES["CPP"] + NATIONAL_VOTES["CNRP"]
    two_party = registered * turnout * (1 - invalid_share) / (1 + small_share.sum(axis=1))
    two_party *= two_party_total / two_party.sum()

    # Kandal is pinned first: CNRP 166 short of a 7th seat at the end, just under 900 before
    # the revision, which gives CNRP fewer than 500 and takes some from CPP. CPP's vote is
    # kept off multiples of 5 so the 7th-seat quotient can never tie.
    cnrp_gain = int(rng.integers(300, KANDAL_CNRP_REVISION_BELOW))
    early_target = int(rng.integers(KANDAL_MARGIN_EARLY_BELOW - 30, KANDAL_MARGIN_EARLY_BELOW - 4))
    k_cpp = round(float(two_party[_KANDAL] + KANDAL_MARGIN_FINAL - 1) * 5 / 12)
    while k_cpp % 5 == 0:
        k_cpp += 1
    k_cnrp = 7 * k_cpp // 5 + 1 - KANDAL_MARGIN_FINAL
    cpp_loss = next(
        d
        for d in range(1, 2_000)
        if (k_cpp + d) % 5
        and cnrp_votes_for_next_seat(k_cpp + d, k_cnrp - cnrp_gain, 5, 6) >= early_target
    )

    others = np.arange(n) != _KANDAL
    totals = np.empty(n, dtype=np.int64)
    totals[_KANDAL] = k_cpp + k_cnrp
    totals[others] = _largest_remainder(two_party[others], two_party_total - totals[_KANDAL])

    # CPP's two-party share: inside each province's interval for the real split (for two
    # parties D'Hondt gives CPP k of S seats iff k/(S+1) < share < (k+1)/(S+1)), shifted
    # together until the national sum is the NEC's figure.
    low = cpp_seats / (seats + 1) + _SHARE_MARGIN
    high = np.minimum((cpp_seats + 1) / (seats + 1), 0.72) - _SHARE_MARGIN
    share0 = low + (high - low) * rng.beta(2.5, 2.5, n)
    cpp_rest = NATIONAL_VOTES["CPP"] - k_cpp
    t_rest = totals[others].astype(float)

    def cpp_sum(shift: float) -> float:
        return float((np.clip(share0 + shift, low, high)[others] * t_rest).sum())

    if not cpp_sum(-1.0) <= cpp_rest <= cpp_sum(1.0):
        raise RuntimeError("the national CPP total cannot be reached with the real seat split")
    lo_shift, hi_shift = -1.0, 1.0
    for _ in range(80):
        mid = (lo_shift + hi_shift) / 2
        lo_shift, hi_shift = (mid, hi_shift) if cpp_sum(mid) < cpp_rest else (lo_shift, mid)
    exact = np.clip(share0 + hi_shift, low, high)[others] * t_rest
    cpp_others = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - cpp_others), kind="stable")
    cpp_others[order[: cpp_rest - int(cpp_others.sum())]] += 1

    final = np.zeros((n, len(PARTY_IDS)), dtype=np.int64)
    final[others, _CPP] = cpp_others
    final[_KANDAL, _CPP] = k_cpp
    final[:, _CNRP] = totals - final[:, _CPP]
    final[:, 2:] = np.rint(small_share * totals[:, None]).astype(np.int64)
    party_votes = final.sum(axis=1)
    invalid = np.rint(party_votes * invalid_share / (1 - invalid_share)).astype(np.int64)

    revision = np.zeros_like(final)
    for r in REVISIONS:
        revision[PROVINCE_NAMES.index(r.province), PARTY_IDS.index(r.party)] += r.change
    revision[_KANDAL, _CNRP] = cnrp_gain
    revision[_KANDAL, _CPP] = -cpp_loss

    counts = _Counts(registered, final, revision, invalid, cnrp_gain, cpp_loss)
    _check_counts(counts)
    return counts


def _check_counts(counts: _Counts) -> None:
    """Refuse a night that contradicts a public fact (a bug, never expected at run time).

    The seat split is checked with the engine's own allocator (D'Hondt, ties to the party
    with more votes), so the night holds the facts as the monitor will compute them.
    """
    early = counts.final - counts.revision
    seats = pd.Series([p.seats for p in PROVINCES], index=PROVINCE_NAMES)
    real = np.array([[p.cpp_seats, p.cnrp_seats] for p in PROVINCES])
    for votes in (early, counts.final):
        won = allocate(pd.DataFrame(votes, index=PROVINCE_NAMES, columns=PARTY_IDS), seats).seats
        wrong = (won[["CPP", "CNRP"]].to_numpy() != real).any(axis=1)
        if wrong.any():
            p = int(wrong.argmax())
            raise RuntimeError(
                f"{PROVINCE_NAMES[p]}: simulated votes give the wrong seat split "
                f"{won.iloc[p].tolist()}"
            )
    for party, total in NATIONAL_VOTES.items():
        if int(counts.final[:, PARTY_IDS.index(party)].sum()) != total:
            raise RuntimeError(f"{party}: national total is not {total}")
    k_final = cnrp_votes_for_next_seat(*counts.final[_KANDAL, [_CPP, _CNRP]], 5, 6)
    k_early = cnrp_votes_for_next_seat(*early[_KANDAL, [_CPP, _CNRP]], 5, 6)
    if k_final != KANDAL_MARGIN_FINAL or not 850 <= k_early < KANDAL_MARGIN_EARLY_BELOW:
        raise RuntimeError(f"Kandal margins {k_early} → {k_final} are not the reported ones")
    ballots = counts.final.sum(axis=1) + counts.invalid
    if (early < 0).any() or (ballots > counts.registered).any():
        raise RuntimeError("simulated counts are not plausible")


class Night:
    """One simulated night: ask for its state at any simulated time.

    Attributes:
        seed: the seed it was built from; the same seed gives the same night.
        length: simulated seconds until the night ends (the state is constant after it).
        revision_time: when the official preliminary count replaces the early one.
        event_times: every simulated time at which the state changes, ascending.
        corrections: every count that goes down during the night, on purpose.
        typo_time: when a finished province's CPP figure was re-entered 1,000 too high.
        typo_fixed_time: when that figure was put right.
        typo_province: that province (never one the late revision touches).
    """

    def __init__(self, seed: int = 2013) -> None:
        self.seed = seed
        self.length = NIGHT_LENGTH
        self.revision_time = REVISION_TIME
        rng = np.random.default_rng(seed)
        counts = _simulate_counts(rng)
        self._counts = counts
        n, n_parties = counts.final.shape
        early = counts.final - counts.revision

        # Polling-station batches of the early count, one event row each. Each batch leans
        # a little towards one party, and the opposition-leaning (urban) stations tend to
        # report first, so the lead moves during the night.
        seats = np.array([p.seats for p in PROVINCES])
        bigness = (seats - 1) / (seats.max() - 1)
        n_batches = np.clip(np.rint(15 + 45 * bigness + rng.integers(-3, 4, n)).astype(int), 15, 60)
        starts = rng.uniform(3.0, 15.0, n) + 20.0 * bigness
        ends = np.minimum(rng.uniform(85.0, 100.0, n) + 70.0 * bigness, LAST_BATCH_BY)

        times: list[np.ndarray] = []
        provinces: list[np.ndarray] = []
        deltas: list[np.ndarray] = []
        for i in range(n):
            nb = int(n_batches[i])
            size = rng.gamma(4.0, 1.0, nb)
            lean = rng.normal(0.0, 0.12, nb)
            weights = np.empty((n_parties + 1, nb))
            weights[_CPP] = size * np.exp(lean)
            weights[_CNRP] = size * np.exp(-lean)
            weights[2:] = size * np.exp(rng.normal(0.0, 0.2, (n_parties - 1, nb)))
            weights /= weights.sum(axis=1, keepdims=True)
            totals = np.append(early[i], counts.invalid[i])
            split = rng.multinomial(totals, weights).T  # (batch, party + invalid)
            order = np.argsort(lean + rng.normal(0.0, 0.08, nb))
            split = split[order]
            when = np.concatenate(([0.0], np.sort(rng.uniform(0.0, 1.0, nb - 2)), [1.0]))
            delta = np.zeros((nb, n_parties + 2), dtype=np.int64)
            delta[:, :n_parties] = split[:, :n_parties]
            delta[:, _BALLOTS] = split.sum(axis=1)
            delta[:, _BATCHES] = 1
            times.append(np.round(starts[i] + (ends[i] - starts[i]) * when, 3))
            provinces.append(np.full(nb, i))
            deltas.append(delta)
        time = np.concatenate(times)
        province = np.concatenate(provinces)
        delta = np.concatenate(deltas)

        # The data-entry error: shortly after TYPO_AROUND, the CPP figure of a single-seat
        # province that finished counting at least TYPO_QUIET earlier (they all end by 100 s)
        # is re-entered 1,000 too high; TYPO_FIXED_AFTER later it is put right. The province
        # has no batches left and the late revision leaves it alone, so both are events of
        # their own that a poller sees cleanly; CPP holds every single seat, so no seat moves.
        # Drawn after the batches, so the batches do not depend on it.
        revised = counts.revision.any(axis=1)
        typo_time = self._free_time(round(TYPO_AROUND + float(rng.uniform(0.0, 5.0)), 3), time)
        finished = np.array([batch_times[-1] for batch_times in times])  # its last batch
        candidate = (seats == 1) & ~revised & (finished <= typo_time - TYPO_QUIET)
        if not candidate.any():
            raise RuntimeError("no finished province to mistype at the planned time")
        typo_province = int(rng.choice(np.flatnonzero(candidate)))
        fix_time = self._free_time(round(typo_time + TYPO_FIXED_AFTER, 3), time)
        typo = np.zeros((2, n_parties + 2), dtype=np.int64)
        typo[:, _CPP] = (TYPO_SIZE, -TYPO_SIZE)

        # The late revision: one release that changes three provinces.
        rev_rows = np.flatnonzero(revised)
        rev = np.zeros((len(rev_rows), n_parties + 2), dtype=np.int64)
        rev[:, :n_parties] = counts.revision[rev_rows]
        rev[:, _BALLOTS] = counts.revision[rev_rows].sum(axis=1)

        time = np.concatenate((time, [typo_time, fix_time], np.full(len(rev_rows), REVISION_TIME)))
        province = np.concatenate((province, [typo_province, typo_province], rev_rows))
        delta = np.concatenate((delta, typo, rev))

        self.event_times, step = np.unique(time, return_inverse=True)
        cumulative = np.zeros((len(self.event_times) + 1, n, n_parties + 2), dtype=np.int64)
        np.add.at(cumulative, (step + 1, province), delta)
        self._cumulative = np.cumsum(cumulative, axis=0)
        self._n_batches = n_batches

        name = PROVINCE_NAMES
        typo_name = name[typo_province]
        corrections = [
            Correction(
                fix_time,
                typo_name,
                "CPP",
                -TYPO_SIZE,
                f"data-entry error of t={typo_time:.3f}s corrected: the CPP figure of "
                f"{typo_name}, already fully counted, was re-entered {TYPO_SIZE:,} too high",
            )
        ]
        fields = (*PARTY_IDS, "ballots_cast")
        for i, changes in zip(rev_rows, rev[:, : n_parties + 1], strict=True):
            why = f"official preliminary count replaces the early one in {name[i]}"
            corrections += [
                Correction(REVISION_TIME, name[i], field, int(change), why)
                for field, change in zip(fields, changes, strict=True)
                if change < 0
            ]
        self.corrections: tuple[Correction, ...] = tuple(corrections)
        self.typo_time = typo_time
        self.typo_fixed_time = fix_time
        self.typo_province = typo_name

        # Constant columns of every frame.
        self._province_col = np.repeat(np.array(PROVINCE_NAMES, dtype=object), n_parties)
        self._party_col = np.tile(np.array(PARTY_IDS, dtype=object), n)
        self._seats_col = np.repeat(seats.astype(np.int64), n_parties)
        self._registered_col = np.repeat(counts.registered, n_parties)

    @staticmethod
    def _free_time(t: float, taken: np.ndarray) -> float:
        """``t``, or the first millisecond after it at which no batch is reported.

        The typo and its fix are events of their own, never merged into another province's
        batch (so the version before and after differs in one cell).
        """
        while np.isin(t, taken):
            t = round(t + 0.001, 3)
        return t

    def version_at(self, t: float) -> int:
        """How many events have happened by simulated time ``t`` (0 before the first)."""
        return int(np.searchsorted(self.event_times, t, side="right"))

    def version_time(self, version: int) -> float:
        """The simulated time at which ``version`` became current."""
        return 0.0 if version <= 0 else float(self.event_times[version - 1])

    def all_counts(self) -> np.ndarray:
        """(version, province, party) votes for every version, read-only: what the
        opposition's tally (:mod:`nightdesk.demo.tally`) is built on."""
        view = self._cumulative[:, :, : len(PARTY_IDS)]
        view.flags.writeable = False
        return view

    def reported(self) -> np.ndarray:
        """(version, province) fraction of each province's batches reported."""
        return self._cumulative[:, :, _BATCHES] / self._n_batches

    def state_at(self, t: float) -> pd.DataFrame:
        """The feed's table at simulated time ``t``: one row per province × party.

        Votes and ballots cast are ``<NA>`` until a province's first batch is in;
        ``reporting`` is the fraction of its batches reported.
        """
        return self._frame(self.version_at(t))

    def final(self) -> pd.DataFrame:
        """The state at the end of the night: the official preliminary count."""
        return self._frame(len(self.event_times))

    def before_revision(self) -> pd.DataFrame:
        """Every province at 100 %, just before the late revision: the early count."""
        return self._frame(self.version_at(self.revision_time) - 1)

    def _frame(self, version: int) -> pd.DataFrame:
        row = self._cumulative[version]
        n_parties = len(PARTY_IDS)
        unreported = np.repeat(row[:, _BATCHES] == 0, n_parties)
        reporting = np.round(row[:, _BATCHES] / self._n_batches, 4)
        return pd.DataFrame(
            {
                "province": self._province_col,
                "party": self._party_col,
                "votes": pd.arrays.IntegerArray(row[:, :n_parties].ravel(), unreported),
                "seats": self._seats_col,
                "registered": self._registered_col,
                "ballots_cast": pd.arrays.IntegerArray(
                    np.repeat(row[:, _BALLOTS], n_parties), unreported.copy()
                ),
                "reporting": np.repeat(reporting, n_parties),
            },
            columns=list(COLUMNS),
        )
