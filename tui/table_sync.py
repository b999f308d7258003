"""Bring a stock ``DataTable`` in line with a list of keyed rows, in place.

Clearing and refilling a table on every poll re-measures every cell, throws away the cursor and
the scroll position, and costs seconds at thousands of rows. A poll usually changes a few cells,
so :func:`sync_table` touches only those: it updates the cells whose text or style changed, adds
the new rows, removes the vanished ones and re-orders only when the order really changed, all
inside one ``batch_update``. The cursor stays on its row key and the scroll position is kept.

Cells are always ``rich.text.Text``: a ``str`` cell would be parsed as markup, and names in a
feed are data.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

Columns = Sequence[tuple[str, Text]]
"""(column key, header label) in display order."""
Rows = Iterable[tuple[str, Sequence[Text]]]
"""(row key, one cell a column) in display order."""

REFILL_FRACTION = 0.25
"""Removing rows one by one costs O(rows) each; past this share of the table, refilling wins."""
REFILL_MIN = 64


@dataclass
class SyncReport:
    """What one sync did; tests and benchmarks read it."""

    rebuilt: bool = False
    """The columns changed (or a wholesale change made a refill cheaper): cleared and refilled."""
    added: int = 0
    removed: int = 0
    updated: int = 0
    """Cells whose text or style changed."""
    reordered: bool = False
    cursor_lost: bool = False
    """The cursor's row vanished; the cursor stays at the same index."""


def look(cell: Text) -> Hashable:
    """Everything that decides how a cell is drawn (``Text.__eq__`` ignores the style)."""
    return (
        cell.plain,
        cell.style,
        tuple(cell.spans),
        cell.justify,
        cell.overflow,
        cell.no_wrap,
    )


def sync_table(table: DataTable[Any], columns: Columns, rows: Rows) -> SyncReport:
    """Make ``table`` show ``rows`` under ``columns``, changing only what differs."""
    wanted = [(key, list(cells)) for key, cells in rows]
    keys = [key for key, _ in wanted]
    if len(set(keys)) != len(keys):
        raise ValueError("row keys must be unique")
    for _, cells in wanted:
        if len(cells) != len(columns) or not all(isinstance(c, Text) for c in cells):
            raise TypeError(f"each row needs {len(columns)} rich.text.Text cells")

    report = SyncReport()
    cursor_key, cursor_column = _cursor(table)
    scroll = (table.scroll_x, table.scroll_y)
    with table.app.batch_update():
        if _column_spec(table) != [(key, look(label)) for key, label in columns]:
            _refill(table, columns, wanted)
            report.rebuilt = True
            report.added = len(wanted)
        else:
            _update(table, columns, wanted, report)
        _restore(table, cursor_key, cursor_column, scroll, report)
    return report


def _cursor(table: DataTable[Any]) -> tuple[str | None, int]:
    if table.cursor_type == "none" or not table.is_valid_coordinate(table.cursor_coordinate):
        return None, 0
    key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    return key, table.cursor_column


def _column_spec(table: DataTable[Any]) -> list[tuple[str | None, Hashable]]:
    return [(c.key.value, look(c.label)) for c in table.ordered_columns]


def _refill(table: DataTable[Any], columns: Columns, wanted: list[tuple[str, list[Text]]]) -> None:
    table.clear(columns=True)
    for key, label in columns:
        table.add_column(label, key=key)
    for key, cells in wanted:
        table.add_row(*cells, key=key)


