"""The monitor's keys as a desk uses them: ``r``, ``t``, ``q``, and every key in the Footer,
the ``?`` screen and the command palette (``b``, Enter and Esc have theirs in
test_history_app.py, test_monitor.py and test_levels_app.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.command import CommandPalette
from textual.widgets._footer import FooterKey

from nightdesk.polling import Poller
from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_history_app import settle, stored_app
from tui.app import NightdeskApp
from tui.help_screen import HelpScreen
from tui.main_screen import MainScreen
from tui.timeline_screen import TimelineScreen
from tui.widgets.results_table import ResultsTable

#: The keys of issue 8 this helper owns, as the Footer and the palette name them.
NEW_KEYS = {"/": "Filter", "s": "Sort", "p": "Freeze"}


def polling_app(url: str) -> NightdeskApp:
    """The scenario's app with its poller running (interval 3600 s: only ``r`` polls again)."""
    c = scenario.config(url)
    return NightdeskApp(
        c,
        poller=Poller(c, clock=lambda: scenario.NOW),
        now=lambda: scenario.NOW,
        monotonic=lambda: 0.0,
        highlight_seconds=1e9,
    )


async def wait_for(condition, seconds: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_r_polls_every_source_now(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = polling_app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        await wait_for(lambda: app.result is not None)
        assert len(feed_server.requests) == 1  # the first poll; the next is an hour away
        feed_server.set(scenario.SECOND)
        await pilot.press("r")
        await wait_for(lambda: len(feed_server.requests) == 2)
        await wait_for(lambda: app.result is not None and app.result.previous is not None)
        await pilot.pause()
        table = app.main.query_one(ResultsTable)
        assert table.cell_text("Kandal", "v:CPP") == "▲ 259,816"


async def test_t_opens_the_timeline_and_esc_closes_it(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    app = stored_app(feed_server.url, tmp_path / "n.sqlite")
    async with app.run_test(size=(160, 48)) as pilot:
        await app.ready.wait()
        for body in (scenario.FIRST, scenario.SECOND):
            feed_server.set(body)
            await scenario.poll(app)
        await settle(app)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen)
        await app.workers.wait_for_complete()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        await settle(app)
    app.store.close()  # type: ignore[union-attr]


async def test_t_without_a_store_says_it_needs_one(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert any("timeline needs one" in str(n.message) for n in app._notifications)


async def test_q_quits(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert app._exit  # type: ignore[attr-defined]


async def test_the_footer_shows_the_new_keys(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        shown = {key.key_display: key.description for key in app.main.query(FooterKey)}
        for key, description in NEW_KEYS.items():
            assert shown.get(key) == description, (key, shown)
        tips = {key.key_display: key.tooltip for key in app.main.query(FooterKey)}
        assert "updates waiting" in str(tips["p"])


async def test_help_lists_the_new_keys(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.markdown
        rows = [
            "| `/` | Filter |",
            "| `s` | Sort |",
            "| `S` | Reverse sort |",
            "| `o` | Feed order |",
        ]
        rows += ["| `p` | Freeze |", "| `Esc` | Clear filter |"]
        for row in rows:
            assert row in text, row


async def test_the_palette_lists_the_keys_and_runs_them(feed_server: FeedServer) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        palette = app.screen
        await pilot.press(*"freeze")
        await asyncio.sleep(0.4)  # the palette gathers hits in a worker
        await pilot.pause()
        options = palette.query_one("CommandList")
        texts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Freeze (p)" in t for t in texts), texts
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is app.main
        assert app.freeze_waiting == 0  # the palette ran the same action as the key

        # The table's keys too, run on the table: sort by the next column.
        await pilot.press("ctrl+p", *"sort (s)")
        await asyncio.sleep(0.4)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.main.query_one(ResultsTable).sorted_by == "name"


async def test_the_palette_lists_every_footer_key_with_its_tooltip(
    feed_server: FeedServer,
) -> None:
    from tui.key_commands import KeyCommands

    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        provider = KeyCommands(app.main)
        listed = {title: help_text for title, help_text, _ in provider._commands()}
        for key, description in NEW_KEYS.items():
            assert f"{description} ({key})" in listed, listed
        assert "Reverse sort (S)" in listed and "Feed order (o)" in listed
        assert all(help_text for help_text in listed.values())
        assert not any(title.startswith("Down") for title in listed)  # cursor keys are not
