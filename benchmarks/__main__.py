"""``make bench``: every benchmark in one invocation, numbers on stdout, progress on stderr.

1. the engine's pipeline (``benchmarks.engine``): parse, compare, allocate seats;
2. parsing the feeds (``benchmarks.parsing``);
3. the terminal (``benchmarks.terminal``): bytes, CPU, latency, memory and launch time of the
   real app in a pseudo-terminal, beside a stock ``DataTable`` measured in the same run.

``python -m benchmarks [--quick] [--polls N]``: the options go to the terminal section
(``--quick``: fewer runs and 50 polls at 20,000 units instead of 1,000). A section that fails
says so and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
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
    for title, module, args in (
        ("engine", "benchmarks.engine", ()),
        ("parsing", "benchmarks.parsing", ()),
        ("terminal", "benchmarks.terminal", (list(argv),)),
    ):
        try:
            main = section(title, module)
            if main is None:
                continue
            progress(f"{title} …")
            print(f"\n== {title}", flush=True)
            main(*args)
            sys.stdout.flush()
        except Exception:
            failed += 1
            print(f"\n== {title}: FAILED (traceback on stderr)", flush=True)
            traceback.print_exc()
    progress(f"all benchmarks took {time.monotonic() - start:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
