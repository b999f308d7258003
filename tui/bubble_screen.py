"""``v``: the seats on the bubble — every contested last seat, closest first — and what the
national count would be if the closest few flipped."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from nightdesk.bubble import if_closest_flipped, seats_on_the_bubble
from nightdesk.results import RaceResult

WHAT_IF = 5


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
    BubbleScreen DataTable { height: 1fr; }
    """

    def __init__(self, result: RaceResult, header: Widget) -> None:
        super().__init__()
        self.result = result
        self._header = header

    def compose(self) -> ComposeResult:
        yield self._header
        yield Static(id="what-if")
        yield DataTable(id="bubble", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key, just in (
            ("Unit", "name", "left"),
            ("Holder", "holder", "left"),
            ("Challenger", "challenger", "left"),
            ("Votes needed", "needed", "right"),
            ("Holder can lose", "lose", "right"),
        ):
            table.add_column(Text(label, justify=just), key=key)  # type: ignore[arg-type]
        self.show(self.result)

    def show(self, result: RaceResult) -> None:
        self.result = result
        bubble = seats_on_the_bubble(result)
        table = self.query_one(DataTable)
        unit = None
        if table.row_count:
            unit = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for row in bubble.itertuples(index=False):
            lose = "" if row.holder_can_lose is None else f"{int(row.holder_can_lose):,}"
            table.add_row(
                Text(row.name),
                Text(row.holder),
                Text(row.challenger),
                Text(f"{int(row.votes_needed):,}", justify="right"),
                Text(lose, justify="right"),
                key=row.unit,
            )
        if unit is not None and unit in table.rows:
            table.move_cursor(row=table.get_row_index(unit), animate=False)
        now = result.allocation.totals()
        parties = [p for p in now.index if now[p] or p in set(bubble["challenger"].head(WHAT_IF))]
        text = Text()
        text.append("Now:  ", style="bold")
        text.append("  ".join(f"{p} {now[p]}" for p in parties))
        for n in range(1, min(WHAT_IF, len(bubble)) + 1):
            flipped = if_closest_flipped(result, n)
            text.append(f"\nIf the closest {n} flipped:  ")
            text.append("  ".join(f"{p} {flipped[p]}" for p in parties))
        if bubble.empty:
            text.append("\nNo contested seat yet.", style="dim")
        self.query_one("#what-if", Static).update(text)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            unit = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.app.open_unit(str(unit))  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_unit(str(event.row_key.value))  # type: ignore[attr-defined]
