"""Benchmark child: a minimal stock ``DataTable`` app (the comparison the issue measured).

``python -m benchmarks._stock_table ROWS``: ROWS × 10 integer columns. Commands: ``fill``
(add every row; reports how long until the frame showing them was drawn), ``update`` (three
cells of the visible rows change through ``update_cell_at``), ``quit``.
"""

from __future__ import annotations

import random
import sys
import time

from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from benchmarks._control import Controlled

COLUMNS = 10
CHANGED = 3
#: Changed cells are drawn from the rows a 50-line terminal shows.
VISIBLE_ROWS = 40


class StockTableApp(Controlled):
    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows
        self.rng = random.Random(11_831)
        self.values = [
            [self.rng.randrange(1_000, 60_000) for _ in range(COLUMNS)] for _ in range(rows)
        ]

    def compose(self) -> ComposeResult:
        table: DataTable[int] = DataTable()
        table.add_columns(*(f"col {c}" for c in range(COLUMNS)))
        yield table

    def bench_fill(self) -> None:
        start = time.monotonic()
        self.query_one(DataTable).add_rows(self.values)
        self.call_after_refresh(self._done, "filled", start)

    def bench_update(self) -> None:
        start = time.monotonic()
        table = self.query_one(DataTable)
        picks = self.rng.sample(range(min(self.rows, VISIBLE_ROWS) * COLUMNS), CHANGED)
        for pick in picks:
            row, col = divmod(pick, COLUMNS)
            self.values[row][col] += self.rng.randrange(1, 900)
            table.update_cell_at(Coordinate(row, col), self.values[row][col])
        self.call_after_refresh(self._done, "updated", start)

    def _done(self, event: str, start: float) -> None:
        self.bench_send(event, seconds=time.monotonic() - start)


if __name__ == "__main__":
    StockTableApp(int(sys.argv[1])).run()
