"""``make bench``: every benchmark in one invocation, numbers on stdout, progress on stderr.

1. the engine's pipeline (``benchmarks.engine``): parse, compare, allocate seats;
2. parsing the feeds (``benchmarks.parsing``), then the same beside the peer libraries elex and
   clarify on real feed files (``benchmarks.peers``; skipped while their venv, which
   ``make bench`` builds when it can, is absent), and the Clarity helper process on and off
   (``benchmarks.clarity_helper``: parse time, and how late another thread wakes meanwhile);
3. the history store (``benchmarks.store``): record and rebuild times, bytes per snapshot;
4. the terminal (``benchmarks.terminal``): bytes, CPU, latency, memory and launch time of the
   real app (history store included) in a pseudo-terminal, beside a stock ``DataTable``
   measured in the same run;
5. the soak (``benchmarks.soak``): 10,000 polls with 20% faults into a throwaway store;
6. the newsroom (``benchmarks.newsroom``): one collector and 20 viewers on a throwaway
   PostgreSQL, commit → all viewers showing it (skipped where no PostgreSQL can be started).

``python -m benchmarks [--quick] [--polls N]``: the options go to the terminal section
(``--quick``: fewer runs and 50 polls at 20,000 units instead of 1,000; the soak then does
2,000 polls, the peers 3 runs per side and the newsroom 5 commits). A section that fails
says so and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def section(title: str, module: str) -> Callable[..., None] | None:
    """The section's ``main``, or None (with a note) while its module does not exist yet."""
    if importlib.util.find_spec(module) is None:
        print(f"\n== {title}: {module} is not there yet; skipped", flush=True)
        return None
    main: Callable[..., None] = importlib.import_module(module).main
    return main


def run(argv: Sequence[str]) -> int:
    from benchmarks import terminal

    terminal.parse_args(argv)  # a bad option fails now, not after the other sections
    failed = 0
    start = time.monotonic()
    soak_dir = tempfile.TemporaryDirectory(prefix="nightdesk-soak-")
    soak = ["--store", f"{soak_dir.name}/soak.sqlite"]
    peers: list[str] = []
    newsroom: list[str] = []
    if "--quick" in argv:
        soak += ["--polls", "2000"]
        peers += ["--runs", "3"]
        newsroom += ["--commits", "5"]
    for title, module, args in (
        ("engine", "benchmarks.engine", ()),
        ("parsing", "benchmarks.parsing", ()),
        ("peers", "benchmarks.peers", (peers,)),
        ("clarity helper", "benchmarks.clarity_helper", ([],)),
        ("store", "benchmarks.store", ([],)),
        ("terminal", "benchmarks.terminal", (list(argv),)),
        ("soak", "benchmarks.soak", (soak,)),
        ("newsroom", "benchmarks.newsroom", (newsroom,)),
    ):
        try:
            main = section(title, module)
            if main is None:
                continue
            progress(f"{title} …")
            print(f"\n== {title}", flush=True)
            if main(*args):  # a section's own verdict (the soak's checks)
                raise RuntimeError(f"{title} reported a failure")
            sys.stdout.flush()
        except Exception:
            failed += 1
            print(f"\n== {title}: FAILED (traceback on stderr)", flush=True)
            traceback.print_exc()
    soak_dir.cleanup()
    progress(f"all benchmarks took {time.monotonic() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
