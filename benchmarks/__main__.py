"""The engine's pipeline at demo size and at 20,000 units: parse, compare, allocate.

Run with ``make bench``. Prints the median of several runs per step, in milliseconds.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np

from nightdesk import formats
from nightdesk.config import ElectionConfig
from nightdesk.formats import ColumnMap, ParseContext
from nightdesk.results import assess

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


if __name__ == "__main__":
    main()
