"""The provinces table on its own: what it redraws, and what survives an update."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.geometry import Region

from nightdesk.config import ElectionConfig
from nightdesk.model import Snapshot
from nightdesk.results import RaceResult, assess
from tui.widgets.results_table import ResultsTable

ELECTION = ElectionConfig(name="t", timezone=ZoneInfo("UTC"))
PARTIES = ["CPP", "CNRP", "FUNCINPEC"]


def snapshot(votes: np.ndarray, names: list[str] | None = None) -> Snapshot:
    units = [f"U{i:03d}" for i in range(len(votes))]
    return Snapshot.build(
        source="t",
        votes=pd.DataFrame(votes, index=units, columns=PARTIES),
        units=pd.DataFrame(
            {"name": names or units, "seats": [3] * len(units), "reporting": [0.5] * len(units)},
            index=units,
        ),
    )


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class TableApp(App[None]):
    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield ResultsTable(highlight_seconds=2.0, clock=self.clock, id="t")


class Night:
    """Results one after another, each from the previous (as the poller makes them)."""

    def __init__(self, votes: np.ndarray, names: list[str] | None = None) -> None:
        self.votes = votes.copy()
        self.names = names
        self.snap = snapshot(self.votes, names)
        self.result = assess(self.snap, None, ELECTION)

    def next(self, changes: dict[tuple[int, int], int]) -> RaceResult:
        for (unit, party), add in changes.items():
            self.votes[unit, party] += add
        snap = snapshot(self.votes, self.names)
        self.result = assess(snap, self.snap, ELECTION)
        self.snap = snap
        return self.result


def refreshed(table: ResultsTable) -> list[Region]:
    """The regions the next frame will repaint (relative to the table)."""
    offset = table.content_offset
    return sorted(r.translate(-offset) for r in table._repaint_regions)


def votes(rows: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(1_000, 90_000, size=(rows, len(PARTIES)))


async def test_an_update_repaints_only_the_changed_cells() -> None:
    clock = Clock()
    night = Night(votes(24))
    app = TableApp(clock)
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        await pilot.pause()
        assert table.row_count == 24
        table.show(night.next({(3, 0): 17, (5, 1): 4, (9, 2): 250}))
        regions = refreshed(table)
        # Each changed vote cell, plus the unit's change column — never a whole line.
        assert regions and all(r.height == 1 and r.width <= 14 for r in regions)
        assert {r.y for r in regions} <= {4, 6, 10}
        assert table.highlighted == {("U003", "v:CPP"), ("U005", "v:CNRP"), ("U009", "v:FUNCINPEC")}
        assert table.cell_text("U003", "v:CPP").startswith("▲ ")
        await pilot.pause()
        # The highlight fades: all three cells in one frame, and only those cells.
        clock.now += 2.5
        table._fade()
        assert table.highlighted == set()
        assert {r.y for r in refreshed(table)} == {4, 6, 10}
        assert not table.cell_text("U003", "v:CPP").startswith("▲")


async def test_a_correction_keeps_its_marker_after_the_fade() -> None:
    clock = Clock()
    night = Night(votes(5))
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        table.show(night.next({(2, 1): -100}))
        await pilot.pause()
        assert table.cell_text("U002", "v:CNRP").startswith("▼ ")
        clock.now += 3
        table._fade()
        assert table.cell_text("U002", "v:CNRP").startswith("▼ ")  # still readable as corrected
        table.show(night.next({(2, 1): 50}))
        assert table.cell_text("U002", "v:CNRP").startswith("▲ ")


async def test_cursor_scroll_and_sort_survive_updates() -> None:
    clock = Clock()
    night = Night(votes(200))
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        await pilot.pause()
        table.focus()
        await pilot.press(*["down"] * 40, "pagedown")
        await pilot.pause()
        unit, row, scroll = table.cursor_unit, table.cursor_row, table.scroll_y
        assert row > 40 and scroll > 0
        table.show(night.next({(row, 0): 5, (0, 1): 5}))
        await pilot.pause()
        assert (table.cursor_unit, table.cursor_row, table.scroll_y) == (unit, row, scroll)
        # Sorted by a column: the cursor keeps its unit when rows move.
        table.sort_by("v:CPP")
        await pilot.pause()
        assert table.cursor_unit == unit
        shown = [night.votes[int(u[1:]), 0] for u in table.rows]
        assert shown == sorted(shown, reverse=True)
        table.show(night.next({(int(table.rows[-1][1:]), 0): 200_000}))  # last jumps to first
        await pilot.pause()
        assert table.cursor_unit == unit
        assert table.rows[0] == f"U{np.argmax(night.votes[:, 0]):03d}"
        table.sort_by(None)
        await pilot.pause()
        assert table.rows[:3] == ["U000", "U001", "U002"]
        assert table.cursor_unit == unit


async def test_filter_by_name_keeps_the_cursor_unit() -> None:
    clock = Clock()
    names = ["Kandal", "Kampot", "Takeo", "Kep", "Kratie"]
    night = Night(votes(5), names)
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        table.move_cursor(3)  # Kep
        table.filter_rows("EP")
        await pilot.pause()
        assert table.rows == ["U003"] and table.cursor_unit == "U003"
        table.filter_rows("")
        assert len(table.rows) == 5 and table.cursor_unit == "U003"


async def test_units_that_appear_and_vanish_never_leave_stale_rows() -> None:
    clock = Clock()
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(ResultsTable)
        first = snapshot(votes(4))
        table.show(assess(first, None, ELECTION))
        table.move_cursor(2)
        fewer = Snapshot.build(
            source="t",
            votes=first.votes.drop(index="U001"),
            units=first.units.drop(index="U001"),
        )
        table.show(assess(fewer, first, ELECTION))
        await pilot.pause()
        assert table.rows == ["U000", "U002", "U003"]
        assert table.cursor_unit == "U002"


async def test_names_are_data_and_wide_names_stay_aligned() -> None:
    clock = Clock()
    names = ["[bold]Kandal[/]", "ភ្នំពេញ", "Bắc Ninh", "Ñuñoa", "東京都"]
    night = Night(votes(5), names)
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        await pilot.pause()
        lines = [table.render_line(y).text for y in range(1, 6)]
        assert lines[0].startswith(" [bold]Kandal[/]")  # markup shows literally
        # Every row's first vote column ends at the same cell, whatever the script of its name.
        ends = set()
        for i, line in enumerate(lines):
            number = f"{night.votes[i, 0]:,}"
            ends.add(cell_len(line[: line.index(number) + len(number)]))
        assert len(ends) == 1
        assert {cell_len(line) for line in lines} == {cell_len(lines[0])}


async def test_twenty_thousand_units_update_touches_only_what_changed() -> None:
    clock = Clock()
    night = Night(votes(20_000))
    app = TableApp(clock)
    async with app.run_test(size=(200, 50)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(night.result)
        await pilot.pause()
        table.show(night.next({(1, 0): 5, (15_000, 1): 9, (19_999, 2): 1}))
        # One changed unit is on screen; the two far below it cost nothing now.
        assert {r.y for r in refreshed(table)} == {2}
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_unit == "U19999"
        assert table.cell_text("U19999", "v:FUNCINPEC").startswith("▲")


async def test_a_party_the_feed_drops_shows_as_not_reported() -> None:
    clock = Clock()
    app = TableApp(clock)
    async with app.run_test(size=(160, 20)) as pilot:
        table = app.query_one(ResultsTable)
        first = snapshot(votes(3))
        table.show(assess(first, None, ELECTION))
        fewer = Snapshot.build(source="t", votes=first.votes.drop(columns="CPP"), units=first.units)
        table.show(assess(fewer, first, ELECTION))
        await pilot.pause()
        assert table.cell_text("U000", "v:CPP") in ("—", "▼ —")
        assert table.cell_text("U000", "v:CNRP") == f"{first.votes.at['U000', 'CNRP']:,}"


def test_leader_seats_and_last_seat_name_parties_as_people_know_them() -> None:
    """AP and Clarity ids are numbers: the table names the party (short name, else name)."""
    from nightdesk.model import Party
    from tui.table_data import TableData

    snap = Snapshot.build(
        source="ap",
        votes=pd.DataFrame({"8639": [120, 30], "1746": [100, 70]}, index=["A", "B"]),
        units=pd.DataFrame({"seats": [1, 1]}, index=["A", "B"]),
        parties={
            "8639": Party("8639", "Donald Trump", "Trump"),
            "1746": Party("1746", "[b]Ted Cruz"),
        },
    )
    result = assess(snap, None, ELECTION)
    data = TableData.build(result, ("8639", "1746"))
    assert data.text(0, "leader") == "Trump" and data.text(1, "leader") == "[b]Ted Cruz"
    assert data.seats_text(0) == "Trump 1"
    assert data.text(0, "margin") == "[b]Ted Cruz +21"
    from tui.province_screen import margin_sentence

    assert margin_sentence(result, "A").startswith("[b]Ted Cruz needs 21 more votes to take")
    assert margin_sentence(result, "A").endswith("from Trump.") or "from Trump;" in (
        margin_sentence(result, "A")
    )
    no_seats = assess(
        Snapshot.build(source="ap", votes=snap.votes, parties=snap.parties), None, ELECTION
    )
    assert margin_sentence(no_seats, "A").startswith("No seats here")
