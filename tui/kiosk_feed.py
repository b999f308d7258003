"""``--kiosk``: the big screen (tui/kiosk_screen.py) on top of the monitor, following every
result the monitor shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nightdesk.results import RaceResult

if TYPE_CHECKING:
    from textual.screen import Screen

    from tui.app import NightdeskApp


class KioskFeed:
    """Opens the big screen and keeps it showing the watched result."""

    def __init__(self, app: NightdeskApp, *, clock: Callable[[], float], interval: float) -> None:
        self.app = app
        self._clock = clock
        self._interval = interval

    def screen(self) -> Screen[None]:
        from tui.kiosk_screen import KioskScreen

        return KioskScreen(self.app.header(), clock=self._clock, interval=self._interval)

    def show(self, result: RaceResult) -> None:
        """The big screen, when open, follows every result the monitor shows."""
        from tui.kiosk_screen import KioskScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.show(result)
