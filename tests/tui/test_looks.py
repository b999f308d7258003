"""Looks: party colours (config, feed, palette), share bars, and names in any script aligned
by terminal cells (Rich's count), read from what the widgets actually draw."""

from __future__ import annotations

import logging

import pandas as pd
import pytest
from rich.cells import cell_len
from textual.color import Color

from nightdesk import config as cfg
from nightdesk.errors import ConfigError
from tests.conftest import FeedServer
from tests.tui import scenario
from tui.colours import PALETTE, palette, parse, party_colours
from tui.formatting import EIGHTHS, FULL, bar, fit
from tui.widgets.party_pane import FIXED, PartyPane, bar_width, dropped
from tui.widgets.results_table import ResultsTable

KHMER_UNITS = ["ភ្នំពេញ", "កណ្ដាល", "Bắc Ninh", "Ñuñoa", "Siem Reap"]
#: Party names in Khmer (combining marks), Vietnamese (precomposed) and a decomposed é.
KHMER_PARTIES = ["ប្រជាជន", "Sơn Hà", "Cafe\u0301"]


def with_colours(url: str, colours: str) -> cfg.Config:
    """The scenario's config with a ``[colours]`` table added."""
    return cfg.parse(scenario.toml(url) + "\n[colours]\n" + colours)


# -- colours from the config ---------------------------------------------------------------


def test_colours_are_read_from_the_config_by_party_id_or_name() -> None:
    config = with_colours("http://127.0.0.1:9", 'CPP = "#1f4e9c"\n"CNRP" = "dark_orange"\n')
    assert config.colours == {"CPP": "#1f4e9c", "CNRP": "dark_orange"}


@pytest.mark.parametrize(
    ("value", "shown"),
    [('"not a colour!"', "'not a colour!'"), ("3", "3"), ('"#12345"', "'#12345'")],
)
def test_a_bad_colour_is_a_config_error_naming_the_key_and_line(value: str, shown: str) -> None:
    text = scenario.toml("http://127.0.0.1:9") + f'\n[colours]\nCPP = "red"\nCNRP = {value}\n'
    with pytest.raises(ConfigError) as caught:
        cfg.parse(text)
    error = caught.value
    line = text.splitlines().index(f"CNRP = {value}") + 1
    assert error.key == "colours.CNRP" and error.line == line
    assert f"got {shown}" in str(error) and f":{line}:" in str(error)


def test_a_colour_is_read_in_textual_or_rich_syntax() -> None:
    assert parse("#1f4e9c") == Color(31, 78, 156)
    assert parse("rgb(31, 78, 156)") == Color(31, 78, 156)
    assert parse("red") == Color(255, 0, 0)
    assert parse("dark_orange") is not None  # a Rich name, unknown to Textual's CSS
    assert parse("ansi_red") is not None and parse("ansi_red").ansi == 1  # type: ignore[union-attr]
    assert parse("blurple") is None


def _parties(**colour: str) -> pd.DataFrame:
    ids = ["CPP", "CNRP", "FUNCINPEC", "KRP"]
    return pd.DataFrame(
        {
            "name": ["Cambodian People's Party", "Cambodia National Rescue Party", "FUNCINPEC",
                     "Khmer Republican Party"],
            "short_name": ["CPP", "CNRP", pd.NA, pd.NA],
            "colour": [colour.get(i, pd.NA) for i in ids],
            "called": pd.NA,
        },
        index=pd.Index(ids, name="party"),
    )  # fmt: skip


def test_config_colours_win_then_the_feeds_then_the_palette_by_feed_order(caplog) -> None:  # type: ignore[no-untyped-def]
    parties = _parties(CNRP="#ff8800", FUNCINPEC="#00ff00")
    configured = {"CPP": "#1f4e9c", "Cambodia National Rescue Party": "orange", "KRP": "blurple"}
    with caplog.at_level(logging.WARNING, logger="nightdesk.tui.colours"):
        colours = party_colours(parties, configured)
    assert colours["CPP"] == Color(31, 78, 156)  # by id
    assert colours["CNRP"] == parse("orange")  # by name, over the feed's own
    assert colours["FUNCINPEC"] == Color(0, 255, 0)  # the feed's
    assert colours["KRP"] == palette(3)  # unknown name: the palette, and a log line
    assert any("colours.KRP" in r.getMessage() and "blurple" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    # The palette goes by the feed's party order, not by votes: a party keeps its colour.
    plain = party_colours(_parties(), {})
    assert [plain[p] for p in ("CPP", "CNRP", "FUNCINPEC", "KRP")] == [palette(i) for i in range(4)]


def _contrast(a: Color, b: Color) -> float:
    def luminance(c: Color) -> float:
        def channel(v: int) -> float:
            x = v / 255
            return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b)

    low, high = sorted((luminance(a), luminance(b)))
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("background", ["#121212", "#E0E0E0"], ids=["dark", "light"])
def test_the_palette_reads_on_dark_and_light_backgrounds(background: str) -> None:
    assert len(set(PALETTE)) == len(PALETTE) >= 8
    for colour in PALETTE:
        assert _contrast(Color.parse(colour), Color.parse(background)) >= 3.0, colour


