"""One line per source: ok, stale or failing; the last good poll; the error; the next try.

Re-evaluated every few seconds as well as on each poll, so a source that stops answering
turns stale on screen even when no poll result arrives.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from nightdesk.polling import SourceState
from tui.formatting import clock

STYLES = {"ok": "green", "waiting": "yellow", "stale": "bold yellow", "failing": "bold red"}
RECHECK_SECONDS = 5.0


def status_text(state: SourceState, zone: tzinfo, now: datetime) -> Text:
    h = state.health
    status = h.status(state.source.interval, now)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{state.source.name}: ", style="bold")
    text.append(status.upper() if status != "ok" else "ok", style=STYLES[status])
    if h.last_success:
        text.append(f" · last good {clock(h.last_success, zone, seconds=True)}")
    if h.failures and h.next_attempt:
        text.append(f" · next try {clock(h.next_attempt, zone, seconds=True)}")
    if h.last_error:
        text.append(" · ")
        text.append(h.last_error, style="red")
    return text


class StatusBar(Vertical):
    DEFAULT_CSS = """
    StatusBar { height: auto; max-height: 4; }
    StatusBar > Label { width: 100%; height: 1; }
    """

    def __init__(
        self,
        names: list[str],
        *,
        zone: tzinfo,
        now: Callable[[], datetime] | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.names = names
        self.zone = zone
        self._now = now or (lambda: datetime.now(UTC))
        self._states: dict[str, SourceState] = {}
        self._texts: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        for i, name in enumerate(self.names):
            yield Label(Text(f"{name}: waiting for the first poll…"), id=f"status-{i}")

    def on_mount(self) -> None:
        self.set_interval(RECHECK_SECONDS, self.recheck)

    def show(self, state: SourceState) -> None:
        self._states[state.source.name] = state
        self._render_line(state)

    def recheck(self) -> None:
        """Turn ok into stale when polls stop arriving (writes only what changed)."""
        for state in self._states.values():
            self._render_line(state)

    def _render_line(self, state: SourceState) -> None:
        i = self.names.index(state.source.name)
        text = status_text(state, self.zone, self._now())
        if self._texts.get(state.source.name) != text:
            self._texts[state.source.name] = text
            self.query_one(f"#status-{i}", Label).update(text)
