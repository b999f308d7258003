"""The top line: election name, DEMO — simulated when it is, the time in the election's zone.

HH:MM only: a ticking seconds display would cost a frame a second over SSH. The clock is
checked every few seconds but written only when the minute changes, and then (a ``LinePane``)
only the digits that changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from rich.text import Text

from tui.formatting import clock
from tui.widgets.line_pane import LinePane
from tui.widgets.plain import printable


class ElectionHeader(LinePane):
    DEFAULT_CSS = """
    ElectionHeader { height: 1; width: 100%; background: $primary; color: $text; padding: 0 1; }
    """

    def __init__(
        self,
        name: str,
        *,
        zone: tzinfo,
        simulated: bool,
        now: Callable[[], datetime],
        badge: str | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.badge = badge
        self.election = name
        self.zone = zone
        self.simulated = simulated
        self._now = now
        self._shown = ""
        self._note = ""
        self._test = False

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(5, self.tick)

    def set_note(self, note: str) -> None:
        """A word on what the screen shows, after the clock (e.g. "change since baseline")."""
        if note != self._note:
            self._note = note
            self._shown = ""
            self.tick()

    def set_test(self, test: bool) -> None:
        """Mark the results on screen as the feed's test data (AP's ``test: true``)."""
        if test != self._test:
            self._test = test
            self._shown = ""
            self.tick()

    def tick(self) -> None:
        time = clock(self._now(), self.zone)
        if time == self._shown:
            return
        self._shown = time
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("nightdesk ", style="bold")
        text.append(printable(self.election))
        if self.simulated:
            text.append("  DEMO — simulated ", style="bold reverse")
        if self.badge:
            text.append(f"  {self.badge} ", style="bold reverse")
        if self._test:
            text.append("  TEST DATA ", style="bold reverse")
        text.append(f"  {time} {getattr(self.zone, 'key', '')}")
        if self._note:
            text.append(f"  {self._note}", style="bold reverse")
        self.set_lines([text])
