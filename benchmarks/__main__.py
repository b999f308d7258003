"""The engine's pipeline at demo size and at 20,000 units: parse, compare, allocate.

Run with ``make bench``. Prints the median of several runs per step, in milliseconds.
The seats section times ``allocate()`` (seats, exact margins and every party's next
seat) on its own: 8 parties with uneven shares (some near a threshold), 1–12 seats per
unit, and single-seat units for first past the post.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from nightdesk import formats
from nightdesk.config import ElectionConfig
from nightdesk.formats import ColumnMap, ParseContext
from nightdesk.results import assess
from nightdesk.seats import SeatRules, allocate

PARTIES = ("CPP", "CNRP", "FUNCINPEC", "LDP", "KAP", "KEDP", "CNP", "RDP")


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


def main() -> None:
    rng = np.random.default_rng(2013)
    fmt = formats.load("csv")
    ctx = ParseContext(
        source="bench",
        fetched_at=datetime.now(UTC),
        columns=ColumnMap(unit="unit", party="party", votes="votes", optional={"seats": "seats"}),
    )
    from zoneinfo import ZoneInfo

    election = ElectionConfig(name="bench", timezone=ZoneInfo("UTC"))
    print(f"{'units':>7} {'bytes':>11} {'parse ms':>9} {'assess ms':>10}  (median)")
    for units, runs in ((24, 20), (2_000, 5), (20_000, 3)):
        body = long_csv(units, rng)
        before = fmt.parse(body, ctx)
        after = fmt.parse(long_csv(units, rng), ctx)
        parse = median_ms(lambda b=body: fmt.parse(b, ctx), runs)
        compute = median_ms(lambda a=after, b=before: assess(a, b, election), runs)
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


if __name__ == "__main__":
    main()
    seats_section(np.random.default_rng(2018))
