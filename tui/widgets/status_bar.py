"""One line per source: last good poll, and ok or the error in one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from nightdesk.polling import SourceState
from tui.formatting import clock

STYLES = {"ok": "green", "waiting": "yellow", "stale": "yellow", "failing": "bold red"}


def status_text(state: SourceState, zone: tzinfo, now: datetime) -> Text:
    h = state.health
    status = h.status(state.source.interval, now)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{state.source.name}: ", style="bold")
    text.append(status.upper() if status != "ok" else "ok", style=STYLES[status])
    if h.last_success:
        text.append(f" · last good {clock(h.last_success, zone)}")
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
        self._texts: dict[str, Text] = {}

    def compose(self) -> ComposeResult:
        for i, name in enumerate(self.names):
            yield Label(Text(f"{name}: waiting for the first poll…"), id=f"status-{i}")

    def show(self, state: SourceState) -> None:
        i = self.names.index(state.source.name)
        text = status_text(state, self.zone, self._now())
        if self._texts.get(state.source.name) != text:
            self._texts[state.source.name] = text
            self.query_one(f"#status-{i}", Label).update(text)
