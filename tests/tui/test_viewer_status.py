"""The viewer's status line says the collector's record (its health and when it wrote it),
and ``r`` says what it does in a viewer; a monitor's line and ``r`` stay as they were."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nightdesk import config as cfg
from nightdesk.follower import Follower, RecordedHealth
from nightdesk.polling import SourceHealth, SourceState
from nightdesk.stores import open_store
from tests.conftest import FeedServer
from tests.engine.test_collect import body, config_text
from tests.tui.test_viewer import collected, status, until
from tui.app import NightdeskApp
from tui.formatting import clock
from tui.widgets.status_bar import status_text

ZONE = cfg.parse(config_text("http://127.0.0.1:9")).election.timezone


def notes(app: NightdeskApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def test_a_recorded_health_says_when_the_collector_wrote_it() -> None:
    source = cfg.parse(config_text("http://127.0.0.1:9", interval=30)).sources[0]
    good = datetime(2013, 7, 28, 12, 34, 0, tzinfo=UTC)
    now = good + timedelta(seconds=5)
    mine = SourceState(source, health=SourceHealth(last_success=good))
    theirs = SourceState(
        source, health=RecordedHealth(last_success=good, written_at=good + timedelta(seconds=2))
    )
    # 12:34 UTC is 19:34 in Phnom Penh, the election's zone.
    assert status_text(mine, ZONE, now).plain == "nec: ok · last good 19:34:00"
    assert (
        status_text(theirs, ZONE, now).plain
        == "nec: ok · last good 19:34:00 · collector wrote 19:34:02"
    )


async def test_the_viewer_line_and_r_say_the_collectors_record(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    db = tmp_path / "night.sqlite"
    c = await collected(feed_server, db)
    with open_store(db) as store:
        written = store.health()["nec"][1]
    store = open_store(db)
    app = NightdeskApp(c, poller=Follower(c, store), badge="VIEWER")  # type: ignore[arg-type]
    async with app.run_test(size=(160, 30)) as pilot:
        await app.ready.wait()
        await pilot.pause()
        line = status(app)
        assert "nec: ok · last good" in line
        assert f"· collector wrote {clock(written, ZONE, seconds=True)}" in line
        await pilot.press("r")
        await pilot.pause()
        assert "Reading the store now" in notes(app)
        assert "Polling every source now" not in notes(app)
        # A later record (a second on, so the clock differs) moves the time on the line.
        await asyncio.sleep(1.1)
        with open_store(db) as collector:
            collector.record_health("nec", '{"state": "ok", "last_success": null}')
            later = collector.health()["nec"][1]
        await until(lambda: f"collector wrote {clock(later, ZONE, seconds=True)}" in status(app))
    store.close()


async def test_the_monitor_line_and_r_are_unchanged(feed_server: FeedServer) -> None:
    c = cfg.parse(config_text(feed_server.url, interval=30))
    feed_server.set(body(10))
    app = NightdeskApp(c)
    async with app.run_test(size=(160, 30)) as pilot:
        await app.ready.wait()
        await until(lambda: "nec: ok · last good" in status(app))
        assert "collector" not in status(app)
        await pilot.press("r")
        await pilot.pause()
        assert "Polling every source now" in notes(app)
