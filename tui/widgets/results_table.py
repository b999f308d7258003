"""The provinces table: one row per unit, drawn line by line, resending only changed cells.

A Line-API widget (``ScrollView`` + ``render_line``) over ``TableData``'s arrays: only the
rows on screen are ever turned into text, and a poll refreshes the regions of the cells whose
values changed, so an update that changes 3 cells sends about 3 cells to the terminal
whatever the number of units. Changed cells are highlighted (▲, or ▼ for a correction, so
colour is never needed) and fade together from one timer. A unit whose feed figures fail a
check (``nightdesk.checks``) shows ⚠ before its name for as long as the finding lasts.
Cursor, scroll position, sort and filter survive every update: the cursor stays on its unit.
Cells are ``Segment`` text, never markup: feed names show literally.

Rows are a view of the units: ``_order`` holds the feed positions shown, in display order,
after the filter (by name) and the sort (by any column); one level of a unit hierarchy is
meant to be one more step in ``_view``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from nightdesk.results import RaceResult
from tui import board, left_crop
from tui.formatting import DOWN, UP
from tui.table_data import ASCENDING, LEFT, TableData, fold
from tui.widgets.changes_pane import FLAG

SCROLLBAR = 2
PADDING = 2  # one blank cell each side of a column
FIXED = {"name": 16, "reporting": 5, "leader": 8, "seats": 14, "margin": 12, "change": 11}
VOTE_WIDTH = 10  # ▲ 999,999 (larger counts lose the arrow, never digits)
LABELS = {
    "name": "Unit",
    "reporting": "Rep.",
    "leader": "Leader",
    "seats": "Seats",
    "margin": "Last seat",
    "change": "Change",
}

KEYS = [
    Binding(
        "enter",
        "open_unit",
        "Open unit",
        id="table.open",
        tooltip="Open the unit under the cursor: parties, seats, quotients, changes",
    ),
    Binding(
        "s",
        "sort_next",
        "Sort",
        id="table.sort",
        tooltip="Sort by the next column (Unit, Rep., votes, …, Change); after the last, "
        "the feed's order again. The sorting column's header shows ▲ or ▼",
    ),
    Binding(
        "S",
        "sort_reverse",
        "Reverse sort",
        key_display="S",
        show=False,
        id="table.sort-reverse",
        tooltip="Reverse the sort: ▲ smallest first or ▼ largest first (missing values stay last)",
    ),
    Binding(
        "o",
        "sort_feed",
        "Feed order",
        show=False,
        id="table.feed-order",
        tooltip="Back to the feed's own order of the units",
    ),
    Binding(
        "m",
        "sort_margin",
        "Sort by margin",
        show=False,  # the Footer is full at 160 columns; ? and the palette list it
        id="table.sort-margin",
        tooltip="Closest last seats first; again for the feed's order",
    ),
    Binding("j", "cursor_down", "Down", show=False, id="table.down", tooltip="Cursor down"),
    Binding("k", "cursor_up", "Up", show=False, id="table.up", tooltip="Cursor up"),
]
MOVES = [
    Binding(
        "down", "cursor_down", "Down", show=False, id="table.down-arrow", tooltip="Cursor down"
    ),
    Binding("up", "cursor_up", "Up", show=False, id="table.up-arrow", tooltip="Cursor up"),
    Binding(
        "pagedown",
        "page_down",
        "Page down",
        show=False,
        id="table.page-down",
        tooltip="A page down",
    ),
    Binding("pageup", "page_up", "Page up", show=False, id="table.page-up", tooltip="A page up"),
    Binding("home", "first", "First unit", show=False, id="table.first", tooltip="The first unit"),
    Binding("end", "last", "Last unit", show=False, id="table.last", tooltip="The last unit"),
]


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


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    x: int  # first cell of the column on the line, padding included

    @property
    def left(self) -> bool:
        return self.key in LEFT


def columns_for(
    parties: tuple[str, ...], labels: dict[str, str], with_leader: bool
) -> list[Column]:
    keys = ["name", "reporting", *(f"v:{p}" for p in parties)]
    keys += ["leader"] if with_leader else []
    keys += ["seats", "margin", "change"]
    out, x = [], 0
    for key in keys:
        width = VOTE_WIDTH if key.startswith("v:") else FIXED[key]
        out.append(Column(key, labels.get(key, LABELS.get(key, key)), width, x))
        x += width + PADDING
    return out


def fit(text: str, width: int, left: bool) -> str:
    """Exactly ``width`` cells: padded, or cut with an ellipsis (wide characters counted)."""
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    pad = " " * (width - cell_len(text))
    return text + pad if left else pad + text


def _extent(cell: str) -> tuple[int, int]:
    """Cells ``[start, end)`` of a fitted cell that are not padding (spaces are one cell)."""
    body = cell.strip(" ")
    if not body:
        return 0, 0
    start = len(cell) - len(cell.lstrip(" "))
    return start, cell_len(cell) - (len(cell) - len(cell.rstrip(" ")))


class ResultsTable(ScrollView, can_focus=True):
    """Units × (reporting, leading parties' votes, leader, seats, last seat, change)."""

    BINDINGS = [*KEYS, *MOVES]
    COMPONENT_CLASSES = {
        "results-table--header",
        "results-table--cursor",
        "results-table--changed",
        "results-table--correction",
        "results-table--corrected",
        "results-table--flagged",
    }
    DEFAULT_CSS = """
    ResultsTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        & > .results-table--header { text-style: bold; background: $panel; color: $foreground; }
        &:ansi > .results-table--header { background: ansi_bright_blue; color: ansi_default; }
        & > .results-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .results-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .results-table--changed { text-style: bold reverse; }
        & > .results-table--correction { text-style: bold reverse; color: $text-error; }
        & > .results-table--corrected { color: $text-error; }
        & > .results-table--flagged { text-style: bold; color: $text-warning; }
    }
    """
    #: What the help screen lists for this widget.
    HELP: list[Binding | tuple[str, str, str]] = [
        ("↑ / ↓", "Move", "Move the cursor one unit"),
        *KEYS,
        ("PgUp / PgDn", "Page", "Move a page"),
        ("Home / End", "First / last", "The first or last unit"),
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
        self._result: RaceResult | None = None
        self._data: TableData | None = None
        self._layout: tuple[int, bool] | None = None
        self._columns: list[Column] = []
        self._order = np.zeros(0, dtype="int64")  # feed positions, in display order
        self._row_of = np.zeros(0, dtype="int64")  # feed position → display row (−1: hidden)
        self._cursor = 0
        self._sort: str | None = None
        self._descending = False
        self._filter = ""
        self._level_units = 0  # units at the level shown, before the filter
        #: The folded names the filter searches, with the names they were made from.
        self._folded: tuple[np.ndarray, list[str]] | None = None
        #: The unit whose children are shown (None: the top level) on a feed with levels.
        self._level: str | None = None
        self._lit: dict[tuple[str, str], float] = {}  # cell → when its highlight ends
        self._marked: set[tuple[str, str]] = set()  # cells showing a ▼ correction
        self._fade_timer: Timer | None = None
        self._parties: tuple[str, ...] = ()
        #: display row → (cursor row?, (text, kind) per column) as last drawn
        self._drawn: dict[int, tuple[bool, tuple[tuple[str, str], ...]]] = {}

    # --- what the rest of the app uses ---------------------------------------------------

    @property
    def table(self) -> ResultsTable:
        """The focusable table (the widget itself; kept for callers of the old wrapper)."""
        return self

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def cursor_unit(self) -> str | None:
        return self._unit_at_cursor(self._data)

    @property
    def rows(self) -> list[str]:
        """Unit ids in display order."""
        return [] if self._data is None else [str(u) for u in self._data.units[self._order]]

    @property
    def highlighted(self) -> set[tuple[str, str]]:
        """The (unit, column) cells currently highlighted as changed."""
        return set(self._lit)

    @property
    def sorted_by(self) -> str | None:
        return self._sort

    @property
    def descending(self) -> bool:
        """The sort's direction: largest (or Z) first."""
        return self._descending

    @property
    def filter_text(self) -> str:
        return self._filter

    @property
    def level_units(self) -> int:
        """How many units the level shown has, filtered out or not ("3 of 24 units")."""
        return self._level_units

    @property
    def sorted_by_margin(self) -> bool:
        return self._sort == "margin"

    @property
    def column_keys(self) -> list[str]:
        return [c.key for c in self._columns]

    def cell_text(self, unit: str, key: str) -> str:
        """What a cell shows now, marker included (what a reader sees, without styles)."""
        assert self._data is not None
        pos = int(self._data.units.get_loc(unit))
        return self._look(pos, key)[0]

    def show(self, result: RaceResult, highlight: pd.DataFrame | None = None) -> None:
        """Bring the table in line with ``result``: only cells whose values changed are redrawn.

        ``highlight``: the vote cells to light up (a ``Delta.cells`` table), when they are
        not ``result.delta``'s — with the Change column counting from a baseline, only the
        last poll's changes light up.
        """
        self._result = result
        now = self._clock()
        if self._layout is None:
            self._choose_columns(result)
        old = self._data
        data = self._data = TableData.build(result, self._parties)
        lit = self._light(result, now, highlight)
        if not data.same_shape(old):
            self._forget_gone(data)
            self._view(keep=self._unit_at_cursor(old))
            self.refresh()
        else:
            assert old is not None
            changed = data.changed(old)
            if self._resorts(changed):
                self._view(keep=self._unit_at_cursor(old))
                self.refresh()
            else:
                for key, positions in changed.items():
                    self._refresh_cells(positions, key)
                for unit, key in lit:
                    self._refresh_cell(int(data.units.get_loc(unit)), key)
        self._schedule_fade()

    def sort_by(self, key: str | None, *, descending: bool | None = None) -> None:
        """Order rows by a column, or ``None`` for the feed's order. Without ``descending``,
        the column's own first direction: names A–Z and margins closest first, numbers
        largest first. Units that tie keep the feed's order."""
        if key is not None and key not in self.column_keys:
            raise KeyError(key)
        self._sort = key
        self._descending = key not in ASCENDING if descending is None else descending
        self._reorder()

    def sort_next(self) -> None:
        """The next column to the right sorts (the first from the feed's order); after the
        last column, the feed's order again."""
        keys = self.column_keys
        if self._sort is None:
            self.sort_by(keys[0] if keys else None)
        else:
            at = keys.index(self._sort) + 1 if self._sort in keys else len(keys)
            self.sort_by(keys[at] if at < len(keys) else None)

    def reverse_sort(self) -> None:
        """The other direction of the column sorting now (nothing when none does)."""
        if self._sort is not None:
            self.sort_by(self._sort, descending=not self._descending)

    def filter_rows(self, text: str) -> None:
        """Show only units whose name contains ``text``, case and accents ignored ("kep"
        finds "Kép"); "" shows all."""
        self._filter = text
        self._reorder()

    def start_over(self) -> None:
        """Forget the columns and rows: the next ``show`` is another race, with its own
        candidates (the columns are chosen again for them)."""
        self._layout = None
        self._data = None
        self._lit.clear()
        self._marked.clear()
        self._level = None
        self._cursor = 0

    @property
    def level(self) -> str | None:
        """The unit whose children the table shows (``None``: the top level)."""
        return self._level

    def show_level(self, unit: str | None, *, keep: str | None = None) -> None:
        """Show the units directly below ``unit`` (``None``: the top level); the cursor goes
        to ``keep`` (the unit just left, when going up) or to the first row."""
        self._level = unit
        if self._data is None:
            return
        self._cursor = 0
        self._view(keep=keep)
        self.scroll_to(y=max(0, self._cursor - self._page() // 2), animate=False, immediate=True)
        self.refresh()

    def toggle_margin_sort(self) -> None:
        """Closest last seats first, or back to the feed's order; the cursor keeps its unit."""
        self.sort_by(None if self._sort == "margin" else "margin")

    # --- keys -----------------------------------------------------------------------------

    def action_open_unit(self) -> None:
        unit = self.cursor_unit
        if unit is not None:
            self.post_message(self.UnitChosen(unit))

    def action_sort_margin(self) -> None:
        self.toggle_margin_sort()

    def action_sort_next(self) -> None:
        self.sort_next()

    def action_sort_reverse(self) -> None:
        self.reverse_sort()

    def action_sort_feed(self) -> None:
        self.sort_by(None)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        self.move_cursor(self._cursor + self._page())

    def action_page_up(self) -> None:
        self.move_cursor(self._cursor - self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._order) - 1)

    def move_cursor(self, row: int) -> None:
        """Put the cursor on ``row`` (clamped) and scroll just enough to show it."""
        if not len(self._order):
            return
        row = max(0, min(row, len(self._order) - 1))
        if row != self._cursor:
            self._refresh_row(self._cursor)
            self._cursor = row
            self._refresh_row(row)
        self._show_cursor()

    def on_click(self, event: events.Click) -> None:
        """A click on a row opens that unit (the header does nothing)."""
        if event.y < 1 or self._data is None:
            return
        row = int(self.scroll_y) + event.y - 1
        if row < len(self._order):
            self.move_cursor(row)
            self.action_open_unit()

    # --- drawing --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._header(width)
        row = int(self.scroll_y) + y - 1
        if self._data is None or row >= len(self._order):
            return Strip.blank(width, self.rich_style)
        return self._line(row, width)

    def _header(self, width: int) -> Strip:
        style = self.get_component_rich_style("results-table--header")
        text = "".join(
            " " + fit(self._header_label(c), c.width, c.left or c.key == "name") + " "
            for c in self._columns
        )
        return Strip([Segment(text, style)]).adjust_cell_length(width, style)

    def _header_label(self, column: Column) -> str:
        """The label, with ▲ (smallest first) or ▼ (largest first) on the sorting column;
        a long label is cut, never the arrow."""
        if column.key != self._sort:
            return column.label
        arrow = DOWN if self._descending else UP
        label = column.label
        if cell_len(label) + 2 > column.width:
            label = set_cell_size(label, max(column.width - 3, 0)) + "…"
        return f"{label} {arrow}"

    def _line(self, row: int, width: int) -> Strip:
        assert self._data is not None
        pos = int(self._order[row])
        base = self.rich_style
        if row == self._cursor:
            base = base + self.get_component_rich_style("results-table--cursor", partial=True)
        segments: list[Segment] = []
        run, run_style = "", base

        def add(text: str, style: Style) -> None:
            # Neighbours that share a style share a segment: one colour sequence, not many.
            nonlocal run, run_style
            if style == run_style:
                run += text
                return
            if run:
                segments.append(Segment(run, run_style))
            run, run_style = text, style

        drawn = []
        for column in self._columns:
            text, kind = self._look(pos, column.key)
            cell = fit(text, column.width, column.left)
            drawn.append((cell, kind))
            if not kind:
                add(f" {cell} ", base)
                continue
            # The highlight covers the text, not the padding: an update resends less.
            stripped = cell.strip(" ")
            lead = len(cell) - len(cell.lstrip(" "))
            add(" " + cell[:lead], base)
            add(stripped, base + self.get_component_rich_style(kind, partial=True))
            add(cell[lead + len(stripped) :] + " ", base)
        if run:
            segments.append(Segment(run, run_style))
        self._drawn[row] = (row == self._cursor, tuple(drawn))
        return Strip(segments).adjust_cell_length(width, base)

    def _look(self, pos: int, key: str) -> tuple[str, str]:
        """A cell's text with any ▲/▼ marker, and its component class ("" for none).

        Whether a cell is lit is decided by the fade timer alone (not by the clock at
        drawing time), so what was drawn is always what the terminal shows.
        """
        assert self._data is not None
        text = self._data.text(pos, key)
        if key == "name":
            # A failed feed check: the marker stays as long as the finding (the name is cut
            # to make room, never the marker).
            if self._data.flagged[pos]:
                return f"{FLAG} {text}", "results-table--flagged"
            return text, ""
        cell = (self._data.ids[pos], key)
        lit = cell in self._lit
        if cell in self._marked:
            prefix = f"{DOWN} "
            kind = "results-table--correction" if lit else "results-table--corrected"
        elif lit:
            prefix, kind = f"{UP} ", "results-table--changed"
        else:
            prefix, kind = "", ""
        if key == "change" and text.endswith("!"):
            kind = "results-table--corrected"  # a correction inside the net change
        width = VOTE_WIDTH if key.startswith("v:") else FIXED.get(key, 99)
        if prefix and len(prefix) + len(text) > width:
            prefix = ""  # a big number keeps its digits; the style still marks the change
        return prefix + text, kind

    # --- refreshing only what changed ------------------------------------------------------

    def _visible_rows(self) -> tuple[int, int]:
        top = int(self.scroll_y)
        return top, top + max(self.scrollable_content_region.height - 1, 0)

    def _refresh_cells(self, positions: np.ndarray, key: str) -> None:
        column = self._column(key)
        if column is None or not len(positions):
            return
        index = self._columns.index(column)
        rows = self._row_of[positions]
        top, bottom = self._visible_rows()
        for row, pos in zip(rows, positions, strict=True):
            if top <= row < bottom:
                self._refresh_extent(int(row), int(pos), column, index, top)

    def _refresh_extent(self, row: int, pos: int, column: Column, index: int, top: int) -> None:
        """Repaint the part of one cell that differs from what was drawn there."""
        text, kind = self._look(pos, column.key)
        new = (fit(text, column.width, column.left), kind)
        drawn = self._drawn.get(row)
        start, end = 0, column.width + PADDING
        if drawn is not None and drawn[0] == (row == self._cursor):
            old = drawn[1][index]
            if old == new:
                return
            extents = [_extent(cell) for cell, _ in (old, new)]
            start = 1 + min(a for a, b in extents if b > a) if any(b > a for a, b in extents) else 1
            end = 1 + max(b for a, b in extents)
            if end <= start:
                return
        self.refresh(Region(column.x + start, row - top + 1, end - start, 1))

    def _refresh_cell(self, pos: int, key: str) -> None:
        self._refresh_cells(np.array([pos]), key)

    def _refresh_row(self, row: int) -> None:
        top, bottom = self._visible_rows()
        if top <= row < bottom:
            self.refresh(Region(0, row - top + 1, self.scrollable_content_region.width, 1))

    def _column(self, key: str) -> Column | None:
        for column in self._columns:
            if column.key == key:
                return column
        return None

    # --- highlight and fade -----------------------------------------------------------------

    def _light(
        self, result: RaceResult, now: float, cells: pd.DataFrame | None = None
    ) -> list[tuple[str, str]]:
        """Highlight the vote cells the engine reports changed (a handful per poll)."""
        if result.previous is None:
            return []
        if cells is None:
            cells = result.delta.cells
        shown = set(self._parties)
        lit = []
        until = now + self.highlight_seconds
        for unit, party, correction in zip(
            cells["unit"], cells["party"], cells["correction"], strict=True
        ):
            if party not in shown:
                continue
            cell = (str(unit), f"v:{party}")
            self._lit[cell] = until
            if correction:
                self._marked.add(cell)
            else:
                self._marked.discard(cell)
            lit.append(cell)
        return lit

    def _schedule_fade(self) -> None:
        if self._fade_timer is not None or not self._lit:
            return
        delay = max(min(self._lit.values()) - self._clock(), 0.0)
        self._fade_timer = self.set_timer(delay + 0.01, self._fade)

    def _fade(self) -> None:
        """Every cell due now leaves its highlight in the same frame."""
        self._fade_timer = None
        if self._data is None:
            return
        now = self._clock() + 0.05  # cells due within a frame leave together
        due = [cell for cell, until in self._lit.items() if until <= now]
        for cell in due:
            del self._lit[cell]
            if cell[0] in self._data.units:
                self._refresh_cell(int(self._data.units.get_loc(cell[0])), cell[1])
        self._schedule_fade()

    def _forget_gone(self, data: TableData) -> None:
        """Units the feed no longer has lose their highlights (never show stale marks)."""
        units = set(map(str, data.units))
        self._lit = {c: t for c, t in self._lit.items() if c[0] in units}
        self._marked = {c for c in self._marked if c[0] in units}

    # --- rows: filter, sort, cursor --------------------------------------------------------

    def _unit_at_cursor(self, data: TableData | None) -> str | None:
        """The unit under the cursor as ``data`` numbers the units (the old data, mid-update)."""
        if data is None or not len(self._order) or self._cursor >= len(self._order):
            return None
        return str(data.units[self._order[self._cursor]])

    def _resorts(self, changed: dict[str, np.ndarray]) -> bool:
        """Whether the changed columns move rows (and the new order differs)."""
        if self._sort is None and not self._filter:
            return False
        if self._sort not in changed and not (self._filter and "name" in changed):
            return False
        return not np.array_equal(self._ordering(), self._order)

    def _ordering(self) -> np.ndarray:
        data = self._data
        assert data is not None
        positions = np.arange(len(data), dtype="int64")
        if data.parents is not None:  # a feed with levels: one level at a time
            if self._level is None:
                in_level = np.asarray(self._result.snapshot.top_level()) if self._result else None
            else:
                in_level = data.parents == self._level
            if in_level is not None and len(in_level) == len(data):
                positions = positions[in_level]
        self._level_units = len(positions)
        needle = fold(self._filter.strip())
        if needle:
            folded = self._folded_names(data)
            keep = np.fromiter(
                (needle in folded[p] for p in positions), dtype=bool, count=len(positions)
            )
            positions = positions[keep]
        if self._sort is not None:
            if self._sort == "name":  # the filter's folded names, made once
                values = np.array(self._folded_names(data), dtype=object)
                missing = np.zeros(len(data), dtype=bool)
            else:
                values, missing = data.sort_values(self._sort)
            values, missing = values[positions], missing[positions]
            if values.dtype == object:  # names: their rank A–Z, which can be turned round
                values = np.unique(values, return_inverse=True)[1]
            if self._descending:
                values = -values
            # Missing values last either way; ties keep the feed's order (lexsort is stable).
            positions = positions[np.lexsort((values, missing))]
        return positions

    def _folded_names(self, data: TableData) -> list[str]:
        """Each unit's name as the filter compares it, made again only when names change
        (20,000 names take ~40 ms to fold)."""
        cached = self._folded
        if cached is None or not (
            cached[0] is data.names
            or (len(cached[0]) == len(data.names) and np.array_equal(cached[0], data.names))
        ):
            cached = self._folded = (data.names, [fold(str(n)) for n in data.names])
        return cached[1]

    def _view(self, keep: str | None) -> None:
        """Recompute the rows shown; the cursor stays on unit ``keep`` when it is still shown."""
        data = self._data
        assert data is not None
        self._order = self._ordering()
        self._drawn.clear()  # rows now hold other units: everything is drawn again
        self._row_of = np.full(len(data), -1, dtype="int64")
        self._row_of[self._order] = np.arange(len(self._order))
        self.virtual_size = Size(self._line_width(), len(self._order) + 1)
        row = self._cursor
        if keep is not None and keep in data.units:
            shown = self._row_of[int(data.units.get_loc(keep))]
            row = int(shown) if shown >= 0 else row
        self._cursor = max(0, min(row, len(self._order) - 1))
        self._show_cursor()

    def _reorder(self) -> None:
        if self._data is None:
            return
        self._view(keep=self.cursor_unit)
        self.refresh()

    def _show_cursor(self) -> None:
        """Scroll the least that brings the cursor row into view."""
        top, bottom = self._visible_rows()
        if bottom <= top:
            return
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False, immediate=True)
        elif self._cursor >= bottom:
            self.scroll_to(y=self._cursor - (bottom - top) + 1, animate=False, immediate=True)

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    # --- columns for the width --------------------------------------------------------------

    def _choose_columns(self, result: RaceResult) -> None:
        """As many leading parties as fit in the width."""
        self._layout = layout(self.size.width or 160, self.parties_shown)
        n_parties, with_leader = self._layout
        self._parties = tuple(board.leading_parties(result, n_parties))
        labels = {f"v:{p}": result.snapshot.party_label(p) for p in self._parties}
        self._columns = columns_for(self._parties, labels, with_leader)
        if self._sort is not None and self._sort not in self.column_keys:
            self._sort = None  # its column went (a narrower screen, another race)

    def _line_width(self) -> int:
        return sum(c.width + PADDING for c in self._columns)

    def on_resize(self, event: events.Resize) -> None:
        result = self._result
        if result is None or self._layout == layout(event.size.width, self.parties_shown):
            return
        keep = self.cursor_unit
        self._choose_columns(result)
        self._data = TableData.build(result, self._parties)
        self._view(keep=keep)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        if round(old_value) != round(new_value):
            self._drawn.clear()  # a scroll redraws every line
        super().watch_scroll_y(old_value, new_value)

    def on_mount(self) -> None:
        left_crop.install()
