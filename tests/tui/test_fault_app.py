"""The monitor against the fault server: a good feed, then faults of the matrix.

Whatever a feed does, the app keeps running, the table keeps the last good numbers, and the
status line names the source and the problem (control characters in names are drawn as
U+FFFD, never sent to the terminal).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.faults import FaultServer, config_toml
from nightdesk import config as cfg
from nightdesk.store import HistoryStore
from tests.tui import scenario
from tui.app import NightdeskApp
from tui.widgets.results_table import ResultsTable
from tui.widgets.status_bar import StatusBar


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(max_bytes=16_000, drip_for=2.0) as s:
        yield s


def make_app(server: FaultServer, store: HistoryStore | None = None) -> NightdeskApp:
    text = config_toml(server.feed_url("csv"), "csv", timeout=1.0, max_bytes=16_000, interval=3600)
    c = cfg.parse(text, path=Path.cwd() / "faults.toml")
    return scenario.app(server.feed_url("csv"), config_=c, store=store)


def status(app: NightdeskApp) -> str:
    return " ".join(app.main.query_one(StatusBar).lines_text)


def cell(app: NightdeskApp, unit: str, column: str) -> str:
    return app.main.query_one(ResultsTable).cell_text(unit, column)


def shown_votes(app: NightdeskApp, server: FaultServer) -> dict[tuple[str, str], str]:
    return {
        (r["unit"], r["party"]): cell(app, r["unit"], f"v:{r['party']}") for r in server.records()
    }


FAULTS_SHOWN = [
    ("http_500", "HTTP 500 Internal Server Error from "),
    ("truncated_csv", "row 7: line 8 has 4 fields where the header has 8: the feed may be"),
    ("html_200", "the feed looks like HTML or XML, not CSV (an error page or a login page?)"),
    ("reset_mid_body", "bytes of the body: connection reset by the server"),
    ("slow_drip", "no complete answer from "),
]


async def test_faults_keep_the_last_good_numbers_and_say_what_went_wrong(
    server: FaultServer, tmp_path: Path
) -> None:
    store = HistoryStore.open(tmp_path / "night.sqlite")
    app = make_app(server, store)
    async with app.run_test(size=(200, 40)) as pilot:
        await app.ready.wait()
        await app.poller.poll(app.config.sources[0])
        await pilot.pause()
        assert len(store.timeline()) == 1
        good = shown_votes(app, server)
        assert good[("U00000", "CPP")] == f"{int(server.records()[0]['votes']):,}"
        assert "nec: ok" in status(app)

        for fault, words in FAULTS_SHOWN:
            server.serve(fault)
            await app.poller.poll(app.config.sources[0])
            await pilot.pause()
            assert app.is_running
            line = status(app)
            assert line.startswith("nec: FAILING"), line
            assert words in line, (fault, line)
            assert "Traceback" not in line
            assert shown_votes(app, server) == good, fault
            assert len(store.timeline()) == 1, fault  # the store is unchanged

        # Names carrying escape sequences and a bell: shown, with U+FFFD for each control.
        server.serve("control_names")
        await app.poller.poll(app.config.sources[0])
        await pilot.pause()
        assert "nec: ok" in status(app)
        name = cell(app, "U00000", "name")
        assert name.startswith("Evil\ufffd[2J\ufffd]0;pwned\ufffd")
        assert "\x1b" not in name and "\x07" not in name
        assert app.is_running

        server.serve("good")
        server.advance()
        await app.poller.poll(app.config.sources[0])
        await pilot.pause()
        assert "nec: ok" in status(app)
        assert cell(app, "U00000", "name") == "District 1"
        # Correctly extended: the control-character names, then the good feed again.
        assert len(store.timeline()) == 3
        assert store.integrity_check() == "ok"
    store.close()


async def test_a_vanished_unit_is_logged_as_withdrawn_by_name(server: FaultServer) -> None:
    app = make_app(server)
    async with app.run_test(size=(200, 40)) as pilot:
        await app.poller.poll(app.config.sources[0])
        server.serve("vanished_unit")
        await app.poller.poll(app.config.sources[0])
        await pilot.pause()
        assert app.main.query_one(ResultsTable).table.row_count == 5
        lines = scenario.count_lines(app)
        assert lines[-1] == "12:34:00 ▼ District 6 (unit withdrawn) correction"
