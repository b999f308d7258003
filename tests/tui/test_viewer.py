"""Viewer mode in the app: the night from the store, the collector's health on the status
line, a silent collector shown stale, and not a single request to the feed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from nightdesk import config as cfg
from nightdesk.collector import encode_health
from nightdesk.follower import Follower
from nightdesk.polling import Poller
from nightdesk.stores import open_store
from tests.conftest import FeedServer
from tests.engine.test_collect import body, config_text
from tui import cli
from tui.app import NightdeskApp
from tui.widgets.status_bar import StatusBar


def status(app: NightdeskApp) -> str:
    return " ".join(app.main.query_one(StatusBar).lines_text)


async def until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def collected(feed_server: FeedServer, db: Path, interval: float = 30) -> Any:
    """A store as a collector leaves it: one snapshot, the settings and a health record."""
    text = config_text(feed_server.url, interval=interval)
    c = cfg.parse(text)
    with open_store(db) as store:
        store.remember_settings(text, None)
        async with Poller(c, store=store, store_after=0) as poller:
            feed_server.set(body(10))
            state = await poller.poll(c.sources[0])
        store.record_health("nec", encode_health(state, datetime.now(UTC)))
    return c


async def test_the_viewer_shows_the_collectors_health_and_follows_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "night.sqlite"
    c = await collected(feed_server, db)
    asked = len(feed_server.requests)
    store = open_store(db)
    app = NightdeskApp(c, poller=Follower(c, store), badge="VIEWER")  # type: ignore[arg-type]
    async with app.run_test(size=(120, 30)) as pilot:
        await app.ready.wait()
        await pilot.pause()
        assert "nec: ok · last good" in status(app)
        assert app.result is not None
        assert int(app.result.snapshot.votes.loc["Kandal", "CPP"]) == 10
        # The collector records a failure: the viewer's status line says it, with the error.
        failing = json.dumps(
            {
                "state": "failing",
                "last_success": datetime.now(UTC).isoformat(),
                "last_error": "HTTP 502 Bad Gateway",
                "failures": 2,
                "next_attempt": (datetime.now(UTC) + timedelta(seconds=60)).isoformat(),
                "interval": 30,
            }
        )
        with open_store(db) as collector:
            collector.record_health("nec", failing)
        await until(lambda: "FAILING" in status(app))
        assert "HTTP 502 Bad Gateway" in status(app) and "next try" in status(app)
        app.action_refresh()  # r: reads the store again; never asks the feed
        await pilot.pause(0.3)
    store.close()
    assert len(feed_server.requests) == asked


async def test_a_silent_collector_turns_the_source_stale(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "night.sqlite"
    c = await collected(feed_server, db, interval=30)
    later = datetime.now(UTC) + timedelta(minutes=5)  # ten intervals without a word
    store = open_store(db)
    follower = Follower(c, store, clock=lambda: later)
    app = NightdeskApp(c, poller=follower, now=lambda: later)  # type: ignore[arg-type]
    async with app.run_test(size=(160, 30)) as pilot:
        await app.ready.wait()
        await pilot.pause()
        line = status(app)
        assert "nec: STALE" in line and "(5 min ago)" in line
        assert "no word from the collector since" in line
    store.close()


def test_viewer_mode_needs_a_store_that_exists(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.sqlite"
    assert cli.main(["--store", str(missing)]) == 2
    assert "no history store" in capsys.readouterr().err
    assert not missing.exists()
