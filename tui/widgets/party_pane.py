"""National party totals: votes, share, seats, change since the last poll, majority line.

Drawn by a ``LinePane``: a poll that moves one party's totals rewrites the cells of that line
that changed, nothing else; a poll that changes nothing here writes nothing.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll

from nightdesk.results import RaceResult
from tui import board
from tui.formatting import count, net_change, percent
from tui.widgets.line_pane import LinePane
from tui.widgets.plain import printable

WIDTHS = (9, 10, 6, 7, 9)
#: The feed's race calls, before the name: ✓ the winner, ↻ into a runoff.
CALLS = {"winner": "✓", "runoff": "↻"}  # 41 columns: the side pane is 44 with padding and border


def _line(cells: tuple[str, str, str, str, str], style: str = "") -> Text:
    name, votes, share, seats, change = cells
    text = Text(no_wrap=True, overflow="ellipsis", style=style)
    name = printable(name)
    if len(name) > WIDTHS[0]:
        name = name[: WIDTHS[0] - 2] + "…"
    text.append(name.ljust(WIDTHS[0]))
    text.append(votes.rjust(WIDTHS[1]))
    text.append(share.rjust(WIDTHS[2]))
    text.append(seats.rjust(WIDTHS[3]))
    # Keep a blank between the seats and the change: "▲ +32,875" → "▲+32,875" → "▲157,296"
    # (the arrow already gives the sign).
    if len(change) >= WIDTHS[4]:
        change = change.replace(" ", "", 1)
    if len(change) >= WIDTHS[4]:
        change = change[0] + change[2:]
    text.append(change.rjust(WIDTHS[4]))
    return text


HEADING = _line(("Party", "Votes", "%", "Seats", "Change"), style="bold")


def party_texts(result: RaceResult) -> list[Text]:
    """Every line of the pane, heading first, majority last."""
    lines = board.party_lines(result)
    texts = [HEADING]
    texts += [
        _line(
            (
                CALLS.get(line.called or "", "") + (line.label or line.party),
                count(line.votes),
                percent(line.share, 1),
                line.seats_text,
                net_change(line.change, line.correction),
            ),
            style="red" if line.correction else "",
        )
        for line in lines
    ]
    total = board.total_seats(result)
    if total:
        need = total // 2 + 1
        leader = max(lines, key=lambda x: x.seats) if lines else None
        state = ""
        if leader is not None and leader.seats >= need:
            state = f" · {printable(leader.party)} {leader.seats}"
        texts.append(Text(f"Majority: {need} of {total} seats{state}", style="italic"))
        if any(line.decided < line.seats for line in lines):
            texts.append(Text("Seats: decided+provisional", style="dim"))
    return texts


class PartyPane(VerticalScroll):
    """National totals, most votes first."""

    DEFAULT_CSS = """
    PartyPane { height: auto; max-height: 12; }
    PartyPane > LinePane { width: 100%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines = LinePane([HEADING])
        self.can_focus = False

    def compose(self) -> ComposeResult:
        yield self.lines

    @property
    def lines_text(self) -> list[str]:
        """The pane's lines as plain text, heading first."""
        return self.lines.lines_text

    def show(self, result: RaceResult) -> None:
        self.lines.set_lines(party_texts(result))
