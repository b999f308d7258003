"""``p``: freeze the view to read it. Polling and storing go on; the states that arrive are
held and counted in the header ("N updates waiting"); ``p`` again shows them all at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nightdesk.polling import SourceState
from tui.widgets.election_header import ElectionHeader

if TYPE_CHECKING:
    from tui.app import NightdeskApp


class Freeze:
    """The states held back while the view is frozen (the app asks it first in ``deliver``)."""

    def __init__(self, app: NightdeskApp) -> None:
        self.app = app
        #: The states that arrived while the view is frozen, in order; ``None``: live.
        self.held: list[SourceState] | None = None

    @property
    def waiting(self) -> int | None:
        """Polls with new results held back (``None``: the view is live)."""
        held = self.held
        return None if held is None else sum(1 for state in held if state.changed)

    def toggle(self) -> None:
        """``p``: freeze, or catch up and go live again."""
        if self.held is not None:
            self.catch_up()
            return
        if not self.app.ready.is_set():  # the stored night is still being put back
            self.app.notify("Still loading the night", timeout=2)
            return
        self.held = []
        self.mark()

    def hold(self, state: SourceState) -> bool:
        """While frozen, keep ``state`` for later and count it. Its status line still shows
        it: polls go on, and a desk must see a source failing even while it reads."""
        held = self.held
        if held is None:
            return False
        held.append(state)
        with self.app.batch_update():
            self.app.main.show_status(state)
            self.mark()
        return True

    def catch_up(self) -> None:
        """Show every held state in the order it came, in one frame: the change log, the
        changes pane and the highlights are as if each poll had been shown. Alerts saw each
        state when it arrived: not again."""
        app = self.app
        held, self.held = self.held or [], None
        with app.batch_update(), app.alerts_desk.quiet():
            for state in held:
                app.deliver(state)
            self.mark()

    def mark(self) -> None:
        """Every header on screen says whether the view is frozen, and what waits."""
        waiting = self.waiting
        for screen in self.app.screen_stack:
            for header in screen.query(ElectionHeader):
                header.set_frozen(waiting)
