"""The monitor with a history store: restart, baseline, change since baseline, replay."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from textual.widgets import DataTable

from nightdesk.replay import Replayer
from nightdesk.store import HistoryStore
from tests.conftest import FeedServer
from tests.tui import scenario
from tui.app import NightdeskApp
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.election_header import ElectionHeader
from tui.widgets.party_pane import PartyPane
from tui.widgets.results_table import ResultsTable

COLUMNS = ("name", "v:CPP", "v:CNRP", "v:FUNCINPEC", "seats", "change")
UNITS = ("Kandal", "Kep", "Takeo")


def stored_app(url: str, path: Path) -> NightdeskApp:
    """The scenario's app (frozen clocks, no timed polls) keeping its night in ``path``."""
    store = HistoryStore.open(path)
    store.remember_settings(f"# test config for {url}\n", None)
    return scenario.app(url, store=store)


def screen_text(app: NightdeskApp) -> dict[str, object]:
    """What a desk reads on the main screen (text, not styles; without the highlight
    arrows, which mark the last few seconds' changes and fade)."""
    table = app.main.query_one(ResultsTable)
    return {
        "cells": {
            (u, c): table.cell_text(u, c).removeprefix("▲ ").removeprefix("▼ ")
            for u in UNITS
            for c in COLUMNS
            if c != "change"
        }
        | {(u, "change"): table.cell_text(u, "change") for u in UNITS},
        "parties": app.main.query_one(PartyPane).lines_text,
        # Alerts are not stored: after a restart the counts and findings come back.
        "changes": scenario.count_lines(app),
        "header": app.main.query_one(ElectionHeader).lines_text,
    }


async def settle(app: NightdeskApp) -> None:
    """Let the store's writer thread and the app's messages finish."""
    for _ in range(50):
        await asyncio.sleep(0.02)
        if not app.poller._writes and not app.workers:  # type: ignore[attr-defined]
            break


