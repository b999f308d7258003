"""Feed check findings on screen: the ⚠ mark on the unit's row, a line in the changes pane
when a finding appears (✓ when it clears, nothing while it lasts), and the province screen
saying what is wrong, with the numbers."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from textual.app import App, ComposeResult
from textual.widgets import Static

from nightdesk import config as cfg
from nightdesk.changelog import FOUND, Change
from nightdesk.config import ElectionConfig
from nightdesk.model import Snapshot
from nightdesk.polling import SourceHealth, SourceState
from nightdesk.results import assess
from tests.conftest import FeedServer
from tests.tui import scenario
from tests.tui.test_results_table import Clock, refreshed
from tui.app import NightdeskApp
from tui.province_screen import ProvinceScreen
from tui.widgets.changes_pane import FINDING_LINES, group_lines
from tui.widgets.results_table import ResultsTable

PARTIES = scenario.PARTIES
Figures = tuple[int, int, int]  # registered, valid, blank


def feed(units: dict[str, tuple[tuple[int, int, int], Figures]]) -> str:
    """A long CSV with registered voters, valid votes and blank ballots per province."""
    lines = ["province,party,votes,seats,reporting,registered,valid,blank"]
    for unit, (votes, (registered, valid, blank)) in units.items():
        for party, n in zip(PARTIES, votes, strict=True):
            seats = scenario.SEATS[unit]
            lines.append(f"{unit},{party},{n},{seats},0.5,{registered},{valid},{blank}")
    return "\n".join(lines) + "\n"


def config(url: str) -> cfg.Config:
    return cfg.parse(
        f"""
