"""Alerts in the monitor: a toast, a line in the changes pane, a row of the alerts log (``a``),
the bell when asked; and a restored night that does not say its old alerts again."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import DataTable

from nightdesk import config as cfg
from nightdesk.store import HistoryStore
from tests.conftest import FeedServer
from tests.tui import scenario
from tui.alerts_screen import AlertsScreen
from tui.app import NightdeskApp
from tui.main_screen import MainScreen
from tui.province_screen import ProvinceScreen
from tui.widgets.changes_pane import ChangesPane

MARGIN_TEXT = "Kandal: close last seat: CNRP needs 885 votes to take it from CPP (under 1,000)"
CORRECTION_TEXT = "Kandal: correction: CPP 259,816 → 259,586 (-230)"
FLIP = scenario.feed(
    {"Kandal": (259_586, 363_600, 9_000), "Kep": (9_000, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_450)}
)  # fmt: skip


def with_alerts(url: str, table: str) -> cfg.Config:
    """The scenario's config with an ``[alerts]`` table."""
    return cfg.parse(scenario.toml(url) + "\n[alerts]\n" + table)


async def poll(app: NightdeskApp, feed_server: FeedServer, body: str) -> None:
    feed_server.set(body)
    await scenario.poll(app)


def table_rows(screen: AlertsScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [
        [str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)
    ]


async def test_an_alert_is_a_toast_a_pane_line_and_a_row_of_the_log(
    feed_server: FeedServer,
) -> None:
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await poll(app, feed_server, scenario.FIRST)
        await pilot.pause()
        assert list(app.alert_book.log) == []  # the first poll is the starting point
        assert list(app._notifications) == []

        await poll(app, feed_server, scenario.SECOND)
        await pilot.pause()
        toasts = [(n.title, n.message, n.severity) for n in app._notifications]
        assert toasts == [("Alert · nec", MARGIN_TEXT, "warning")]
        lines = app.main.query_one(ChangesPane).lines_text
        assert [line for line in lines if " ! " in line] == [f"19:34:00 ! {MARGIN_TEXT}"]
        assert lines[-1] == f"19:34:00 ! {MARGIN_TEXT}"  # after the counts that caused it

        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        assert table_rows(app.screen) == [
            [
                "19:34:00",
                "nec",
                "Kandal",
                "close last seat: CNRP needs 885 votes to take it from CPP (under 1,000)",
            ]
        ]
        # Live while open: the correction lands on top.
        await poll(app, feed_server, scenario.THIRD)
        await pilot.pause()
        rows = table_rows(app.screen)
        assert [r[3] for r in rows] == [
            "correction: CPP 259,816 → 259,586 (-230)",
            MARGIN_TEXT.removeprefix("Kandal: "),
        ]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        lines = app.main.query_one(ChangesPane).lines_text
        assert [line for line in lines if " ! " in line] == [
            f"19:34:00 ! {MARGIN_TEXT}",
            f"19:34:00 ! {CORRECTION_TEXT}",
        ]
        assert app.alert_bells == 0  # the bell is off unless asked


async def test_enter_on_an_alert_opens_its_unit(feed_server: FeedServer) -> None:
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        for body in (scenario.FIRST, scenario.SECOND):
            await poll(app, feed_server, body)
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProvinceScreen) and app.screen.unit == "Kandal"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)


async def test_the_bell_rings_once_per_poll_when_asked(feed_server: FeedServer) -> None:
    c = with_alerts(feed_server.url, "bell = true\n")
    app = scenario.app(feed_server.url, config_=c)
    async with app.run_test(size=(120, 40)) as pilot:
        for body in (scenario.FIRST, scenario.SECOND, scenario.SECOND, scenario.THIRD):
            await poll(app, feed_server, body)
            await pilot.pause()
        assert app.alert_bells == 2  # the margin, then the correction; nothing for the repeat


async def test_many_alerts_at_once_are_one_toast_with_a_count(feed_server: FeedServer) -> None:
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await poll(app, feed_server, scenario.FIRST)
        all_in = scenario.SECOND.replace(",0.5\n", ",1.0\n")  # and every province at 100%
        await poll(app, feed_server, all_in)
        await pilot.pause()
        assert len(app.alert_book.log) == 4
        toasts = [(n.title, n.message) for n in app._notifications]
        more = "+2 more (a: the alerts log)"
        assert toasts == [("4 alerts · nec", f"{MARGIN_TEXT}\nKandal: 100% reporting\n{more}")]
        lines = app.main.query_one(ChangesPane).lines_text
        assert len([line for line in lines if " ! " in line]) == 4  # the pane has every one


async def test_a_failing_source_is_said_without_any_results(closed_port: int) -> None:
    app = scenario.app(f"http://127.0.0.1:{closed_port}")
    async with app.run_test(size=(120, 40)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        assert [(a.rule, a.name) for a in app.alert_book.log] == [("failing", "nec")]
        lines = app.main.query_one(ChangesPane).lines_text
        assert any(" ! nec: failing: " in line for line in lines)
        await scenario.poll(app)  # still failing: said once
        await pilot.pause()
        assert len(app.alert_book.log) == 1


async def test_a_restored_night_does_not_say_its_alerts_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    path = tmp_path / "night.sqlite"
    store = HistoryStore.open(path)
    store.remember_settings(f"# test config for {feed_server.url}\n", None)
    app = scenario.app(feed_server.url, store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.ready.wait()
        for n, body in enumerate((scenario.FIRST, scenario.SECOND, scenario.THIRD)):
            feed_server.set(body, ETag=f'"{n}"')
            await scenario.poll(app)
        await _settle(app)
        await pilot.pause()
        assert [a.rule for a in app.alert_book.log] == ["margin", "correction"]
    store.close()

    store = HistoryStore.open(path)
    app = scenario.app(feed_server.url, store=store)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await app.ready.wait()
        await pilot.pause()
        assert app.result is not None  # the night is back on screen …
        assert list(app.alert_book.log) == []  # … and its alerts are not said again
        assert not [n for n in app._notifications if n.title.startswith("Alert")]
        # The first poll after the restart: the same feed (a 304) says nothing …
        await scenario.poll(app)
        await pilot.pause()
        assert list(app.alert_book.log) == []
        # … and a change since the restart is said.
        feed_server.set(FLIP, ETag='"4"')
        await scenario.poll(app)
        await _settle(app)
        await pilot.pause()
        assert [(a.rule, a.name) for a in app.alert_book.log] == [
            ("seat_change", "Kandal"),
            ("seat_change", "National"),
        ]
    store.close()


async def test_the_key_is_a_binding_with_help(feed_server: FeedServer) -> None:
    app = scenario.app(feed_server.url)
    binding = next(b for b in NightdeskApp.BINDINGS if getattr(b, "id", None) == "app.alerts")
    assert (binding.key, binding.action, binding.description) == ("a", "alerts", "Alerts")  # type: ignore[union-attr]
    assert binding.tooltip  # type: ignore[union-attr]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("a")  # no results yet: the log says so
        await pilot.pause()
        assert isinstance(app.screen, AlertsScreen)
        assert app.screen.query_one("#alerts-empty").display
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        from textual.widgets import Markdown

        text = app.screen.query_one(Markdown).source
        assert "## Alerts log" in text and "| `a` | Alerts |" in text


async def _settle(app: NightdeskApp) -> None:
    for _ in range(50):
        await asyncio.sleep(0.02)
        if not app.poller._writes and not app.workers:
            break