def _update(
    table: DataTable[Any],
    columns: Columns,
    wanted: list[tuple[str, list[Text]]],
    report: SyncReport,
) -> None:
    present: set[str | None] = {row.value for row in table.rows}
    keep = {key for key, _ in wanted}
    gone = [key for key in present if key not in keep]
    wholesale = len(gone) >= REFILL_MIN and len(gone) > REFILL_FRACTION * len(present)
    if wholesale or None in present:  # rows added elsewhere without a key cannot be matched
        _refill(table, columns, wanted)
        report.rebuilt = True
        report.added = len(wanted)
        return
    columns_now = [c.key.value or "" for c in table.ordered_columns]
    shrunk: set[str] = set()  # columns a removed row may have been holding open
    for key in gone:
        for column in columns_now:
            if table.get_cell(key, column).cell_len >= table.columns[column].content_width:
                shrunk.add(column)
        table.remove_row(key)
    report.removed = len(gone)
    changed: list[tuple[str, str, Text, Text]] = []
    for key, cells in wanted:
        if key not in present:
            table.add_row(*cells, key=key)  # measured by the table when it next idles
            report.added += 1
            continue
        for column, new in zip(columns_now, cells, strict=True):
            old = table.get_cell(key, column)
            if look(old) != look(new):
                changed.append((key, column, old, new))
    measure = _cells_to_measure(table, changed, shrunk)
    for key, column, _, new in changed:
        table.update_cell(key, column, new, update_width=(key, column) in measure)
    report.updated = len(changed)
    order = [key for key, _ in wanted]
    if [row.key.value for row in table.ordered_rows] != order:
        _reorder(table, columns, wanted, order)
        report.reordered = True


def _cells_to_measure(
    table: DataTable[Any], changed: list[tuple[str, str, Text, Text]], shrunk: set[str]
) -> set[tuple[str, str]]:
    """At most one cell a column whose update makes the table measure the column.

    ``update_cell(update_width=True)`` re-measures the whole column whenever the new cell is
    narrower than the column, so flagging every changed cell costs rows × changes measurements
    (~0.4 s for 1,000 changes in 200 rows). The column's width can only change through its
    widest new cell, or if a cell that was its widest shrank or went away.
    """
    widest: dict[str, tuple[int, str]] = {}
    for key, column, old, new in changed:
        width = table.columns[column].content_width
        if new.cell_len >= width and new.cell_len > widest.get(column, (-1, ""))[0]:
            widest[column] = (new.cell_len, key)  # grows: that cell sets the width
        elif old.cell_len >= width:
            shrunk.add(column)
    measure = {(key, column) for column, (_, key) in widest.items()}
    for column in shrunk - widest.keys():
        shrinking = next((key for key, c, _, _ in changed if c == column), None)
        if shrinking is not None:
            measure.add((shrinking, column))
        elif table.row_count:  # only rows went away: re-measure through any cell
            key = table.ordered_rows[0].key
            table.update_cell(key, column, table.get_cell(key, column), update_width=True)
    return measure


def _reorder(
    table: DataTable[Any],
    columns: Columns,
    wanted: list[tuple[str, list[Text]]],
    order: list[str],
) -> None:
    """Sort into ``order``. ``DataTable.sort`` only sees cell values, so each row is found by
    the identity of its first cell (distinct objects while they sit in the table)."""
    if not columns:
        return
    first = columns[0][0]
    rank = {id(table.get_cell(key, first)): i for i, key in enumerate(order)}
    if len(rank) != len(order):  # one Text object shared by two rows: refill instead
        _refill(table, columns, wanted)
        return
    table.sort(first, key=lambda cell: rank[id(cell)])


def _restore(
    table: DataTable[Any],
    cursor_key: str | None,
    cursor_column: int,
    scroll: tuple[float, float],
    report: SyncReport,
) -> None:
    """Cursor back on its row key; scroll back where it was (a refill resets both)."""
    if table.scroll_x != scroll[0] or table.scroll_y != scroll[1]:
        x, y = scroll
        table.scroll_to(x, y, animate=False, immediate=True)
        # The refill's own "cursor into view" runs after the next refresh: restore after it.
        table.call_after_refresh(table.scroll_to, x, y, animate=False, immediate=True)
    if cursor_key is None:
        return
    if cursor_key not in table.rows:
        report.cursor_lost = True
        return
    row = table.get_row_index(cursor_key)
    if table.cursor_coordinate != Coordinate(row, cursor_column):
        # Scrolls only if the row moved out of view.
        table.move_cursor(row=row, column=cursor_column, animate=False, scroll=False)
