"""The timeline screen (``t``) against a real history store: rows, picking, the baseline mark,
and a long night that opens without holding up the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Static

from nightdesk.store import HistoryStore
from tests.tui import stored_night as sn
from tui.timeline_screen import TimelineList, TimelineScreen, size_text

LONG = 2_100


class TimelineApp(App[None]):
    """Opens the timeline and keeps what it was dismissed with."""

    def __init__(self, store: HistoryStore, race: str = "na") -> None:
        super().__init__()
        self.store = store
        self.race = race
        self.picked: list[int | None] = []

    def on_mount(self) -> None:
        self.push_screen(
            TimelineScreen(self.store, sn.SOURCE, self.race, sn.ZONE), self.picked.append
        )


@pytest.fixture
def night(tmp_path: Path):  # type: ignore[no-untyped-def]
    store, ids = sn.night(tmp_path / "night.sqlite")
    yield store, ids
    store.close()


@pytest.fixture(scope="module")
def long_store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    store = sn.long_night(tmp_path_factory.mktemp("long") / "long.sqlite", LONG)
    yield store
    store.close()


async def loaded(pilot: Pilot) -> TimelineScreen:
    screen = pilot.app.screen
    assert isinstance(screen, TimelineScreen)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    assert screen.loaded
    return screen


def info(screen: TimelineScreen, selector: str = "#info") -> str:
    content = screen.query_one(selector, Static).content
    assert isinstance(content, Text)  # never a str: a str would be parsed as markup
    return content.plain


async def test_every_stored_snapshot_is_a_row_newest_at_the_bottom(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await loaded(pilot)
        timeline = screen.query_one(TimelineList)
        lines = timeline.lines_text
        assert len(lines) == 4
        assert [line.split()[0] for line in lines] == [f"#{i}" for i in ids]
        entries = store.timeline(sn.SOURCE, "na")
        first = lines[0].split()
        # fetched 19:00:00 and the feed's own time 18:59:30, in the election's zone
        assert first[1:5] == ["19:00:00", "18:59:30", "nec", "first"]
        assert lines[0].endswith(entries[0].body_sha256[:12])
        assert size_text(entries[0].body_size) in lines[0]
        assert "19:05:00" in lines[1] and "19:04:30" in lines[1]
        assert lines[1].split()[4] == str(entries[1].cells_changed) == "3"
        # the correction (Kandal CPP went down) is flagged with a mark, not only a colour
        assert "▼ 1" in lines[2] and "▼" not in lines[1]
        assert timeline.cursor == 3 and timeline.cursor_id == ids[-1]
        assert "4 stored snapshots" in info(screen)
        assert "no baseline yet" in info(screen)


async def test_enter_picks_the_snapshot_under_the_cursor(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        await loaded(pilot)
        await pilot.press("up", "up", "down", "up", "enter")
        await pilot.pause()
        assert app.picked == [ids[1]]
        assert not isinstance(app.screen, TimelineScreen)


async def test_enter_on_opening_picks_the_newest(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        await loaded(pilot)
        await pilot.press("home", "end", "enter")
        await pilot.pause()
        assert app.picked == [ids[-1]]


async def test_a_click_moves_the_cursor_and_a_second_click_picks(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await loaded(pilot)
        await pilot.click(TimelineList, offset=(10, 0))
        await pilot.pause()
        assert screen.query_one(TimelineList).cursor_id == ids[0] and app.picked == []
        await pilot.click(TimelineList, offset=(10, 0))
        await pilot.pause()
        assert app.picked == [ids[0]]


async def test_escape_dismisses_with_none(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        await loaded(pilot)
        await pilot.press("up", "escape")
        await pilot.pause()
        assert app.picked == [None]


async def test_the_current_baseline_is_marked_in_its_row(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    store.set_baseline(sn.SOURCE, "na", ids[1])
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await loaded(pilot)
        lines = screen.query_one(TimelineList).lines_text
        assert [line.startswith("◆") for line in lines] == [False, True, False, False]
        assert f"◆ baseline #{ids[1]}" in info(screen)


async def test_markup_in_the_race_name_is_shown_literally(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await loaded(pilot)
        assert info(screen, "#title") == "Timeline · nec · [b]National Assembly[/b]"


async def test_a_snapshot_stored_while_open_appears_and_the_cursor_stays(night) -> None:  # type: ignore[no-untyped-def]
    store, ids = night
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await loaded(pilot)
        await pilot.press("up")
        at = sn.START.replace(minute=30)
        votes = dict(sn.POLLS[-1], Kep=(9_999, 5_000, 300))
        new = sn.record(store, sn.snapshot(votes, at, 0.75), at)
        screen.refresh_timeline()
        await loaded(pilot)
        timeline = screen.query_one(TimelineList)
        assert len(timeline.lines_text) == 5
        assert timeline.lines_text[-1].split()[0] == f"#{new}"
        assert timeline.cursor_id == ids[2]


async def test_an_empty_race_says_so(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    app = TimelineApp(store, race="senate")
    async with app.run_test(size=(100, 20)) as pilot:
        screen = await loaded(pilot)
        assert info(screen) == "No stored snapshots of nec yet."
        await pilot.press("enter")  # nothing to pick: stays open
        await pilot.pause()
        assert app.picked == [] and app.screen is screen


async def test_a_long_night_opens_without_holding_up_the_screen(long_store) -> None:  # type: ignore[no-untyped-def]
    """The read waits for the store (here: a write in progress holds its lock); the screen
    shows the loading line and keeps answering meanwhile. Then every row, drawn in view only."""
    app = TimelineApp(long_store)
    lock = long_store._lock  # what a write holds while it commits
    lock.acquire()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, TimelineScreen)
            for _ in range(3):
                await pilot.pause(0.05)
                assert info(screen) == "Reading the stored snapshots…"
                assert not screen.loaded
            lock.release()
            lock = None
            screen = await loaded(pilot)
            timeline = screen.query_one(TimelineList)
            assert len(timeline.entries) == LONG
            assert f"{LONG:,} stored snapshots" in info(screen)
            assert timeline.cursor == LONG - 1
            assert timeline.scroll_offset.y == timeline.max_scroll_y > 0  # the newest in view
            assert len(timeline._cache) <= timeline.size.height  # only the rows in view drawn
            page = timeline.scrollable_content_region.height - 1
            await pilot.press("pageup", "up", "enter")
            await pilot.pause()
            assert app.picked == [timeline.entries[LONG - 2 - page].id]
    finally:
        if lock is not None:
            lock.release()


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_timeline_screen_snapshot(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """The night's four snapshots, the second the baseline, the cursor one above the newest.
    Every time shown is the stored one (no clock on this screen)."""
    store, ids = sn.night(tmp_path / "night.sqlite")
    store.set_baseline(sn.SOURCE, "na", ids[1])

    async def run(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("up")
        await pilot.pause()

    try:
        assert snap_compare(TimelineApp(store), terminal_size=size, run_before=run)
    finally:
        store.close()


async def test_a_store_that_cannot_be_read_is_said_and_esc_still_works(night) -> None:  # type: ignore[no-untyped-def]
    store, _ = night
    store.close()
    app = TimelineApp(store)
    async with app.run_test(size=(100, 20)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TimelineScreen)
        assert info(screen).startswith("Could not read the stored snapshots: ")
        assert "the store is closed" in info(screen)
        await pilot.press("escape")
        await pilot.pause()
        assert app.picked == [None]
