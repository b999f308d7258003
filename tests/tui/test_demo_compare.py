"""``nightdesk demo`` shows the seed story out of the box: the night runs to its end (at high
speed, over real HTTP, the monitor polling by itself), and ``c`` shows where the opposition's
tally disagrees with the official count — Takeo first — beside the claimed 63 seats."""

from __future__ import annotations

import time
from pathlib import Path

from textual.pilot import Pilot

from nightdesk.demo.server import DemoFeedServer
from nightdesk.demo.settings import demo_config, demo_toml
from nightdesk.store import HistoryStore
from tui.app import NightdeskApp
from tui.compare_screen import CompareScreen
from tui.widgets.party_pane import PartyPane

INTERVAL = 0.2  # seconds between polls of each source (the demo's own is 2)


async def wait_for_the_end(app: NightdeskApp, pilot: Pilot, server: DemoFeedServer) -> None:
    """Until the night is over and the official count and the tally were both polled twice
    since (a poll in flight at the end may have fetched the state before it)."""
    deadline = time.monotonic() + 20
    while server.elapsed() <= server.night.length:
        await pilot.pause(0.05)
    seen = {name: app.poller.states[name].polls for name in ("demo", "tally")}
    while not all(app.poller.states[n].polls >= seen[n] + 2 for n in seen) or not all(
        app.states.get(s.name) and app.states[s.name].results for s in app.config.sources
    ):
        assert time.monotonic() < deadline, "the demo's sources were not polled to the end"
        await pilot.pause(0.05)
    await pilot.pause()


async def test_the_demo_ends_68_55_and_c_shows_takeo_against_the_tally(tmp_path: Path) -> None:
    with DemoFeedServer(port=0, speed=1000) as server:
        config = demo_config(server.url, interval=INTERVAL)
        store = HistoryStore.open(tmp_path / "demo.sqlite")  # as run_demo keeps the night
        store.remember_settings(demo_toml(server.url, INTERVAL), None)
        app = NightdeskApp(config, store=store)
        try:
            async with app.run_test(size=(160, 48)) as pilot:
                await app.ready.wait()
                await wait_for_the_end(app, pilot, server)
                assert app.result is not None
                totals = app.result.allocation.totals()
                assert (totals["CPP"], totals["CNRP"]) == (68, 55)

                # The party pane: each other source's seats beside the official ones.
                pane = app.main.query_one(PartyPane)
                shown = getattr(pane, "_sources", None)  # set by show_sources (LOOKS)
                if shown is not None:
                    assert {p: n for p, n in shown["tally"].items() if n} == {
                        "CPP": 67,
                        "CNRP": 56,
                    }
                    assert shown["claim"] == {"CNRP": 63}

                await pilot.press("c")
                await pilot.pause()
                screen = app.screen
                assert isinstance(screen, CompareScreen)
                rows = screen.table_text
                assert rows[0][:2] == ["Takeo", "CPP"] and rows[1][:2] == ["", "CNRP"]
                assert "▼ -1,694" in rows[0]
                assert "▲ +890" in rows[1]
                units = [r[0] for r in rows if r[0]]
                assert units[:4] == ["Takeo", "Kampong Cham", "Prey Veng", "Kandal"]
                unmatched = " ".join(str(w.render()) for w in screen.query("#compare-unmatched"))
                assert "Kompong Cham" not in unmatched  # matched through [aliases.units]
                national = str(screen.query_one("#compare-national").render())
                cnrp = next(x for x in national.splitlines() if x.startswith("CNRP"))
                assert "55" in cnrp and "56" in cnrp and "63" in cnrp
                summary = str(screen.query_one("#compare-summary").render())
                assert "Takeo (1,694 votes)" in summary

                await pilot.press("escape")
                await pilot.pause()
                assert not isinstance(app.screen, CompareScreen)
        finally:
            store.close()