[election]
name = "Checks night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{url}/results.csv"
format = "csv"
interval = 3600
timeout = 3

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"
registered = "registered"
valid = "valid"
blank = "blank"
"""
    )


def monitor(url: str) -> NightdeskApp:
    return scenario.app(url, config_=config(url))


KEP = ((9_000, 5_000, 300), (20_000, 14_400, 100))
# Kandal: 600,000 party votes, 590,000 registered voters.
FIRST = feed(
    {
        "Kandal": ((250_000, 340_000, 10_000), (590_000, 600_000, 0)),
        "Kep": KEP,
        "Takeo": ((200_000, 190_000, 7_000), (500_000, 397_500, 500)),
    }
)
# Kandal's registered voters corrected (the finding clears); Takeo's valid votes fall
# below its party votes plus blank ballots (a new finding).
SECOND = feed(
    {
        "Kandal": ((250_000, 340_000, 10_000), (700_000, 600_000, 0)),
        "Kep": KEP,
        "Takeo": ((200_000, 190_000, 7_000), (500_000, 397_000, 500)),
    }
)
# Takeo still inconsistent, with new numbers: no new line, the province screen updates.
THIRD = feed(
    {
        "Kandal": ((250_100, 340_000, 10_000), (700_000, 600_100, 0)),
        "Kep": KEP,
        "Takeo": ((200_400, 190_000, 7_000), (500_000, 397_000, 500)),
    }
)


def pane_lines(app: NightdeskApp) -> list[str]:
    return scenario.count_lines(app)


def name_cell(app: NightdeskApp, unit: str) -> str:
    return app.main.query_one(ResultsTable).cell_text(unit, "name")


async def test_findings_are_marked_logged_once_and_cleared(feed_server: FeedServer) -> None:
    feed_server.set(FIRST)
    app = monitor(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        # The first poll: no changes yet, but the problem is shown at once.
        assert name_cell(app, "Kandal") == "⚠ Kandal"
        assert name_cell(app, "Kep") == "Kep" and name_cell(app, "Takeo") == "Takeo"
        assert pane_lines(app) == ["19:34:00 ⚠ Kandal votes 600,000 above registered 590,000"]

        feed_server.set(SECOND)
        await scenario.poll(app)
        await pilot.pause()
        assert name_cell(app, "Kandal") == "Kandal"
        assert name_cell(app, "Takeo") == "⚠ Takeo"
        lines = pane_lines(app)
        # Takeo's valid votes went down: a correction line, then the findings' own lines.
        assert any(line.startswith("19:34:00 ▼ Takeo valid") for line in lines)
        assert lines[-2:] == [
            "19:34:00 ⚠ Takeo votes 397,000 + blank 500 = 397,500 above valid 397,000",
            "19:34:00 ✓ Kandal cleared: more ballots than registered voters",
        ]
        # The lines read without colour, and the table row is marked on screen.
        screen_text = "\n".join(
            app.main.query_one(ResultsTable).render_line(y).text for y in range(1, 4)
        )
        assert "⚠ Takeo" in screen_text

        feed_server.set(THIRD)
        await scenario.poll(app)
        await pilot.pause()
        new = pane_lines(app)[len(lines) :]
        assert new and not any("⚠" in line or "✓" in line for line in new)  # persists
        assert name_cell(app, "Takeo") == "⚠ Takeo"

        table = app.main.query_one(ResultsTable)
        table.move_cursor(table.rows.index("Takeo"))
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProvinceScreen) and screen.unit == "Takeo"
        findings = screen.query_one("#findings", Static)
        assert findings.display
        assert str(findings.render()) == (
            "⚠ Party votes above valid votes: "
            "votes 397,400 + blank 500 = 397,900 above valid 397,000"
        )
        history = str(screen.query_one("#history-lines").render())
        assert "⚠ Takeo votes 397,000 + blank 500 = 397,500 above valid 397,000" in history

        # Fixed while the screen is open: the words go, the history says it cleared.
        feed_server.set(
            feed(
                {
                    "Kandal": ((250_100, 340_000, 10_000), (700_000, 600_100, 0)),
                    "Kep": KEP,
                    "Takeo": ((200_400, 190_000, 7_000), (500_000, 397_900, 500)),
                }
            )
        )
        await scenario.poll(app)
        await pilot.pause()
        assert not findings.display
        history = str(screen.query_one("#history-lines").render())
        assert history.splitlines()[0].endswith("✓ Takeo cleared: party votes above valid votes")
        await pilot.press("escape")
        await pilot.pause()
        assert name_cell(app, "Takeo") == "Takeo"


def over_100_state(app: NightdeskApp, reporting: float) -> SourceState:
    """A delivered state whose Kep reports above 100 % (the CSV reader refuses such a figure,
    so the result is built and delivered directly, as the poller would)."""
    units = ["Kandal", "Kep"]
    snap = Snapshot.build(
        source="nec",
        votes=pd.DataFrame([[10, 20, 1], [5, 6, 0]], index=units, columns=list(PARTIES)),
        units=pd.DataFrame({"seats": [11, 1], "reporting": [0.5, reporting]}, index=units),
        fetched_at=scenario.NOW,
    )
    previous = app.result.snapshot if app.result is not None else None
    result = assess(snap, previous, app.config.election, prior=app.result)
    source = app.config.sources[0]
    return SourceState(
        source, (result,), SourceHealth(last_success=scenario.NOW), changed=True, polls=1
    )


async def test_reporting_above_100_percent_is_delivered_marked_and_explained(
    feed_server: FeedServer,
) -> None:
    app = monitor(feed_server.url)
    async with app.run_test(size=(160, 48)) as pilot:
        app.deliver(over_100_state(app, 1.05))
        await pilot.pause()
        assert name_cell(app, "Kep") == "⚠ Kep"
        assert app.main.query_one(ResultsTable).cell_text("Kep", "reporting") == "105%"
        assert pane_lines(app) == ["19:34:00 ⚠ Kep reporting 105% (above 100%)"]
        app.open_unit("Kep")
        await pilot.pause()
        assert isinstance(app.screen, ProvinceScreen)
        assert str(app.screen.query_one("#findings", Static).render()) == (
            "⚠ Reporting above 100%: reporting 105% (above 100%)"
        )


# --- what a finding costs on the wire ------------------------------------------------------

ELECTION = ElectionConfig(name="t", timezone=ZoneInfo("UTC"))


def table_snapshot(votes: np.ndarray, reporting: np.ndarray) -> Snapshot:
    units = [f"U{i:03d}" for i in range(len(votes))]
    return Snapshot.build(
        source="t",
        votes=pd.DataFrame(votes, index=units, columns=list(PARTIES)),
        units=pd.DataFrame({"seats": 3, "reporting": reporting}, index=units),
        fetched_at=datetime(2013, 7, 28, tzinfo=UTC),
    )


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ResultsTable(highlight_seconds=2.0, clock=Clock(), id="t")


async def test_a_finding_repaints_only_its_name_cell_and_costs_nothing_while_it_lasts() -> None:
    votes = np.random.default_rng(3).integers(1_000, 90_000, size=(24, len(PARTIES)))
    reporting = np.full(24, 0.5)
    first = table_snapshot(votes, reporting)
    result = assess(first, None, ELECTION)
    app = TableApp()
    async with app.run_test(size=(160, 30)) as pilot:
        table = app.query_one(ResultsTable)
        table.show(result)
        await pilot.pause()
        flagged = reporting.copy()
        flagged[5] = 1.2
        second = table_snapshot(votes, flagged)
        result = assess(second, first, ELECTION, prior=result)
        table.show(result)
        regions = refreshed(table)
        # The name cell of U005 (the mark) and its reporting cell: nothing else.
        assert {r.y for r in regions} == {6}
        assert all(r.height == 1 and r.width <= 18 for r in regions)
        assert table.cell_text("U005", "name") == "⚠ U005"
        await pilot.pause()
        # The same finding next poll, with another unit's votes moving: no repaint for it.
        more = votes.copy()
        more[9, 0] += 10
        third = table_snapshot(more, flagged)
        table.show(assess(third, second, ELECTION, prior=result))
        assert {r.y for r in refreshed(table)} == {10}


def test_one_check_failing_in_many_units_at_once_shares_one_line() -> None:
    at = scenario.NOW
    many = [
        Change(at, "nec", "", f"u{i}", "over_100", None, None, 0, False, False, FOUND, "x")
        for i in range(FINDING_LINES + 1)
    ]
    few = [Change(at, "nec", "", "k", "over_valid", None, None, 0, False, False, FOUND, "y")]
    names = {"u0": "Kandal", "u1": "[b]Kep[/b]"}
    lines = [t.plain for t in group_lines([*many, *few], ZoneInfo("UTC"), names)]
    assert lines == [
        "12:34:00 ⚠ 13 units: reporting above 100% (Kandal, [b]Kep[/b], u2, +10 more)",
        "12:34:00 ⚠ k y",
    ]
