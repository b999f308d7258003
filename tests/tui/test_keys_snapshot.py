"""SVG snapshots of the main screen filtered (``/``), sorted (``s``, ``S``) and frozen (``p``),
at 80×24 and 160×48, and all three at once with NO_COLOR (clocks frozen; toasts cleared
before the picture: alerts fire on these nights and their toasts expire on the wall clock)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_keys_filter_sort import accented_feed

SIZES = [(80, 24), (160, 48)]
Run = Callable[[Pilot], Awaitable[None]]


async def settle(pilot: Pilot) -> None:
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


def filtered(feed_server: FeedServer) -> Run:
    """24 units with accented names; "kep" typed: Kép and KEP Nord, the cursor on the table."""

    async def run(pilot: Pilot) -> None:
        for body in (accented_feed(), accented_feed(cpp_kep=9_500)):
            feed_server.set(body)
            await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("slash", *"kep", "enter")
        await settle(pilot)

    return run


def sorted_(feed_server: FeedServer) -> Run:
    """The scenario's night sorted by the first party's votes, smallest first (▲)."""

    async def run(pilot: Pilot) -> None:
        for body in (scenario.FIRST, scenario.SECOND, scenario.THIRD):
            feed_server.set(body)
            await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("s", "s", "s", "S")
        await settle(pilot)

    return run


def frozen(feed_server: FeedServer) -> Run:
    """Frozen after the first poll; two polls wait (the table still shows the first)."""

    async def run(pilot: Pilot) -> None:
        feed_server.set(scenario.FIRST)
        await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("p")
        for body in (scenario.SECOND, scenario.THIRD):
            feed_server.set(body)
            await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await settle(pilot)

    return run


def all_three(feed_server: FeedServer) -> Run:
    async def run(pilot: Pilot) -> None:
        feed_server.set(accented_feed())
        await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await pilot.pause()
        await pilot.press("slash", *"k", "enter", "s", "s", "s", "p")
        feed_server.set(accented_feed(cpp_kep=99_000))
        await scenario.poll(pilot.app)  # type: ignore[arg-type]
        await settle(pilot)

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_filtered(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=size, run_before=filtered(feed_server)
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_sorted(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=size, run_before=sorted_(feed_server)
    )


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_frozen(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=size, run_before=frozen(feed_server)
    )


def test_main_screen_filtered_sorted_frozen_no_color(
    snap_compare,  # type: ignore[no-untyped-def]
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # read when the app is made
    assert snap_compare(
        scenario.app(feed_server.url), terminal_size=(80, 24), run_before=all_three(feed_server)
    )
