"""National party totals: votes, share, seats, change since the last poll, majority line.

One ``Label`` per line so that a change to one party rewrites one line, not the pane.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label

from nightdesk.results import RaceResult
from tui import board
from tui.formatting import count, net_change, percent

WIDTHS = (9, 10, 6, 7, 9)  # 41 columns: the side pane is 44 with padding and border


def _line(cells: tuple[str, str, str, str, str], style: str = "") -> Text:
    name, votes, share, seats, change = cells
    text = Text(no_wrap=True, overflow="ellipsis", style=style)
    if len(name) > WIDTHS[0]:
        name = name[: WIDTHS[0] - 2] + "…"
    text.append(name.ljust(WIDTHS[0]))
    text.append(votes.rjust(WIDTHS[1]))
    text.append(share.rjust(WIDTHS[2]))
    text.append(seats.rjust(WIDTHS[3]))
    text.append(change.rjust(WIDTHS[4]))
    return text


class PartyPane(VerticalScroll):
    """National totals, most votes first."""

    DEFAULT_CSS = """
    PartyPane { height: auto; max-height: 12; }
    PartyPane > Label { width: 100%; height: 1; }
    PartyPane > #majority { height: auto; }
    PartyPane > .heading { text-style: bold; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._labels: list[Label] = []
        self._texts: list[Text] = []
        self.can_focus = False

    def compose(self) -> ComposeResult:
        yield Label(_line(("Party", "Votes", "%", "Seats", "Change")), classes="heading")
        yield Label("", id="majority")

    def show(self, result: RaceResult) -> None:
        lines = board.party_lines(result)
        texts = [
            _line(
                (
                    line.party,
                    count(line.votes),
                    percent(line.share, 1),
                    line.seats_text,
                    net_change(line.change, line.correction),
                ),
                style="red" if line.correction else "",
            )
            for line in lines
        ]
        missing = len(texts) - len(self._labels)
        if missing > 0:
            new = [Label("") for _ in range(missing)]
            self.mount_all(new, before=self.query_one("#majority"))
            self._labels.extend(new)
            self._texts.extend(Text() for _ in new)
        for i, (label, text) in enumerate(zip(self._labels, texts, strict=False)):
            if self._texts[i] != text:
                label.update(text)
                self._texts[i] = text
        total = board.total_seats(result)
        if total:
            need = total // 2 + 1
            leader = max(lines, key=lambda x: x.seats) if lines else None
            state = ""
            if leader is not None and leader.seats >= need:
                state = f" · {leader.party} {leader.seats}"
            text = Text(f"Majority: {need} of {total} seats{state}", style="italic")
            if any(line.decided < line.seats for line in lines):
                text.append("\nSeats: decided+provisional", style="dim")
            self.query_one("#majority", Label).update(text)
