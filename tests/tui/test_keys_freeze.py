"""``p`` freezes the view: polls and the store go on, the header counts what waits, ``p``
again shows it all at once (pilot tests against a real local feed and a real store)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_history_app import settle, stored_app
from tui.province_screen import ProvinceScreen
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.election_header import ElectionHeader
from tui.widgets.results_table import ResultsTable
from tui.widgets.status_bar import StatusBar


def header(screen) -> str:  # type: ignore[no-untyped-def]
    return " ".join(screen.query_one(ElectionHeader).lines_text)


def changes(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The pane's lines of vote changes (alerts have lines of their own)."""
    lines = app.main.query_one(ChangesPane).lines_text
    return [line for line in lines if " ▲ " in line or " ▼ " in line]


def cell(app, unit: str, column: str) -> str:  # type: ignore[no-untyped-def]
    return app.main.query_one(ResultsTable).cell_text(unit, column)


async def test_p_freezes_the_view_while_polling_and_storing_go_on(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    app = stored_app(feed_server.url, tmp_path / "n.sqlite")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        feed_server.set(scenario.FIRST)
        await scenario.poll(app)
        await pilot.pause()
        assert "FROZEN" not in header(app.main)
        await pilot.press("p")
        await pilot.pause()
        assert app.freeze_waiting == 0
        assert "FROZEN · 0 updates waiting · p: catch up" in header(app.main)

        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await settle(app)
        await pilot.pause()
        assert cell(app, "Kandal", "v:CPP") == "250,000"  # the view holds still
        assert changes(app) == []  # (alerts still say theirs: they fire while frozen)
        assert "FROZEN · 1 update waiting" in header(app.main)
        feed_server.set(scenario.THIRD)
        await scenario.poll(app)
        await settle(app)
        await pilot.pause()
        assert "FROZEN · 2 updates waiting" in header(app.main)
        assert cell(app, "Kandal", "v:CPP") == "250,000"
        # Polling and storing went on: both snapshots are in the store already.
        assert app.store is not None
        assert len(app.store.timeline("nec")) == 3
        # The status line is live: it is about the sources, and they were polled.
        assert "nec: ok" in " ".join(app.main.query_one(StatusBar).lines_text)

        await pilot.press("p")  # catch up: the latest at once
        await pilot.pause()
        assert "FROZEN" not in header(app.main)
        assert app.freeze_waiting is None
        assert cell(app, "Kandal", "v:CPP") == "▼ 259,586"  # THIRD's correction
        assert cell(app, "Kandal", "v:CNRP") == "▲ 363,255"
        lines = changes(app)
        # Every held poll is in the log, in order, as if each had been shown.
        assert [line.removeprefix("19:34:00 ") for line in lines] == [
            "▲ Kandal CNRP +22,858 CPP +9,816",
            "▲ Takeo FUNCINPEC +450",
            "▼ Kandal CPP -230 correction",
            "▲ Kandal CNRP +397",
        ]
        await settle(app)
    app.store.close()  # type: ignore[union-attr]


async def test_catching_up_does_not_raise_the_alerts_again(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("p")
        for body in (scenario.SECOND, scenario.THIRD):
            feed_server.set(body)
            await scenario.poll(app)
        await pilot.pause()
        said = app.alert_book.said
        assert said >= 1  # THIRD's correction: alerts fire while frozen
        await pilot.press("p")
        await pilot.pause()
        assert app.alert_book.said == said


async def test_a_frozen_province_screen_holds_and_catches_up(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("enter")  # Kandal
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvinceScreen)
        await pilot.press("p")  # the key works on every screen
        await pilot.pause()
        assert "FROZEN" in header(screen) and "FROZEN" in header(app.main)
        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.pause()
        assert "FROZEN · 1 update waiting" in header(screen)
        assert int(screen.result.snapshot.votes.loc["Kandal", "CPP"]) == 250_000
        await pilot.press("p")
        await pilot.pause()
        assert "FROZEN" not in header(screen)
        assert int(screen.result.snapshot.votes.loc["Kandal", "CPP"]) == 259_816
        assert app.screen is screen


async def test_a_screen_opened_while_frozen_says_so(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("p", "v")
        await pilot.pause()
        assert "FROZEN · 0 updates waiting" in header(app.screen)


async def test_sort_and_filter_work_on_the_frozen_view(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("p", "slash", *"e", "enter", "s", "S")
        await pilot.pause()
        table = app.main.query_one(ResultsTable)
        assert table.rows == ["Takeo", "Kep"]  # names with an e, Z–A
        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.press("p")
        await pilot.pause()
        assert table.rows == ["Takeo", "Kep"]
        assert cell(app, "Takeo", "v:CPP") == "200,000"
        assert "FROZEN" not in header(app.main)


async def test_keys_typed_into_the_filter_are_text_not_commands(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("slash", *"pqs?")
        await pilot.pause()
        assert app.is_running and app.freeze_waiting is None
        assert app.screen is app.main
        assert app.main.query_one(ResultsTable).sorted_by is None
