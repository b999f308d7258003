"""``/``: one line above the provinces table to type part of a unit's name, and how many match.

The bar only collects text; the screen hands it to the table (``ResultsTable.filter_rows``),
which matches case- and accent-insensitively. It is hidden until ``/`` and again once the
filter is cleared, so it costs no line of the table the rest of the night.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Input, Label

PLACEHOLDER = "part of a unit's name (Enter: keep · Esc: clear)"


class FilterBar(Horizontal):
    DEFAULT_CSS = """
    FilterBar { height: 1; display: none; background: $panel; padding: 0 1; }
    FilterBar.open { display: block; }
    FilterBar > #filter-prompt { width: 2; text-style: bold; }
    FilterBar > Input, FilterBar > Input:focus {
        width: 1fr; height: 1; border: none; padding: 0; background: $panel;
    }
    FilterBar > #filter-count { width: auto; padding: 0 0 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Label("/", id="filter-prompt", markup=False)
        yield Input(placeholder=PLACEHOLDER, id="filter-input", select_on_focus=False)
        yield Label("", id="filter-count", markup=False)

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    @property
    def text(self) -> str:
        return self.input.value

    @property
    def is_open(self) -> bool:
        return self.has_class("open")

    def open(self) -> None:
        """Show the bar and put the cursor at the end of the text typed so far."""
        self.add_class("open")
        self.input.focus()
        self.input.cursor_position = len(self.input.value)

    def close(self) -> None:
        """Hide the bar and forget its text."""
        self.remove_class("open")
        self.input.value = ""
        self.show_count(0, 0)

    def show_count(self, shown: int, total: int) -> None:
        """``3 of 24 units`` beside the text (nothing before anything is typed)."""
        text = f"{shown:,} of {total:,} units" if self.text.strip() else ""
        self.query_one("#filter-count", Label).update(text)
