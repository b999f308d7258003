"""SVG snapshots of every screen at 80×24 and 160×48 (clocks frozen, fades held).

Update after a deliberate change with ``pytest tests/tui --snapshot-update`` and look at
the pictures in ``tests/tui/__snapshots__`` before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.conftest import FeedServer
from tests.tui import scenario

SIZES = [(80, 24), (160, 48)]


def night(feed_server: FeedServer):  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        app = pilot.app
        for body in (scenario.FIRST, scenario.SECOND, scenario.THIRD):
            feed_server.set(body)
            await scenario.poll(app)  # type: ignore[arg-type]
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=size, run_before=night(feed_server)
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_province_screen(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        await night(feed_server)(pilot)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(scenario.app(feed_server.url), terminal_size=size, run_before=run)


def test_help_screen(snap_compare, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        await night(feed_server)(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(scenario.app(feed_server.url), terminal_size=(100, 40), run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_bubble_screen(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        await night(feed_server)(pilot)
        await pilot.press("v")
        await pilot.pause()

    assert snap_compare(scenario.app(feed_server.url), terminal_size=size, run_before=run)


KHMER = ["ភ្នំពេញ", "កណ្តាល", "Bắc Ninh", "Ñuñoa", "[bold]Kep[/]", "Siem Reap"]


def _table_night():  # type: ignore[no-untyped-def]
    import numpy as np

    from tests.tui.test_results_table import Clock, Night, TableApp

    clock = Clock()
    votes = np.arange(len(KHMER) * 3).reshape(-1, 3) * 1_000 + 5_000
    return TableApp(clock), clock, Night(votes, KHMER)


@pytest.mark.parametrize("faded", [False, True], ids=["highlighted", "faded"])
def test_results_table_highlight_and_fade(snap_compare, faded: bool) -> None:  # type: ignore[no-untyped-def]
    """Khmer, Vietnamese and Spanish names aligned; changed cells lit, then plain (▼ stays)."""
    from tui.widgets.results_table import ResultsTable

    app, clock, night = _table_night()

    async def run(pilot: Pilot) -> None:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        table.show(night.next({(0, 0): 1_234, (1, 2): -200, (4, 1): 7}))
        table.focus()
        await pilot.press("down", "down")
        if faded:
            clock.now += 10
            table._fade()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 12), run_before=run)


def test_levels_screen(snap_compare, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    """Down in a county: the path above the table, the county's precincts."""
    from tests.tui.test_levels_app import TREE, TREE_2, tree_config

    async def run(pilot: Pilot) -> None:
        for body in (TREE, TREE_2):
            feed_server.set(body)
            await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("enter", "down", "enter")
        await pilot.pause()

    app = scenario.app(feed_server.url, config_=tree_config(feed_server.url))
    assert snap_compare(app, terminal_size=(100, 24), run_before=run)
