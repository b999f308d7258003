"""`nightdesk snapshot` end to end: real config, real HTTP server, the real command."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FeedServer
from tui.cli import main

FEED = (
    "province,party,votes,seats,reporting\n"
    "Kandal,CPP,300000,11,0.5\n"
    "Kandal,CNRP,419000,11,0.5\n"
    "Kep,CPP,9,1,1\n"
    "Kep,[bold red]x[/],,1,1\n"
)


def write_config(tmp_path: Path, url: str, extra_source: str = "") -> Path:
    path = tmp_path / "e.toml"
    path.write_text(
        f"""
[election]
name = "Test night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{url}"
format = "csv"
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"
{extra_source}
"""
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_follows_the_design_contract(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.set(FEED)
    code, out, err = run(
        capsys, "snapshot", "-c", str(write_config(tmp_path, feed_server.url)), "--format", "json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert doc["election"]["name"] == "Test night"
    assert doc["election"]["seats_method"] == "dhondt"
    (src,) = doc["sources"]
    assert src["name"] == "nec" and src["race"] is None
    assert src["fetched_at"].endswith("+07:00")  # ISO 8601 in the election's zone
    kandal, kep = src["units"]
    assert kandal == {
        "id": "Kandal",
        "name": "Kandal",
        "parent": None,
        "seats": 11,
        "reporting": 0.5,
        "votes": {"CPP": 300000, "CNRP": 419000, "[bold red]x[/]": None},
        "seats_won": {"CPP": 5, "CNRP": 6, "[bold red]x[/]": 0},
        # Half counted, registered voters unknown: nothing is decided yet.
        "seats_decided": {"CPP": 0, "CNRP": 0, "[bold red]x[/]": 0},
        "undecided": 0,
        "last_seat": {
            "holder": "CPP",
            "challenger": "CNRP",
            "votes_needed": 1000,  # a tie at 60,000 goes to CNRP, which has more votes
            "holder_can_lose": 714,
        },
    }
    assert kep["votes"]["[bold red]x[/]"] is None  # not reported stays null, not 0
    assert kep["seats_won"]["CPP"] == 1
    assert kep["seats_decided"]["CPP"] == 1  # reporting 100 %: nothing left to count
    totals = src["totals"]
    assert totals["CPP"]["votes"] == 300009 and totals["CPP"]["seats"] == 6
    assert totals["CPP"]["seats_decided"] == 1 and totals["CNRP"]["seats_decided"] == 0
    assert totals["CNRP"]["share"] == pytest.approx(419000 / 719009)
    assert doc["failures"] == []


def test_json_marks_seats_no_uncounted_ballots_can_move(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Kandal: 10,000 ballots still to count (registered − ballots cast) and CNRP 1,000 votes
    # from CPP's 5th seat, so that seat is provisional; the rest cannot move. Kampot: a
    # landslide with 10,000 left, all decided. Kep: nothing known about what is left.
    feed_server.set(
        "province,party,votes,seats,registered,ballots_cast,reporting\n"
        "Kandal,CPP,300000,11,729000,719000,0.9\n"
        "Kandal,CNRP,419000,11,729000,719000,0.9\n"
        "Kampot,CPP,210000,6,310000,300000,0.9\n"
        "Kampot,CNRP,90000,6,310000,300000,0.9\n"
        "Kep,CPP,9,1,,,0.5\n"
        "Kep,CNRP,2,1,,,0.5\n"
    )
    columns = 'registered = "registered"\nballots_cast = "ballots_cast"\n'
    cfg = write_config(tmp_path, feed_server.url, columns)
    code, out, err = run(capsys, "snapshot", "-c", str(cfg), "--format", "json")
    assert code == 0, err
    kandal, kampot, kep = json.loads(out)["sources"][0]["units"]
    assert kandal["seats_won"] == {"CPP": 5, "CNRP": 6}
    assert kandal["seats_decided"] == {"CPP": 4, "CNRP": 6}
    assert kampot["seats_decided"] == kampot["seats_won"] == {"CPP": 4, "CNRP": 2}
    assert kep["seats_won"] == {"CPP": 1, "CNRP": 0}
    assert kep["seats_decided"] == {"CPP": 0, "CNRP": 0}
    totals = json.loads(out)["sources"][0]["totals"]
    assert (totals["CPP"]["seats"], totals["CPP"]["seats_decided"]) == (10, 8)
    assert (totals["CNRP"]["seats"], totals["CNRP"]["seats_decided"]) == (8, 8)


def test_csv_one_row_per_unit_and_party(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.set(FEED)
    code, out, _ = run(
        capsys, "snapshot", "-c", str(write_config(tmp_path, feed_server.url)), "--format", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == [
        "source", "race", "unit_id", "unit_name", "parent", "seats", "reporting",
        "party", "votes", "share", "seats_won", "seats_decided", "called", "race_test",
    ]  # fmt: skip
    assert len(rows) == 6
    cnrp = next(r for r in rows if r["unit_id"] == "Kandal" and r["party"] == "CNRP")
    assert cnrp["votes"] == "419000" and cnrp["seats_won"] == "6"
    assert float(cnrp["share"]) == pytest.approx(419000 / 719000, abs=1e-6)


def test_national_totals_count_each_vote_once_when_units_nest(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    # Precincts name their county; the counties are rolled up from them.
    feed_server.set(
        "precinct,county,party,votes\n"
        "Fulton/P01,Fulton,A,10\nFulton/P01,Fulton,B,4\n"
        "Fulton/P02,Fulton,A,5\nFulton/P02,Fulton,B,6\n"
        "Cobb/P01,Cobb,A,1\nCobb/P01,Cobb,B,2\n"
    )
    path = tmp_path / "e.toml"
    path.write_text(
        f"""
