"""The pty harness behind ``make bench`` counts what a Textual app writes to a real terminal.

One run of the tiny stock ``DataTable`` app: its first frame and one 3-cell update must be
counted as a plausible number of bytes (a full 200×50 repaint is about 12 kB), and the child's
CPU and memory must be readable from /proc.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from benchmarks._pty import COLS, ROWS, PtyChild, visible_text


@pytest.fixture
def pty_available() -> None:
    if not Path("/proc/self/task").is_dir():
        pytest.skip("needs Linux /proc")
    try:
        master, slave = os.openpty()
    except OSError as exc:
        pytest.skip(f"no pseudo-terminal: {exc}")
    os.close(master)
    os.close(slave)


def test_counts_the_bytes_of_a_stock_datatable_update(pty_available: None) -> None:
    with PtyChild([sys.executable, "-m", "benchmarks._stock_table", "24"]) as child:
        child.keep = bytearray()
        child.wait_event("ready", timeout=30)
        child.ask("fill", "filled", timeout=30)
        child.settle(0.3, at_most=10)
        first = child.total
        assert "col 9" in visible_text(bytes(child.keep))  # the table really was drawn
        assert 5_000 < first < 200_000

        before, cpu = child.total, child.cpu()
        child.ask("update", "updated", timeout=30)
        child.settle(0.3, at_most=10)
        update = child.total - before

        # Stock DataTable resends its whole screen for any change: thousands of bytes, but
        # never more than a few full 200×50 screens.
        assert 1_000 < update < 4 * COLS * ROWS * 10
        assert 0 < child.cpu() - cpu < 5
        assert child.rss() > 10 * 2**20
        assert child.cpu_ticks() > 0
