"""kill -9 at random moments while snapshots are being written: nothing committed is lost,
nothing is duplicated, and the file stays sound.

A child process (``python -c CHILD``) imports nightdesk once, then, for each round, forks a
worker that opens the store and records version after version of a two-race feed, printing
each version once ``record()`` has returned (committed). The test SIGKILLs the worker at a
random moment (opening the store, rebuilding its latest snapshot, mid-transaction, between
commit and print…) and starts the next worker on the same file, from the version after the
last one printed. Forking from a warm child keeps 20 kills within a few seconds instead of
paying pandas' import 20 times.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nightdesk.store import HistoryStore

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork and SIGKILL")

CHILD = r'''
import os, signal, sys, time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from nightdesk.model import Race, Snapshot
from nightdesk.store import Evidence, HistoryStore

UNITS = [f"ខេត្ត-{u:04d}" for u in range(1_000)]
PARTIES = ["CPP", "CNRP", "FUNCINPEC", "LDP", "KAP"]
BASE = np.random.default_rng(0).integers(0, 50_000, size=(len(UNITS), len(PARTIES)))
T0 = datetime(2013, 7, 28, 17, 0, tzinfo=UTC)


def content(race: str, v: int) -> int:
    """Two versions per content in race A (every other record is a repeat), ten in B."""
    return v // 2 if race == "a" else v // 10


def table(race: str, c: int) -> Snapshot:
    grid = BASE.copy().ravel()
    np.add.at(grid, (np.arange(3 * c) * 7_919) % grid.size, 1)
    units = list(UNITS)
    grid = grid.reshape(len(UNITS), len(PARTIES))
    if c % 7 == 3:  # now and then the last units vanish, and come back
        units, grid = units[:-10], grid[:-10]
    figures = pd.DataFrame(
        {"registered": [c] + [100_000] * (len(units) - 1), "name": [f"N{c % 5}"] * len(units)},
        index=units,
    )
    return Snapshot.build(
        source="nec",
        votes=pd.DataFrame(grid, index=units, columns=PARTIES),
        units=figures,
        fetched_at=T0 + timedelta(seconds=c),
        race=Race(race, f"race {race}"),
    )


def snapshots_for(v: int) -> list[Snapshot]:
    return [table(r, content(r, v)) for r in ("a", "b")]


def body_for(v: int) -> bytes:
    return f"version {v}\n".encode() + BASE.tobytes()[: 20_000 + v]


def evidence_for(v: int) -> Evidence:
    return Evidence("nec", "http://127.0.0.1/nec.csv", T0 + timedelta(seconds=v), 200,
                    f'"{v}"', None, None, body_for(v))


def work(path: str, start: int) -> None:
    deadline = time.monotonic() + 20  # never outlive a test that forgot us
    with HistoryStore.open(path) as store:
        for race in ("a", "b"):  # read the latest snapshots now, so that most kills land
            latest = store.latest_id("nec", race)  # in record()
            if latest is not None:
                store.snapshot(latest)
        os.write(1, b"open\n")
        v = start
        while time.monotonic() < deadline:
            ids = store.record(evidence_for(v), snapshots_for(v))
            os.write(1, f"c {v} {' '.join(map(str, ids))}\n".encode())
            v += 1


def zygote() -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    for line in sys.stdin:
        path, start = line.split("\t")
        pid = os.fork()
        if pid == 0:
            try:
                work(path, int(start))
            finally:
                os._exit(0)
        os.write(1, f"pid {pid}\n".encode())
    # stdin closed: the test is over.


if __name__ == "__main__":
    os.write(1, b"ready\n")
    zygote()
'''

KILLS = 20


def child_code() -> dict[str, Any]:
    """CHILD's functions, for checking what the workers wrote."""
    namespace: dict[str, Any] = {"__name__": "crash_child"}
    exec(compile(CHILD, "crash_child", "exec"), namespace)
    return namespace


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_kill_9_loses_nothing_committed_and_duplicates_nothing(tmp_path: Path) -> None:
    kill_writers_and_check(str(tmp_path / "crash.sqlite"))


def kill_writers_and_check(path: str) -> None:
    """The kills and the checks, on the store ``path`` names (a file or a database URL)."""
    rng = random.Random(20130728)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        text=True,
        bufsize=1,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True)
    reader.start()
    committed: dict[int, int] = {}  # snapshot id → version
    reported: list[int] = []  # versions reported committed, in order
    start, killed_mid_run = 0, 0

    def take(until: str | None, timeout: float) -> str | None:
        end = time.monotonic() + timeout
        while True:
            try:
                line = lines.get(timeout=max(0.0, end - time.monotonic()))
            except queue.Empty:
                return None
            if line.startswith("c "):
                _, v, *ids = line.split()
                reported.append(int(v))
                committed.update((int(i), int(v)) for i in ids)
            elif until is not None and line.startswith(until):
                return line

    try:
        assert take("ready", 60) is not None, "the child did not start"
        began = time.monotonic()
        for _ in range(KILLS):
            assert proc.stdin is not None
            proc.stdin.write(f"{path}\t{start}\n")
            proc.stdin.flush()
            line = take("pid ", 30)
            assert line is not None, "no worker"
            pid = int(line.split()[1])
            before = len(reported)
            if rng.random() < 0.8:  # most kills while recording; the others while opening
                take("open", 30)
                time.sleep(rng.uniform(0.0, 0.2))
            else:
                time.sleep(rng.uniform(0.0, 0.1))
            os.kill(pid, signal.SIGKILL)
            while not gone(pid):
                time.sleep(0.005)
            take(None, 0.05)  # whatever it printed before it died
            killed_mid_run += len(reported) > before
            start = reported[-1] + 1 if reported else 0
        elapsed = time.monotonic() - began
    finally:
        with contextlib.suppress(Exception):
            assert proc.stdin is not None
            proc.stdin.close()
        proc.wait(timeout=30)

    assert killed_mid_run >= KILLS // 2, "most kills should land while snapshots are written"
    assert reported == sorted(reported)
    assert elapsed < 25
    print(
        f"\n{KILLS} kills in {elapsed:.1f} s: {len(reported)} versions, {len(committed)} ids",
        file=sys.stderr,
    )

    code = child_code()
    with HistoryStore.open(path) as store:
        assert store.integrity_check() == "ok"
        timeline = store.timeline()
        rebuilt = {e.id: store.snapshot(e.id) for e in timeline}
        # Every id reported committed is there, rebuilds, and is what that version recorded.
        assert set(committed) <= set(rebuilt)
        for sid, v in committed.items():
            race = store.entry(sid).race
            expected = code["table"](race, code["content"](race, v))
            assert rebuilt[sid].same_counts(expected)
            assert rebuilt[sid].units.equals(expected.units)
            assert store.evidence(sid).body == code["body_for"](v)
        for race in ("a", "b"):
            entries = [e for e in timeline if e.race == race]
            # seq 1, 2, 3 … with no gap and no repeat.
            assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
            # No consecutive duplicate, and none lost: the content counter (unit 0's
            # registered voters) runs 0, 1, 2 … in order.
            snaps = [rebuilt[e.id] for e in entries]
            assert [int(s.units["registered"].iloc[0]) for s in snaps] == list(range(len(snaps)))
            keys = [s.content_key() for s in snaps]
            assert all(a != b for a, b in itertools.pairwise(keys))
        last = max(reported)
        assert len([e for e in timeline if e.race == "a"]) >= code["content"]("a", last) + 1
