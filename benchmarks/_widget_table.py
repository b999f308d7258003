"""Benchmark child: nightdesk's ``ResultsTable`` alone in a minimal app.

``python -m benchmarks._widget_table UNITS VERSIONS HIGHLIGHT``: the results of feed versions
0‥VERSIONS (each 3 cells on from the last, ``benchmarks.feedgen``) are assessed before the
app starts, so a command costs only the widget. Commands: ``fill`` (show version 0),
``update`` (show the next version), ``quit``. Only the widget's public face is used
(``ResultsTable(highlight_seconds=, clock=, id=)`` and ``show``), so any version of it works.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

from textual.app import ComposeResult

from benchmarks._control import Controlled
from benchmarks.feedgen import config_toml, feed_body
from nightdesk import config as config_mod
from nightdesk import formats
from nightdesk.formats import ParseContext
from nightdesk.results import RaceResult, assess
from tui.widgets.results_table import ResultsTable


def race_results(units: int, versions: int) -> list[RaceResult]:
    """Version 0 (no previous) and each next version assessed against the one before."""
    cfg = config_mod.parse(config_toml("http://127.0.0.1:1/", kind="csv"))
    source = cfg.sources[0]
    fmt = formats.load(source.format)
    ctx = ParseContext(
        source=source.name,
        fetched_at=datetime.now(UTC),
        columns=source.columns,
        options=source.options,
    )
    results: list[RaceResult] = []
    previous = None
    for version in range(versions + 1):
        body = feed_body(units, version=version, kind="csv")
        snapshot = formats.parse(fmt, body, ctx)[0]
        results.append(assess(snapshot, previous, cfg.election))
        previous = snapshot
    return results


class WidgetTableApp(Controlled):
    def __init__(self, results: list[RaceResult], highlight: float) -> None:
        super().__init__()
        self.results = results
        self.highlight = highlight
        self.version = 0

    def compose(self) -> ComposeResult:
        yield ResultsTable(highlight_seconds=self.highlight, clock=time.monotonic, id="table")

    def bench_fill(self) -> None:
        self._show("filled", 0)

    def bench_update(self) -> None:
        self._show("updated", self.version + 1)

    def _show(self, event: str, version: int) -> None:
        start = time.monotonic()
        self.version = version
        self.query_one(ResultsTable).show(self.results[version])
        self.call_after_refresh(self._done, event, start)

    def _done(self, event: str, start: float) -> None:
        self.bench_send(event, seconds=time.monotonic() - start, version=self.version)


if __name__ == "__main__":
    units, versions, highlight = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    WidgetTableApp(race_results(units, versions), highlight).run()
