"""Seat-engine conformance through the real command: Spain's Congreso, six elections.

The recipe in the README: a long CSV (unit, party, votes, seats, valid, blank), a config that
names the method and the threshold, `nightdesk snapshot --format json`, and a comparison with
the official seats.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tui.cli import main

CONFIG = """
[election]
name = "Congreso de los Diputados 2000-2016"
timezone = "Europe/Madrid"
seats_method = "dhondt"
threshold = 0.03          # 3 % of the constituency's valid votes, blank ballots included
tie = "more-votes"

[[sources]]
name = "interior"
url = "results.csv"
format = "csv"

[sources.columns]
unit = "unit"
name = "district"
party = "party"
votes = "votes"
seats = "seats"
valid = "valid_votes"
blank = "blank_votes"
"""


def test_all_312_constituency_results_reproduced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = shared_path("data", "seats", "spain_congreso_2000_2016.csv")
    official: dict[str, dict[str, int]] = {}
    with (
        source.open(newline="", encoding="utf-8") as fh,
        (tmp_path / "results.csv").open("w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(["unit", "district", "party", "votes", "seats", "valid_votes",
                         "blank_votes"])  # fmt: skip
        for row in csv.DictReader(fh):
            unit = f"{row['election']} {row['district']}"
            writer.writerow([unit, row["district"], row["party"], row["votes"], row["seats"],
                             row["valid_votes"], row["blank_votes"]])  # fmt: skip
            official.setdefault(unit, {})[row["party"]] = int(row["seats_won"])
    (tmp_path / "spain.toml").write_text(CONFIG, encoding="utf-8")

    code = main(["snapshot", "-c", str(tmp_path / "spain.toml"), "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    units = json.loads(out)["sources"][0]["units"]
    assert len(units) == len(official) == 312
    # A party that did not stand in a constituency has null votes and 0 seats there.
    won = {u["id"]: {p: n for p, n in u["seats_won"].items() if n} for u in units}
    expected = {unit: {p: n for p, n in seats.items() if n} for unit, seats in official.items()}
    wrong = [unit for unit in expected if won[unit] != expected[unit]]
    assert wrong == []
    assert all(u["undecided"] == 0 for u in units)