async def test_the_party_pane_draws_each_bar_in_its_partys_colour(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    config = with_colours(feed_server.url, 'CNRP = "#ff8800"\nFUNCINPEC = "blurple"\n')
    app = scenario.app(feed_server.url, config_=config)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        pane = app.main.query_one(PartyPane)
        assert pane.colours == {"CPP": palette(0), "CNRP": Color(255, 136, 0),
                                "FUNCINPEC": palette(2)}  # fmt: skip
        strip = pane.lines.render_line(2)  # CNRP's bar, on the line under CNRP (most votes)
        blocks = [
            s for s in strip if s.text.strip() and s.text.strip()[0] in FULL + "".join(EIGHTHS)
        ]
        assert blocks and blocks[0].style is not None
        assert blocks[0].style.color is not None
        assert blocks[0].style.color.triplet == (255, 136, 0)


# -- share bars ------------------------------------------------------------------------------


def _eighths(drawn: str) -> int:
    return sum(8 if c == FULL else EIGHTHS.index(c) for c in drawn if c != " ")


def test_a_bar_is_as_long_as_its_share_in_eighths_of_a_cell() -> None:
    assert bar(0.5, 10) == FULL * 5 + " " * 5
    assert bar(1.0, 4) == FULL * 4
    assert bar(0.535, 5) == FULL * 2 + "▋  "  # 21.4 eighths → 21
    assert bar(0.001, 5) == "▏    "  # above zero: a sliver, never nothing
    assert bar(0.0, 5) == bar(None, 5) == " " * 5
    for share in (0.0, 0.07, 0.25, 0.449, 0.5, 0.91, 1.0):
        assert cell_len(bar(share, 13)) == 13
        assert abs(_eighths(bar(share, 13)) - share * 13 * 8) <= 0.5


def test_the_bar_takes_what_the_numbers_leave() -> None:
    assert bar_width(FIXED) == 0  # the narrowest side pane: numbers only
    assert bar_width(47) == 5  # 80×24 and 160×48: the side pane's 47 cells
    assert bar_width(69) == 27
    assert bar_width(500) == 40
    assert bar_width(69, sources=2) == 15  # each source's seats column takes 6
    assert bar_width(47, sources=1) == 0


@pytest.mark.parametrize(
    ("size", "inline"), [((80, 24), True), ((160, 48), False)], ids=["80x24", "160x48"]
)
async def test_share_bars_in_the_party_pane_are_proportional_to_share(
    feed_server: FeedServer, size: tuple[int, int], inline: bool
) -> None:
    """80×24: on the party's line (5 cells); 160×48: on a line of its own (41 cells)."""
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=size) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        pane = app.main.query_one(PartyPane)
        width = pane.lines.size.width
        lines = pane.lines_text
        assert all(cell_len(line) <= width for line in lines)
        cells = bar_width(width)
        assert (cells == 5) if inline else (cells == 0 and width == FIXED)
        start = FIXED - 7 - 9 + 1  # after name, votes and share, and a blank
        party_lines = [line for line in lines[1:] if line.split()[0] in scenario.PARTIES]
        assert len(party_lines) == 3
        for line in party_lines:
            share = float(line.split()[2].rstrip("%")) / 100
            if inline:
                drawn, length = line[start : start + cells], cells
            else:
                drawn, length = lines[lines.index(line) + 1], width
                assert set(drawn) <= set(FULL + "".join(EIGHTHS))  # the next line: its bar
            assert abs(_eighths(drawn) - share * length * 8) <= 0.5, line
        if inline:  # the heading keeps the columns over the numbers
            assert lines[0].index("Seats") > start + cells - 1


# -- seats per source, side by side (COMPARE calls this) --------------------------------------


def test_sources_side_by_side_leave_out_the_change_then_the_votes_when_narrow() -> None:
    assert dropped(41, 0) == frozenset()
    assert dropped(80, 2) == frozenset()  # 41 + 2 × 6
    assert dropped(47, 1) == frozenset()  # 41 + 6
    assert dropped(46, 1) == {"change"}
    assert dropped(47, 2) == {"change"}  # 80×24: 32 + 12 ≤ 47
    assert dropped(41, 2) == {"change", "votes"}  # 160×48: 23 + 12 ≤ 41
    assert bar_width(47, 1, frozenset({"change"})) == 8


