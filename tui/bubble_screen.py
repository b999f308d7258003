"""``v``: the seats on the bubble — every contested last seat, closest first — and what the
national count would be if the closest few flipped."""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from nightdesk.bubble import seats_on_the_bubble
from nightdesk.results import RaceResult
from tui.table_sync import look, sync_table

WHAT_IF = 5
SHOWN = 200
"""Rows in the table: the closest seats are the ones that matter, and a DataTable of thousands
of rows takes seconds to fill. The line above the table says how many are left out."""

COLUMNS = [
    ("name", Text("Unit", justify="left")),
    ("holder", Text("Holder", justify="left")),
    ("challenger", Text("Challenger", justify="left")),
    ("needed", Text("Votes needed", justify="right")),
    ("lose", Text("Holder can lose", justify="right")),
]


def what_if(result: RaceResult, bubble: pd.DataFrame) -> Text:
    """Seats now, and if the closest 1…5 flipped."""
    now = {str(p): int(n) for p, n in result.allocation.totals().items()}
    challengers = set(bubble["challenger"].head(WHAT_IF))
    parties = [p for p in now if now[p] or p in challengers]
    text = Text()
    text.append("Now:  ", style="bold")
    text.append("  ".join(f"{p} {now[p]}" for p in parties))
    for n in range(1, min(WHAT_IF, len(bubble)) + 1):
        flipped = flipped_totals(now, bubble, n)
        text.append(f"\nIf the closest {n} flipped:  ")
        text.append("  ".join(f"{p} {flipped[p]}" for p in parties))
    if bubble.empty:
        text.append("\nNo contested seat yet.", style="dim")
    return text


def flipped_totals(now: dict[str, int], bubble: pd.DataFrame, n: int) -> dict[str, int]:
    """``nightdesk.bubble.if_closest_flipped`` on the bubble already at hand: that function
    sorts every contested seat again (~30 ms at 20,000 units), and the screen asks five times."""
    totals = dict(now)
    flips = bubble.head(max(n, 0))
    for holder, challenger in zip(flips["holder"], flips["challenger"], strict=True):
        if holder in totals:
            totals[holder] -= 1
        if challenger in totals:
            totals[challenger] += 1
    return totals


class BubbleScreen(Screen[None]):
    """Live while open: refreshed with every new result."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="bubble.back", tooltip="Back"),
        Binding(
            "enter", "open", "Open unit", id="bubble.open", tooltip="Open the unit under the cursor"
        ),
    ]
    DEFAULT_CSS = """
    BubbleScreen #what-if { height: auto; padding: 0 1; border-bottom: hkey $panel; }
    BubbleScreen #shown { height: 1; padding: 0 1; color: $text-muted; }
    BubbleScreen DataTable { height: 1fr; }
    """

    def __init__(self, result: RaceResult, header: Widget) -> None:
        super().__init__()
        self.result = result
        self._header = header
        self._shown: dict[str, Hashable] = {}

    def compose(self) -> ComposeResult:
        yield self._header
        yield Static(id="what-if")
        yield Static(id="shown")
        yield DataTable(id="bubble", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(self.result)

    def show(self, result: RaceResult) -> None:
        """Show the closest seats in place: changed cells only, the cursor stays on its unit."""
        self.result = result
        bubble = seats_on_the_bubble(result)
        closest = bubble.head(SHOWN)
        rows = []
        for row in closest.itertuples(index=False):
            lose = "" if row.holder_can_lose is None else f"{int(row.holder_can_lose):,}"
            cells = [
                Text(row.name),
                Text(row.holder),
                Text(row.challenger),
                Text(f"{int(row.votes_needed):,}", justify="right"),
                Text(lose, justify="right"),
            ]
            rows.append((str(row.unit), cells))
        sync_table(self.query_one(DataTable), COLUMNS, rows)
        self.query_one("#shown").display = len(bubble) > SHOWN
        self._update("#shown", Text(f"Closest {len(closest):,} of {len(bubble):,} contested seats"))
        self._update("#what-if", what_if(result, bubble))

    def _update(self, selector: str, text: Text) -> None:
        """Update a Static only when what it shows changed: an unchanged poll redraws nothing."""
        if self._shown.get(selector) != (seen := look(text)):
            self._shown[selector] = seen
            self.query_one(selector, Static).update(text)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            unit = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.app.open_unit(str(unit))  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_unit(str(event.row_key.value))  # type: ignore[attr-defined]