async def test_restart_shows_the_same_screen_history_and_baseline(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    path = tmp_path / "night.sqlite"
    app = stored_app(feed_server.url, path)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        feed_server.set(scenario.FIRST, ETag='"1"')
        await scenario.poll(app)
        feed_server.set(scenario.SECOND, ETag='"2"')
        await scenario.poll(app)
        await pilot.press("b")  # baseline: the second snapshot
        feed_server.set(scenario.THIRD, ETag='"3"')
        await scenario.poll(app)
        await pilot.press("d")  # change since the baseline
        await settle(app)
        await pilot.pause()
        assert app.since == "baseline"
        before = screen_text(app)
        assert any("Δ since baseline" in line for line in before["header"])  # type: ignore[union-attr]
        # Kandal CPP: 259,816 at the baseline → 259,586 now; CNRP +397.
        assert app.main.query_one(ResultsTable).cell_text("Kandal", "change") == "▲ +167 !"
    app.store.close()  # type: ignore[union-attr]
    requests = len(feed_server.requests)

    again = stored_app(feed_server.url, path)
    async with again.run_test(size=(160, 48)) as pilot:
        await again.ready.wait()
        await pilot.pause()
        after = screen_text(again)
        for key in before:
            assert after[key] == before[key], key
        assert again.since == "baseline"
        # The first poll after the restart asks with the stored ETag: a 304, nothing new.
        await scenario.poll(again)
        await settle(again)
        assert feed_server.requests[requests].get("if-none-match") == '"3"'
        assert again.poller.states["nec"].changed is False
        assert again.store.timeline()[-1].seq == 3  # type: ignore[union-attr]
    again.store.close()  # type: ignore[union-attr]


async def test_baseline_toggle_needs_a_baseline_and_comes_back(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    app = stored_app(feed_server.url, tmp_path / "n.sqlite")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        feed_server.set(scenario.FIRST)
        await scenario.poll(app)
        await pilot.press("d")
        assert app.since == "poll"  # no baseline yet: said, not toggled
        await pilot.press("b")
        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.press("d")
        await pilot.pause()
        table = app.main.query_one(ResultsTable)
        assert table.cell_text("Kandal", "change") == "▲ +32,674"
        await pilot.press("d")
        await pilot.pause()
        assert app.since == "poll"
        assert table.cell_text("Kandal", "change") == "▲ +32,674"  # one poll since: the same
        feed_server.set(scenario.THIRD)
        await scenario.poll(app)
        await pilot.pause()
        assert table.cell_text("Kandal", "change") == "▲ +167 !"
        await settle(app)
    app.store.close()  # type: ignore[union-attr]


async def test_replay_plays_the_stored_night_through_the_same_screens(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    path = tmp_path / "night.sqlite"
    app = stored_app(feed_server.url, path)
    async with app.run_test(size=(160, 48)):
        await app.ready.wait()
        for body in (scenario.FIRST, scenario.SECOND, scenario.THIRD):
            feed_server.set(body)
            await scenario.poll(app)
        await settle(app)
    app.store.close()  # type: ignore[union-attr]

    with HistoryStore.open(path) as store:
        c = scenario.config(feed_server.url)
        replayer = Replayer(c, store, speed=1e6)
        replay = NightdeskApp(c, poller=replayer, now=replayer.now, badge="REPLAY")
        async with replay.run_test(size=(160, 48)) as pilot:
            await asyncio.wait_for(replayer.finished.wait(), 10)
            await pilot.pause()
            assert replayer.played == 3
            table = replay.main.query_one(ResultsTable)
            assert table.cell_text("Kandal", "v:CPP") == "▼ 259,586"
            header = replay.main.query_one(ElectionHeader).lines_text
            assert "REPLAY" in header[0]
            lines = replay.main.query_one(ChangesPane).lines_text
            assert any("▼ Kandal CPP -230 correction" in line for line in lines)
        assert len(store.timeline()) == 3  # a replay adds nothing


async def test_a_baseline_marked_before_its_snapshot_is_committed_is_kept_by_its_id(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    app = stored_app(feed_server.url, tmp_path / "n.sqlite")
    store = app.store
    assert store is not None
    gate = threading.Event()
    record = store.record

    def slow_record(*args, **kwargs):  # type: ignore[no-untyped-def]
        gate.wait(10)  # the write is still running when the desk presses b
        return record(*args, **kwargs)

    store.record = slow_record  # type: ignore[method-assign]
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        feed_server.set(scenario.FIRST)
        polling = asyncio.ensure_future(scenario.poll(app))
        while app.result is None:  # shown before it is stored
            await asyncio.sleep(0.01)
        await pilot.press("b")
        await pilot.pause()
        assert store.baseline("nec") is None and not store.timeline()
        gate.set()
        await polling
        await settle(app)
        await pilot.pause()
        await settle(app)
        [entry] = store.timeline()
        assert store.baseline("nec") == entry.id
    store.close()


async def test_an_older_copy_is_said_in_the_changes_pane_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    app = stored_app(feed_server.url, tmp_path / "n.sqlite")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        feed_server.set(scenario.SECOND, Last_Modified="Sun, 28 Jul 2013 12:05:00 GMT")
        await scenario.poll(app)
        feed_server.set(scenario.FIRST, Last_Modified="Sun, 28 Jul 2013 12:00:00 GMT")
        await scenario.poll(app)
        await scenario.poll(app)  # still the older copy: said once, not twice
        await pilot.pause()
        lines = app.main.query_one(ChangesPane).lines_text
        older = [line for line in lines if "older copy served" in line]
        assert len(older) == 1 and older[0].startswith("19:34:00 ⚠ nec older copy served")
        assert not any("correction" in line for line in lines)  # no flood of false ones
        assert app.main.query_one(ResultsTable).cell_text("Kandal", "v:CPP") == "259,816"
        await settle(app)
    app.store.close()  # type: ignore[union-attr]


async def test_the_open_province_screen_shows_the_new_stored_change(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    from tui.province_screen import ProvinceScreen

    app = stored_app(feed_server.url, tmp_path / "n.sqlite")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        feed_server.set(scenario.FIRST)
        await scenario.poll(app)
        await pilot.press("enter")  # Kandal
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvinceScreen) and screen.history is not None
        history = screen.history
        for _ in range(100):
            if history.loads >= 1 and not app.workers:
                break
            await asyncio.sleep(0.02)
        loads = history.loads
        feed_server.set(scenario.SECOND)  # Kandal CPP and CNRP move
        await scenario.poll(app)  # returns once stored; the app is then told
        for _ in range(100):
            await asyncio.sleep(0.02)
            if history.loads > loads and not app.workers:
                break
        await pilot.pause()
        assert history.loads == loads + 1  # read again after the write, not before
        table = history.query_one(DataTable)
        items = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        assert sorted(items) == ["CNRP", "CPP"]
    app.store.close()  # type: ignore[union-attr]
