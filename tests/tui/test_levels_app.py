"""Units within units on screen: Enter goes down a level, Esc comes back; several races."""

from __future__ import annotations

from nightdesk import config as cfg
from tests.conftest import FeedServer
from tests.tui import scenario
from tui.main_screen import MainScreen
from tui.province_screen import ProvinceScreen
from tui.widgets.changes_pane import ChangesPane
from tui.widgets.election_header import ElectionHeader
from tui.widgets.party_pane import PartyPane
from tui.widgets.results_table import ResultsTable
from tui.widgets.status_bar import StatusBar

# Georgia → two counties → precincts; the state and county rows carry no votes (the engine
# adds them up). Wide: a column per candidate.
TREE = """unit,name,parent,Warnock,Walker
GA,Georgia,,,
GA/Fulton,Fulton,GA,,
GA/Cobb,Cobb,GA,,
GA/Fulton/01,Precinct 01,GA/Fulton,500,100
GA/Fulton/02,Precinct 02,GA/Fulton,400,200
GA/Cobb/01,Precinct 01,GA/Cobb,300,350
GA/Cobb/02,Precinct 02,GA/Cobb,,
"""
# Cobb's second precinct reports.
TREE_2 = TREE.replace("GA/Cobb/02,Precinct 02,GA/Cobb,,", "GA/Cobb/02,Precinct 02,GA/Cobb,10,90")


def tree_config(url: str) -> cfg.Config:
    return cfg.parse(
        f"""
[election]
name = "Georgia runoff (test night)"
timezone = "America/New_York"
seats_method = "fptp"
[election.seats]
"GA" = 1

[[sources]]
name = "sos"
url = "{url}/results.csv"
format = "csv"
interval = 3600

[sources.columns]
unit = "unit"
name = "name"
parent = "parent"
parties = ["Warnock", "Walker"]
"""
    )


def rows(app) -> list[str]:  # type: ignore[no-untyped-def]
    return app.main.query_one(ResultsTable).rows


def crumbs(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.main.query_one("#crumbs").render())


async def test_drill_from_state_to_county_to_precinct_and_back(feed_server: FeedServer) -> None:
    feed_server.set(TREE)
    app = scenario.app(feed_server.url, config_=tree_config(feed_server.url))
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        table = app.main.query_one(ResultsTable)
        assert rows(app) == ["GA"]  # the top level only
        assert table.cell_text("GA", "v:Warnock") == "1,200"  # rolled up from the precincts
        assert table.cell_text("GA", "name") == "Georgia ›"
        assert crumbs(app).startswith("All units")
        # National totals count each vote once (not state + counties + precincts).
        assert "1,200" in " ".join(app.main.query_one(PartyPane).lines_text)

        await pilot.press("enter")  # into Georgia
        await pilot.pause()
        assert rows(app) == ["GA/Fulton", "GA/Cobb"]
        assert crumbs(app).startswith("All units › Georgia")
        assert table.cell_text("GA/Fulton", "v:Warnock") == "900"

        await pilot.press("down", "enter")  # into Cobb
        await pilot.pause()
        assert rows(app) == ["GA/Cobb/01", "GA/Cobb/02"]
        assert crumbs(app).startswith("All units › Georgia › Cobb")
        assert table.cell_text("GA/Cobb/02", "v:Walker") == "—"  # not reported yet

        # A poll while down in a county: the table stays at that level and updates.
        feed_server.set(TREE_2)
        await scenario.poll(app)
        await pilot.pause()
        assert rows(app) == ["GA/Cobb/01", "GA/Cobb/02"]
        assert table.cell_text("GA/Cobb/02", "v:Walker") == "▲ 90"

        await pilot.press("down", "enter")  # a precinct is a leaf: its own screen
        await pilot.pause()
        assert isinstance(app.screen, ProvinceScreen)
        assert app.screen.unit == "GA/Cobb/02"

        await pilot.press("escape")  # back to the precincts
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert rows(app) == ["GA/Cobb/01", "GA/Cobb/02"]

        await pilot.press("escape")  # up to the counties, the cursor on Cobb
        await pilot.pause()
        assert rows(app) == ["GA/Fulton", "GA/Cobb"]
        assert table.cursor_unit == "GA/Cobb"
        assert table.cell_text("GA/Cobb", "v:Walker") == "▲ 440"

        await pilot.press("escape")  # up to the state
        await pilot.pause()
        assert rows(app) == ["GA"]
        assert app.main.level is None
        await pilot.press("escape")  # at the top, Esc does nothing
        await pilot.pause()
        assert rows(app) == ["GA"]
        assert isinstance(app.screen, MainScreen)


