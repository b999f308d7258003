"""Parse speed: generated feed bytes → Snapshot list through ``nightdesk.formats.parse``.

The feed is :mod:`benchmarks.feedgen`'s (long: one record per unit × party, 8 parties, unit
figures repeated on every row), read with the config it generates. Prints body size and the
median parse time per kind and size. Run alone with ``python -m benchmarks.parsing``.
"""

from __future__ import annotations

import gc
import statistics
import time
from datetime import UTC, datetime

from benchmarks.feedgen import config_toml, feed_body
from nightdesk import config, formats
from nightdesk.formats import ParseContext

#: Units and runs. 6,400 units is the 7 MB JSON feed the issue's latency target speaks of;
#: 20,000 units in this long shape is a 22 MB JSON feed (an 8 MB CSV).
SIZES: tuple[tuple[int, int], ...] = (
    (24, 41),
    (1_600, 15),
    (6_400, 9),
    (20_000, 7),
    (50_000, 5),
)
KINDS = ("json", "csv")
PARTIES = 8


def context(kind: str) -> tuple[formats.Format, ParseContext]:
    """The format and parse context the generated config gives a poller."""
    source = config.parse(config_toml("http://127.0.0.1:1/", kind)).sources[0]
    ctx = ParseContext(
        source=source.name,
        fetched_at=datetime.now(UTC),
        columns=source.columns,
        options=source.options,
    )
    return formats.load(source.format), ctx


def parse_ms(kind: str, units: int, runs: int) -> tuple[int, float]:
    """Body size and median milliseconds to parse it (versions differ run to run)."""
    fmt, ctx = context(kind)
    bodies = [feed_body(units, PARTIES, version=v, kind=kind) for v in range(2)]
    formats.parse(fmt, bodies[0], ctx)  # warm: imports, caches
    times = []
    for run in range(runs):
        body = bodies[run % 2]
        gc.collect()
        start = time.perf_counter()
        [snapshot] = formats.parse(fmt, body, ctx)
        times.append((time.perf_counter() - start) * 1000)
        assert snapshot.votes.shape == (units, PARTIES)
    return len(bodies[0]), statistics.median(times)


def main() -> None:
    print("parsing: feed bytes → Snapshot (nightdesk.formats.parse), 8 parties, long rows")
    print(f"{'kind':<5} {'units':>7} {'body MB':>8} {'parse ms':>9}  (median)")
    for kind in KINDS:
        for units, runs in SIZES:
            size, ms = parse_ms(kind, units, runs)
            print(f"{kind:<5} {units:>7,} {size / 1e6:>8.2f} {ms:>9.1f}")


if __name__ == "__main__":
    main()
