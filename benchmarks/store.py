"""The history store: what a poll costs to record, what a night costs on disk, and how fast
the latest snapshot comes back after a restart.

Feeds are :mod:`benchmarks.feedgen`'s CSV (long rows, 8 parties; version ``k + 1`` changes 3
vote cells). Sections:

1. zlib level 1 vs 6 on the 8 MB CSV of 20,000 units (why the store uses level 1), and the
   content-defined chunking that stores only the changed parts of the next body;
2. ``record()``: the first snapshot and a 3-cell change at 24, 1,600 and 20,000 units, in
   milliseconds and in bytes added (cells + new body chunks);
3. the file after many polls that rarely change (repeats are not stored);
4. rebuilding the latest snapshot at 20,000 units after 200 stored snapshots, from a store
   just opened (as after a restart).

Run with ``python -m benchmarks.store [--polls N]``.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from benchmarks.feedgen import config_toml, feed_body, votes_at
from nightdesk import chunks, config, formats
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot
from nightdesk.store import BODY_LEVEL, Evidence, HistoryStore

PARTIES = 8
T0 = datetime(2013, 7, 28, 17, 0, tzinfo=UTC)


class Feed:
    """Snapshots and bodies of the generated CSV feed at any version, cheaply: the first
    version is parsed, later ones swap in the votes (as the parser would give them)."""

    def __init__(self, units: int) -> None:
        self.units = units
        source = config.parse(config_toml("http://127.0.0.1:1/", "csv")).sources[0]
        ctx = ParseContext(
            source=source.name, fetched_at=T0, columns=source.columns, options=source.options
        )
        [self.first] = formats.parse(formats.load(source.format), self.body(0), ctx)
        self.source = source.name

    def body(self, version: int) -> bytes:
        return feed_body(self.units, PARTIES, version=version, kind="csv")

    def snapshot(self, version: int) -> Snapshot:
        grid = votes_at(self.units, PARTIES, version=version).reshape(self.units, PARTIES)
        votes = pd.DataFrame(grid, index=self.first.votes.index, columns=self.first.votes.columns)
        return Snapshot.build(
            source=self.source,
            votes=votes,
            units=self.first.units,
            parties=self.first.parties,
            fetched_at=T0 + timedelta(seconds=30 * version),
        )

    def evidence(self, version: int) -> Evidence:
        return Evidence(
            source=self.source,
            url="http://127.0.0.1/results.csv",
            fetched_at=T0 + timedelta(seconds=30 * version),
            status=200,
            etag=f'"{version}"',
            last_modified=None,
            date=None,
            body=self.body(version),
        )


def ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def stored_bytes(store: HistoryStore) -> int:
    s = store.stats()
    return s["cell_bytes"] + s["body_bytes_stored"]


def zlib_section() -> None:
    body = feed_body(20_000, PARTIES, version=0, kind="csv")
    print(
        f"zlib on the {len(body) / 1e6:.1f} MB CSV of 20,000 units (the store uses level "
        f"{BODY_LEVEL})"
    )
    print(f"{'level':>6} {'ms':>7} {'MB':>6} {'ratio':>6}")
    for level in (1, 6):
        times, size = [], 0
        for _ in range(3):
            start = time.perf_counter()
            size = len(zlib.compress(body, level))
            times.append((time.perf_counter() - start) * 1000)
        print(
            f"{level:>6} {statistics.median(times):>7.0f} {size / 1e6:>6.2f} "
            f"{len(body) / size:>6.1f}"
        )
    after = feed_body(20_000, PARTIES, version=1, kind="csv")
    sha = statistics.median(ms(lambda: hashlib.sha256(after).digest()) for _ in range(3))
    split = statistics.median(ms(lambda: chunks.split(after)) for _ in range(3))
    old = {d for d, _ in chunks.split(body)}
    pieces = chunks.split(after)
    new = [p for d, p in pieces if d not in old]
    new_bytes = sum(len(zlib.compress(p, BODY_LEVEL)) for p in new)
    print(
        f"chunking the next body (3 cells changed): {len(pieces)} chunks in {split:.0f} ms "
        f"(SHA-256 of the whole body alone: {sha:.0f} ms); {len(new)} new, "
        f"{new_bytes / 1e3:.0f} KB compressed instead of {len(zlib.compress(after, 1)) / 1e6:.2f}"
        " MB"
    )


def record_section(tmp: Path) -> None:
    print()
    print("record(): the first snapshot, then a poll that changed 3 vote cells")
    print("(ms: median; body ms: the part spent hashing and chunking the body, measured apart;")
    print(" KB: cells + new body chunks added to the file)")
    print(
        f"{'units':>7} {'body KB':>8} {'first ms':>9} {'first KB':>9} {'change ms':>10} "
        f"{'(body ms)':>10} {'change KB':>10} {'cells':>6}"
    )
    for units, runs in ((24, 15), (1_600, 9), (20_000, 5)):
        feed = Feed(units)
        firsts, changes, first_kb, change_kb, body_ms = [], [], 0.0, [], []
        cells = 0
        for run in range(1 if units == 20_000 else 3):
            with HistoryStore.open(tmp / f"record-{units}-{run}.sqlite") as store:
                snap, ev = feed.snapshot(0), feed.evidence(0)
                firsts.append(ms(lambda s=snap, e=ev, st=store: st.record(e, [s])))
                first_kb = stored_bytes(store) / 1e3
                for v in range(1, runs + 1):
                    snap, ev = feed.snapshot(v), feed.evidence(v)
                    before = stored_bytes(store)
                    changes.append(ms(lambda s=snap, e=ev, st=store: st.record(e, [s])))
                    body_ms.append(ms(lambda b=ev.body: (hashlib.sha256(b), chunks.split(b))))
                    change_kb.append((stored_bytes(store) - before) / 1e3)
                cells = store.timeline()[-1].cells_changed
        print(
            f"{units:>7,} {len(feed.body(0)) / 1e3:>8,.0f} {statistics.median(firsts):>9.1f} "
            f"{first_kb:>9,.0f} {statistics.median(changes):>10.1f} "
            f"{statistics.median(body_ms):>10.1f} {statistics.median(change_kb):>10.1f} {cells:>6}"
        )


def polls_section(tmp: Path, polls: int = 500, units: int = 1_600, every: int = 5) -> None:
    print()
    print(
        f"{polls} polls of {units:,} units; 3 cells change every {every}th poll, the others "
        f"repeat (only the time differs)"
    )
    feed = Feed(units)
    path = tmp / "polls.sqlite"
    start = time.perf_counter()
    served = 0
    with HistoryStore.open(path) as store:
        snap, ev = feed.snapshot(0), feed.evidence(0)
        for poll in range(polls):
            version = poll // every
            if poll % every == 0:
                snap, ev = feed.snapshot(version), feed.evidence(version)
            served += len(ev.body)
            at = T0 + timedelta(seconds=30 * poll)
            store.record(replace(ev, fetched_at=at), [replace(snap, fetched_at=at)])
        stats = store.stats()
    took = time.perf_counter() - start
    size = path.stat().st_size  # closed: the write-ahead log is folded in
    print(
        f"stored {stats['snapshots']} snapshots, {stats['cells']:,} cells "
        f"({stats['cell_bytes'] / 1e3:,.0f} KB), bodies {stats['body_bytes_raw'] / 1e6:.1f} MB "
        f"raw → {stats['body_bytes_stored'] / 1e3:,.0f} KB stored; "
        f"file {size / 1e6:.2f} MB (the feed served {served / 1e6:.0f} MB); {took:.1f} s"
    )


def rebuild_section(tmp: Path, snapshots: int) -> None:
    print()
    units = 20_000
    print(
        f"rebuild the latest snapshot at {units:,} units after {snapshots} stored snapshots "
        "(a store just opened)"
    )
    feed = Feed(units)
    path = tmp / "rebuild.sqlite"
    start = time.perf_counter()
    with HistoryStore.open(path) as store:
        for v in range(snapshots):
            store.record(feed.evidence(v), [feed.snapshot(v)])
    recorded = time.perf_counter() - start
    expected = feed.snapshot(snapshots - 1)
    times = []
    for _ in range(3):
        with HistoryStore.open(path) as store:
            latest = store.latest_id(feed.source)
            assert latest is not None
            t = time.perf_counter()
            snapshot = store.snapshot(latest)
            times.append((time.perf_counter() - t) * 1000)
            assert snapshot.votes.equals(expected.votes)
    with HistoryStore.open(path) as store:
        changes = ms(lambda: store.changes(feed.source))
        series = ms(lambda: store.unit_series(feed.source, "", "U00000"))
    size = path.stat().st_size
    print(
        f"rebuild {statistics.median(times):.0f} ms (median of 3); changes() {changes:.0f} ms, "
        f"unit_series() {series:.0f} ms; file {size / 1e6:.1f} MB; recording the "
        f"{snapshots} took {recorded:.1f} s"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.store")
    parser.add_argument(
        "--polls", type=int, default=200, help="snapshots stored before the rebuild (default 200)"
    )
    args = parser.parse_args(list(argv) if argv is not None else [])
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nightdesk-bench-store-") as tmp:
        zlib_section()
        record_section(Path(tmp))
        polls_section(Path(tmp))
        rebuild_section(Path(tmp), args.polls)
    print(f"\n(store benchmark: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
