"""The drill-down screens update in place: a poll changes only the cells that changed, and the
cursor and scroll stay where the desk left them."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Static

from nightdesk.bubble import if_closest_flipped, seats_on_the_bubble
from nightdesk.config import ElectionConfig
from nightdesk.model import Snapshot
from nightdesk.results import RaceResult, assess
from tui.bubble_screen import SHOWN, BubbleScreen, flipped_totals
from tui.province_screen import ProvinceScreen
from tui.table_sync import sync_table

ELECTION = ElectionConfig(name="t", timezone=ZoneInfo("UTC"))


class Night:
    """Results one after another for ``votes`` (units × parties), as the poller makes them."""

    def __init__(self, votes: np.ndarray, seats: int = 3) -> None:
        self.votes = votes.copy()
        self.seats = seats
        self.units = [f"U{i:05d}" for i in range(len(votes))]
        self.parties = [f"P{j:02d}" for j in range(votes.shape[1])]
        self.snap = self._snapshot()
        self.result = assess(self.snap, None, ELECTION)

    def _snapshot(self) -> Snapshot:
        keep = [i for i, u in enumerate(self.units) if u is not None]
        units = [self.units[i] for i in keep]
        return Snapshot.build(
            source="t",
            votes=pd.DataFrame(self.votes[keep], index=units, columns=self.parties),
            units=pd.DataFrame(
                {"name": units, "seats": [self.seats] * len(units), "reporting": 0.5},
                index=units,
            ),
        )

    def next(self, changes: dict[tuple[int, int], int], drop: int | None = None) -> RaceResult:
        for (unit, party), add in changes.items():
            self.votes[unit, party] += add
        if drop is not None:
            self.units[drop] = None  # type: ignore[call-overload]
        snap = self._snapshot()
        self.result = assess(snap, self.snap, ELECTION)
        self.snap = snap
        return self.result


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("main")

    def open_unit(self, unit: str) -> None:
        self.opened.append(unit)


class Calls:
    """Every call a table gets that changes its rows or columns."""

    NAMES = ("update_cell", "add_row", "remove_row", "clear", "sort", "add_column")

    def __init__(self, table: DataTable[Any], monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        for name in self.NAMES:
            original = getattr(table, name)

            def spy(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
                self.calls.append((_name, args))
                return _original(*args, **kw)

            monkeypatch.setattr(table, name, spy)

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]

    def reset(self) -> None:
        self.calls.clear()


def province(night: Night, unit: int) -> ProvinceScreen:
    return ProvinceScreen(
        night.units[unit], night.result, [], ZoneInfo("UTC"), "dhondt", Static("header")
    )


def plain(table: DataTable[Any]) -> list[list[str]]:
    return [[c.plain for c in table.get_row_at(i)] for i in range(table.row_count)]


def cursor_key(table: DataTable[Any]) -> str | None:
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


# One unit, three seats by D'Hondt: P00 holds two (the last seat), P01 one, P02 none.
ONE = np.array([[50_000, 30_000, 10_000], [40_000, 35_000, 20_000]])


async def test_a_poll_changes_only_the_changed_party_row(monkeypatch: pytest.MonkeyPatch) -> None:
    night = Night(ONE)
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = province(night, 0)
        await app.push_screen(screen)
        await pilot.pause()
        parties = screen.query_one("#parties", DataTable)
        quotients = screen.query_one("#quotients", DataTable)
        before = plain(parties)
        pcalls, qcalls = Calls(parties, monkeypatch), Calls(quotients, monkeypatch)

        screen.show(night.next({(0, 2): 7}), [])  # P02 +7: nobody's share or seat moves
        await pilot.pause()

        assert [n for n, _ in pcalls.calls] == ["update_cell"] * 3
        assert {(args[0], args[1]) for args in pcalls.named("update_cell")} == {
            ("P02", "votes"),
            ("P02", "change"),
            ("P02", "next"),
        }
        after = plain(parties)
        assert after[:2] == before[:2]
        assert after[2][:2] == ["P02", "10,007"] and after[2][3] == "▲ +7"
        # The quotient table: P02's column only, never cleared or refilled.
        assert {n for n, _ in qcalls.calls} == {"update_cell"}
        assert {args[1] for args in qcalls.named("update_cell")} == {"q:P02"}

        # The same result again (a poll that changed nothing else): nothing touched.
        pcalls.reset()
        qcalls.reset()
        screen.show(night.result, [])
        assert pcalls.calls == [] and qcalls.calls == []


async def test_a_party_overtaking_reorders_without_refilling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    night = Night(ONE)
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = province(night, 1)
        await app.push_screen(screen)
        await pilot.pause()
        parties = screen.query_one("#parties", DataTable)
        calls = Calls(parties, monkeypatch)
        screen.show(night.next({(1, 1): 6_000}), [])  # P01 41,000 passes P00 40,000
        await pilot.pause()
        assert [row[0] for row in plain(parties)] == ["P01", "P00", "P02"]
        assert calls.named("clear") == [] and calls.named("add_row") == []
        assert len(calls.named("sort")) == 1


def many_parties() -> Night:
    """Twenty parties and twenty seats: both tables of the province screen scroll."""
    votes = np.array([[100_000 - 4_000 * j for j in range(20)]])
    return Night(votes, seats=20)


async def test_scroll_stays_and_a_vanished_unit_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    night = many_parties()
    night.votes = np.vstack([night.votes, night.votes])
    night.units.append("U00001")
    night.snap = night._snapshot()
    night.result = assess(night.snap, None, ELECTION)
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = province(night, 0)
        await app.push_screen(screen)
        await pilot.pause()
        parties = screen.query_one("#parties", DataTable)
        quotients = screen.query_one("#quotients", DataTable)
        assert parties.max_scroll_y > 3 and quotients.max_scroll_y > 5
        assert quotients.max_scroll_x > 10
        parties.scroll_to(y=3, animate=False, immediate=True)
        quotients.scroll_to(x=10, y=5, animate=False, immediate=True)
        await pilot.pause()
        calls = Calls(parties, monkeypatch)

        def scrolled() -> tuple[float, float, float]:
            return parties.scroll_y, quotients.scroll_x, quotients.scroll_y

        screen.show(night.next({(0, 5): 100}), [])
        await pilot.pause()
        assert scrolled() == (3, 10, 5)
        assert {args[0] for args in calls.named("update_cell")} == {"P05"}
        # P05 passes P04: the quotient table's columns change order and it is rebuilt; the
        # parties table is sorted. Both stay scrolled where they were.
        screen.show(night.next({(0, 5): 4_000}), [])
        await pilot.pause()
        assert [c.label.plain for c in quotients.ordered_columns][5:7] == ["P05", "P04"]
        assert calls.named("clear") == [] and len(calls.named("sort")) == 1
        assert scrolled() == (3, 10, 5)

        rows = plain(parties)
        screen.show(night.next({}, drop=0), [])
        await pilot.pause()
        title = str(screen.query_one("#title", Static).render())
        assert title == "U00000: no longer in the feed"
        assert plain(parties) == rows  # the last known figures stay, scrolled where they were
        assert scrolled() == (3, 10, 5)


def contested(n: int, seed: int = 3) -> Night:
    return Night(np.random.default_rng(seed).integers(1_000, 90_000, size=(n, 3)))


async def test_bubble_cursor_stays_on_its_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    night = contested(30)
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = BubbleScreen(night.result, Static("header"))
        await app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one(DataTable)
        table.move_cursor(row=6)
        await pilot.pause()
        unit = cursor_key(table)
        assert unit is not None
        calls = Calls(table, monkeypatch)
        # Make the cursor's unit the closest seat of all: its row moves to the top.
        i = night.units.index(unit)
        ls = night.result.allocation.last_seat[unit]
        holder, challenger = night.parties.index(ls.holder), night.parties.index(ls.challenger)
        needed = int(ls.votes_needed)
        screen.show(night.next({(i, challenger): needed - 1}))
        await pilot.pause()
        assert table.get_row_at(0)[0].plain == unit
        assert cursor_key(table) == unit and table.cursor_row == 0
        assert calls.named("clear") == [] and calls.named("add_row") == []
        # A poll elsewhere: the cursor stays put.
        other = next(k for k in range(30) if k != i)
        screen.show(night.next({(other, holder): 3}))
        await pilot.pause()
        assert cursor_key(table) == unit
        await pilot.press("enter")
        assert app.opened == [unit]


async def test_bubble_shows_the_closest_seats_of_many() -> None:
    night = contested(SHOWN + 150)
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = BubbleScreen(night.result, Static("header"))
        await app.push_screen(screen)
        await pilot.pause()
        table = screen.query_one(DataTable)
        total = len(seats_on_the_bubble(night.result))
        assert total > SHOWN and table.row_count == SHOWN
        shown = str(screen.query_one("#shown", Static).render())
        assert shown == f"Closest {SHOWN} of {total} contested seats"
        assert screen.query_one("#shown").display
        closest = seats_on_the_bubble(night.result)["unit"].head(SHOWN).tolist()
        assert [row.key.value for row in table.ordered_rows] == closest


def test_what_if_matches_the_engine() -> None:
    result = contested(40).result
    bubble = seats_on_the_bubble(result)
    now = {str(p): int(v) for p, v in result.allocation.totals().items()}
    for n in range(7):
        engine = {str(p): int(v) for p, v in if_closest_flipped(result, n).items()}
        assert flipped_totals(now, bubble, n) == engine


class TableHost(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row")


COLUMNS = [("name", Text("Name")), ("n", Text("N", justify="right"))]


def rows(*pairs: tuple[str, str]) -> list[tuple[str, list[Text]]]:
    return [(k, [Text(k), Text(v, justify="right")]) for k, v in pairs]


async def test_sync_updates_style_changes_and_keeps_widths_exact() -> None:
    app = TableHost()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(DataTable)
        sync_table(table, COLUMNS, rows(("a", "1"), ("b", "1,000,000"), ("c", "3")))
        await pilot.pause()
        assert table.columns["n"].content_width == len("1,000,000")
        # Same text, new style: Text.__eq__ would call these equal.
        report = sync_table(
            table, COLUMNS, [("a", [Text("a"), Text("1", style="red", justify="right")])]
        )
        await pilot.pause()
        assert (report.updated, report.removed) == (1, 2)
        assert table.get_cell("a", "n").style == "red"
        assert table.columns["n"].content_width == 1  # the wide row went away
        report = sync_table(table, COLUMNS, rows(("a", "12,345"), ("z", "7")))
        await pilot.pause()
        assert table.columns["n"].content_width == len("12,345")
        sync_table(table, COLUMNS, rows(("a", "5"), ("z", "7")))
        await pilot.pause()
        assert table.columns["n"].content_width == 1  # the widest cell shrank


async def test_sync_keeps_the_cursor_and_rebuilds_only_for_new_columns() -> None:
    app = TableHost()
    async with app.run_test(size=(80, 20)) as pilot:
        table = app.query_one(DataTable)
        sync_table(table, COLUMNS, rows(("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")))
        table.move_cursor(row=2)
        await pilot.pause()
        report = sync_table(table, COLUMNS, rows(("c", "3"), ("a", "1"), ("d", "4")))
        assert report.reordered and not report.rebuilt and report.removed == 1
        assert cursor_key(table) == "c" and table.cursor_row == 0
        wider = [*COLUMNS, ("x", Text("X"))]
        report = sync_table(
            table, wider, [(k, [*cells, Text("")]) for k, cells in rows(("a", "1"), ("c", "3"))]
        )
        await pilot.pause()
        assert report.rebuilt and cursor_key(table) == "c"
        assert [c.key.value for c in table.ordered_columns] == ["name", "n", "x"]
        with pytest.raises(TypeError):
            sync_table(table, COLUMNS, [("a", ["[b]a[/b]", Text("1")])])  # type: ignore[list-item]
