"""``a``: the night's alerts, newest first — time, source, unit, what happened.

Newest first because a desk opens it to see what just fired: the top row is the latest, and
the line above the table says which rules are on. Live while open (a new alert lands on top).
Only the latest :data:`SHOWN` are listed (a stock ``DataTable`` takes seconds to fill with
thousands of rows); the line above says how many are left out.
"""

from __future__ import annotations

from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from nightdesk.alert_rules import FAILING, STALE, AlertRules
from nightdesk.alerts import Alert, AlertBook, duration
from tui.formatting import clock
from tui.table_sync import sync_table
from tui.widgets.plain import printable

SHOWN = 500

COLUMNS = [
    ("at", Text("Time", justify="left")),
    ("source", Text("Source", justify="left")),
    ("unit", Text("Unit", justify="left")),
    ("what", Text("What", justify="left")),
]


def rules_text(rules: AlertRules) -> str:
    """The rules in force, in one line."""
    on = []
    if rules.seat_change:
        on.append("seats changing hands")
    if rules.margin_under is not None:
        on.append(f"last seats within {rules.margin_under:,} votes")
    if rules.full_reporting:
        on.append("100% reporting")
    if rules.corrections:
        on.append("corrections")
    if rules.stale_after is not None:
        on.append(f"sources stale after {duration(rules.stale_after)}")
    if rules.failing:
        polls = "" if rules.failing_after == 1 else f" ({rules.failing_after} polls)"
        on.append(f"sources failing{polls}")
    said = ", ".join(on) if on else "nothing (every rule is off)"
    bell = "; bell on" if rules.bell else ""
    return f"Alerts on: {said}{bell}."


def row(alert: Alert, zone: tzinfo) -> list[Text]:
    """One alert as table cells (feed names are drawn, never obeyed)."""
    return [
        Text(clock(alert.at, zone, seconds=True)),
        Text(printable(alert.source)),
        Text(printable(alert.name if alert.rule not in (STALE, FAILING) else "—")),
        Text(printable(alert.what)),
    ]


class AlertsScreen(Screen[None]):
    """The alerts log; Esc goes back, Enter opens the unit an alert is about."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="alerts.back", tooltip="Back"),
        Binding(
            "enter",
            "open",
            "Open unit",
            id="alerts.open",
            tooltip="Open the unit the alert under the cursor is about",
        ),
    ]
    DEFAULT_CSS = """
    AlertsScreen #alerts-rules { height: auto; padding: 0 1; color: $text-muted; }
    AlertsScreen #alerts-empty { height: auto; padding: 1 1; }
    AlertsScreen DataTable { height: 1fr; }
    """

    def __init__(self, book: AlertBook, zone: tzinfo, header: Widget) -> None:
        super().__init__()
        self.book = book
        self.zone = zone
        self._header = header
        self._rules = ""
        self._units: dict[str, tuple[str, str, str]] = {}  # row key → source, race, unit

    def compose(self) -> ComposeResult:
        yield self._header
        yield Static(id="alerts-rules")
        yield Static(id="alerts-empty")
        yield DataTable(id="alerts", cursor_type="row", zebra_stripes=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_alerts()

    def refresh_alerts(self) -> None:
        """Show the book as it is now (new alerts on top; the cursor stays on its alert)."""
        numbered = self.book.numbered()
        latest = numbered[-SHOWN:][::-1]
        rows = [(str(n), row(alert, self.zone)) for n, alert in latest]
        self._units = {str(n): (a.source, a.race, a.unit) for n, a in latest}
        sync_table(self.query_one(DataTable), COLUMNS, rows)
        text = rules_text(self.book.rules)
        if len(numbered) > SHOWN:
            text += f" The latest {SHOWN:,} of {len(numbered):,} are listed."
        if text != self._rules:  # an unchanged line is not redrawn
            self._rules = text
            self.query_one("#alerts-rules", Static).update(Text(text))
        empty = self.query_one("#alerts-empty", Static)
        empty.display = not rows
        if not rows:
            empty.update("No alerts yet.")

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self._open(str(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self._open(str(event.row_key.value))

    def _open(self, key: str) -> None:
        source, race, unit = self._units.get(key, ("", "", ""))
        app = self.app
        if not unit or source != getattr(app, "primary", None):
            self.notify("This alert is not about a unit of the table", timeout=2)
            return
        if race != getattr(app, "watched", None):
            app.watch(race)  # type: ignore[attr-defined]
        app.open_unit(unit)  # type: ignore[attr-defined]