async def test_a_flat_feed_shows_no_path(feed_server: FeedServer) -> None:
    feed_server.set(scenario.FIRST)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        assert not app.main.query_one("#crumbs").display
        assert app.main.query_one(ResultsTable).cell_text("Kandal", "name") == "Kandal"


# Two races in one table (office column): the picker switches between them.
RACES = """office,county,candidate,votes
Senate,Fulton,Warnock,500
Senate,Fulton,Walker,100
Senate,Cobb,Warnock,300
Senate,Cobb,Walker,350
Governor,Fulton,Abrams,450
Governor,Fulton,Kemp,150
Governor,Cobb,Abrams,280
Governor,Cobb,Kemp,380
"""


def race_config(url: str) -> cfg.Config:
    return cfg.parse(
        f"""
[election]
name = "Georgia general (test night)"
timezone = "America/New_York"
seats_method = "fptp"

[[sources]]
name = "sos"
url = "{url}/results.csv"
format = "csv"
interval = 3600

[sources.columns]
unit = "county"
party = "candidate"
votes = "votes"
race = "office"
"""
    )


async def test_w_switches_the_race_and_the_status_line_says_which(
    feed_server: FeedServer,
) -> None:
    feed_server.set(RACES)
    app = scenario.app(feed_server.url, config_=race_config(feed_server.url))
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        races = app.races()
        assert [name for _, name in races] == ["Senate", "Governor"]
        status = " ".join(app.main.query_one(StatusBar).lines_text)
        assert "race 1 of 2: Senate" in status
        table = app.main.query_one(ResultsTable)
        assert table.cell_text("Fulton", "v:Warnock") == "500"

        await pilot.press("w")
        await pilot.pause()
        await pilot.press(*"governor")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.watched == races[1][0]
        assert table.cell_text("Fulton", "v:Abrams") == "450"
        status = " ".join(app.main.query_one(StatusBar).lines_text)
        assert "race 2 of 2: Governor" in status
        assert app.main.query_one(ChangesPane).lines_text == []
        assert not app.main.query_one(ElectionHeader).lines_text[0].count("TEST")


def test_the_unit_screen_shows_the_votes_by_vote_type() -> None:
    from zoneinfo import ZoneInfo

    import pandas as pd

    from nightdesk.config import ElectionConfig
    from nightdesk.model import Snapshot
    from nightdesk.results import assess
    from tui.province_screen import vote_types_text

    ids = ["Fulton", "Cobb"]
    snap = Snapshot.build(
        source="t",
        votes=pd.DataFrame({"Warnock": [900, 300], "[bold]Walker": [300, 350]}, index=ids),
        vote_types={
            "Election Day Votes": pd.DataFrame(
                {"Warnock": [600, 100], "[bold]Walker": [200, 300]}, index=ids
            ),
            "Absentee by Mail Votes": pd.DataFrame(
                {"Warnock": [300, 200], "[bold]Walker": [100, 50]}, index=ids
            ),
        },
    )
    result = assess(snap, None, ElectionConfig(name="t", timezone=ZoneInfo("UTC")))
    lines = vote_types_text(result, "Fulton").plain.splitlines()
    assert lines[0] == "By vote type"
    assert "Election Day" in lines[1] and "Absentee by Mai" in lines[1]
    assert lines[2].split() == ["Warnock", "600", "300"]
    assert lines[3].split() == ["[bold]Walker", "200", "100"]  # markup shown literally
    assert vote_types_text(result, "Nowhere").plain == ""
