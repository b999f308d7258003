"""Parse speed beside the peers, in one run, on the same files: nightdesk vs elex and clarify.

The peers live in their own venv (``make bench-peers`` builds ``.venv-peers`` from
``benchmarks/peers-requirements.txt``); each is timed there by :mod:`benchmarks._peer_run` in a
subprocess that prints JSON; nightdesk is timed the same way, a fresh process per turn
(:mod:`benchmarks._our_run`), on the same file. Both sides
start from the file on disk (page cache warm) and stop at their library's result objects;
best and median of N runs pooled from a few turns (peer, then nightdesk, each after a warm-up),
``gc.collect()`` before each run, outside the clock.
The goal (issue 7) is nightdesk at least 5x faster than each peer; the ratio is
peer median / nightdesk median. The peers run in one process; nightdesk reads a large
Clarity file with two (:mod:`adapters.clarity_helper`), so its "1 process" side, with the
helper off, is printed too: that ratio is the one in CPU time.

``python -m benchmarks.peers [--runs N] [--venv DIR] [--feeds DIR]``. An unmet goal is a
number, not a failure; ``main`` returns True only when the harness itself cannot run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from adapters.clarity_helper import ENV as XML_HELPER_ENV

REPO = Path(__file__).resolve().parents[1]
FEEDS = REPO.parent / "shared" / "feeds"
PEER_VENV = Path(os.environ.get("NIGHTDESK_PEERS_VENV", REPO / ".venv-peers"))
RUNNER = Path(__file__).with_name("_peer_run.py")
#: The stamp ``make`` leaves once the peer venv is complete.
STAMP = ".installed"
GOAL = 5.0
RUNS = 15
#: Turns of peer, then nightdesk: the runs are split among them and pooled.
ROUNDS = 3
#: Seconds one of our sides may take per file: a slow parse gets fewer runs (at least 3).
BUDGET_S = 20.0


@dataclass(frozen=True)
class Case:
    """One file, the peer timed on it, and the nightdesk format that reads the same file."""

    file: str  # relative to the feeds folder
    peer: str
    format: str


CASES = (
    Case("ap/20160426_ct_rollups.json", "elex", "ap"),
    Case("clarity/ga_20180522_primary_detail.xml", "clarify", "clarity"),
)

OURS_TIMED = {
    "parse": (
        "Path(FILE).read_bytes() + nightdesk.formats.load(FORMAT).parse(body, ctx), all races: "
        "every value read and checked (a record per candidate and unit, as the peers make), "
        "one Snapshot per race whose pandas tables are built when first read "
        "(nightdesk.deferred); for Clarity, defusedxml's pass over the body runs in "
        "nightdesk's helper process while this one reads it (adapters.clarity_helper)"
    ),
    "+rollup": (
        "the same through nightdesk.formats.parse(fmt, body, ctx), which also completes the "
        "unit hierarchy (hierarchy.rollup): what the poller runs on each response"
    ),
    "1 process": (
        "parse with the helper process off (NIGHTDESK_XML_HELPER=0): every pass in this "
        "process, one after the other; the CPU a parse costs, and its time on one CPU"
    ),
    "+tables": (
        "the same, then every race's tables built (votes, units, parties, vote types): what "
        "a desk never waits for (it reads one race at a time), shown for scale"
    ),
}


#: The environment a side runs in, beyond this process's.
SIDE_ENV = {"1 process": {XML_HELPER_ENV: "0"}}


@dataclass(frozen=True)
class Timing:
    best_ms: float
    median_ms: float
    runs: int = 0


def stats(times: Sequence[float]) -> Timing:
    return Timing(min(times), statistics.median(times), len(times))


# -- the peer side --------------------------------------------------------------------------


def peer_python(venv: Path) -> Path | None:
    """The peer venv's interpreter, or None while the venv is absent or half built."""
    python = venv / "bin" / "python"
    return python if python.exists() and (venv / STAMP).exists() else None


