"""The panes beside the provinces table write only what changed, and nothing when nothing did.

Measured by what each widget asks to repaint (``Widget.refresh`` and its regions): that is what
the compositor sends to the terminal.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widget import Widget

from nightdesk.changelog import Change
from tests.conftest import FeedServer
from tests.tui import scenario
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.election_header import ElectionHeader
from tui.widgets.line_pane import LinePane, changed_runs
from tui.widgets.party_pane import PartyPane
from tui.widgets.status_bar import StatusBar

UTC_ZONE = ZoneInfo("UTC")
PAGE = 10  # rows in the test pane


class Refreshes:
    """Every ``refresh`` a widget (or any of a set) asks for, with its regions."""

    def __init__(self) -> None:
        self.calls: list[tuple[Widget, tuple[Region, ...], dict[str, bool]]] = []

    def of(self, widget: Widget) -> list[tuple[Region, ...]]:
        return [regions for w, regions, _ in self.calls if w is widget]

    def repaints(self, widget: Widget) -> list[tuple[Region, ...]]:
        """Refreshes that repaint (a layout-only refresh draws nothing by itself)."""
        return [r for w, r, kw in self.calls if w is widget and kw.get("repaint", True)]


@contextmanager
def refreshes(monkeypatch) -> Iterator[Refreshes]:  # type: ignore[no-untyped-def]
    seen = Refreshes()
    original = Widget.refresh

    def spy(self: Widget, *regions: Region, **kwargs: bool) -> Widget:
        seen.calls.append((self, regions, kwargs))
        return original(self, *regions, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Widget, "refresh", spy)
        yield seen


class PaneApp(App[None]):
    CSS = f"ChangesPane {{ height: {PAGE}; width: 50; }}"
    AUTO_FOCUS = None  # as on the main screen, where the table has the focus

    def __init__(self, cap: int = 500) -> None:
        super().__init__()
        self.cap = cap

    def compose(self) -> ComposeResult:
        yield ChangesPane(zone=UTC_ZONE, cap=self.cap, id="changes")


def lines(start: int, count: int) -> list[Text]:
    return [Text(f"line {i}") for i in range(start, start + count)]


def screen_rows(app: App[None]) -> list[str]:
    pane = app.query_one(ChangesPane)
    return [pane.render_line(y).text for y in range(PAGE)]


async def test_changes_pane_appends_without_repainting_old_lines(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        pane.append_lines(lines(0, 3))
        await pilot.pause()
        with refreshes(monkeypatch) as seen:
            pane.append_lines(lines(3, 2))
            await pilot.pause()
        # Rows 3 and 4 only, each up to the end of its text (the margin and "line N").
        assert seen.of(pane) == [(Region(0, 3, 7, 1),), (Region(0, 4, 7, 1),)]
        assert pane.lines_text == [f"line {i}" for i in range(5)]  # oldest first, newest last
        assert screen_rows(app)[4].startswith(" line 4")


async def test_changes_pane_jumps_by_half_a_page_when_full(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        pane.append_lines(lines(0, PAGE))
        await pilot.pause()
        assert pane.scroll_offset.y == 0
        pane.append_lines(lines(PAGE, 1))  # no room: jump
        await pilot.pause()
        assert pane.scroll_offset.y == 6
        rows = screen_rows(app)
        # The newest half page at the top, blank rows below for what comes next.
        assert [r.strip() for r in rows[:5]] == [f"line {i}" for i in range(6, 11)]
        assert all(not r.strip() for r in rows[5:])
        # The next half page appends row by row, without moving.
        for i in range(11, 16):
            with refreshes(monkeypatch) as seen:
                pane.append_lines(lines(i, 1))
                await pilot.pause()
            assert seen.of(pane) == [(Region(0, i - 6, 8, 1),)]
            assert pane.scroll_offset.y == 6
        with refreshes(monkeypatch) as seen:
            pane.append_lines(lines(16, 1))
            await pilot.pause()
        assert pane.scroll_offset.y == 12  # one jump per half page: one repaint of the text
        assert set(seen.repaints(pane)) == {(Region(0, 0, 50, PAGE),)}
        assert screen_rows(app)[0].strip() == "line 12"


async def test_changes_pane_stays_put_while_the_user_reads_back(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        pane.append_lines(lines(0, 25))
        await pilot.pause()
        pane.focus()
        await pilot.press("home")
        await pilot.pause()
        assert pane.scroll_offset.y == 0 and not pane.following
        before = screen_rows(app)
        with refreshes(monkeypatch) as seen:
            pane.append_lines(lines(25, 3))
            await pilot.pause()
        assert pane.scroll_offset.y == 0
        assert pane.unseen == 3
        # Only the bottom row is redrawn, to count what came in.
        assert seen.repaints(pane) == [(Region(0, PAGE - 1, 49, 1),)]  # focused: a scrollbar
        rows = screen_rows(app)
        assert rows[:-1] == before[:-1]
        assert rows[-1].rstrip().endswith("↓ 3 new")
        # Far past the end of the log, still no jump.
        pane.append_lines(lines(28, 30))
        await pilot.pause()
        assert pane.scroll_offset.y == 0 and pane.unseen == 33
        assert screen_rows(app)[0].strip() == "line 0"
        await pilot.press("end")
        await pilot.pause()
        assert pane.following and pane.unseen == 0
        assert "new" not in screen_rows(app)[-1]
        pane.append_lines(lines(58, 1))  # following again
        await pilot.pause()
        assert "line 58" in "".join(screen_rows(app))


async def test_changes_pane_shows_a_scrollbar_when_focused() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        pane.append_lines(lines(0, 25))
        await pilot.pause()
        assert pane.scrollbar_size_vertical == 0  # unfocused: no column to repaint on a jump
        pane.focus()
        await pilot.pause()
        assert pane.scrollbar_size_vertical == 1
        assert pane.vertical_scrollbar.window_virtual_size == pane.virtual_size.height


async def test_changes_pane_keeps_at_most_cap_lines(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = PaneApp(cap=20)
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        for i in range(0, 50, 2):
            pane.append_lines(lines(i, 2))
            await pilot.pause()
            assert len(pane.lines_text) <= 20
            assert pane.following and pane.unseen == 0  # dropping lines is not scrolling back
        assert pane.lines_text == [f"line {i}" for i in range(30, 50)]
        assert "line 49" in "".join(screen_rows(app))
        await pilot.press("tab")  # focus, then read back to the oldest kept line
        pane.focus()
        await pilot.press("home")
        await pilot.pause()
        assert screen_rows(app)[0].strip() == "line 30"
        pane.scroll_to(y=5, animate=False)
        await pilot.pause()
        assert screen_rows(app)[0].strip() == "line 35"
        with refreshes(monkeypatch) as seen:
            pane.append_lines(lines(50, 2))  # lines 30 and 31 go; the view keeps its lines
            await pilot.pause()
        assert pane.lines_text[0] == "line 32"
        assert screen_rows(app)[0].strip() == "line 35"
        assert seen.repaints(pane) == [(Region(0, PAGE - 1, 49, 1),)]  # the "↓ 2 new" mark


def _change(unit: str, item: str, change: int, correction: bool = False) -> Change:
    at = datetime(2013, 7, 28, 12, 34, tzinfo=UTC)
    return Change(at, "nec", "", unit, item, 100, 100 + change, change, correction)


async def test_changes_pane_groups_by_unit_marks_corrections_and_shows_names_literally() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        names = {"u1": "[bold]Kandal[/bold]", "u2": "Kep\x1b[2J"}
        pane.add(
            [
                _change("u1", "CPP", 50),
                _change("u1", "CNRP", 70),
                _change("u1", "FUNCINPEC", -3, correction=True),
                _change("u2", "[red]P[/]", 5),
            ],
            names,
        )
        await pilot.pause()
        assert pane.lines_text == [
            "12:34:00 ▲ [bold]Kandal[/bold] CNRP +70 CPP +50",
            "12:34:00 ▼ [bold]Kandal[/bold] FUNCINPEC -3 correction",
            "12:34:00 ▲ Kep\ufffd[2J [red]P[/] +5",
        ]
        rows = screen_rows(app)
        assert "[bold]Kandal[/bold]" in rows[0]
        assert "\x1b" not in "".join(rows)


async def test_party_pane_writes_nothing_for_an_unchanged_poll(
    feed_server: FeedServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        pane = app.main.query_one(PartyPane)
        changes = app.main.query_one(ChangesPane)
        result = app.result
        assert result is not None
        with refreshes(monkeypatch) as seen:
            pane.show(result)
            await pilot.pause()
        assert seen.of(pane.lines) == []
        # An unchanged feed: nothing in the panes is redrawn.
        with refreshes(monkeypatch) as seen:
            await scenario.poll(app)
            await pilot.pause()
        assert seen.of(pane.lines) == [] and seen.of(changes) == []
        assert seen.of(app.main.query_one(StatusBar)) == []  # same clock, same line


async def test_party_pane_redraws_only_the_cells_that_changed(
    feed_server: FeedServer, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        pane = app.main.query_one(PartyPane)
        before = pane.lines_text
        feed_server.set(scenario.SECOND)
        with refreshes(monkeypatch) as seen:
            await scenario.poll(app)
            await pilot.pause()
        after = pane.lines_text
        changed = {y for y, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
        regions = [r for call in seen.of(pane.lines) for r in call]
        assert regions and {r.y for r in regions} == changed
        assert all(r.height == 1 and r.x > 0 for r in regions)  # the party names stay put


async def test_status_bar_writes_only_what_changed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from nightdesk.polling import SourceHealth, SourceState

    source = scenario.config("http://127.0.0.1:9").sources[0]
    now = [scenario.NOW]

    class StatusApp(App[None]):
        def compose(self) -> ComposeResult:
            yield StatusBar(["nec"], zone=ZoneInfo("Asia/Phnom_Penh"), now=lambda: now[0])

    app = StatusApp()
    async with app.run_test(size=(120, 5)) as pilot:
        bar = app.query_one(StatusBar)
        state = SourceState(source, health=SourceHealth(last_success=scenario.NOW))
        bar.show(state)
        await pilot.pause()
        assert bar.lines_text == ["nec: ok · last good 19:34:00"]
        with refreshes(monkeypatch) as seen:
            bar.show(state)
            bar.recheck()
            now[0] += timedelta(seconds=30)
            bar.recheck()  # still ok: nothing to write
            await pilot.pause()
        assert seen.of(bar) == []
        later = replace(
            state, health=SourceHealth(last_success=scenario.NOW + timedelta(seconds=7))
        )
        with refreshes(monkeypatch) as seen:
            bar.show(later)
            await pilot.pause()
        # "19:34:00" → "19:34:07": the last digit, not the line.
        assert seen.of(bar) == [(Region(27, 0, 1, 1),)]


async def test_header_writes_only_when_the_minute_changes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    now = [scenario.NOW]

    class HeaderApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ElectionHeader(
                "Test night", zone=ZoneInfo("Asia/Phnom_Penh"), simulated=False, now=lambda: now[0]
            )

    app = HeaderApp()
    async with app.run_test(size=(80, 3)) as pilot:
        header = app.query_one(ElectionHeader)
        assert "19:34" in header.lines_text[0]
        with refreshes(monkeypatch) as seen:
            now[0] += timedelta(seconds=25)
            header.tick()
            await pilot.pause()
        assert seen.of(header) == []
        with refreshes(monkeypatch) as seen:
            now[0] += timedelta(seconds=40)  # 19:35:05
            header.tick()
            await pilot.pause()
        regions = [r for call in seen.of(header) for r in call]
        assert len(regions) == 1 and regions[0].width == 1  # the last digit of 19:35
        assert "19:35" in header.lines_text[0]


def test_changed_runs_merge_near_changes_and_respect_wide_characters() -> None:
    from textual.strip import Strip

    def strip(text: str) -> Strip:
        from rich.console import Console

        return Strip(Text(text).render(Console()))

    assert changed_runs(strip("abc 123"), strip("abc 123")) == []
    assert changed_runs(strip("abc 123"), strip("abc 124")) == [(6, 7)]
    assert changed_runs(strip("a1cdefghijklmnopq2"), strip("a2cdefghijklmnopq3")) == [
        (1, 2),
        (17, 18),
    ]
    assert changed_runs(strip("a1cde2"), strip("a2cde3")) == [(1, 6)]  # close: one run
    assert changed_runs(strip("漢字 1"), strip("漢字 2")) == [(5, 6)]  # wide: two cells each
    assert changed_runs(strip("abcdef"), strip("abc")) == [(3, 6)]  # shorter: the tail blanks


async def test_line_pane_redraws_a_changed_line_count_whole() -> None:
    class LinesApp(App[None]):
        def compose(self) -> ComposeResult:
            yield LinePane([Text("a")])

    app = LinesApp()
    async with app.run_test(size=(40, 5)) as pilot:
        pane = app.query_one(LinePane)
        pane.set_lines([Text("a"), Text("b")])
        await pilot.pause()
        assert pane.lines_text == ["a", "b"] and pane.size.height == 2


async def test_changes_pane_keeps_the_newest_line_in_view_across_a_resize() -> None:
    class ResizeApp(App[None]):
        AUTO_FOCUS = None

        def compose(self) -> ComposeResult:
            yield ChangesPane(zone=UTC_ZONE)

    app = ResizeApp()
    async with app.run_test(size=(60, 12)) as pilot:
        pane = app.query_one(ChangesPane)
        pane.append_lines(lines(0, 30))
        await pilot.pause()
        for size in ((60, 6), (60, 20), (40, 12)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            height = pane.size.height
            rows = [pane.render_line(y).text.strip() for y in range(height)]
            assert "line 29" in rows, size
            pane.append_lines(lines(30 + size[1], 1))
            await pilot.pause()
            rows = [pane.render_line(y).text.strip() for y in range(pane.size.height)]
            assert f"line {30 + size[1]}" in rows, size


def test_party_line_keeps_a_blank_before_a_long_change() -> None:
    from tui.widgets.party_pane import _line

    for change in ("▲ +3,875", "▲ +32,875", "▲ +157,296", "▼ -230"):
        line = _line(("CNRP", "463,463", "48.6%", "0+65", change)).plain
        assert "0+65 " in line and line.endswith(change[-5:])
