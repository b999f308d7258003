"""One line per source: ok, stale or failing; the last good poll; the error; the next try.
In a viewer (``nightdesk --store URL``) the health is the collector's, with when it wrote it.

Re-evaluated every few seconds as well as on each poll, so a source that stops answering
turns stale on screen even when no poll result arrives. Drawn by a ``LinePane``: a poll that
only moves "last good" rewrites those few cells; a recheck that changes nothing writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo

from rich.text import Text

from nightdesk.polling import SourceState
from tui.formatting import clock
from tui.widgets.line_pane import LinePane
from tui.widgets.plain import printable

STYLES = {"ok": "green", "waiting": "yellow", "stale": "bold yellow", "failing": "bold red"}
RECHECK_SECONDS = 5.0


def age(elapsed: timedelta) -> str:
    """How long ago, to the minute (so a stale line changes once a minute, not each check)."""
    minutes = max(int(elapsed.total_seconds() // 60), 0)
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def status_text(state: SourceState, zone: tzinfo, now: datetime, race: str = "") -> Text:
    """``race``: which of the source's races is on screen, when it has several."""
    h = state.health
    status = h.status(state.source.interval, now)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{printable(state.source.name)}: ", style="bold")
    text.append(status.upper() if status != "ok" else "ok", style=STYLES[status])
    if race:
        text.append(" · ")
        text.append(printable(race), style="bold")
    if h.last_success:
        text.append(f" · last good {clock(h.last_success, zone, seconds=True)}")
        if status != "ok":  # how old the numbers on screen are, when it matters
            text.append(f" ({age(now - h.last_success)} ago)")
    # A viewer's health is the collector's record (nightdesk.follower.RecordedHealth): when
    # it was written says whether the collector is still there. A monitor's has no such time.
    written = getattr(h, "written_at", None)
    if written is not None:
        text.append(f" · collector wrote {clock(written, zone, seconds=True)}")
    if h.failures and h.next_attempt:
        text.append(f" · next try {clock(h.next_attempt, zone, seconds=True)}")
    if h.last_error:
        text.append(" · ")
        text.append(printable(h.last_error), style="red")
    if h.notice and not h.failures:
        text.append(" · ")
        text.append(printable(h.notice), style="yellow")
    if h.store_error:
        text.append(" · ")
        text.append(printable(h.store_error), style="bold red")
    return text


class StatusBar(LinePane):
    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 4; }
    """

    def __init__(
        self,
        names: list[str],
        *,
        zone: tzinfo,
        now: Callable[[], datetime] | None = None,
        id: str | None = None,
    ) -> None:
        waiting = [Text(f"{printable(name)}: waiting for the first poll…") for name in names]
        super().__init__(waiting, id=id)
        self.names = names
        self.zone = zone
        self._now = now or (lambda: datetime.now(UTC))
        self._states: dict[str, SourceState] = {}
        self._races: dict[str, str] = {}  # source → the race on screen, said on its line

    def on_mount(self) -> None:
        self.set_interval(RECHECK_SECONDS, self.recheck)

    def show(self, state: SourceState) -> None:
        self._states[state.source.name] = state
        self._render_line(state)

    def show_race(self, source: str, race: str) -> None:
        """Say which race of ``source`` is on screen ("" when it has one)."""
        self._races[source] = race
        if source in self._states:
            self._render_line(self._states[source])

    def recheck(self) -> None:
        """Turn ok into stale when polls stop arriving (writes only what changed)."""
        for state in self._states.values():
            self._render_line(state)

    def _render_line(self, state: SourceState) -> None:
        y = self.names.index(state.source.name)
        race = self._races.get(state.source.name, "")
        self.set_line(y, status_text(state, self.zone, self._now(), race))
