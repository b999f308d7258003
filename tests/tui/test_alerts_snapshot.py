"""SVG snapshots of the alerts log (``a``) at 80×24, 160×48 and with NO_COLOR (clocks
frozen; toasts cleared before the picture: they expire on the wall clock)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_alerts_app import FLIP

SIZES = [(80, 24), (160, 48)]


def night(feed_server: FeedServer):  # type: ignore[no-untyped-def]
    """A margin, a correction, a seat changing hands (and the national seats), then `a`."""

    async def run(pilot: Pilot) -> None:
        app = pilot.app
        for body in (scenario.FIRST, scenario.SECOND, scenario.THIRD, FLIP):
            feed_server.set(body)
            await scenario.poll(app)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        app.clear_notifications()
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_alerts_screen(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=size, run_before=night(feed_server)
    )


def test_alerts_screen_no_color(
    snap_compare,  # type: ignore[no-untyped-def]
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=(80, 24), run_before=night(feed_server)
    )
