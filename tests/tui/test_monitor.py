"""Pilot tests of the monitor against a real local HTTP feed."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.conftest import FeedServer
from tests.tui import scenario
from tui.help_screen import HelpScreen
from tui.province_screen import ProvinceScreen
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.party_pane import PartyPane
from tui.widgets.results_table import ResultsTable
from tui.widgets.status_bar import StatusBar


def cell(app, unit: str, column: str) -> str:  # type: ignore[no-untyped-def]
    return app.main.query_one(ResultsTable).cell_text(unit, column)


def status(app) -> str:  # type: ignore[no-untyped-def]
    return " ".join(app.main.query_one(StatusBar).lines_text)


async def test_a_poll_that_changes_three_cells_highlights_exactly_those(
    feed_server: FeedServer,
) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        table = app.main.query_one(ResultsTable)
        assert table.table.row_count == 3
        assert table.highlighted == set()  # the first poll is the starting point
        assert app.main.query_one(ChangesPane).lines_text == []

        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.pause()
        assert table.highlighted == {
            ("Kandal", "v:CPP"),
            ("Kandal", "v:CNRP"),
            ("Takeo", "v:FUNCINPEC"),
        }
        assert cell(app, "Kandal", "v:CPP") == "▲ 259,816"
        assert cell(app, "Kep", "v:CPP") == "9,000"  # untouched cells stay plain
        lines = scenario.count_lines(app)
        assert len(lines) == 2  # one line per province and poll
        assert lines[0].startswith("19:34:00 ▲ Kandal CNRP +22,858 CPP +9,816")
        assert lines[1].startswith("19:34:00 ▲ Takeo FUNCINPEC +450")


async def test_a_correction_shows_the_down_marker(feed_server: FeedServer) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        feed_server.set(scenario.THIRD)
        await scenario.poll(app)
        await pilot.pause()
        assert cell(app, "Kandal", "v:CPP") == "▼ 259,586"
        assert cell(app, "Kandal", "v:CNRP") == "▲ 363,255"
        assert cell(app, "Kandal", "change") == "▲ +167 !"  # net up, with a correction inside
        lines = app.main.query_one(ChangesPane).lines_text
        assert any("▼ Kandal CPP -230 correction" in line for line in lines)
        party_lines = app.main.query_one(PartyPane).lines_text
        assert any(line.startswith("CPP") and line.endswith("▼ -230") for line in party_lines)


async def test_enter_opens_the_unit_under_the_cursor_and_esc_comes_back(
    feed_server: FeedServer,
) -> None:
    feed_server.set(scenario.feed({"Kandal": (1, 2, 3)}, extra=60))
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        table = app.main.query_one(ResultsTable).table
        for _ in range(30):
            await pilot.press("j")
        await pilot.press("down", "down", "k")
        assert table.cursor_row == 31
        scroll = table.scroll_y
        assert scroll > 0
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProvinceScreen)
        assert app.screen.unit == "Filler 30"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is app.main
        assert table.cursor_row == 31
        assert table.scroll_y == scroll


async def test_province_screen_shows_parties_quotients_and_the_margin(
    feed_server: FeedServer,
) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("enter")  # the cursor starts on Kandal
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvinceScreen) and screen.unit == "Kandal"
        parties = screen.query_one("#parties", DataTable)
        assert parties.row_count == 3
        assert parties.get_row_at(0)[0].plain == "CNRP"
        quotients = screen.query_one("#quotients", DataTable)
        assert [c.label.plain for c in quotients.columns.values()] == [
            "÷",
            "CNRP",
            "CPP",
            "FUNCINPEC",
        ]
        assert quotients.row_count == 12  # 11 seats and the next divisor
        assert quotients.get_row_at(6)[1].plain == "◇ 51,837"  # CNRP's 7th: next in line
        assert quotients.get_row_at(4)[2].plain == "◆ 51,963"  # CPP's 5th: the last seat
        margin = str(screen.query_one("#margin").render())
        assert "CNRP needs 885 more votes to take the 11th seat from CPP" in margin
        assert "CPP could lose 631 votes and keep it" in margin
        history = str(screen.query_one("#history-lines").render())
        assert "Kandal CPP +9,816" in history
        # Live while open: a new poll updates the screen.
        feed_server.set(scenario.THIRD)
        await scenario.poll(app)
        await pilot.pause()
        assert "correction" in str(screen.query_one("#history-lines").render())


async def test_help_lists_every_binding(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        active = dict(app.screen.active_bindings)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.markdown
        for binding in active.values():
            if binding.binding.show:
                assert binding.binding.description in text, binding.binding
        for key in ("`Enter`", "`Esc`", "`j`", "`k`", "`?`", "`q`", "`↑ / ↓`"):
            assert key in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_good_then_500_then_garbage_keeps_the_good_numbers(
    feed_server: FeedServer,
) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        assert cell(app, "Kandal", "v:CNRP") == "340,000"
        assert "nec: ok" in status(app)

        feed_server.set("upstream exploded", status=500)
        await scenario.poll(app)
        await pilot.pause()
        assert "FAILING" in status(app) and "HTTP 500" in status(app)
        assert cell(app, "Kandal", "v:CNRP") == "340,000"

        feed_server.set(b"\x00\xffgarbage<html>[bold]not a feed")
        await scenario.poll(app)
        await pilot.pause()
        assert "FAILING" in status(app) and "not valid utf-8 at byte offset 1" in status(app)
        assert cell(app, "Kandal", "v:CNRP") == "340,000"
        assert "Traceback" not in status(app)

        feed_server.set(scenario.SECOND)
        await scenario.poll(app)
        await pilot.pause()
        assert "nec: ok" in status(app)
        assert cell(app, "Kandal", "v:CNRP") == "▲ 362,858"


async def test_names_are_data_not_markup(feed_server: FeedServer) -> None:
    body = (
        "province,party,votes,seats,reporting\n"
        "[bold red]x[/],[link=http://evil]P[/link],10,1,1\n"
        "[bold red]x[/],B,5,1,1\n"
    )
    feed_server.set(body)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        assert cell(app, "[bold red]x[/]", "name") == "[bold red]x[/]"
        party_lines = app.main.query_one(PartyPane).lines_text
        assert any("[link=http://evil]" in line for line in party_lines)
        await pilot.press("enter")
        await pilot.pause()
        assert "[bold red]x[/]" in str(app.screen.query_one("#title").render())


async def test_command_palette_opens_a_unit_by_name(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "takeo":
            await pilot.press(ch)
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProvinceScreen) and app.screen.unit == "Takeo"


def test_status_line_says_stale_and_when_it_tries_again() -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from nightdesk.polling import SourceHealth, SourceState
    from tui.widgets.status_bar import status_text

    source = scenario.config("http://127.0.0.1:9").sources[0]  # interval 3600 s
    zone = ZoneInfo("Asia/Phnom_Penh")
    ok = SourceState(source, health=SourceHealth(last_success=scenario.NOW))
    assert status_text(ok, zone, scenario.NOW).plain == "nec: ok · last good 19:34:00"
    later = scenario.NOW + timedelta(hours=4)
    assert status_text(ok, zone, later).plain.startswith(
        "nec: STALE · last good 19:34:00 (4 h 00 min ago)"
    )
    failing = SourceState(
        source,
        health=SourceHealth(
            last_success=scenario.NOW,
            last_error="HTTP 502 Bad Gateway from http://x/",
            failures=3,
            next_attempt=scenario.NOW + timedelta(seconds=40),
        ),
    )
    assert status_text(failing, zone, scenario.NOW).plain == (
        "nec: FAILING · last good 19:34:00 (<1 min ago) · next try 19:34:40 · "
        "HTTP 502 Bad Gateway from http://x/"
    )


async def test_margin_column_sorts_closest_first_and_back(feed_server: FeedServer) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        table = app.main.query_one(ResultsTable).table
        assert table.rows == ["Kandal", "Kep", "Takeo"]
        assert cell(app, "Kandal", "margin") == "CNRP +885"
        await pilot.press("down", "down")  # cursor on Takeo
        await pilot.press("m")
        await pilot.pause()
        rows = table.rows
        needed = {u: app.result.allocation.last_seat[u].votes_needed for u in rows}
        assert list(needed.values()) == sorted(needed.values())
        assert table.cursor_unit == "Takeo"
        # Sorted order survives a poll.
        feed_server.set(scenario.THIRD)
        await scenario.poll(app)
        await pilot.pause()
        rows = table.rows
        needed = {u: app.result.allocation.last_seat[u].votes_needed for u in rows}
        assert list(needed.values()) == sorted(needed.values())
        await pilot.press("m")
        await pilot.pause()
        assert table.rows == ["Kandal", "Kep", "Takeo"]


async def test_bubble_screen_lists_closest_seats_and_what_if(feed_server: FeedServer) -> None:
    from tui.bubble_screen import BubbleScreen

    feed_server.set(scenario.THIRD)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(120, 40)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, BubbleScreen)
        table = screen.query_one(DataTable)
        first = [c.plain for c in table.get_row_at(0)]
        assert first == ["Kandal", "CPP", "CNRP", "166", "118"]
        what_if = str(screen.query_one("#what-if").render())
        assert "Now:  CPP 10  CNRP 10" in what_if
        assert "If the closest 1 flipped:  CPP 9  CNRP 11" in what_if
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ProvinceScreen) and app.screen.unit == "Kandal"


async def test_party_pane_shows_decided_and_provisional_seats(feed_server: FeedServer) -> None:
    def party_lines(app) -> list[str]:  # type: ignore[no-untyped-def]
        return app.main.query_one(PartyPane).lines_text

    feed_server.set(scenario.feed({"Kandal": (250_000, 340_000, 9_000)}, reporting=0.5))
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        lines = party_lines(app)
        cnrp = next(line for line in lines if line.startswith("CNRP"))
        assert " 0+6 " in cnrp  # half counted, electorate unknown: nothing is sure yet
        assert any("Seats: decided+provisional" in line for line in lines)
        feed_server.set(scenario.feed({"Kandal": (250_000, 340_000, 9_000)}, reporting=1.0))
        await scenario.poll(app)
        await pilot.pause()
        lines = party_lines(app)
        cnrp = next(line for line in lines if line.startswith("CNRP"))
        assert "      6 " in cnrp  # all counted: every seat decided
        assert not any("decided+provisional" in line for line in lines)
