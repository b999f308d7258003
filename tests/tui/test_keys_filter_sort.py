"""``/`` filters the units by name, ``s`` / ``S`` / ``o`` / ``m`` sort them: pilot tests
against a real local feed, through polls and levels."""

from __future__ import annotations

from textual.widgets import Input

from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_levels_app import TREE, TREE_2, tree_config
from tui.main_screen import MainScreen
from tui.table_data import fold
from tui.widgets.filter_bar import FilterBar
from tui.widgets.results_table import ResultsTable

# Names a desk types without their accents; 24 units in all.
NAMES = ["Kép", "Kampot", "Takéo", "Bắc Ninh", "Đồng Tháp", "KEP Nord"]


def accented_feed(cpp_kep: int = 9_000, extra: int = 18) -> str:
    lines = ["province,party,votes,seats,reporting"]
    for i, name in enumerate(NAMES):
        counts = (cpp_kep if i == 0 else 10_000 + 1_000 * i, 8_000 - 500 * i, 100 * i)
        for party, n in zip(scenario.PARTIES, counts, strict=True):
            lines.append(f"{name},{party},{n},3,{0.1 * (i + 1):.1f}")
    for i in range(extra):
        for party, n in zip(scenario.PARTIES, (1_000 + i, 900, 10), strict=True):
            lines.append(f"Filler {i:02d},{party},{n},1,1")
    return "\n".join(lines) + "\n"


def table(app) -> ResultsTable:  # type: ignore[no-untyped-def]
    return app.main.query_one(ResultsTable)


def count_text(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.main.query_one("#filter-count").render())


def header_text(app) -> str:  # type: ignore[no-untyped-def]
    t = table(app)
    return t.render_line(0).text


def test_fold_ignores_case_and_accents_but_keeps_khmer() -> None:
    assert fold("Kép") == "kep"
    assert fold("Bắc Ninh") == "bac ninh"
    assert fold("Đồng Tháp") == "dong thap"
    assert fold("Ñuñoa") == "nunoa"
    assert fold("កណ្តាល") != ""  # Khmer letters stay letters
    assert fold("ភ្នំពេញ")[:1] == "ភ"


async def test_slash_filters_as_you_type_enter_keeps_esc_clears(
    feed_server: FeedServer,
) -> None:
    feed_server.set(accented_feed())
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        t = table(app)
        assert t.row_count == 24
        bar = app.main.query_one(FilterBar)
        assert not bar.display or not bar.is_open  # hidden until /
        await pilot.press("down", "down", "down")  # the cursor on Bắc Ninh
        await pilot.press("slash")
        await pilot.pause()
        assert bar.is_open and isinstance(app.focused, Input)
        await pilot.press(*"kep")
        await pilot.pause()
        # "kep" finds Kép and KEP Nord: case and accents ignored.
        assert t.rows == ["Kép", "KEP Nord"]
        assert count_text(app) == "2 of 24 units"
        # Typed letters go to the filter, never to the keys of the app (q, p, s, …).
        await pilot.press("backspace", "backspace", "backspace", *"bac")
        await pilot.pause()
        assert t.rows == ["Bắc Ninh"] and count_text(app) == "1 of 24 units"
        await pilot.press("backspace", "backspace", "backspace", *"k")
        await pilot.pause()
        assert t.rows == ["Kép", "Kampot", "Takéo", "KEP Nord"]
        await pilot.press("enter")  # keep the filter, back to the table
        await pilot.pause()
        assert app.focused is t
        assert bar.is_open and bar.text == "k"
        assert t.rows == ["Kép", "Kampot", "Takéo", "KEP Nord"]
        # The footer offers Esc to clear it (before "Up a level").
        active = app.screen.active_bindings
        assert active["escape"].binding.id == "main.clear-filter"
        await pilot.press("home", "down")  # cursor on Kampot
        await pilot.press("escape")
        await pilot.pause()
        assert not bar.is_open and t.row_count == 24
        assert t.cursor_unit == "Kampot"  # the cursor keeps its unit
        assert app.focused is t


async def test_esc_in_the_filter_clears_it(feed_server: FeedServer) -> None:
    feed_server.set(accented_feed())
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("slash", *"filler 1")
        await pilot.pause()
        assert len(table(app).rows) == 8  # Filler 10 to 17
        await pilot.press("escape")
        await pilot.pause()
        assert table(app).row_count == 24
        assert not app.main.query_one(FilterBar).is_open
        assert isinstance(app.screen, MainScreen)


async def test_the_filter_survives_polls(feed_server: FeedServer) -> None:
    feed_server.set(accented_feed())
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("slash", *"kep", "enter")
        await pilot.pause()
        feed_server.set(accented_feed(cpp_kep=9_500))
        await scenario.poll(app)
        await pilot.pause()
        t = table(app)
        assert t.rows == ["Kép", "KEP Nord"]
        assert t.cell_text("Kép", "v:CPP") == "▲ 9,500"  # the diff update reached it
        assert count_text(app) == "2 of 24 units"
        # A unit that appears and matches shows up; one that does not stays hidden.
        feed_server.set(accented_feed(cpp_kep=9_500, extra=20))
        await scenario.poll(app)
        await pilot.pause()
        assert t.rows == ["Kép", "KEP Nord"]
        assert count_text(app) == "2 of 26 units"


