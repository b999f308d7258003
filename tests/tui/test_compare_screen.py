"""``c``: the compare screen, with two real feed servers that disagree in known units by
known amounts, and a seat claim against the official count (the seed's 68–55 vs 63)."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest
from textual.pilot import Pilot

from nightdesk import config as cfg
from nightdesk import formats
from tests.conftest import FeedServer
from tests.tui import scenario
from tui.app import NightdeskApp
from tui.compare_screen import CompareScreen
from tui.main_screen import MainScreen
from tui.widgets.party_pane import PartyPane

SIZES = [(80, 24), (160, 48)]


@pytest.fixture(autouse=True)
def claim_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ``claim`` format by its entry point (an older install gets it here)."""
    if "claim" not in formats.available():
        found = dict(formats.available())
        found["claim"] = EntryPoint(
            "claim", "adapters.seat_claim:CLAIM_FORMAT", formats.ENTRY_POINT_GROUP
        )
        monkeypatch.setattr(formats, "available", lambda: found)


@pytest.fixture
def tally_server() -> Iterator[FeedServer]:
    """A second feed server: the opposition's parallel tally."""
    server = FeedServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


OFFICIAL = scenario.FIRST  # Kandal (250,000 / 340,000 / 9,000), Kep, Takeo (200,000 / 190,000)


def tally(kandal_cnrp: int = 340_866, kep_cpp: int = 9_000) -> str:
    """The tally: Takeo CPP −1,694 and CNRP +890, Kandal CNRP +866 (by default); it spells
    Kandal and CNRP its own way, and has a unit the official feed does not."""
    rows = [
        ("Takeo", "CPP", 198_306), ("Takeo", "NRP", 190_890), ("Takeo", "FUNCINPEC", 7_000),
        ("Kandal Province", "CPP", 250_000), ("Kandal Province", "NRP", kandal_cnrp),
        ("Kandal Province", "FUNCINPEC", 9_000),
        ("Kep", "CPP", kep_cpp), ("Kep", "NRP", 5_000), ("Kep", "FUNCINPEC", 300),
        ("Pailin", "CPP", 20_000), ("Pailin", "NRP", 10_000), ("Pailin", "FUNCINPEC", 100),
    ]  # fmt: skip
    return "unit,party,votes\n" + "".join(f"{u},{p},{v}\n" for u, p, v in rows)


def two_sources(nec: str, other: str, *, claim: bool = False) -> cfg.Config:
    if claim:
        second = f"""
[[sources]]
name = "cnrp"
url = "{other}/claim.csv"
format = "claim"
interval = 3600
"""
    else:
        second = f"""
[[sources]]
name = "tally"
url = "{other}/tally.csv"
format = "csv"
interval = 3600
[sources.columns]
unit = "unit"
party = "party"
votes = "votes"
"""
    return cfg.parse(
        f"""
[election]
name = "National Assembly 2013 (test night)"
timezone = "Asia/Phnom_Penh"
simulated = true
[election.seats]
Kandal = 11
"Kandal Province" = 11  # seats per unit are read by each source's own unit id
Kep = 1
Takeo = 8
Pailin = 1

[[sources]]
name = "nec"
url = "{nec}/results.csv"
format = "csv"
interval = 3600
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"
{second}
[aliases.units]
Kandal = ["Kandal Province"]

[aliases.parties]
CNRP = ["NRP"]
"""
    )


async def poll_all(app: NightdeskApp, pilot: Pilot) -> None:
    for source in app.config.sources:
        await app.poller.poll(source)
    await pilot.pause()


def make_app(feed_server: FeedServer, tally_server: FeedServer, *, claim: bool = False):  # type: ignore[no-untyped-def]
    feed_server.set(OFFICIAL)
    tally_server.set("party,seats\nCNRP,63\n" if claim else tally())
    c = two_sources(feed_server.url, tally_server.url, claim=claim)
    return scenario.app(feed_server.url, config_=c)