def time_peer(python: Path, peer: str, path: Path, runs: int, warmup: int = 1) -> dict[str, Any]:
    """Run :mod:`benchmarks._peer_run` in the peer venv (isolated: no nightdesk on its path)."""
    cmd = [str(python), "-I", str(RUNNER), peer, str(path), f"--runs={runs}", f"--warmup={warmup}"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{peer} runner failed ({done.returncode}):\n{done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# -- our side -------------------------------------------------------------------------------


def our_parsers(name: str) -> tuple[Callable[[bytes], list[Any]], ...]:
    """``fmt.parse``, ``formats.parse`` and the latter with every table built, for format
    ``name`` (in :data:`OURS_TIMED`'s order); ImportError etc. while absent."""
    from nightdesk import formats
    from nightdesk.formats import ParseContext
    from nightdesk.model import Snapshot

    fmt = formats.load(name)
    ctx = ParseContext(source=f"bench-{name}", fetched_at=datetime.now(UTC))

    def bare(body: bytes) -> list[Any]:
        result: Any = fmt.parse(body, ctx)
        if isinstance(result, Snapshot):
            return [result]
        # A format may return a Page (snapshots + AP's next URL) or a sequence of snapshots.
        return list(getattr(result, "snapshots", result))

    def tables(body: bytes) -> list[Any]:
        snapshots = formats.parse(fmt, body, ctx)
        built = [(s.votes, s.units, s.parties, s.vote_types) for s in snapshots]
        return built

    return bare, lambda body: formats.parse(fmt, body, ctx), bare, tables


def time_side(fmt: str, path: Path, side: str, runs: int, *, counts: bool) -> dict[str, Any]:
    """One of our sides timed in a fresh process (:mod:`benchmarks._our_run`), as the peers
    are: no side inherits the heap another left."""
    cmd = [sys.executable, "-m", "benchmarks._our_run", fmt, str(path), side, f"--runs={runs}"]
    done = subprocess.run(
        [*cmd, *(["--counts"] if counts else [])],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
        env={**os.environ, **SIDE_ENV.get(side, {})},
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or ["(no message)"]
        raise RuntimeError(lines[-1])
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def time_ours(parse: Callable[[bytes], list[Any]], path: Path, runs: int) -> Timing:
    return stats(our_times(parse, path, runs))


def our_times(parse: Callable[[bytes], list[Any]], path: Path, runs: int) -> list[float]:
    """Milliseconds of ``runs`` parses after a warm-up (fewer when a parse is slow).

    As for the peers (:mod:`benchmarks._peer_run`), a run's result is freed outside the
    clock, before the next run starts it.
    """
    start = time.perf_counter()
    parse(path.read_bytes())  # warm-up: imports, caches
    warm_s = time.perf_counter() - start
    runs = min(runs, max(3, int(BUDGET_S / max(warm_s, 1e-6))))
    times = []
    result: list[Any] | None = None
    for _ in range(runs):
        result = None  # (the previous run's objects)
        gc.collect()
        start = time.perf_counter()
        result = parse(path.read_bytes())
        times.append((time.perf_counter() - start) * 1000)
    del result
    return times


def our_counts(snapshots: list[Any]) -> dict[str, int]:
    return {
        "races": len(snapshots),
        "units": sum(len(s.units) for s in snapshots),
        "candidate_cells": sum(int(s.votes.size) for s in snapshots),
    }


# -- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    file: str
    peer: str
    peer_time: Timing | None
    side: str  # a key of OURS_TIMED
    ours: Timing | None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.peer_time is None or self.ours is None or self.ours.median_ms <= 0:
            return None
        return self.peer_time.median_ms / self.ours.median_ms

    def verdict(self) -> str:
        ratio = self.ratio
        if ratio is None:
            return "-"
        return "met" if ratio >= GOAL else "NOT met"


def fmt_ms(t: Timing | None, note: str = "") -> str:
    return f"{t.best_ms:8.1f} / {t.median_ms:8.1f}" if t else f"{note or 'n/a':>19}"


def table(rows: Sequence[Row]) -> list[str]:
    """The side-by-side table: ms as best / median, ratio of medians, goal verdict."""
    head = (
        f"{'file':<40} {'peer':<8} {'peer ms best / med':>19}  {'nightdesk':<9} "
        f"{'ours ms best / med':>19} {'ratio':>7}  goal ≥{GOAL:g}x"
    )
    lines = [head, "-" * len(head)]
    previous = None
    for r in rows:
        ratio = f"{r.ratio:6.1f}x" if r.ratio is not None else f"{'-':>7}"
        peer = f"{r.file:<40} {r.peer:<8} {fmt_ms(r.peer_time, 'peer failed')}"
        same = (r.file, r.peer) == previous  # the peer's figures once per file
        previous = (r.file, r.peer)
        lines.append(
            f"{' ' * len(peer) if same else peer}  {r.side:<9} "
            f"{fmt_ms(r.ours, r.note)} {ratio}  {r.verdict()}"
        )
    return lines


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs per side and file")
    parser.add_argument("--venv", type=Path, default=PEER_VENV, help="the peer venv")
    parser.add_argument(
        "--rounds", type=int, default=ROUNDS, help="turns of peer then nightdesk, runs pooled"
    )
    parser.add_argument("--feeds", type=Path, default=FEEDS, help="the shared feeds folder")
    return parser.parse_args(argv)


def _compare(
    case: Case, path: Path, python: Path, runs: int, rounds: int
) -> tuple[list[Row], dict[str, str], bool]:
    """One file: the peer and each of our sides in turns (``rounds`` of each, the runs
    pooled), so a machine that gets busier or quieter during the run weighs on both."""
    per_round = max(1, -(-runs // rounds))
    peer_ms: list[float] = []
    ours_ms: dict[str, list[float]] = {side: [] for side in OURS_TIMED}
    notes = dict.fromkeys(OURS_TIMED, "")
    timed: dict[str, str] = {}
    failed = False
    for turn in range(rounds):
        print(f"[bench] peers: {case.peer} on {case.file} ({turn + 1}/{rounds}) …", file=sys.stderr)
        try:
            peer = time_peer(python, case.peer, path, per_round)
        except (RuntimeError, ValueError, subprocess.TimeoutExpired) as exc:
            print(f"{case.peer} on {case.file}: {exc}")
            failed = True
            break
        peer_ms += peer["runs_ms"]
        if turn == 0:
            timed[case.peer] = peer["timed"]
            versions = ", ".join(f"{k} {v}" for k, v in peer["versions"].items())
            print(f"{case.peer}: {versions}, Python {peer['python']}; made {peer['counts']}")
        for side in OURS_TIMED:
            if notes[side]:
                continue
            try:
                first = turn == 0 and side == "parse"
                ours = time_side(case.format, path, side, per_round, counts=first)
            except RuntimeError as exc:  # an adapter in progress may still fail on the file
                notes[side] = "parse failed"
                print(f"nightdesk {case.format} ({side}): {exc}")
                continue
            ours_ms[side] += ours["runs_ms"]
            if "counts" in ours and side == "parse":
                print(f"nightdesk {case.format}: made {ours['counts']}")
    peer_time = stats(peer_ms) if peer_ms and not failed else None
    rows = [
        Row(
            case.file,
            case.peer,
            peer_time,
            side,
            stats(ours_ms[side]) if ours_ms[side] and not notes[side] else None,
            notes[side],
        )
        for side in OURS_TIMED
    ]
    return rows, timed, failed


def main(argv: Sequence[str] = ()) -> bool:
    """Print the comparison; True (a failure) only when the harness cannot run at all."""
    args = parse_args(argv)
    runs = max(1, args.runs)
    python = peer_python(args.venv)
    if python is None:
        print(f"peers: skipped, no peer venv at {args.venv} (`make bench-peers` builds it)")
        return False
    rounds = max(1, args.rounds)
    print(
        f"peers: parse speed beside the peers, {runs} runs in {rounds} turns (each after a "
        f"warm-up), goal ≥{GOAL:g}x"
    )
    print(f"peer venv: {args.venv}")
    rows: list[Row] = []
    timed: dict[str, str] = {}
    broken = False
    for case in CASES:
        path = args.feeds / case.file
        if not path.exists():
            print(f"{case.file}: absent under {args.feeds}; skipped")
            continue
        found, peer_timed, failed = _compare(case, path, python, runs, rounds)
        rows += found
        timed.update(peer_timed)
        broken = broken or failed
    print()
    for line in table(rows):
        print(line)
    print("\nwhat was timed (wall clock, perf_counter; ratio = peer median / nightdesk median):")
    described = [*timed.items(), *((f"nightdesk {k}", v) for k, v in OURS_TIMED.items())]
    for who, what in described:
        print(textwrap.fill(what, 100, initial_indent=f"  {who}: ", subsequent_indent="    "))
    # A peer that cannot be run is a broken harness; a slow nightdesk or a missing adapter is not.
    return broken


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1:]) else 0)
