"""The provinces table: one row per unit, updated cell by cell in place.

Today it wraps Textual's ``DataTable``; its public face (``show``, ``UnitChosen``,
``cursor_unit``) is what the rest of the app uses, so its insides can be replaced by a
Line-API widget without touching anything else. Cells are always ``rich.text.Text``: feed
names are data, never markup.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable

from nightdesk.results import RaceResult
from tui import board
from tui.formatting import DOWN, UP, change_marker, count, percent

HIGHLIGHT = "bold reverse"
CORRECTION = "bold reverse red"


class _Table(DataTable[Text]):
    BINDINGS = [
        Binding(
            "j",
            "cursor_down",
            "Down",
            show=False,
            id="table.down",
            tooltip="Move the cursor down one unit",
        ),
        Binding(
            "k", "cursor_up", "Up", show=False, id="table.up", tooltip="Move the cursor up one unit"
        ),
    ]


class ResultsTable(Widget):
    """Units × (reporting, leading parties' votes, leader, seats, change)."""

    DEFAULT_CSS = """
    ResultsTable { height: 1fr; }
    ResultsTable > DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding(
            "enter",
            "choose",
            "Open unit",
            id="table.open",
            tooltip="Open the unit under the cursor: parties, seats, changes",
        ),
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
        self._parties: list[str] = []
        self._shown: dict[tuple[str, str], tuple[str, str]] = {}  # cell → (text, style)
        self._lit: dict[tuple[str, str], float] = {}  # cell → when its highlight ends
        self._marked: set[tuple[str, str]] = set()  # cells showing a ▼ correction
        self._fade_timer = None

    def compose(self) -> ComposeResult:
        table = _Table(cursor_type="row", zebra_stripes=False)
        table.can_focus = True
        yield table

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
        event.stop()
        self.post_message(self.UnitChosen(str(event.row_key.value)))

    def _columns(self, result: RaceResult) -> None:
        """Fix the columns at the first result: as many leading parties as the width allows."""
        width = self.size.width or 160
        pad = 2  # DataTable's cell padding, per column
        fixed = {"name": 16, "reporting": 5, "leader": 8, "seats": 15, "change": 10}
        vote_width = 11  # ▲ 1,234,567
        base = sum(fixed.values()) + pad * len(fixed)
        fits = (width - base) // (vote_width + pad)
        if fits < 2:  # narrow: two parties' votes say more than a leader column
            fixed.pop("leader")
            fits = (width - base + 8 + pad) // (vote_width + pad)
        self._parties = board.leading_parties(result, max(1, min(self.parties_shown, fits)))
        table = self.table
        table.add_column(Text("Unit"), key="name", width=fixed["name"])
        table.add_column(Text("Rep.", justify="right"), key="reporting", width=5)
        for p in self._parties:
            label = Text(result.snapshot.party_label(p), justify="right")
            table.add_column(label, key=f"v:{p}", width=vote_width)
        if "leader" in fixed:
            table.add_column(Text("Leader"), key="leader", width=fixed["leader"])
        table.add_column(Text("Seats"), key="seats", width=fixed["seats"])
        table.add_column(Text("Change", justify="right"), key="change", width=fixed["change"])

    def show(self, result: RaceResult) -> None:
        """Bring the table in line with ``result``: add new rows, update changed cells."""
        table = self.table
        if not table.columns:
            self._columns(result)
        rows = board.unit_rows(result)
        votes = result.snapshot.votes.reindex(columns=self._parties)
        now = self._clock()
        changed = set()
        corrected = set()
        if result.previous is not None:
            cells = result.delta.cells
            for unit, party, corr in zip(
                cells["unit"], cells["party"], cells["correction"], strict=True
            ):
                changed.add((unit, f"v:{party}"))
                if corr:
                    corrected.add((unit, f"v:{party}"))
        values: dict[str, pd.Series] = {
            "name": rows["name"],
            "reporting": rows["reporting"].map(lambda r: percent(None if r is pd.NA else r)),
            "leader": rows["leader"],
            "seats": rows["seats"],
            "change": [
                change_marker(c, bool(k))
                for c, k in zip(rows["change"], rows["correction"], strict=True)
            ],
        }
        for p in self._parties:
            values[f"v:{p}"] = votes[p].map(lambda v: count(None if v is pd.NA else v))
        frame = pd.DataFrame(values, index=rows.index)
        with self.app.batch_update():
            for unit in frame.index:
                if unit not in table.rows:
                    table.add_row(
                        *[
                            self._cell(unit, key, str(frame.at[unit, key]), now)
                            for key in (str(c.value) for c in table.columns)
                        ],
                        key=unit,
                    )
            for cell in changed:
                if cell[1] in table.columns:
                    self._lit[cell] = now + self.highlight_seconds
                    if cell in corrected:
                        self._marked.add(cell)
                    else:
                        self._marked.discard(cell)
            keys = [str(c.value) for c in table.columns]
            for unit in frame.index:
                for col in keys:
                    self._put(unit, col, str(frame.at[unit, col]), now)
        if self._lit and self._fade_timer is None:
            self._fade_timer = self.set_interval(0.5, self._fade)

    def _style(self, cell: tuple[str, str], now: float) -> tuple[str, str]:
        lit = self._lit.get(cell, 0) > now
        if cell in self._marked:
            return (f"{DOWN} ", CORRECTION if lit else "red")
        return (f"{UP} ", HIGHLIGHT) if lit else ("", "")

    def _cell(self, unit: str, col: str, text: str, now: float) -> Text:
        prefix, style = self._style((unit, col), now)
        self._shown[(unit, col)] = (prefix + text, style)
        justify = "left" if col in ("name", "leader", "seats") else "right"
        return Text(prefix + text, style=style, justify=justify)

    def _put(self, unit: str, col: str, text: str, now: float) -> None:
        prefix, style = self._style((unit, col), now)
        if self._shown.get((unit, col)) == (prefix + text, style):
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
