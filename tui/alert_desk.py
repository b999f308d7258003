"""The night's alerts on screen: each state goes through the alert book, and what it raises is
said once — a toast, a line in the changes pane, a row of the alerts log (``a``), the bell if
asked. The rules are nightdesk/alerts.py's; the log screen is tui/alerts_screen.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from textual.notifications import SeverityLevel

from nightdesk.alerts import Alert, AlertBook
from nightdesk.changelog import Change
from nightdesk.polling import SourceState

if TYPE_CHECKING:
    from textual.timer import Timer

    from tui.app import NightdeskApp

#: Seconds between looks at the clock for stale sources; toasts shown at most per poll (the
#: rest are counted in one more); how long each stays; how each rule looks.
ALERT_TICK = 5.0
MAX_TOASTS = 2
ALERT_TOAST_SECONDS = 6.0
ALERT_SEVERITY: dict[str, SeverityLevel] = {"full_reporting": "information", "failing": "error"}


class AlertDesk:
    """The alert book of the night and how the app says what it raises (the app routes each
    state here from ``deliver``)."""

    def __init__(self, app: NightdeskApp, *, clock: Callable[[], datetime]) -> None:
        self.app = app
        self._clock = clock
        #: The night's alerts (``[alerts]``): fed each state; ``a`` lists them.
        rules = app.config.alerts
        counted = rules.sources or (app.config.sources[0].name,)
        self.book = AlertBook(rules, clock=clock, counted=counted)
        self.bells = 0  # how many times the bell rang (tests read it)
        self._timer: Timer | None = None
        self._quiet = False

    def observe(self, state: SourceState) -> None:
        """Say what this state brings that the desk asked to be told about, each thing once.
        Runs before any view update, so a frozen view still alerts (the book keeps its own
        reference: the first state seen, or the night restored from the store, only sets it)."""
        if self._quiet:
            return
        try:
            new = self.book.observe(state)
        except Exception:  # a rule that trips on odd data must not stop the night
            logging.getLogger(__name__).exception(
                "alert rules failed on a state of %s", state.source.name
            )
            return
        if self._timer is None and self.book.rules.stale_after is not None:
            # A source that stops answering publishes nothing: look at the clock meanwhile.
            self._timer = self.app.set_interval(ALERT_TICK, self._tick)
        self.say(new)

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """States shown again (a frozen view catching up) were observed when they arrived:
        not again (the book compares with the last state it saw, which is the newest)."""
        self._quiet = True
        try:
            yield
        finally:
            self._quiet = False

    def _tick(self) -> None:
        self.say(self.book.tick(self._clock()))

    def say(self, new: list[Alert]) -> None:
        if not new:
            return
        from tui.alerts_screen import AlertsScreen

        app = self.app
        several = len(app.config.sources) > 1
        changes = [alert.change(with_source=several) for alert in new]
        app.changelog.add(changes)
        # After the poll's own lines (``deliver`` adds them next): the counts, then what
        # they mean.
        app.call_later(self._pane, changes)
        # One toast a poll, whatever it brings: toasts stacking up would hide the table on a
        # busy night; the pane and the log (``a``) have every alert.
        lines = [alert.message for alert in new[:MAX_TOASTS]]
        if len(new) > MAX_TOASTS:
            lines.append(f"+{len(new) - MAX_TOASTS} more (a: the alerts log)")
        sources = sorted({alert.source for alert in new})
        levels = [ALERT_SEVERITY.get(alert.rule, "warning") for alert in new]
        app.notify(
            "\n".join(lines),
            title=f"{'Alert' if len(new) == 1 else f'{len(new)} alerts'} · {', '.join(sources)}",
            severity="error" if "error" in levels else "warning",
            timeout=ALERT_TOAST_SECONDS,
            markup=False,  # names are feed data
        )
        if self.book.rules.bell:
            self.bells += 1  # once per batch: twenty units at 100% are not twenty bells
            app.bell()
        for screen in app.screen_stack:
            if isinstance(screen, AlertsScreen):
                screen.refresh_alerts()

    def _pane(self, changes: list[Change]) -> None:
        from tui.widgets.changes_pane import ChangesPane

        for pane in self.app.main.query(ChangesPane):
            pane.add(changes, {})

    def open(self) -> None:
        """``a``: the alerts log."""
        from tui.alerts_screen import AlertsScreen

        app = self.app
        if isinstance(app.screen, AlertsScreen):
            return
        app.push_screen(AlertsScreen(self.book, app.config.election.timezone, app.header()))
