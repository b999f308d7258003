"""The provinces table: one row per unit, updated cell by cell in place.

Today it wraps Textual's ``DataTable``; its public face (``show``, ``UnitChosen``,
``cursor_unit``, ``highlighted``, ``HELP``) is what the rest of the app uses, so its insides
can be replaced by a Line-API widget without touching anything else. Cells are always
``rich.text.Text``: feed names are data, never markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from nightdesk.results import RaceResult
from tui import board
from tui.formatting import DOWN, UP, count, net_change, percent

HIGHLIGHT = "bold reverse"
CORRECTION = "bold reverse red"
SCROLLBAR = 2
PADDING = 2  # DataTable's cell padding, per column
FIXED = {"name": 16, "reporting": 5, "leader": 8, "seats": 14, "margin": 12, "change": 11}
VOTE_WIDTH = 10  # ▲ 999,999 (larger counts lose the arrow, never digits)

KEYS = [
    Binding(
        "enter",
        "open_unit",
        "Open unit",
        id="table.open",
        tooltip="Open the unit under the cursor: parties, seats, quotients, changes",
    ),
    Binding(
        "m",
        "sort_margin",
        "Sort by margin",
        id="table.sort-margin",
        tooltip="Closest last seats first; again for the feed's order",
    ),
    Binding("j", "cursor_down", "Down", show=False, id="table.down", tooltip="Cursor down"),
    Binding("k", "cursor_up", "Up", show=False, id="table.up", tooltip="Cursor up"),
]


class _Table(DataTable[Text]):
    # Our Enter replaces DataTable's select_cursor, so the Footer shows "Open unit".
    BINDINGS = KEYS

    def action_open_unit(self) -> None:
        parent = self.parent
        if isinstance(parent, ResultsTable):
            parent.action_choose()

    def action_sort_margin(self) -> None:
        parent = self.parent
        if isinstance(parent, ResultsTable):
            parent.toggle_margin_sort()


class _UnitText(Text):
    """A cell that remembers its row's unit (DataTable's sort key sees only cell values)."""

    unit: str = ""


def layout(width: int, parties_wanted: int) -> tuple[int, bool]:
    """How many parties' vote columns fit, and whether the leader column does too."""
    usable = max(width - SCROLLBAR, 0)
    fixed = sum(FIXED.values()) + PADDING * len(FIXED)
    fits = (usable - fixed) // (VOTE_WIDTH + PADDING)
    if fits >= 2:
        return min(parties_wanted, fits), True
    # Narrow: two parties' votes say more than a leader column.
    fits = (usable - fixed + FIXED["leader"] + PADDING) // (VOTE_WIDTH + PADDING)
    return max(1, min(parties_wanted, fits)), False


