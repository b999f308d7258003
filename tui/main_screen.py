"""The main screen: header, provinces table, party totals, changes, one status line a source."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer, Input, Label

from nightdesk import hierarchy
from nightdesk.changelog import Change
from nightdesk.config import Config
from nightdesk.model import Snapshot
from nightdesk.polling import SourceState
from nightdesk.results import RaceResult
from tui.formatting import clock
from tui.layout import NARROW
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.election_header import ElectionHeader
from tui.widgets.filter_bar import FilterBar
from tui.widgets.party_pane import PartyPane
from tui.widgets.results_table import ResultsTable
from tui.widgets.status_bar import StatusBar


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            id="main.filter",
            tooltip="Filter the units by name as you type (case and accents ignored); "
            "Enter keeps the filter, Esc clears it",
        ),
        # Two bindings on Esc: the first that is enabled runs (the filter goes first).
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="main.clear-filter",
            tooltip="Show every unit again (the cursor keeps its unit)",
        ),
        Binding(
            "escape",
            "up_level",
            "Up a level",
            id="main.up",
            tooltip="Back to the units one level up",
        ),
    ]

    def __init__(
        self,
        config: Config,
        *,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        highlight_seconds: float,
        badge: str | None = None,
    ) -> None:
        super().__init__()
        self.badge = badge
        self.config = config
        self._now = now
        self._monotonic = monotonic
        self._highlight = highlight_seconds
        self.result: RaceResult | None = None

    def compose(self) -> ComposeResult:
        e = self.config.election
        yield ElectionHeader(
            e.name,
            zone=e.timezone,
            simulated=e.simulated,
            now=self._now,
            badge=self.badge,
            id="header",
        )
        with Container(id="body"):
            with Vertical(id="table-box"):
                yield Label("", id="crumbs", markup=False)
                yield FilterBar(id="filter")
                yield ResultsTable(
                    highlight_seconds=self._highlight, clock=self._monotonic, id="provinces"
                )
            with Container(id="side"):
                with Vertical(id="totals-box"):
                    yield Label("National totals", classes="pane-title")
                    yield PartyPane(id="parties")
                with Vertical(id="changes-box"):
                    yield Label("Changes", classes="pane-title")
                    yield ChangesPane(zone=e.timezone, id="changes")
        yield StatusBar(
            [s.name for s in self.config.sources], zone=e.timezone, now=self._now, id="status"
        )
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ResultsTable).table.focus()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "narrow")

    def show_result(
        self, result: RaceResult, changes: list[Change], highlight: pd.DataFrame | None = None
    ) -> None:
        self.result = result
        table = self.query_one(ResultsTable)
        if table.level is not None and table.level not in result.snapshot.units.index:
            table.show_level(None)  # the unit being looked into is gone (another race)
        table.show(result, highlight)
        self._show_crumbs()
        self.query_one(PartyPane).show(result)
        self.show_changes(result, changes)

    def show_race(self, result: RaceResult, changes: list[Change]) -> None:
        """Another race: its table from the top level, its changes so far."""
        self.query_one(ResultsTable).start_over()
        self.query_one(ChangesPane).clear()
        self.show_result(result, [], None)
        self.show_changes(result, changes)
        self.refresh_bindings()

    # --- levels: Enter goes down into a unit's children, Esc comes back up ---------------

    def drill(self, unit: str) -> None:
        """Show the units below ``unit`` in the table, with the path above it."""
        self.query_one(ResultsTable).show_level(unit)
        self._show_crumbs()
        self.refresh_bindings()

    def action_up_level(self) -> None:
        table = self.query_one(ResultsTable)
        level = table.level
        if level is None or self.result is None:
            return
        up = hierarchy.ancestors(self.result.snapshot, level)
        table.show_level(up[-1] if up else None, keep=level)
        self._show_crumbs()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "up_level":  # only when there is a level to go up to
            return self.query_one(ResultsTable).level is not None
        if action == "clear_filter":  # only while a filter is typed or kept
            return self.query_one(FilterBar).is_open
        return True

    # --- the filter: ``/`` opens it, typing filters, Enter keeps it, Esc clears it ---------

    def action_filter(self) -> None:
        self.query_one(FilterBar).open()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.close()  # its Input says it changed: the table shows every unit again
        self.query_one(ResultsTable).filter_rows("")
        self.query_one(ResultsTable).focus()
        self._show_crumbs()
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter-input":
            return
        event.stop()
        self.query_one(ResultsTable).filter_rows(event.value)
        self._show_crumbs()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter-input":
            return
        event.stop()
        if not event.value.strip():
            self.action_clear_filter()  # Enter on nothing: no filter to keep
            return
        self.query_one(ResultsTable).focus()

    @property
    def level(self) -> str | None:
        return self.query_one(ResultsTable).level

    def _show_crumbs(self) -> None:
        """``All units › Georgia › Fulton`` above a table with levels; nothing for a flat one.
        The filter bar says how many units of the level match (``3 of 24 units``)."""
        table = self.query_one(ResultsTable)
        self.query_one(FilterBar).show_count(table.row_count, table.level_units)
        crumbs = self.query_one("#crumbs", Label)
        result = self.result
        flat = result is None or hierarchy.is_flat(result.snapshot)
        crumbs.display = not flat
        if flat or result is None:
            return
        level = table.level
        path = [] if level is None else [*hierarchy.ancestors(result.snapshot, level), level]
        names = result.snapshot.units["name"]
        parts = ["All units", *(str(names.get(u, u)) for u in path)]
        hint = "  (Enter: down · Esc: up)" if path else "  (Enter: down)"
        crumbs.update(Text(" › ".join(parts) + hint, no_wrap=True, overflow="ellipsis"))

    def show_changes(self, result: RaceResult, changes: list[Change]) -> None:
        """Add one poll's changes to the changes pane (a line per unit and poll)."""
        if not changes:
            return
        # Names of the changed units only: a dict of every unit would cost O(units) a poll.
        units = list(dict.fromkeys(c.unit for c in changes))
        names = result.snapshot.units["name"].reindex(units)
        if result.previous is not None and names.isna().any():
            # A withdrawn unit is named from the snapshot it was last in.
            names = names.fillna(result.previous.units["name"].reindex(units))
        names = names.fillna(pd.Series(units, index=units)).astype(str).to_dict()
        self.query_one(ChangesPane).add(changes, names)

    def show_since(self, since: str, baseline: Snapshot | None) -> None:
        """Say in the header what the change columns count from."""
        note = ""
        if since == "baseline" and baseline is not None:
            when = baseline.published_at or baseline.fetched_at
            note = f" Δ since baseline {clock(when, self.config.election.timezone, seconds=True)} "
        self.query_one(ElectionHeader).set_note(note)

    def show_status(self, state: SourceState) -> None:
        self.query_one(StatusBar).show(state)
