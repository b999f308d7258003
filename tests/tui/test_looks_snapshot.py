"""SVG snapshots of the screens in the colour modes a desk meets: NO_COLOR, 16 colours
(``TEXTUAL_COLOR_SYSTEM=standard``) and Textual's ansi themes; and the sizes
test_screens_snapshot.py does not cover (the help screen at 80×24 and 160×48).

Every screen must read without colour: ▲/▼ and the words carry the meaning, bars are blocks.

Textual reads NO_COLOR when the app is made (``App.__init__``: a Monochrome filter), so the
environment is set before. ``TEXTUAL_COLOR_SYSTEM`` is read when ``textual.constants`` is
imported and only changes what is sent to the terminal, not the SVG (always truecolour): the
16-colour test sets the constant and draws the screen through a filter that maps every colour
to the nearest of the 16, as a 16-colour terminal would show it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import lru_cache
from pathlib import Path

import pytest
from rich.color import Color as RichColor
from rich.color import ColorSystem
from rich.segment import Segment
from rich.style import Style
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from textual import constants
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter
from textual.pilot import Pilot

from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui import stored_night as sn
from tests.tui.test_screens_snapshot import night
from tests.tui.test_timeline_screen import TimelineApp, loaded

SIZES = [(80, 24), (160, 48)]
Run = Callable[[Pilot], Awaitable[None]]


def pressing(feed_server: FeedServer, *keys: str) -> Run:
    """The scenario's night, then these keys."""

    async def run(pilot: Pilot) -> None:
        await night(feed_server)(pilot)
        if keys:
            await pilot.press(*keys)
            await pilot.pause()

    return run


SCREENS = {"main": (), "province": ("enter",), "bubble": ("v",), "help": ("question_mark",)}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_help_screen_sizes(snap_compare, feed_server: FeedServer, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = scenario.app(feed_server.url)
    run = pressing(feed_server, "question_mark")
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_no_color(snap_compare, feed_server: FeedServer, monkeypatch, screen: str) -> None:  # type: ignore[no-untyped-def]
    """Each screen at 80×24 with NO_COLOR: greys only, every change still marked."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = scenario.app(feed_server.url)
    assert app.no_color
    run = pressing(feed_server, *SCREENS[screen])
    assert snap_compare(app, terminal_size=(80, 24), run_before=run)


def test_no_color_main_wide(snap_compare, feed_server: FeedServer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_COLOR", "1")
    app = scenario.app(feed_server.url)
    assert snap_compare(app, terminal_size=(160, 48), run_before=pressing(feed_server))


def test_no_color_timeline(snap_compare, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NO_COLOR", "1")
    store, ids = sn.night(tmp_path / "night.sqlite")
    store.set_baseline(sn.SOURCE, "na", ids[1])

    async def run(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("up")
        await pilot.pause()

    try:
        app = TimelineApp(store)
        assert app.no_color
        assert snap_compare(app, terminal_size=(80, 24), run_before=run)
    finally:
        store.close()


@lru_cache(256)
def _standard(color: RichColor) -> RichColor:
    if color.is_default:
        return color
    ansi = color.downgrade(ColorSystem.STANDARD)
    return RichColor.from_triplet(ansi.get_truecolor(DEFAULT_TERMINAL_THEME))


@lru_cache(1024)
def _standard_style(style: Style) -> Style:
    color = _standard(style.color) if style.color else None
    bgcolor = _standard(style.bgcolor) if style.bgcolor else None
    return style + Style(color=color, bgcolor=bgcolor)


class SixteenColours(LineFilter):
    """Every colour as the nearest of the 16 standard ones, drawn in a terminal's palette."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            Segment(text, _standard_style(style) if style else style, control)
            for text, style, control in segments
        ]


def sixteen_colours(app: App[object]) -> None:
    """Draw ``app`` as a 16-colour terminal shows it (after Textual's own filters)."""
    filters = app.get_line_filters
    sixteen = SixteenColours()
    app.get_line_filters = lambda: [*filters(), sixteen]  # type: ignore[method-assign]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_sixteen_colours(snap_compare, feed_server: FeedServer, monkeypatch, size) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(constants, "COLOR_SYSTEM", "standard")
    app = scenario.app(feed_server.url)
    assert app.console.color_system == "standard"
    sixteen_colours(app)
    assert snap_compare(app, terminal_size=size, run_before=pressing(feed_server))


@pytest.mark.parametrize("theme", ["ansi-dark", "ansi-light"])
def test_ansi_themes(snap_compare, feed_server: FeedServer, theme: str) -> None:  # type: ignore[no-untyped-def]
    """Textual's ansi themes (Textual 8 names them ansi-dark and ansi-light): the terminal's
    own 16 colours for the chrome; the party bars keep theirs."""
    app = scenario.app(feed_server.url)

    async def run(pilot: Pilot) -> None:
        pilot.app.theme = theme
        await pressing(feed_server)(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run)