async def test_the_filter_works_inside_a_level(feed_server: FeedServer) -> None:
    feed_server.set(TREE)
    app = scenario.app(feed_server.url, config_=tree_config(feed_server.url))
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("enter", "down", "enter")  # Georgia › Cobb
        await pilot.pause()
        t = table(app)
        assert t.rows == ["GA/Cobb/01", "GA/Cobb/02"]
        await pilot.press("slash", *"02", "enter")
        await pilot.pause()
        assert t.rows == ["GA/Cobb/02"]
        assert count_text(app) == "1 of 2 units"
        feed_server.set(TREE_2)
        await scenario.poll(app)
        await pilot.pause()
        assert t.rows == ["GA/Cobb/02"]
        assert t.cell_text("GA/Cobb/02", "v:Walker") == "▲ 90"
        # Esc clears the filter first, then goes up a level.
        await pilot.press("escape")
        await pilot.pause()
        assert t.rows == ["GA/Cobb/01", "GA/Cobb/02"]
        await pilot.press("escape")
        await pilot.pause()
        assert t.rows == ["GA/Fulton", "GA/Cobb"]


async def test_s_cycles_the_columns_and_back_to_the_feed_order(feed_server: FeedServer) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        t = table(app)
        assert t.rows == ["Kandal", "Kep", "Takeo"] and t.sorted_by is None
        seen = []
        for _ in t.column_keys:
            await pilot.press("s")
            await pilot.pause()
            seen.append((t.sorted_by, t.descending))
        assert [key for key, _ in seen] == t.column_keys
        assert dict(seen)["name"] is False  # names A–Z first
        assert dict(seen)["margin"] is False  # the closest last seat first
        assert dict(seen)["v:CPP"] is True  # the most votes first
        await pilot.press("s")  # after the last column: the feed's order
        await pilot.pause()
        assert t.sorted_by is None and t.rows == ["Kandal", "Kep", "Takeo"]
        assert "▲" not in header_text(app) and "▼" not in header_text(app)


async def test_sort_direction_header_arrow_and_feed_order(feed_server: FeedServer) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        t = table(app)
        await pilot.press("s")  # by name, A–Z
        await pilot.pause()
        assert t.sorted_by == "name" and t.rows == ["Kandal", "Kep", "Takeo"]
        assert "Unit ▲" in header_text(app)
        await pilot.press("S")  # Z–A
        await pilot.pause()
        assert t.rows == ["Takeo", "Kep", "Kandal"]
        assert "Unit ▼" in header_text(app)
        await pilot.press("s")  # reporting, then the first party's votes
        await pilot.press("s")
        await pilot.pause()
        key = t.sorted_by
        assert key is not None and key.startswith("v:")
        votes = [int(t.cell_text(u, key).strip("▲ ").replace(",", "")) for u in t.rows]
        assert votes == sorted(votes, reverse=True)
        assert "▼" in header_text(app)
        await pilot.press("S")
        await pilot.pause()
        votes = [int(t.cell_text(u, key).strip("▲ ").replace(",", "")) for u in t.rows]
        assert votes == sorted(votes)
        assert "▲" in header_text(app)
        # The cursor keeps its unit through every sort.
        unit = t.cursor_unit
        await pilot.press("o")  # the feed's order at once
        await pilot.pause()
        assert t.sorted_by is None and t.rows == ["Kandal", "Kep", "Takeo"]
        assert t.cursor_unit == unit


async def test_m_sorts_by_margin_with_its_arrow_and_s_goes_on_from_there(
    feed_server: FeedServer,
) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        t = table(app)
        await pilot.press("m")
        await pilot.pause()
        assert t.sorted_by == "margin" and not t.descending
        assert "Last seat ▲" in header_text(app)
        await pilot.press("s")  # the next column after the margin: Change
        await pilot.pause()
        assert t.sorted_by == "change"
        await pilot.press("m", "m")  # margin, then the feed's order
        await pilot.pause()
        assert t.sorted_by is None and t.rows == ["Kandal", "Kep", "Takeo"]


async def test_a_sort_survives_polls_and_a_filter(feed_server: FeedServer) -> None:
    feed_server.set(accented_feed())
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        t = table(app)
        await pilot.press("s", "s", "s")  # the first party's votes, largest first
        await pilot.pause()
        key = t.sorted_by
        assert key == "v:CPP"
        await pilot.press("slash", *"k", "enter")
        await pilot.pause()
        assert t.rows == ["KEP Nord", "Takéo", "Kampot", "Kép"]
        feed_server.set(accented_feed(cpp_kep=99_000))  # Kép jumps to the top
        await scenario.poll(app)
        await pilot.pause()
        assert t.rows == ["Kép", "KEP Nord", "Takéo", "Kampot"]
