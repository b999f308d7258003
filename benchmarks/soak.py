"""Soak: many polls of the real poller against the fault server, ~20% of them faults.

``python -m benchmarks.soak [--polls N] [--faults 0.2] [--seed S] [--store PATH]``

Two sources (the same feed as CSV and as JSON) are polled in turn, back to back (interval
~0, real HTTP on 127.0.0.1). Each poll, with probability ``--faults``, the server serves a
fault of the matrix meant for that kind of feed (:mod:`benchmarks.faults`), chosen at random
(seeded); otherwise the good feed, which changes a few cells every ``--change-every`` polls.

The server runs in a process of its own (a ``multiprocessing`` manager), so the resident
memory printed is the poller's: at the start, after the first 100 polls, every 1,000 polls and
at the end (it must stay flat), with the count of live Python objects; polls by
what was served and what the poller made of it; distinct snapshots served against distinct
snapshots the poller accepted (polls whose state ``changed``: they must be equal); crashes
(exceptions escaping ``Poller.poll``: 0) and internal errors (a bug the poller caught: 0).
With ``--store PATH`` (once ``nightdesk.store`` exists) the poller keeps every snapshot and
the count stored is set against the distinct served. Exit status 1 if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import os
import random
import resource
import sys
import time
import traceback
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.managers import BaseManager
from pathlib import Path
from typing import Any

from benchmarks.faults import FAULTS, FaultServer, config_toml
from nightdesk import config as cfg
from nightdesk.polling import Poller, SourceState

KINDS = ("csv", "json")
RSS_AFTER = 100
RSS_EVERY = 1000


def rss_mb() -> float:
    """Resident memory now, MB (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


class _Manager(BaseManager):
    """Runs the fault server in a process of its own (methods only, through a proxy)."""


_Manager.register("FaultServer", FaultServer)


def two_sources(server: Any, timeout: float, max_bytes: int) -> cfg.Config:
    """One config watching the feed as CSV and as JSON (two sources)."""
    csv_text = config_toml(
        server.feed_url("csv"), "csv", timeout=timeout, max_bytes=max_bytes, name="soak-csv"
    )
    json_text = config_toml(
        server.feed_url("json"), "json", timeout=timeout, max_bytes=max_bytes, name="soak-json"
    )
    second = json_text[json_text.index("[[sources]]") :]
    return cfg.parse(csv_text + "\n" + second, path=Path.cwd() / "soak.toml")


def open_store(path: Path | None) -> Any:
    """The history store at ``path``, or None (no path, or no ``nightdesk.store`` yet)."""
    if path is None:
        return None
    if importlib.util.find_spec("nightdesk.store") is None:
        print(f"--store {path}: nightdesk.store does not exist yet; running without a store")
        return None
    from nightdesk.store import HistoryStore

    return HistoryStore.open(path)


def stored_count(store: Any, source: str) -> int | None:
    """Snapshots the store holds for ``source`` (None if its API is not the one expected)."""
    try:
        return sum(1 for entry in store.timeline() if entry.source == source)
    except (AttributeError, TypeError):
        return None


def outcome(after: SourceState) -> str:
    if after.health.failures:
        return "error"
    if after.changed:
        return "new snapshot"
    return "unchanged"


async def soak(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    faults = {
        k: [f for f, x in FAULTS.items() if f != "good" and x.kind in ("any", k)] for k in KINDS
    }
    manager = _Manager()
    manager.start()  # the server in a process of its own: the RSS measured is the poller's
    server = manager.FaultServer(
        units=args.units,
        parties=args.parties,
        max_bytes=args.max_bytes,
        drip_for=args.timeout + 1.0,
    )
    store = open_store(args.store)
    by_fault: Counter[tuple[str, str]] = Counter()
    accepted: Counter[str] = Counter()
    crashes = internal = wrong = 0
    rss: dict[str, float] = {}
    samples: list[float] = []  # RSS every RSS_EVERY polls
    objects: dict[str, int] = {}  # live Python objects after RSS_AFTER polls and at the end
    server.start()
    try:
        config = two_sources(server, args.timeout, args.max_bytes)
        # Headless: nothing to draw before storing (``store_after=0``).
        kwargs: dict[str, Any] = {"store": store, "store_after": 0} if store is not None else {}
        poller = Poller(config, **kwargs)
        sources = {s.name: (s, kind) for s, kind in zip(config.sources, KINDS, strict=True)}
        rss["start"] = rss_mb()
        started = time.monotonic()
        async with poller:
            for i in range(args.polls):
                if i and i % args.change_every == 0:
                    server.advance()
                source, kind = list(sources.values())[i % len(sources)]
                fault = rng.choice(faults[kind]) if rng.random() < args.faults else "good"
                server.serve(fault)
                before = poller.states[source.name]
                try:
                    after = await poller.poll(source)
                except Exception:
                    crashes += 1
                    if crashes <= 3:
                        traceback.print_exc()
                    continue
                what = outcome(after)
                by_fault[(fault, what)] += 1
                if after.changed:
                    accepted[kind] += 1
                error = after.health.last_error or ""
                if error.startswith("internal error"):
                    internal += 1
                    if internal <= 3:
                        print(f"internal error on {fault} ({kind}): {error}", file=sys.stderr)
                # The invariants: an error keeps the last good results; data is never dropped.
                expected_error = not FAULTS[fault].accepted
                if expected_error != bool(after.health.failures) or (
                    after.health.failures and after.results is not before.results
                ):
                    wrong += 1
                    if wrong <= 5:
                        print(f"unexpected: {fault} ({kind}) → {what}: {error}", file=sys.stderr)
                if i + 1 == RSS_AFTER:
                    rss[f"after {RSS_AFTER} polls"] = rss_mb()
                    objects["after"] = len(gc.get_objects())
                if (i + 1) % RSS_EVERY == 0:
                    samples.append(rss_mb())
                if args.progress and (i + 1) % args.progress == 0:
                    rate = (i + 1) / (time.monotonic() - started)
                    line = f"[soak] {i + 1:,} polls, {rate:,.0f}/s, RSS {rss_mb():.1f} MB"
                    print(line, file=sys.stderr, flush=True)
        elapsed = time.monotonic() - started
        rss["end"] = rss_mb()
        objects["end"] = len(gc.get_objects())
        served, distinct = server.tally()
    finally:
        server.stop()
        manager.shutdown()
    memory = Memory(rss, samples, objects)
    tally = Tally(by_fault, accepted, Counter(served), Counter(distinct))
    return report(args, tally, store, memory, elapsed, crashes, internal, wrong)


@dataclass(frozen=True)
class Memory:
    rss: dict[str, float]
    samples: list[float]
    objects: dict[str, int]


@dataclass(frozen=True)
class Tally:
    by_fault: Counter[tuple[str, str]]  # (fault served, outcome) → polls
    accepted: Counter[str]  # kind → polls whose state changed (new snapshots taken)
    served: Counter[str]  # the server's: fault (or "304") → answers
    distinct: Counter[str]  # the server's: kind → distinct acceptable snapshots served


def report(
    args: argparse.Namespace,
    tally: Tally,
    store: Any,
    memory: Memory,
    elapsed: float,
    crashes: int,
    internal: int,
    wrong: int,
) -> int:
    by_fault, accepted = tally.by_fault, tally.accepted
    polls = sum(by_fault.values()) + crashes
    print(
        f"soak: {polls:,} polls in {elapsed:.1f} s ({polls / elapsed:,.0f} polls/s), "
        f"faults {args.faults:.0%}, seed {args.seed}, {args.units} units × {args.parties} "
        f"parties, timeout {args.timeout:g} s, max_bytes {args.max_bytes:,}"
    )
    print(
        "RSS: "
        + ", ".join(f"{k} {v:.1f} MB" for k, v in memory.rss.items())
        + f"; peak {peak_mb():.1f} MB"
    )
    if memory.samples:
        every = ", ".join(f"{v:.1f}" for v in memory.samples)
        print(f"RSS every {RSS_EVERY:,} polls (MB): {every}")
    if memory.objects:
        print(
            f"live Python objects: after {RSS_AFTER} polls {memory.objects.get('after', 0):,}, "
            f"end {memory.objects.get('end', 0):,}"
        )
    outcomes = Counter(what for (_, what) in by_fault.elements())
    print("polls by outcome: " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items())))
    print("served → outcome:")
    for fault in FAULTS:
        row = {what: n for (f, what), n in by_fault.items() if f == fault}
        if row:
            text = ", ".join(f"{w} {n:,}" for w, n in sorted(row.items()))
            print(f"  {fault:<20} {sum(row.values()):>6,}  {text}")
    print(f"  (304 Not Modified answers: {tally.served['304']:,})")
    ok = crashes == 0 and internal == 0 and wrong == 0
    for kind in KINDS:
        served, taken = tally.distinct[kind], accepted[kind]
        line = f"{kind}: distinct snapshots served {served:,}, accepted by the poller {taken:,}"
        if store is not None:
            stored = stored_count(store, f"soak-{kind}")
            line += f", stored {stored:,}" if stored is not None else ", stored: (unknown API)"
            ok &= stored is None or stored == served
        print(line + (" ✓" if served == taken else " ✗ MISMATCH"))
        ok &= served == taken
    print(
        f"crashes (exceptions escaping poll): {crashes}; internal errors: {internal}; "
        f"outcomes not as the matrix says: {wrong}"
    )
    print("soak: " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.soak", description=__doc__.split("\n")[0]
    )
    p.add_argument("--polls", type=int, default=10_000, help="polls in all (default 10,000)")
    p.add_argument("--faults", type=float, default=0.2, help="share of faulty answers (0.2)")
    p.add_argument("--seed", type=int, default=6, help="random seed (6)")
    p.add_argument("--units", type=int, default=24, help="units in the feed (24)")
    p.add_argument("--parties", type=int, default=8, help="parties in the feed (8)")
    p.add_argument("--change-every", type=int, default=5, help="polls between good changes (5)")
    p.add_argument("--timeout", type=float, default=0.5, help="source timeout, s (0.5)")
    p.add_argument("--max-bytes", type=int, default=256_000, help="source max_bytes (256,000)")
    p.add_argument("--store", type=Path, default=None, help="keep snapshots in this store")
    p.add_argument("--progress", type=int, default=1000, help="progress every N polls (stderr)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    return asyncio.run(soak(parse_args(sys.argv[1:] if argv is None else argv)))


if __name__ == "__main__":
    sys.exit(main())
