"""The top line: election name, DEMO — simulated when it is, the time in the election's zone,
and FROZEN with the updates waiting while ``p`` holds the view.

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
        self._waiting: int | None = None

    def on_mount(self) -> None:
        # A screen opened while the view is frozen says so from its first frame.
        waiting = getattr(self.app, "freeze_waiting", None)
        if isinstance(waiting, int):
            self._waiting = waiting
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

    def set_frozen(self, waiting: int | None) -> None:
        """``FROZEN · N updates waiting`` (``None``: the view is live)."""
        if waiting != self._waiting:
            self._waiting = waiting
            self._shown = ""
            self.tick()

    @property
    def frozen_text(self) -> str:
        """What the header says about the freeze ("" when live)."""
        n = self._waiting
        if n is None:
            return ""
        updates = "1 update" if n == 1 else f"{n:,} updates"
        return f" FROZEN · {updates} waiting · p: catch up "

    def tick(self) -> None:
        time = clock(self._now(), self.zone)
        if time == self._shown:
            return
        self._shown = time
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("nightdesk ", style="bold")
        if self._waiting is not None:  # first: a narrow screen cuts the end of the line
            text.append(self.frozen_text, style="bold reverse")
            text.append(" ")
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
