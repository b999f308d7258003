"""One unit's history through the night, read from a real history store."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from nightdesk.store import HistoryStore
from tests.tui import stored_night as sn
from tui.widgets.unit_history import PartyTrend, UnitHistory, sparkline


class HistoryApp(App[None]):
    def __init__(self, store: HistoryStore, unit: str) -> None:
        super().__init__()
        self.store = store
        self.unit = unit

    def compose(self) -> ComposeResult:
        yield UnitHistory(self.store, sn.SOURCE, "na", self.unit, sn.ZONE, sn.LABELS)


@pytest.fixture
def night(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, ids = sn.night(tmp_path / "night.sqlite")
    yield store, ids
    store.close()


async def loaded(pilot: Pilot, loads: int = 1) -> UnitHistory:
    widget = pilot.app.query_one(UnitHistory)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert widget.loads == loads
    return widget


def rows(widget: UnitHistory) -> list[list[str]]:
    table = widget.query_one(DataTable)
    out = []
    for i in range(table.row_count):
        cells = table.get_row_at(i)
        assert all(isinstance(c, Text) for c in cells)  # never str: no markup from data
        out.append([c.plain for c in cells])
    return out


def info(widget: UnitHistory) -> str:
    content = widget.query_one(".unit-history--info", Static).content
    assert isinstance(content, Text)
    return content.plain


def test_sparkline_scales_each_series_to_its_own_range() -> None:
    assert sparkline([250_000, 259_816, 259_586, 270_102], 10) == "▁▄▄█"
    assert sparkline([5, 5, 5], 10) == "▁▁▁"
    assert sparkline([None, 1, 2], 10) == " ▁█"
    assert sparkline([None, None], 10) == "  "
    assert sparkline(list(range(100)), 4) == "▁▃▅█"  # 24, 49, 74, 99: the last of each quarter
    assert sparkline([1, 2], 0) == ""


async def test_a_row_per_stored_change_newest_first(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = HistoryApp(store, "Kandal")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = await loaded(pilot)
        shown = rows(widget)
        assert [r[0] for r in shown] == [f"#{ids[3]}"] * 4 + [f"#{ids[2]}"] * 2 + [f"#{ids[1]}"] * 2
        by_item = {(r[0], r[2]): r for r in shown}
        cpp = by_item[(f"#{ids[1]}", "CPP")]
        assert cpp[1:] == ["19:05:00", "CPP", "250,000", "259,816", "▲ +9,816", ""]
        fix = by_item[(f"#{ids[2]}", "CPP")]
        assert fix[3:] == ["259,816", "259,586", "▼ -230", "▼ correction"]
        reporting = by_item[(f"#{ids[3]}", "reporting")]
        assert reporting[3:6] == ["50.0%", "75.0%", "▲ +25.0 pts"]
        assert "8 stored changes" in info(widget)
        assert "since 19:00" in info(widget)


async def test_markup_in_a_party_name_is_shown_literally(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = HistoryApp(store, "Kandal")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = await loaded(pilot)
        assert ["#" + str(ids[3]), "19:15:00", "[bold]FUNCINPEC[/]"] in [
            r[:3] for r in rows(widget)
        ]
        trend = widget.query_one(PartyTrend)
        assert any(t.label == "[bold]FUNCINPEC[/]" for t in trend.trends)
        # and on screen, brackets and all
        assert "[bold]FUNCINPEC[/]" in trend.render().plain


async def test_a_trend_per_party_most_votes_first(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    app = HistoryApp(store, "Kandal")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = await loaded(pilot)
        trend = widget.query_one(PartyTrend)
        assert [t.label for t in trend.trends] == ["CNRP", "CPP", "[bold]FUNCINPEC[/]"]
        assert trend.trends[1].values == [250_000, 259_816, 259_586, 270_102]
        lines = trend.render().plain.splitlines()
        assert len(lines) == 3 and trend.size.height == 3
        assert lines[0].split() == ["CNRP", "▁▆▆█", "371,004"]
        assert lines[1].split() == ["CPP", "▁▄▄█", "270,102"]


async def test_refresh_history_shows_a_new_change_on_top(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = HistoryApp(store, "Kep")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = await loaded(pilot)
        assert [r[2:6] for r in rows(widget)] == [
            ["reporting", "50.0%", "75.0%", "▲ +25.0 pts"],
            ["CPP", "9,000", "9,120", "▲ +120"],
        ]
        at = sn.START + timedelta(minutes=30)
        votes = dict(sn.POLLS[-1], Kep=(9_120, 5_400, 300))
        new = sn.record(store, sn.snapshot(votes, at, 0.75), at)
        widget.refresh_history()
        await loaded(pilot, loads=2)
        assert [r[0] for r in rows(widget)] == [f"#{new}", f"#{ids[3]}", f"#{ids[3]}"]
        assert rows(widget)[0][2:6] == ["CNRP", "5,000", "5,400", "▲ +400"]


async def test_a_unit_with_nothing_stored_says_so(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    app = HistoryApp(store, "Nowhere")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = await loaded(pilot)
        assert info(widget) == "Nothing stored for this unit yet."
        assert not widget.query_one(DataTable).display


async def test_the_loading_line_shows_until_the_read_is_done(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    app = HistoryApp(store, "Kandal")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = app.query_one(UnitHistory)
        assert info(widget) == "Reading this unit's history…"
        await loaded(pilot)
        assert info(widget) != "Reading this unit's history…"


def test_unit_history_snapshot(snap_compare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Kandal through the night: three trends, eight changes, the correction flagged."""
    store, _ = sn.night(tmp_path / "night.sqlite")

    async def run(pilot: Pilot) -> None:
        await loaded(pilot)

    try:
        assert snap_compare(HistoryApp(store, "Kandal"), terminal_size=(80, 20), run_before=run)
    finally:
        store.close()


async def test_a_store_that_cannot_be_read_is_said(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    store.close()
    app = HistoryApp(store, "Kandal")
    async with app.run_test(size=(100, 30)) as pilot:
        widget = await loaded(pilot)
        assert info(widget).startswith("Could not read this unit's history: ")
        assert app.is_running