class ResultsTable(Widget):
    """Units × (reporting, leading parties' votes, leader, seats, change)."""

    DEFAULT_CSS = """
    ResultsTable { height: 1fr; }
    ResultsTable > DataTable { height: 1fr; }
    """
    #: What the help screen lists for this widget.
    HELP: list[Binding | tuple[str, str, str]] = [
        ("↑ / ↓", "Move", "Move the cursor one unit"),
        *KEYS,
        ("PgUp / PgDn", "Page", "Scroll a page"),
    ]

    class UnitChosen(Message):
        """The user asked for one unit's screen."""

        def __init__(self, unit: str) -> None:
            super().__init__()
            self.unit = unit

    def __init__(
        self,
        *,
        parties_shown: int = 4,
        highlight_seconds: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.parties_shown = parties_shown
        self.highlight_seconds = highlight_seconds
        self._clock = clock
        self._layout: tuple[int, bool] | None = None
        self._parties: list[str] = []
        self._result: RaceResult | None = None
        self._shown: dict[tuple[str, str], tuple[str, str]] = {}  # cell → (text, style)
        self._lit: dict[tuple[str, str], float] = {}  # cell → when its highlight ends
        self._marked: set[tuple[str, str]] = set()  # cells showing a ▼ correction
        self._fade_timer = None
        self.sorted_by_margin = False
        self._needed: dict[str, float] = {}
        self._added = False

    def compose(self) -> ComposeResult:
        yield _Table(cursor_type="row", zebra_stripes=False)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one(_Table)

    @property
    def cursor_unit(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value)

    @property
    def highlighted(self) -> set[tuple[str, str]]:
        """The (unit, column) cells currently highlighted as changed."""
        return set(self._lit)

    def action_choose(self) -> None:
        unit = self.cursor_unit
        if unit is not None:
            self.post_message(self.UnitChosen(unit))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # a mouse click on a row
        self.post_message(self.UnitChosen(str(event.row_key.value)))

    def on_resize(self, event: Resize) -> None:
        if self._result is not None and self._layout != layout(
            event.size.width, self.parties_shown
        ):
            self._rebuild()

    def _columns(self, result: RaceResult) -> None:
        """Choose the columns for the current width: as many leading parties as fit."""
        self._layout = layout(self.size.width or 160, self.parties_shown)
        n_parties, with_leader = self._layout
        self._parties = board.leading_parties(result, n_parties)
        table = self.table
        table.add_column(Text("Unit"), key="name", width=FIXED["name"])
        table.add_column(Text("Rep.", justify="right"), key="reporting", width=FIXED["reporting"])
        for p in self._parties:
            label = Text(result.snapshot.party_label(p), justify="right")
            table.add_column(label, key=f"v:{p}", width=VOTE_WIDTH)
        if with_leader:
            table.add_column(Text("Leader"), key="leader", width=FIXED["leader"])
        table.add_column(Text("Seats"), key="seats", width=FIXED["seats"])
        table.add_column(Text("Last seat", justify="right"), key="margin", width=FIXED["margin"])
        table.add_column(Text("Change", justify="right"), key="change", width=FIXED["change"])

    def _rebuild(self) -> None:
        """New columns for a new width; the cursor stays on its unit."""
        table, result = self.table, self._result
        assert result is not None
        unit = self.cursor_unit
        with self.app.batch_update():
            table.clear(columns=True)
            self._shown.clear()
            self._columns(result)
            self._fill(result, changed=set(), corrected=set())
            if unit is not None and unit in table.rows:
                table.move_cursor(row=table.get_row_index(unit), animate=False)

    def show(self, result: RaceResult) -> None:
        """Bring the table in line with ``result``: add and drop rows, update changed cells."""
        self._result = result
        if not self.table.columns:
            self._columns(result)
        changed: set[tuple[str, str]] = set()
        corrected: set[tuple[str, str]] = set()
        if result.previous is not None:
            cells = result.delta.cells
            for unit, party, corr in zip(
                cells["unit"], cells["party"], cells["correction"], strict=True
            ):
                changed.add((unit, f"v:{party}"))
                if corr:
                    corrected.add((unit, f"v:{party}"))
        with self.app.batch_update():
            self._fill(result, changed, corrected)
            if self.sorted_by_margin or result.previous is None or self._added:
                self._order()
        if self._lit and self._fade_timer is None:
            self._fade_timer = self.set_interval(0.5, self._fade)

    def toggle_margin_sort(self) -> None:
        """Closest last seats first, or back to the feed's order; the cursor keeps its unit."""
        self.sorted_by_margin = not self.sorted_by_margin
        self._order()

    def _order(self) -> None:
        """Reorder the rows in place (margin order or the feed's); the cursor keeps its unit."""
        table, result = self.table, self._result
        if result is None or not table.row_count:
            return
        unit = self.cursor_unit
        if self.sorted_by_margin:
            position = {u: self._needed.get(u, float("inf")) for u in result.snapshot.unit_ids}
        else:
            position = {u: float(i) for i, u in enumerate(result.snapshot.unit_ids)}
        # The name cell knows its unit, so the sort key can find the unit's position.
        table.sort("name", key=lambda cell: position.get(getattr(cell, "unit", ""), 0.0))
        if unit is not None and unit in table.rows:
            table.move_cursor(row=table.get_row_index(unit), animate=False)

    def _frame(self, result: RaceResult) -> pd.DataFrame:
        rows = board.unit_rows(result)
        self._needed = {str(u): float(n) for u, n in rows["votes_needed"].dropna().items()}
        votes = result.snapshot.votes.reindex(columns=self._parties)
        values: dict[str, object] = {
            "name": rows["name"],
            "reporting": rows["reporting"].map(lambda r: percent(None if r is pd.NA else r)),
            "leader": rows["leader"],
            "seats": rows["seats"],
            "margin": rows["margin"],
            "change": [
                net_change(c, bool(k))
                for c, k in zip(rows["change"], rows["correction"], strict=True)
            ],
        }
        for p in self._parties:
            values[f"v:{p}"] = votes[p].map(lambda v: count(None if v is pd.NA else v))
        return pd.DataFrame(values, index=rows.index)

    def _fill(
        self,
        result: RaceResult,
        changed: set[tuple[str, str]],
        corrected: set[tuple[str, str]],
    ) -> None:
        table = self.table
        frame = self._frame(result)
        now = self._clock()
        keys = [str(c.value) for c in table.columns]
        for gone in [str(k.value) for k in table.rows if str(k.value) not in frame.index]:
            table.remove_row(gone)  # a unit the feed no longer has: never show stale numbers
            for key in keys:
                self._shown.pop((gone, key), None)
                self._lit.pop((gone, key), None)
                self._marked.discard((gone, key))
        for cell in changed:
            if cell[1] in keys:
                self._lit[cell] = now + self.highlight_seconds
                if cell in corrected:
                    self._marked.add(cell)
                else:
                    self._marked.discard(cell)
        self._added = False
        for unit in frame.index:
            if unit not in table.rows:
                self._added = True
                table.add_row(
                    *[self._cell(unit, key, str(frame.at[unit, key]), now) for key in keys],
                    key=unit,
                )
                continue
            for key in keys:
                self._put(unit, key, str(frame.at[unit, key]), now)

    def _style(self, cell: tuple[str, str], now: float) -> tuple[str, str]:
        lit = self._lit.get(cell, 0) > now
        if cell in self._marked:
            return (f"{DOWN} ", CORRECTION if lit else "red")
        if cell[1] == "change":
            return ("", "")
        return (f"{UP} ", HIGHLIGHT) if lit else ("", "")

    def _look(self, unit: str, col: str, text: str, now: float) -> tuple[str, str]:
        """What a cell shows now: its text with any ▲/▼ marker, and its style."""
        prefix, style = self._style((unit, col), now)
        if len(prefix) + len(text) > self._width(col):
            prefix = ""  # a big number keeps its digits; the style still marks the change
        if col == "change" and text.endswith("!"):
            style = "bold red"  # a correction inside the net change
        return prefix + text, style

    def _cell(self, unit: str, col: str, text: str, now: float) -> Text:
        shown, style = self._shown[(unit, col)] = self._look(unit, col, text, now)
        justify = "left" if col in ("name", "leader", "seats") else "right"
        cell = _UnitText(shown, style=style, justify=justify, no_wrap=True, overflow="ellipsis")
        cell.unit = unit
        return cell

    @staticmethod
    def _width(col: str) -> int:
        return VOTE_WIDTH if col.startswith("v:") else FIXED.get(col, 99)

    def _put(self, unit: str, col: str, text: str, now: float) -> None:
        if self._shown.get((unit, col)) == self._look(unit, col, text, now):
            return
        self.table.update_cell(unit, col, self._cell(unit, col, text, now))

    def _fade(self) -> None:
        now = self._clock()
        done = [cell for cell, until in self._lit.items() if until <= now]
        if not done:
            return
        with self.app.batch_update():
            for cell in done:
                del self._lit[cell]
                text, _ = self._shown[cell]
                plain = text.removeprefix(f"{UP} ").removeprefix(f"{DOWN} ")
                self._put(cell[0], cell[1], plain, now)
        if not self._lit and self._fade_timer is not None:
            self._fade_timer.stop()
            self._fade_timer = None
