"""Benchmark child: the whole nightdesk app on a generated feed, instrumented from outside.

``python -m benchmarks._whole_app FEED_URL INTERVAL HIGHLIGHT``. The product code is used as
shipped, history store included (a throwaway SQLite file, as the demo has); the
instrumentation is a subclass of the poller (``poll`` notes when a poll starts) and of the app
(``deliver`` notes when a state arrives and asks, with ``call_after_refresh``, to be told once
the frame showing it has been written to the terminal driver). Every changed poll sends a
``frame`` event with those moments, in ``time.monotonic()`` seconds (the parent's clock too:
CLOCK_MONOTONIC is system-wide). Commands: ``poll`` (poll now: ``Poller.refresh``), ``rss``,
``lag``, ``quit``.
"""

from __future__ import annotations

import inspect
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._control import Controlled
from benchmarks.feedgen import config_toml
from nightdesk import config as config_mod
from nightdesk.changelog import Change
from nightdesk.config import Config, SourceConfig
from nightdesk.polling import Poller, SourceState
from nightdesk.store import HistoryStore
from tui.app import NightdeskApp


class TimedPoller(Poller):
    """A poller that remembers when its current poll started and when it published."""

    poll_started = 0.0
    published = 0.0

    async def poll(self, source: SourceConfig) -> SourceState:
        self.poll_started = time.monotonic()
        return await super().poll(source)

    def note_published(self, state: SourceState) -> None:
        """Subscribed before the app's own callback, so it runs first."""
        self.published = time.monotonic()


class TimedApp(Controlled, NightdeskApp):
    # Textual resolves CSS_PATH beside the module that defines the class: point at the app's.
    CSS_PATH = str(Path(inspect.getfile(NightdeskApp)).parent / str(NightdeskApp.CSS_PATH))

    def __init__(self, config: Config, highlight: float, store: HistoryStore | None) -> None:
        self.timed = TimedPoller(config, store=store)
        self.timed.subscribe(self.timed.note_published)
        super().__init__(config, poller=self.timed, highlight_seconds=highlight)
        self.frames = 0

    def deliver(self, state: SourceState, *, restored: list[Change] | None = None) -> None:
        started, published = self.timed.poll_started, self.timed.published
        delivered = time.monotonic()
        super().deliver(state, restored=restored)
        handled = time.monotonic()
        if state.changed:
            self.call_after_refresh(self._framed, started, published, delivered, handled)

    def _framed(self, started: float, published: float, delivered: float, handled: float) -> None:
        self.frames += 1
        self.bench_send(
            "frame",
            n=self.frames,
            poll_started=started,
            published=published,
            delivered=delivered,
            handled=handled,
            frame=time.monotonic(),
            max_lag=self.bench_probe.take(),
        )

    def bench_poll(self) -> None:
        self.bench_probe.take()  # the loop's worst block is measured from here to the frame
        self.poller.refresh()


def main(argv: list[str]) -> None:
    url, interval, highlight = argv[0], float(argv[1]), float(argv[2])
    kind = "csv" if url.endswith(".csv") else "json"
    cfg = config_mod.parse(config_toml(url, kind=kind, interval=interval))
    if os.environ.get("NIGHTDESK_BENCH_STORE") == "0":  # to measure what the store costs
        TimedApp(cfg, highlight, None).run()
        return
    with (
        tempfile.TemporaryDirectory(prefix="nightdesk-bench-") as tmp,
        HistoryStore.open(Path(tmp) / "night.sqlite") as store,
    ):
        TimedApp(cfg, highlight, store).run()


if __name__ == "__main__":
    main(sys.argv[1:])
