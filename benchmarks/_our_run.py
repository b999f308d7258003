"""Time one of nightdesk's sides on one file in a fresh process, as the peers are timed.

``python -m benchmarks._our_run FORMAT FILE SIDE --runs N`` prints JSON: the runs in ms.
A fresh process per turn, like :mod:`benchmarks._peer_run`: the heap one side leaves
(building every race's tables makes hundreds of thousands of objects) must not slow the
next side's runs, and neither side gets a warmer or colder process than the other.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.peers import OURS_TIMED, our_counts, our_parsers, our_times


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("format")
    parser.add_argument("file", type=Path)
    parser.add_argument("side", choices=list(OURS_TIMED))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--counts", action="store_true", help="also count what was made")
    args = parser.parse_args(argv)
    parse = dict(zip(OURS_TIMED, our_parsers(args.format), strict=True))[args.side]
    out: dict[str, object] = {"runs_ms": our_times(parse, args.file, max(1, args.runs))}
    if args.counts:
        out["counts"] = our_counts(parse(args.file.read_bytes()))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
