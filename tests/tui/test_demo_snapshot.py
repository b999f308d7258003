"""Issue 2's acceptance: the demo feed served over HTTP, read by `nightdesk snapshot`."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import pytest

from nightdesk import config as cfg
from nightdesk.demo.server import DemoFeedServer
from nightdesk.demo.settings import demo_config
from tests.conftest import REPO, shared_path
from tui.cli import main

EXAMPLE = REPO / "examples" / "demo.toml"


@pytest.fixture(scope="module")
def night_over() -> DemoFeedServer:
    with DemoFeedServer(port=0, speed=1000) as server:
        deadline = time.monotonic() + 10
        while server.elapsed() < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        yield server


@pytest.fixture(scope="module")
def mid_night() -> DemoFeedServer:
    """The feed frozen at simulated second 120: small provinces done, big ones counting."""
    now = [0.0]
    with DemoFeedServer(port=0, speed=1, clock=lambda: now[0]) as server:
        now[0] = 120.0
        yield server


def snapshot_json(
    server: DemoFeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict:
    text = EXAMPLE.read_text().replace("http://127.0.0.1:8765", server.url)
    path = tmp_path / "demo.toml"
    path.write_text(text)
    code = main(["snapshot", "-c", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_end_of_night_seats_are_the_real_2013_result(
    night_over: DemoFeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = snapshot_json(night_over, tmp_path, capsys)
    assert doc["election"]["simulated"] is True
    (src,) = doc["sources"]
    assert len(src["units"]) == 24
    assert sum(u["seats"] for u in src["units"]) == 123
    assert {p: t["seats"] for p, t in src["totals"].items() if t["seats"]} == {
        "CPP": 68,
        "CNRP": 55,
    }
    assert src["totals"]["CPP"]["votes"] == 3_235_969
    assert src["totals"]["CNRP"]["votes"] == 2_946_176
    assert all(u["reporting"] == 1.0 for u in src["units"])
    assert all(u["undecided"] == 0 for u in src["units"])
    kandal = next(u for u in src["units"] if u["id"] == "Kandal")
    assert kandal["last_seat"]["challenger"] == "CNRP"
    assert kandal["last_seat"]["votes_needed"] < 900
    # Everything is counted: every seat is decided.
    assert all(u["seats_decided"] == u["seats_won"] for u in src["units"])
    assert all(t["seats_decided"] == t["seats"] for t in src["totals"].values())


def test_mid_night_seats_still_counting_are_provisional(
    mid_night: DemoFeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (src,) = snapshot_json(mid_night, tmp_path, capsys)["sources"]
    done = [u for u in src["units"] if u["reporting"] == 1.0]
    counting = [u for u in src["units"] if u["reporting"] is not None and u["reporting"] < 1]
    assert done and counting
    for u in src["units"]:
        assert all(u["seats_decided"][p] <= won for p, won in u["seats_won"].items())
    assert all(u["seats_decided"] == u["seats_won"] for u in done)
    # Registered voters are known, so what is left is bounded, yet some seats can still move.
    assert any(u["seats_decided"] != u["seats_won"] for u in counting)
    totals = src["totals"].values()
    assert sum(t["seats_decided"] for t in totals) < sum(t["seats"] for t in totals)
    assert all(
        t["seats_decided"] == sum(u["seats_decided"][p] for u in src["units"])
        for p, t in src["totals"].items()
    )


def test_every_province_matches_the_shared_seat_table(
    night_over: DemoFeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = shared_path("data", "cambodia-2013", "seats_by_province.csv")
    with table.open(newline="") as fh:
        real = {
            r["province"]: (int(r["seats"]), int(r["cpp_seats"]), int(r["cnrp_seats"]))
            for r in csv.DictReader(fh)
        }
    doc = snapshot_json(night_over, tmp_path, capsys)
    got = {
        u["name"]: (u["seats"], u["seats_won"]["CPP"], u["seats_won"]["CNRP"])
        for u in doc["sources"][0]["units"]
    }
    assert got == real


def test_example_config_is_the_demo_config() -> None:
    """The example watches the official count as the demo does; the demo's tally and claim
    (tests/engine/test_demo_tally.py), when the example has them, the same way too."""
    example = cfg.load(EXAMPLE)
    built = demo_config("http://127.0.0.1:8765")
    assert example.election == built.election
    assert [s.name for s in built.sources] == ["demo", "tally", "claim"]
    assert 1 <= len(example.sources) <= len(built.sources)
    for a, b in zip(example.sources, built.sources, strict=False):
        assert (a.name, a.url, a.format, a.interval, a.columns, a.options) == (
            b.name,
            b.url,
            b.format,
            b.interval,
            b.columns,
            b.options,
        )
    if len(example.sources) > 1:
        assert example.aliases == built.aliases
