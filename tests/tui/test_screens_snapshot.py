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