[election]
name = "Primary"
timezone = "America/New_York"
seats_method = "fptp"
[election.seats]
Fulton = 1
Cobb = 1
[[sources]]
name = "sos"
url = "{feed_server.url}"
format = "csv"
[sources.columns]
unit = "precinct"
parent = "county"
party = "party"
votes = "votes"
"""
    )
    code, out, err = run(capsys, "snapshot", "-c", str(path), "--format", "json")
    assert code == 0, err
    (src,) = json.loads(out)["sources"]
    parents = {u["id"]: u["parent"] for u in src["units"]}
    assert parents["Fulton/P01"] == "Fulton" and parents["Fulton"] is None
    totals = src["totals"]
    assert (totals["A"]["votes"], totals["B"]["votes"]) == (16, 12)
    assert totals["A"]["share"] == pytest.approx(16 / 28)


def test_table_shows_names_literally(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.set(FEED)
    code, out, _ = run(capsys, "snapshot", "-c", str(write_config(tmp_path, feed_server.url)))
    assert code == 0
    assert "[bold red]x[/]" in out
    assert "Kandal" in out and "419,000" in out


def test_a_failing_source_exits_1_and_the_others_still_print(
    tmp_path: Path,
    feed_server: FeedServer,
    closed_port: int,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed_server.set(FEED)
    second = f"""
[[sources]]
name = "party-tally"
url = "http://127.0.0.1:{closed_port}/tally.csv"
format = "csv"
timeout = 2
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
"""
    cfg = write_config(tmp_path, feed_server.url, second)
    code, out, err = run(capsys, "snapshot", "-c", str(cfg), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    assert [s["name"] for s in doc["sources"]] == ["nec"]
    assert doc["failures"][0]["name"] == "party-tally"
    assert err.startswith("nightdesk: source 'party-tally': cannot connect")
    assert err.count("party-tally") == 1  # named once, not twice
    assert "Traceback" not in err


def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[election]\nname = "x"\nseats_method = "dhont"\n[[sources]]\n')
    code, out, err = run(capsys, "snapshot", "-c", str(bad))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "bad.toml:3: election.seats_method" in err


def test_command_line_errors_exit_2() -> None:
    for args in (
        ["snapshot"],
        ["snapshot", "-c", "x", "--format", "xml"],
        ["nonsense"],
        ["demo", "--seed", "-1"],
        ["demo", "--port", "70000"],
        ["demo", "--speed", "inf"],
        ["demo", "--speed", "0"],
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", *args], capture_output=True, text=True
        )
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr


def test_version_and_help_on_every_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and proc.stdout.startswith("nightdesk ")
    for cmd in ([], ["demo"], ["snapshot"]):
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli", *cmd, "--help"], capture_output=True, text=True
        )
        assert proc.returncode == 0 and "usage: nightdesk" in proc.stdout


def test_without_config_says_how_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    code, _, err = run(capsys)
    assert code == 2
    assert err.count("\n") == 1 and "nightdesk demo" in err and "-c CONFIG" in err


def test_demo_port_in_use_is_one_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        for args in (["demo", "--feed-only", "--port", port], ["demo", "--port", port]):
            proc = subprocess.run(
                [sys.executable, "-m", "tui.cli", *args],
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert proc.returncode == 2, (args, proc.stderr)
            assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_broken_pipe_is_quiet(tmp_path: Path, feed_server: FeedServer) -> None:
    feed_server.set(FEED * 1 + "".join(f"U{i},CPP,{i},1,1\n" for i in range(20_000)))
    cfg = write_config(tmp_path, feed_server.url)
    proc = subprocess.run(
        f"{sys.executable} -m tui.cli snapshot -c {cfg} --format csv | head -1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.startswith("source,race,unit_id")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
