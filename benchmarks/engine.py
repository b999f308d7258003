"""The engine's pipeline at demo size and at 20,000 units: parse, compare, allocate.

Run with ``make bench`` (or ``python -m benchmarks.engine`` for this part alone). Prints
the median of several runs per step, in milliseconds. The seats section times
``allocate()`` (seats, exact margins and every party's next seat) on its own: 8 parties
with uneven shares (some near a threshold), 1–12 seats per unit, and single-seat units for
first past the post. The update section times what a poll costs the poller's thread once
the feed is parsed: a poll that changes 3 vote cells, assessed in full and incrementally
(from the previous poll's result), without and with turnout figures (registered voters and
reporting, which make the decided-seats search work).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from nightdesk import formats
from nightdesk.config import ElectionConfig
from nightdesk.formats import ColumnMap, ParseContext
from nightdesk.model import Snapshot
from nightdesk.results import assess
from nightdesk.seats import SeatRules, allocate

PARTIES = ("CPP", "CNRP", "FUNCINPEC", "LDP", "KAP", "KEDP", "CNP", "RDP")
ELECTION = ElectionConfig(name="bench", timezone=ZoneInfo("UTC"))


def long_csv(units: int, rng: np.random.Generator) -> bytes:
    votes = rng.integers(0, 50_000, size=(units, len(PARTIES)))
    seats = rng.integers(1, 12, size=units)
    lines = ["unit,party,votes,seats"]
    for u in range(units):
        lines.extend(f"U{u:05d},{p},{votes[u, i]},{seats[u]}" for i, p in enumerate(PARTIES))
    return ("\n".join(lines) + "\n").encode()


def median_ms(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def pipeline_section(rng: np.random.Generator) -> None:
    fmt = formats.load("csv")
    ctx = ParseContext(
        source="bench",
        fetched_at=datetime.now(UTC),
        columns=ColumnMap(unit="unit", party="party", votes="votes", optional={"seats": "seats"}),
    )
    print(f"{'units':>7} {'bytes':>11} {'parse ms':>9} {'assess ms':>10}  (median)")
    for units, runs in ((24, 20), (2_000, 5), (20_000, 3)):
        body = long_csv(units, rng)
        before = fmt.parse(body, ctx)
        after = fmt.parse(long_csv(units, rng), ctx)
        parse = median_ms(lambda b=body: fmt.parse(b, ctx), runs)
        compute = median_ms(lambda a=after, b=before: assess(a, b, ELECTION), runs)
        print(f"{units:>7} {len(body):>11,} {parse:>9.1f} {compute:>10.1f}")


def seat_tables(units: int, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.Series]:
    """Votes per unit and party (shares drawn around a national pattern) and seats."""
    shares = rng.dirichlet([6, 5, 2, 1.2, 0.8, 0.5, 0.4, 0.3], size=units)
    turnout = rng.integers(5_000, 400_000, size=units)
    votes = pd.DataFrame(
        np.round(shares * turnout[:, None]).astype(np.int64),
        columns=list(PARTIES),
        index=[f"U{u:05d}" for u in range(units)],
    )
    return votes, pd.Series(rng.integers(1, 13, size=units), index=votes.index)


SEAT_CASES: tuple[tuple[str, SeatRules, bool], ...] = (
    ("dhondt", SeatRules(method="dhondt"), False),
    ("dhondt 3%", SeatRules(method="dhondt", threshold=0.03), False),
    ("hare", SeatRules(method="hare"), False),
    ("droop", SeatRules(method="droop"), False),
    ("fptp", SeatRules(method="fptp"), True),
)


def seats_section(rng: np.random.Generator) -> None:
    print()
    print("seats: allocate() with margins, median ms")
    print(f"{'units':>7} " + " ".join(f"{name:>10}" for name, _, _ in SEAT_CASES))
    for units, runs in ((24, 20), (2_000, 5), (20_000, 3)):
        votes, seats = seat_tables(units, rng)
        single = pd.Series(1, index=votes.index)
        cells = []
        for _, rules, fptp in SEAT_CASES:
            unit_seats = single if fptp else seats
            cells.append(
                median_ms(lambda v=votes, r=rules, s=unit_seats: allocate(v, s, rules=r), runs)
            )
        print(f"{units:>7} " + " ".join(f"{ms:>10.1f}" for ms in cells))


def poll_pair(
    units: int, rng: np.random.Generator, *, turnout: bool
) -> tuple[Callable[[], Snapshot], Callable[[], Snapshot]]:
    """Two polls of one feed, 3 vote cells apart, as factories of fresh snapshots (so every
    timed run pays for its own per-snapshot arrays, as a real poll does)."""
    votes, seats = seat_tables(units, rng)
    table = pd.DataFrame({"seats": seats})
    if turnout:
        counted = votes.sum(axis=1)
        table["registered"] = (counted * rng.uniform(1.2, 1.6, size=units)).astype(np.int64)
        table["reporting"] = rng.choice([0.5, 0.9, 1.0], size=units)
    changed = votes.copy()
    for unit in rng.choice(units, size=3, replace=False):
        changed.iat[int(unit), int(rng.integers(len(PARTIES)))] += int(rng.integers(1, 500))

    def build(v: pd.DataFrame) -> Callable[[], Snapshot]:
        return lambda: Snapshot.build(source="bench", votes=v, units=table)

    return build(votes), build(changed)


def timed_assess(
    before: Snapshot, make_after: Callable[[], Snapshot], runs: int, *, incremental: bool
) -> float:
    """Median ms of ``assess`` of a fresh ``after`` (built outside the timing)."""
    prior = assess(before, None, ELECTION) if incremental else None
    times = []
    for _ in range(runs):
        after = make_after()
        t = time.perf_counter()
        assess(after, before, ELECTION, prior=prior)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


UPDATE_SIZES: tuple[tuple[int, int], ...] = ((24, 20), (1_600, 10), (20_000, 5), (50_000, 3))


def update_section(rng: np.random.Generator) -> None:
    print()
    print("update assess, 3 cells changed: full vs incremental (from the previous result),")
    print("median ms; 8 parties, 1–12 seats; 'turnout': with registered voters and reporting")
    print(
        f"{'units':>7} {'full':>9} {'incremental':>12} {'full':>9} {'incremental':>12}"
        f"\n{'':>7} {'':>9} {'':>12} {'turnout':>9} {'turnout':>12}"
    )
    for units, runs in UPDATE_SIZES:
        cells = []
        for turnout in (False, True):
            make_before, make_after = poll_pair(units, rng, turnout=turnout)
            before = make_before()
            # The slow full assess of the largest tables: fewer runs, still a median.
            full_runs = max(1, runs if units <= 20_000 else 1 + (not turnout) * 2)
            cells.append(timed_assess(before, make_after, full_runs, incremental=False))
            cells.append(timed_assess(before, make_after, runs, incremental=True))
        print(f"{units:>7,} {cells[0]:>9.1f} {cells[1]:>12.1f} {cells[2]:>9.1f} {cells[3]:>12.1f}")


def main() -> None:
    """Every engine table: pipeline, seats, update."""
    pipeline_section(np.random.default_rng(2013))
    seats_section(np.random.default_rng(2018))
    update_section(np.random.default_rng(2023))


if __name__ == "__main__":
    main()
