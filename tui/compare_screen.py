"""``c``: every source side by side — per unit and party, each source's votes and seats and
how far it is from the primary source, the largest disagreement first; seats nationally per
source; and every unit or party name no source matched (listed, never dropped)."""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from nightdesk.compare import Comparison
from tui.formatting import count, net_change
from tui.table_sync import look, sync_table
from tui.widgets.plain import printable

SHOWN = 400
"""Rows in the table (one per unit and party): the disagreements come first, and a DataTable
of tens of thousands of rows takes seconds to fill. The summary says how many are left out."""


def _diff(value: object) -> Text:
    """A difference from the primary, readable without colour: ▲ +890, ▼ -1,694, blank if none."""
    if value is None or value is pd.NA or pd.isna(value) or not value:  # type: ignore[arg-type]
        return Text("", justify="right")
    return Text(net_change(int(value)), style="bold", justify="right")  # type: ignore[call-overload]


def _number(value: object) -> Text:
    given = not (value is None or pd.isna(value))  # type: ignore[arg-type]
    return Text(count(int(value) if given else None), justify="right")  # type: ignore[call-overload]


def columns_of(found: Comparison) -> list[tuple[str, Text]]:
    """(key, two-line header): unit, party, votes per source and their differences, then
    seats likewise. A seat claim has no votes columns."""
    others = found.sources[1:]
    shown = {name: printable(name) for name in found.sources}
    cols = [("unit", Text("\nUnit")), ("party", Text("\nParty"))]
    for name in found.sources:
        if name not in found.claims:
            cols.append((f"{name}:votes", Text(f"{shown[name]}\nvotes", justify="right")))
    for name in others:
        if name not in found.claims:
            label = Text(f"Δ {shown[name]}\nvotes", justify="right")
            cols.append((f"{name}:votes_diff", label))
    for name in found.sources:
        cols.append((f"{name}:seats", Text(f"{shown[name]}\nseats", justify="right")))
    for name in others:
        cols.append((f"{name}:seats_diff", Text(f"Δ {shown[name]}\nseats", justify="right")))
    return cols


def rows_of(found: Comparison, limit: int = SHOWN) -> list[tuple[str, list[Text]]]:
    """One row per unit and party, in the comparison's order; the unit's name on its first."""
    keys = [key for key, _ in columns_of(found)][2:]
    cells = found.cells.head(limit)
    series = {key: cells[tuple(key.split(":", 1))].tolist() for key in keys}  # type: ignore[index]
    names = found.units["name"]
    rows = []
    last = None
    for i, (unit, party) in enumerate(cells.index):
        first = unit != last
        last = unit
        row = [
            Text(printable(str(names.get(unit, unit))) if first else "", no_wrap=True),
            Text(printable(str(found.parties.get(party, party))), no_wrap=True),
        ]
        for key in keys:
            value = series[key][i]
            row.append(_diff(value) if key.endswith("_diff") else _number(value))
        rows.append((f"{unit}\x1f{party}", row))
    return rows


def summary(found: Comparison, shown: int) -> Text:
    """One line: who is compared with whom, how many units disagree, what the table leaves out."""
    others = ", ".join(f"{n} (seat claim)" if n in found.claims else n for n in found.sources[1:])
    text = Text()
    text.append(f"{printable(found.primary)}", style="bold")
    text.append(f" against {printable(others)} · ")
    units = len(found.units)
    text.append(f"{found.disagreeing:,} of {units:,} units disagree")
    if found.disagreeing:
        top = found.units.iloc[0]
        what = (
            f"{int(top['votes_off']):,} votes"
            if top["votes_off"]
            else f"{int(top['seats_off']):,} seats"
        )
        text.append(f" · most: {printable(str(top['name']))} ({what})")
    total = len(found.cells)
    if shown < total:
        text.append(f" · first {shown:,} of {total:,} rows", style="italic")
    return text