async def test_compare_shows_where_the_sources_disagree(
    feed_server: FeedServer, tally_server: FeedServer
) -> None:
    app = make_app(feed_server, tally_server)
    async with app.run_test(size=(160, 48)) as pilot:
        await poll_all(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        rows = screen.table_text
        # Takeo (1,694 votes apart) first, then Kandal (866), then Kep (the same).
        assert [r[:2] for r in rows] == [
            ["Takeo", "CPP"], ["", "CNRP"], ["", "FUNCINPEC"],
            ["Kandal", "CPP"], ["", "CNRP"], ["", "FUNCINPEC"],
            ["Kep", "CPP"], ["", "CNRP"], ["", "FUNCINPEC"],
        ]  # fmt: skip
        # unit, party, nec votes, tally votes, Δ votes, nec seats, tally seats, Δ seats
        assert rows[0][2:5] == ["200,000", "198,306", "▼ -1,694"]
        assert rows[1][2:5] == ["190,000", "190,890", "▲ +890"]
        assert rows[4][2:5] == ["340,000", "340,866", "▲ +866"]
        assert rows[6][2:5] == ["9,000", "9,000", ""]
        assert rows[0][5:] == ["4", "4", ""]  # Takeo's seats are the same either way
        text = " ".join(str(w.render()) for w in screen.query("#compare-unmatched"))
        assert 'tally: unit "Pailin" — not in nec' in text
        assert "Kandal Province" not in text  # matched through the alias
        summary = str(screen.query_one("#compare-summary").render())
        assert "nec against tally · 2 of 3 units disagree · most: Takeo (1,694 votes)" in summary

        # A new poll of the tally: the open screen catches up (Kep now on top).
        tally_server.set(tally(kep_cpp=4_000))
        await app.poller.poll(app.config.sources[1])
        await pilot.pause()
        rows = screen.table_text
        assert rows[0][:5] == ["Kep", "CPP", "9,000", "4,000", "▼ -5,000"]

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)


async def test_a_seat_claim_against_the_official_count(
    feed_server: FeedServer, tally_server: FeedServer
) -> None:
    app = make_app(feed_server, tally_server, claim=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await poll_all(app, pilot)
        pane = app.main.query_one(PartyPane)
        assert getattr(pane, "_sources", None) == {"cnrp": {"CNRP": 63}}
        await pilot.press("c")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        national = str(screen.query_one("#compare-national").render())
        nec_cnrp = app.result.allocation.totals()["CNRP"]  # type: ignore[union-attr]
        line = next(x for x in national.splitlines() if x.startswith("CNRP"))
        assert line.split() == ["CNRP", f"{nec_cnrp}", "63", "▲", f"+{63 - nec_cnrp}"]
        assert "nec against cnrp (seat claim)" in str(screen.query_one("#compare-summary").render())
        # A claim has no votes columns: unit, party, nec votes, nec seats, cnrp seats, Δ
        assert len(screen.table_text[0]) == 6


async def test_one_source_says_so(feed_server: FeedServer) -> None:
    feed_server.set(OFFICIAL)
    app = scenario.app(feed_server.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await scenario.poll(app)
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, MainScreen)
        assert any("One source only" in n.message for n in app._notifications)


def test_the_binding_is_discoverable() -> None:
    (binding,) = [b for b in NightdeskApp.BINDINGS if getattr(b, "id", None) == "app.compare"]
    assert binding.key == "c" and binding.action == "compare" and binding.tooltip
    assert all(b.id and b.tooltip for b in CompareScreen.BINDINGS)


# --- snapshots (80×24, 160×48, NO_COLOR) -----------------------------------------------


def _opened(pilot_app_factory):  # type: ignore[no-untyped-def]
    async def run(pilot: Pilot) -> None:
        await poll_all(pilot.app, pilot)  # type: ignore[arg-type]
        await pilot.press("c")
        await pilot.pause()

    return run


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_compare_screen_snapshot(  # type: ignore[no-untyped-def]
    snap_compare, feed_server: FeedServer, tally_server: FeedServer, size: tuple[int, int]
) -> None:
    app = make_app(feed_server, tally_server)
    assert snap_compare(app, terminal_size=size, run_before=_opened(app))


def test_compare_screen_snapshot_no_color(  # type: ignore[no-untyped-def]
    snap_compare, feed_server: FeedServer, tally_server: FeedServer, monkeypatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(feed_server, tally_server)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_opened(app))


def test_seat_claim_snapshot(  # type: ignore[no-untyped-def]
    snap_compare, feed_server: FeedServer, tally_server: FeedServer
) -> None:
    app = make_app(feed_server, tally_server, claim=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_opened(app))
