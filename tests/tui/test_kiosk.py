"""Pilot tests of ``--kiosk``: big national digits, units on a timer (an injected clock),
updates as polls arrive, and the keys that would disturb a wall display ask first."""

from __future__ import annotations

import pytest
from textual.widgets import Digits, Static

from nightdesk.polling import Poller
from tests.conftest import FeedServer
from tests.tui import scenario
from tui import cli
from tui.app import NightdeskApp
from tui.confirm_screen import ConfirmScreen
from tui.kiosk_screen import KioskScreen, PartyRow, parties_that_fit, unit_rows


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def kiosk_app(url: str, clock: Clock) -> NightdeskApp:
    """The scenario's monitor (every clock frozen) with the big screen on top."""
    c = scenario.config(url)
    return NightdeskApp(
        c,
        poller=Poller(c, clock=lambda: scenario.NOW),
        poll=False,
        now=lambda: scenario.NOW,
        monotonic=clock,
        highlight_seconds=1e9,
        kiosk=True,
        kiosk_interval=8.0,
    )


def big_rows(screen: KioskScreen) -> list[tuple[str, str, str]]:
    """(name block, share digits, big digits) of each national row on screen."""
    rows = []
    for row in screen.query_one("#kiosk-parties").query_children(PartyRow):
        if row.display:
            who = str(row.query_one(".who", Static).render())
            share = row.query_one(".share", Digits).value
            rows.append((who.split("\n")[0], share, row.query_one(".big", Digits).value))
    return rows


def unit_title(screen: KioskScreen) -> str:
    return str(screen.query_one("#kiosk-unit-title", Static).render())


async def test_national_seats_in_big_digits(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = kiosk_app(feed_server.url, Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KioskScreen)
        assert screen.query_one("#kiosk-waiting").display  # nothing polled yet
        await scenario.poll(app)
        await pilot.pause()
        assert not screen.query_one("#kiosk-waiting").display
        # CNRP 535,000 of 1,010,300 votes; 6 + 0 + 4 seats; CPP 5 + 1 + 4.
        assert big_rows(screen) == [
            ("CNRP", "53.0%", "10"),
            ("CPP", "45.4%", "10"),
            ("FUNCINPEC", "1.6%", "0"),
        ]
        title = str(screen.query_one("#kiosk-title", Static).render())
        assert title == "National seats · majority 11 of 20 · 3 of 3 units with results"
        assert unit_title(screen) == "Kandal · 11 seats · 50% reporting · 1 of 3"


async def test_units_cycle_on_the_injected_clock(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    clock = Clock()
    app = kiosk_app(feed_server.url, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KioskScreen)
        seen = [screen.unit]
        for now in (7.9, 8.0, 15.9, 16.0, 24.0):
            clock.now = now
            screen.tick()
            seen.append(screen.unit)
        assert seen == ["Kandal", "Kandal", "Kep", "Kep", "Takeo", "Kandal"]
        await pilot.pause()
        assert unit_title(screen) == "Kandal · 11 seats · 50% reporting · 1 of 3"
        # The arrows step at once, and the unit stays its full interval from then.
        await pilot.press("left")
        assert screen.unit == "Takeo"
        clock.now = 31.9
        screen.tick()
        assert screen.unit == "Takeo"
        await pilot.press("right")
        assert screen.unit == "Kandal"


async def test_the_timer_moves_on_by_itself(feed_server: FeedServer) -> None:
    """The real timer calls ``tick``: with the clock past the interval, the unit changes."""
    feed_server.set(scenario.FIRST)
    clock = Clock()
    app = kiosk_app(feed_server.url, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        clock.now = 8.0
        await pilot.pause(1.2)  # the screen checks its clock every second
        assert app.screen.unit == "Kep"  # type: ignore[attr-defined]


async def test_updates_as_polls_arrive(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    clock = Clock()
    app = kiosk_app(feed_server.url, clock)
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KioskScreen)
        clock.now = 8.0
        screen.tick()
        assert screen.unit == "Kep"
        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.pause()
        assert screen.unit == "Kep"  # a poll does not move the cycle
        # CNRP 557,858 of 1,043,424 votes.
        assert big_rows(screen)[0] == ("CNRP", "53.5%", "10")
        assert big_rows(screen)[1] == ("CPP", "44.9%", "10")
        await pilot.press("left")
        assert screen.unit_view is not None
        assert screen.unit_view.unit == "Kandal"
        assert [(x.label, x.votes, x.seats) for x in screen.unit_view.lines] == [
            ("CNRP", 362_858, 6),
            ("CPP", 259_816, 5),
            ("FUNCINPEC", 9_000, 0),
        ]


async def test_q_asks_before_quitting(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = kiosk_app(feed_server.url, Clock())
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmScreen)
        assert str(app.screen.query_one("#question", Static).render()) == "Quit nightdesk?"
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, KioskScreen)
        assert app.is_running
        await pilot.press("q", "escape")  # Esc is no as well
        await pilot.pause()
        assert isinstance(app.screen, KioskScreen)
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.return_code == 0


async def test_p_asks_before_freezing(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = kiosk_app(feed_server.url, Clock())
    freezes: list[str] = []
    # The freeze itself is ``app.freeze`` (the keys' own test covers it): counted here.
    app.action_freeze = lambda: freezes.append("freeze")  # type: ignore[attr-defined]
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.pause()
        assert freezes == []
        assert isinstance(app.screen, KioskScreen)
        await pilot.press("p", "y")
        await pilot.pause()
        assert freezes == ["freeze"]
        assert isinstance(app.screen, KioskScreen)


async def test_tall_screens_show_the_unit_in_big_digits(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = kiosk_app(feed_server.url, Clock())
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, KioskScreen)
        assert not screen.query_one("#kiosk-unit-lines").display
        rows = [
            (row.query_one(".share", Digits).value, row.query_one(".big", Digits).value)
            for row in screen.query_one("#kiosk-unit-rows").query_children(PartyRow)
            if row.display
        ]
        assert rows == [("56.8%", "6"), ("41.7%", "5"), ("1.5%", "0")]  # Kandal


def test_what_fits() -> None:
    assert parties_that_fit(24) == 4
    assert parties_that_fit(48) == 8
    assert parties_that_fit(10) == 1
    assert unit_rows(24, 4) == (False, 3)  # a table: heading and three parties
    assert unit_rows(48, 8) == (True, 5)
    assert unit_rows(48, 3) == (True, 8)


def test_the_kiosk_options_parse() -> None:
    parser = cli._parser()
    args = parser.parse_args(["--kiosk", "-c", "x.toml"])
    assert args.kiosk and args.kiosk_interval == 8.0
    args = parser.parse_args(["demo", "--kiosk", "--kiosk-interval", "3.5"])
    assert args.kiosk and args.kiosk_interval == 3.5
    args = parser.parse_args(["--kiosk", "demo"])
    assert args.kiosk
    assert not parser.parse_args(["demo"]).kiosk
    with pytest.raises(SystemExit):
        parser.parse_args(["--kiosk-interval", "0"])