CLAIMS = {"nec": {"CPP": 68, "CNRP": 55}, "cnrp-claim": {"CNRP": 63, "Independents": 2}}


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_show_sources_puts_each_sources_seats_beside_ours(
    feed_server: FeedServer, size: tuple[int, int]
) -> None:
    feed_server.set(scenario.SECOND)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=size) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        pane = app.main.query_one(PartyPane)
        before = pane.lines_text
        pane.show_sources(CLAIMS)
        await pilot.pause()
        lines = pane.lines_text
        width = pane.lines.size.width
        heading = lines[0].split()
        assert heading[heading.index("Seats") + 1 :] == ["nec", "cnrp…"]
        assert ("Votes" in heading) is (size == (80, 24))  # a narrow pane leaves them out
        assert "Change" not in heading
        cnrp = next(line for line in lines if line.startswith("CNRP")).split()
        assert cnrp[-3:] == ["0+10", "55", "63"]  # ours, then each source's
        fun = next(line for line in lines if line.startswith("FUNCINPEC")).split()
        assert fun[-2:] == ["—", "—"]  # no seats claimed in either source
        # A party only a source knows is listed, never dropped.
        assert any(line.startswith("Indepen") and line.split()[-2:] == ["—", "2"]
                   for line in lines)  # fmt: skip
        rows = [line for line in lines if line.split()[0].rstrip("…").isalpha()]
        assert len(rows) == 5 and {cell_len(line) for line in rows} == {cell_len(rows[0])}
        assert all(cell_len(line) <= width for line in rows)  # nothing cut off
        pane.show_sources(None)
        await pilot.pause()
        assert pane.lines_text == before


# -- names in any script, aligned by cells -----------------------------------------------------


def khmer_feed() -> str:
    rows = ["province,party,votes,seats,reporting"]
    for i, unit in enumerate(KHMER_UNITS):
        for j, party in enumerate(KHMER_PARTIES):
            rows.append(f"{unit},{party},{(i + 1) * 123_457 + j * 1_000_003},{i + 2},0.5")
    return "\n".join(rows) + "\n"


def test_fit_pads_and_cuts_by_cells_never_mid_cluster() -> None:
    assert cell_len("ភ្នំពេញ") == 4 and len("ភ្នំពេញ") == 7
    assert fit("ភ្នំពេញ", 6) == "ភ្នំពេញ  "
    assert fit("ភ្នំពេញ", 6, "right") == "  ភ្នំពេញ"
    assert fit("ភ្នំពេញ", 3) == "ភ្នំ…"  # the marks stay with their letters
    assert not fit("កណ្ដាល", 3).rstrip("…").endswith("\u17d2")  # never a dangling subscript sign
    for text in ("ភ្នំពេញ", "កណ្ដាល", "Bắc Ninh", "Cafe\u0301", "中文名字"):
        for width in range(1, 10):
            assert cell_len(fit(text, width)) == width


async def test_khmer_and_accented_names_line_up_by_cells(feed_server: FeedServer) -> None:
    feed_server.set(khmer_feed())
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        # The party pane: every party line as wide as the pane, the numbers' right edges in
        # the same cell on every line.
        pane = app.main.query_one(PartyPane)
        width = pane.lines.size.width
        strips = [pane.lines.render_line(y) for y in range(len(pane.lines_text))]
        assert all(s.cell_length == width for s in strips)
        drawn = ["".join(seg.text for seg in s) for s in strips]
        party_rows = [row for row in drawn[1:] if "%" in row]
        assert len(party_rows) == len(KHMER_PARTIES)
        assert {p.split()[0] for p in party_rows} >= {"ប្រជាជន", "Cafe\u0301"}
        votes_end = {_cell_end(row, _votes(row)) for row in party_rows}
        assert len(votes_end) == 1 and votes_end == {FIXED - 7 - 9 - 6}
        share_end = {_cell_end(row, _share(row)) for row in party_rows}
        assert share_end == {FIXED - 7 - 9}
        # The provinces table: every row as wide as the table, each vote column ends in the
        # same cell on every row.
        table = app.main.query_one(ResultsTable).table
        rows = [table.render_line(y) for y in range(1 + len(KHMER_UNITS))]
        assert len({s.cell_length for s in rows}) == 1
        texts = ["".join(seg.text for seg in s) for s in rows]
        assert {t.split()[0] for t in texts[1:]} >= {"ភ្នំពេញ", "កណ្ដាល", "Bắc", "Ñuñoa"}
        for key in table.column_keys:
            if not key.startswith("v:"):
                continue
            ends = {_cell_end(t, table.cell_text(u, key).split()[-1])
                    for t, u in zip(texts[1:], KHMER_UNITS, strict=True)}  # fmt: skip
            assert len(ends) == 1, key


def _share(row: str) -> str:
    return next(w for w in row.split() if w.endswith("%"))


def _votes(row: str) -> str:
    return next(w for w in row.split() if "," in w)


def _cell_end(row: str, word: str) -> int:
    """The cell just past ``word`` in ``row`` (its first occurrence after the name)."""
    at = row.index(word, 1)
    return cell_len(row[: at + len(word)])
