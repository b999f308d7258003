"""Times one peer library's parse of one file; runs in the peer venv, prints JSON on stdout.

``python -I benchmarks/_peer_run.py {elex|clarify} FILE [--runs N] [--warmup N]``

Standalone on purpose: the peer venv has the peers and the standard library, not nightdesk,
so this file imports nothing of ours. Each run is what a user of the library calls to get its
result objects from a file on disk; imports and the venv's start-up are outside the clock.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

#: What each peer's clock covers, printed beside the numbers.
TIMED = {
    "elex": (
        "elex.api.Election(electiondate=…, datafile=FILE, resultslevel='ru').results: "
        "open+read the file, ujson.loads, Race/ReportingUnit/CandidateReportingUnit objects "
        "(incl. its New England county roll-up), flattened to candidate-unit rows; "
        "what `elex results DATE --data-file FILE` does before rendering CSV"
    ),
    "clarify": (
        "clarify.Parser().parse(FILE): lxml parses the file, then Contest/Choice/Result "
        "objects for every contest, choice, vote type and county/precinct"
    ),
}

#: Distributions whose versions go into the report.
VERSIONS = {
    "elex": ("elex", "ujson", "pymongo", "python-dateutil"),
    "clarify": ("clarify", "lxml", "python-dateutil"),
}


def elex_run(path: str) -> Callable[[], Any]:
    from elex.api import Election

    def run() -> Any:
        # The arguments the CLI's hook passes for `elex results DATE --data-file FILE`.
        election = Election(
            electiondate=None,
            datafile=path,
            testresults=False,
            liveresults=True,
            resultslevel="ru",
            setzerocounts=False,
            raceids=[],
            officeids=None,
        )
        return election.results

    return run


def elex_counts(path: str, rows: Any) -> dict[str, int]:
    """Races and units too (one extra untimed pass through the same steps)."""
    from elex.api import Election

    election = Election(datafile=path, raceids=[], officeids=None)
    races, units, _ = election.get_units(election.get_race_objects(election.get_raw_races()))
    return {"races": len(races), "reporting_units": len(units), "candidate_rows": len(rows)}


def clarify_run(path: str) -> Callable[[], Any]:
    import clarify

    def run() -> Any:
        parser = clarify.Parser()
        parser.parse(path)
        return parser

    return run


def clarify_counts(path: str, parser: Any) -> dict[str, int]:
    return {
        "contests": len(parser.contests),
        "choices": sum(len(c.choices) for c in parser.contests),
        "results": len(parser.results),
    }


PEERS = {"elex": (elex_run, elex_counts), "clarify": (clarify_run, clarify_counts)}


def measure(peer: str, path: str, runs: int, warmup: int) -> dict[str, Any]:
    make, count = PEERS[peer]
    run = make(path)
    for _ in range(warmup):
        run()
    times: list[float] = []
    result: Any = None
    for _ in range(runs):
        result = None  # the previous run's objects are freed outside the clock
        gc.collect()
        start = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - start) * 1000)
    return {
        "peer": peer,
        "file": path,
        "timed": TIMED[peer],
        "versions": {name: version(name) for name in VERSIONS[peer]},
        "python": sys.version.split()[0],
        "runs_ms": times,
        "best_ms": min(times),
        "median_ms": statistics.median(times),
        "counts": count(path, result),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("peer", choices=sorted(PEERS))
    parser.add_argument("file")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.peer, args.file, max(1, args.runs), args.warmup)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
