"""The demo's night recorded in each store backend: ``record()`` per poll, ``snapshot()`` of
the latest from a store just opened (a viewer starting), of each stored snapshot with a
warm store, and of each new snapshot as a second connection follows the writer (a viewer in
the newsroom: it should cost the same at the night's end as at its start), SQLite vs
PostgreSQL.

The night is :mod:`nightdesk.demo`'s (25 provinces × 6 parties, every version of the official
feed, parsed by the csv format as a poll would). PostgreSQL is the server ``--pg URL`` names,
else a throwaway cluster from scripts/pg-test-server started with fsync on (so its commits
pay what SQLite's ``synchronous=FULL`` pays; ``--no-fsync`` to compare).

Run with ``python -m benchmarks.store_backends [--pg URL] [--rounds N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from benchmarks.newsroom import pg_server_module
from nightdesk import formats
from nightdesk.demo.night import Night
from nightdesk.demo.settings import demo_config
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot
from nightdesk.store import Evidence
from nightdesk.stores import open_store, upgrade

T0 = datetime(2013, 7, 28, 10, 0, tzinfo=UTC)


def demo_polls() -> list[tuple[Evidence, list[Snapshot]]]:
    """Every version of the demo's official feed, as the poller would record it."""
    night = Night()
    source = demo_config("http://127.0.0.1:1").sources[0]
    fmt = formats.load(source.format)
    polls = []
    for version in range(len(night.event_times) + 1):
        at = T0 + timedelta(seconds=night.version_time(version))
        body = night.state_at(night.version_time(version)).to_csv(index=False).encode()
        ctx = ParseContext(
            source=source.name, fetched_at=at, columns=source.columns, options=source.options
        )
        snaps = formats.parse(fmt, body, ctx)
        evidence = Evidence(source.name, "http://127.0.0.1/results.csv", at, 200, None, None,
                            None, body)  # fmt: skip
        polls.append((evidence, snaps))
    return polls


def _ms(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(target: str, polls: list[tuple[Evidence, list[Snapshot]]]) -> dict[str, float]:
    records: list[float] = []
    follow: list[float] = []
    seen: list[int] = []
    with open_store(target) as store, open_store(target) as viewer:
        for evidence, snaps in polls:
            records.append(_ms(lambda e=evidence, s=snaps: store.record(e, s)))
            ids = [e.id for e in viewer.timeline(after=max(seen, default=0))]
            follow += [_ms(lambda i=i: viewer.snapshot(i)) for i in ids]
            seen = ids or seen
        ids = [e.id for e in store.timeline()]
        warm = [_ms(lambda i=i: store.snapshot(i)) for i in ids]
    cold: list[float] = []
    for _ in range(5):
        with open_store(target) as store:
            cold.append(_ms(lambda s=store: s.snapshot(ids[-1])))
    return {
        "snapshots": len(ids),
        "record_p50": statistics.median(records),
        "record_p95": _pct(records, 0.95),
        "record_total": sum(records),
        "snapshot_warm_p50": statistics.median(warm),
        "follow_first_tenth_p50": statistics.median(follow[: max(1, len(follow) // 10)]),
        "follow_last_tenth_p50": statistics.median(follow[-max(1, len(follow) // 10) :]),
        "snapshot_latest_cold": statistics.median(cold),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", help="a PostgreSQL URL (default: a throwaway cluster)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-fsync", action="store_true")
    args = parser.parse_args(argv)
    polls = demo_polls()
    print(f"demo night: {len(polls)} polls, {len(polls[-1][1][0].votes)} units", file=sys.stderr)
    cluster = None
    url = args.pg
    if url is None:
        cluster = pg_server_module().start(fsync=not args.no_fsync)
        url = cluster.url
    try:
        rows: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(args.rounds):
                rows["sqlite"].append(measure(f"{tmp}/night-{k}.sqlite", polls))
                schema = f"nd_bench_{k}_{time.monotonic_ns()}"
                import psycopg

                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                target = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
                upgrade(target)
                rows["postgresql"].append(measure(target, polls))
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        if cluster is not None:
            cluster.stop()
    keys = list(rows["sqlite"][0])
    print(
        f"{'(ms, median of ' + str(args.rounds) + ' rounds)':34} {'sqlite':>10} {'postgresql':>11}"
    )
    for key in keys:
        a = statistics.median(r[key] for r in rows["sqlite"])
        b = statistics.median(r[key] for r in rows["postgresql"])
        print(f"{key:34} {a:10.2f} {b:11.2f}")


if __name__ == "__main__":
    main()
