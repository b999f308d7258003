"""The Clarity helper process: a large body's parse, and what the process's other threads
get meanwhile, with the helper on and off.

While a 4 MB ``detail.xml`` is read, a second thread (as the screen's is) asks to wake
every millisecond; how late it wakes is how long the parse held it up. defusedxml's pass
holds the GIL for its whole ~25 ms in one process; in the helper it holds none here.
Prints, per setting: the median ``read_document`` time, and the thread's worst and 99th
percentile lateness and its wake-ups. ``python -m benchmarks.clarity_helper [--runs N]``;
skipped when ``../shared`` (the feed file) is absent.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Sequence

from adapters import clarity_xml
from adapters.clarity_helper import CheckHelper
from benchmarks.peers import FEEDS

FILE = FEEDS / "clarity" / "ga_20180522_primary_detail.xml"
TICK_S = 0.001


def measure(helper: CheckHelper, body: bytes, runs: int) -> tuple[float, float, float, int]:
    """Median parse ms; the ticking thread's worst and p99 lateness (ms) and wake-ups."""
    clarity_xml.CHECKS, saved = helper, clarity_xml.CHECKS
    helper.ready(10.0)
    stop = threading.Event()
    late: list[float] = []

    def tick() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            time.sleep(TICK_S)
            late.append(time.perf_counter() - start - TICK_S)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    times = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            clarity_xml.read_document(body, lambda key, text: True)
            times.append((time.perf_counter() - start) * 1000)
    finally:
        stop.set()
        ticker.join()
        clarity_xml.CHECKS = saved
        helper.close()
    late.sort()
    return (
        statistics.median(times),
        late[-1] * 1000,
        late[int(len(late) * 0.99)] * 1000,
        len(late),
    )


def main(argv: Sequence[str] = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(list(argv))
    if not FILE.exists():
        print(f"clarity helper: skipped, no {FILE} (../shared is absent)")
        return
    body = FILE.read_bytes()
    print(
        f"clarity helper: read_document on {FILE.name} ({len(body) / 1e6:.1f} MB), "
        f"{args.runs} runs, another thread waking every {TICK_S * 1000:.0f} ms meanwhile"
    )
    print(f"{'helper':<7} {'parse ms':>9} {'late max ms':>12} {'late p99 ms':>12} {'wake-ups':>9}")
    for name, helper in (("off", CheckHelper(enabled=False)), ("on", CheckHelper(enabled=True))):
        parse_ms, worst, p99, wakes = measure(helper, body, max(1, args.runs))
        print(f"{name:<7} {parse_ms:>9.1f} {worst:>12.1f} {p99:>12.1f} {wakes:>9}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
