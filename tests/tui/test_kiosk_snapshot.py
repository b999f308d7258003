"""SVG snapshots of the big screen at 80×24 and 160×48, and at 80×24 with NO_COLOR.

Update after a deliberate change with
``pytest tests/tui/test_kiosk_snapshot.py --snapshot-update`` and look at the pictures.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_kiosk import Clock, kiosk_app


def night(feed_server: FeedServer, clock: Clock):  # type: ignore[no-untyped-def]
    """Two polls, then the second unit (Kep) on screen."""

    async def run(pilot: Pilot) -> None:
        for body in (scenario.FIRST, scenario.SECOND):
            feed_server.set(body)
            await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()  # the app takes each poll's message
        clock.now = 8.0
        pilot.app.screen.tick()  # type: ignore[attr-defined]
        # The alerts' toasts are the alerts' pictures: this one shows the big screen alone.
        pilot.app.clear_notifications()
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_kiosk_screen(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    app = kiosk_app(feed_server.url, clock)
    assert snap_compare(app, terminal_size=size, run_before=night(feed_server, clock))


def test_kiosk_screen_no_color(snap_compare, feed_server: FeedServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made
    clock = Clock()
    app = kiosk_app(feed_server.url, clock)
    assert app.no_color
    assert snap_compare(app, terminal_size=(80, 24), run_before=night(feed_server, clock))


def test_kiosk_confirmation(snap_compare, feed_server: FeedServer) -> None:  # type: ignore[no-untyped-def]
    """``q`` on the big screen: the question in a small box over the display."""
    clock = Clock()
    app = kiosk_app(feed_server.url, clock)

    async def run(pilot: Pilot) -> None:
        await night(feed_server, clock)(pilot)
        await pilot.press("q")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