def national_text(found: Comparison) -> Text:
    """Seats per party nationally, a column per source and its difference from the primary."""
    table = found.national
    sources = list(found.sources)
    seats = {name: table[(name, "seats")] for name in sources}
    anyone = pd.concat(list(seats.values()), axis=1).fillna(0).sum(axis=1) > 0
    parties = [p for p in table.index if anyone.get(p, False)]
    widths = [max(6, len(name) + 1) for name in sources]
    text = Text(no_wrap=True)
    text.append("Seats".ljust(10), style="bold")
    for name, w in zip(sources, widths, strict=True):
        text.append(printable(name)[: w - 1].rjust(w), style="bold")
    for name in sources[1:]:
        text.append(f"Δ {printable(name)}"[:9].rjust(10), style="bold")
    for party in parties:
        text.append("\n" + printable(str(found.parties.get(party, party)))[:9].ljust(10))
        for name, w in zip(sources, widths, strict=True):
            value = seats[name].get(party)
            text.append(("—" if pd.isna(value) else f"{int(value):,}").rjust(w))
        for name in sources[1:]:
            diff = table.at[party, (name, "seats_diff")]
            text.append(("" if pd.isna(diff) or not diff else net_change(int(diff))).rjust(10))
    if not parties:
        text.append("\nNo seats yet", style="italic")
    return text


def unmatched_text(found: Comparison) -> Text:
    """Every name no other source matched, one a line."""
    if not found.unmatched:
        return Text("Every unit and party matched", style="italic")
    text = Text(f"Not matched ({len(found.unmatched):,})", style="bold", no_wrap=True)
    for item in found.unmatched:
        text.append("\n" + printable(item.text()))
    return text


class CompareScreen(Screen[None]):
    """Live while open: the app hands it a new comparison with every state that arrives."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="compare.back", tooltip="Back"),
        Binding(
            "enter",
            "open",
            "Open unit",
            id="compare.open",
            tooltip="Open the unit under the cursor (the primary source's)",
        ),
    ]
    DEFAULT_CSS = """
    CompareScreen #compare-summary { height: 1; padding: 0 1; }
    CompareScreen #compare-top { height: auto; max-height: 9; border-bottom: hkey $panel; }
    CompareScreen #compare-national { width: auto; padding: 0 1; }
    CompareScreen #compare-unmatched-scroll { width: 1fr; height: auto; max-height: 9;
        padding: 0 1; }
    CompareScreen #compare-unmatched { width: 1fr; }
    CompareScreen DataTable { height: 1fr; }
    """

    def __init__(self, comparison: Comparison, header: Widget) -> None:
        super().__init__()
        self.comparison = comparison
        self._header = header
        self._shown: dict[str, Hashable] = {}

    def compose(self) -> ComposeResult:
        yield self._header
        yield Static(id="compare-summary")
        with Horizontal(id="compare-top"):
            yield Static(id="compare-national")
            with VerticalScroll(id="compare-unmatched-scroll"):
                yield Static(id="compare-unmatched")
        yield DataTable(id="compare-table", cursor_type="row", header_height=2)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(self.comparison)
        self.query_one(DataTable).focus()

    def show(self, comparison: Comparison) -> None:
        """Show a comparison in place: changed cells only, the cursor stays on its row."""
        self.comparison = comparison
        try:
            table = self.query_one(DataTable)
        except NoMatches:
            return  # torn down (the app is closing while a poll arrives): nothing to update
        rows = rows_of(comparison)
        sync_table(table, columns_of(comparison), rows)
        self._update("#compare-summary", summary(comparison, len(rows)))
        self._update("#compare-national", national_text(comparison))
        self._update("#compare-unmatched", unmatched_text(comparison))

    @property
    def table_text(self) -> list[list[str]]:
        """The table's rows as plain text (tests read it)."""
        table = self.query_one(DataTable)
        return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]

    def _update(self, selector: str, text: Text) -> None:
        """Update a Static only when what it shows changed: an unchanged poll redraws nothing."""
        if self._shown.get(selector) != (seen := look(text)):
            self._shown[selector] = seen
            self.query_one(selector, Static).update(text)

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.app.open_unit(str(key).split("\x1f", 1)[0])  # type: ignore[attr-defined]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_unit(str(event.row_key.value).split("\x1f", 1)[0])  # type: ignore[attr-defined]
