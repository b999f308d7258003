"""Conformance over the Georgia precinct files (../shared/feeds/openelections-ga, SOURCES.md).

Each file is read the way a desk would: a config (TOML text) through ``config.parse``, then
the format's parse through ``formats.parse`` (the engine's rollup included). Per race, every
candidate's total must equal a sum over the raw file made here with the csv module alone;
the precinct counts must be SOURCES.md's; and the counties' different spellings of one
candidate must be reported by the feed checks, never merged: merged here, in the test, the
runoff's totals are the certified ones.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from nightdesk import config, formats
from nightdesk.checks import findings
from nightdesk.errors import FeedError
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot
from tests.conftest import shared_path

RUNOFF = "20221206__ga__general_runoff__precinct.csv"
PRIMARY = "20200609__ga__primary__president.csv"
COUNTIES = "ga_2022_general_counties_precinct.zip"
#: The certified runoff result (SOS Georgia, 2022-12-06).
CERTIFIED = {"Raphael Warnock": 1_820_633, "Herschel Walker": 1_721_244}
FILE_TYPES = ("election_day_votes", "advanced_votes", "absentee_by_mail_votes", "provisional_votes")
ZIP_TYPES = (
    "election_day_votes",
    "advance_voting_votes",
    "absentee_by_mail_votes",
    "provisional_votes",
)

CONFIG = """\
[election]
name = "Georgia"
timezone = "America/New_York"
seats_method = "fptp"

[[sources]]
name = "ga"
url = "{file}"
format = "csv"
{options}
[sources.columns]
unit = "precinct"
parent = ["county"]
party = "candidate"
race = {race}
{votes}
"""
FILE_VOTES = f"votes = {list(FILE_TYPES)!r}".replace("'", '"')
ZIP_VOTES = 'votes = "votes"\nvote_types = ' + repr(list(ZIP_TYPES)).replace("'", '"')


def ga_file(name: str) -> Path:
    return shared_path("feeds", "openelections-ga", name)


def read(file: str, body: bytes, *, race: str, votes: str, options: str = "") -> list[Snapshot]:
    """Parse through the config, as the poller does."""
    text = CONFIG.format(file=file, options=options, race=race, votes=votes)
    source = config.parse(text).sources[0]
    if source.format not in formats.available():
        pytest.skip("nightdesk is not installed (pip install -e .): no entry points to load")
    ctx = ParseContext(
        source=source.name,
        fetched_at=datetime(2022, 12, 7, tzinfo=UTC),
        columns=source.columns,
        options=source.options,
    )
    return formats.parse(formats.load(source.format), body, ctx)


# --- the independent reading: the csv module and nothing else ---------------------------


def rows_of(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def zip_rows(body: bytes, part: str) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        for name in archive.namelist():
            if name.endswith(".csv") and part in name:
                rows += rows_of(archive.read(name))
    return rows


def race_of(row: dict[str, str], columns: tuple[str, ...]) -> str:
    return " / ".join(row[c].strip() for c in columns if row[c].strip())


def candidate_ids(names: set[str]) -> dict[str, str]:
    """Raw candidate → the id the app gives it (documented rule: stripped, unless two
    spellings would become one; then each keeps its exact text)."""
    stripped = Counter(name.strip() for name in names)
    return {name: name if stripped[name.strip()] > 1 else name.strip() for name in names}


def raw_totals(
    rows: list[dict[str, str]], columns: tuple[str, ...], types: tuple[str, ...]
) -> dict[str, dict[str, int]]:
    """Per race, per candidate id: the sum over every row of ``types`` (the vote-type
    columns, or the total column alone)."""
    spellings: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        spellings[race_of(row, columns)].add(row["candidate"])
    ids = {race: candidate_ids(names) for race, names in spellings.items()}
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        race = race_of(row, columns)
        totals[race][ids[race][row["candidate"]]] += sum(int(row[t]) for t in types)
    return {race: dict(counter) for race, counter in totals.items()}


def app_totals(snapshot: Snapshot) -> dict[str, int]:
    return {party: int(v) for party, v in snapshot.party_totals().dropna().items()}


def precincts(snapshot: Snapshot) -> int:
    """Units at the bottom of the tree (the precincts; counties are above them)."""
    return int(snapshot.units["parent"].notna().sum())


def merged(totals: dict[str, int]) -> dict[str, int]:
    """The test's own merge of the counties' spellings: notes in parentheses dropped."""
    out: Counter[str] = Counter()
    for name, votes in totals.items():
        out[name.split("(")[0].strip()] += votes
    return dict(out)


def test_every_file_here_is_covered() -> None:
    folder = ga_file(RUNOFF).parent
    assert {p.name for p in folder.iterdir()} <= {RUNOFF, PRIMARY, COUNTIES}


# --- the runoff: one race, 2,711 precincts, certified totals once merged ------------------


@cache
def runoff() -> tuple[Snapshot, list[dict[str, str]]]:
    body = ga_file(RUNOFF).read_bytes()
    (snapshot,) = read(RUNOFF, body, race='"office"', votes=FILE_VOTES)
    return snapshot, rows_of(body)


def test_runoff_totals_equal_the_raw_sums() -> None:
    snapshot, rows = runoff()
    assert snapshot.race is not None and snapshot.race.id == "U.S. Senate"
    assert app_totals(snapshot) == raw_totals(rows, ("office",), FILE_TYPES)["U.S. Senate"]


def test_runoff_precincts_and_counties() -> None:
    snapshot, _ = runoff()
    assert precincts(snapshot) == 2_711
    top = snapshot.units.index[snapshot.top_level()]
    assert len(top) == 159 and "Fulton" in top
    assert snapshot.units.at["Fulton", "name"] == "Fulton"
    child = snapshot.units.index[snapshot.units["parent"] == "Fulton"][0]
    assert child.startswith("Fulton/") and snapshot.units.at[child, "name"] == child[7:]


def test_runoff_vote_types_equal_the_raw_sums() -> None:
    snapshot, rows = runoff()
    assert snapshot.vote_types is not None
    names = ["Election Day", "Advanced", "Absentee by Mail", "Provisional"]
    assert list(snapshot.vote_types) == names
    top = snapshot.top_level()
    for name, column in zip(names, FILE_TYPES, strict=True):
        by_type = snapshot.vote_types[name][top].sum().sum()
        assert by_type == sum(int(row[column]) for row in rows), name


def test_runoff_spellings_are_reported_and_merged_only_here() -> None:
    snapshot, _ = runoff()
    totals = app_totals(snapshot)
    assert "Raphael Warnock (I) (Dem)" in totals and "Herschel Walker (Rep)" in totals
    assert merged(totals) == CERTIFIED
    found = findings(snapshot).table
    spelling = found[found["check"] == "spelling"]
    flagged = set(spelling["unit"])
    sumter = {u for u in snapshot.unit_ids if u == "Sumter" or u.startswith("Sumter/")}
    assert flagged == sumter and len(sumter) == 12  # 11 precincts and their county
    message = spelling["message"].iloc[0]
    assert "'Raphael Warnock' (2,700 units) and 'Raphael Warnock (I) (Dem)' (11 units)" in message
    assert "look like one name spelled two ways" in message


# --- the 2020 presidential primary: 2,627 precincts, 13 candidates ------------------------


@cache
def primary_body() -> bytes:
    return ga_file(PRIMARY).read_bytes()


def test_primary_totals_equal_the_raw_sums() -> None:
    (snapshot,) = read(PRIMARY, primary_body(), race='"office"', votes=FILE_VOTES)
    assert precincts(snapshot) == 2_627
    assert len(snapshot.party_ids) == 13
    expected = raw_totals(rows_of(primary_body()), ("office",), FILE_TYPES)["President"]
    assert app_totals(snapshot) == expected
    assert not findings(snapshot).table["check"].eq("spelling").any()


def test_primary_by_party_is_two_races() -> None:
    dem, rep = read(PRIMARY, primary_body(), race='["office", "party"]', votes=FILE_VOTES)
    assert dem.race is not None and dem.race.id == "President / Democrat"
    assert rep.race is not None and rep.race.id == "President / Republican"
    assert (len(dem.party_ids), rep.party_ids) == (12, ["Donald J. Trump"])
    assert precincts(dem) == precincts(rep) == 2_627
    expected = raw_totals(rows_of(primary_body()), ("office", "party"), FILE_TYPES)
    assert app_totals(dem) == expected["President / Democrat"]
    assert app_totals(rep) == expected["President / Republican"]


# --- the 2022 county zip: 318 CSVs in two column orders, 377 offices ----------------------

ZIP_RACE = '["office", "district"]'
GENERAL = 'members = "*__general__*"'
RUNOFFS = 'members = "*__general_runoff__*"'


@cache
def zip_body() -> bytes:
    return ga_file(COUNTIES).read_bytes()


@cache
def general() -> list[Snapshot]:
    return read(COUNTIES, zip_body(), race=ZIP_RACE, votes=ZIP_VOTES, options=GENERAL)


def checked_races(snapshots: list[Snapshot], rows: list[dict[str, str]]) -> Iterator[str]:
    expected = raw_totals(rows, ("office", "district"), ("votes",))
    for snapshot in snapshots:
        assert snapshot.race is not None
        assert app_totals(snapshot) == expected[snapshot.race.id], snapshot.race.id
        yield snapshot.race.id


def test_the_general_elections_races_equal_the_raw_sums() -> None:
    rows = zip_rows(zip_body(), "__general__")
    races = list(checked_races(general(), rows))
    assert races == list(dict.fromkeys(race_of(r, ("office", "district")) for r in rows))
    leaves = {u for s in general() for u in s.units.index[s.units["parent"].notna()]}
    assert leaves == {f"{r['county'].strip()}/{r['precinct'].strip()}" for r in rows}


def test_a_race_with_an_empty_candidate_is_named_and_the_others_read() -> None:
    with pytest.raises(FeedError) as caught:
        read(COUNTIES, zip_body(), race=ZIP_RACE, votes=ZIP_VOTES, options=RUNOFFS)
    assert "the party id is empty" in str(caught.value)
    assert "in race 'Ballots Cast'" in str(caught.value)
    assert "__general_runoff__" in str(caught.value) and caught.value.column == "candidate"
    rows = zip_rows(zip_body(), "__general_runoff__")
    wanted = [r for r in dict.fromkeys(race_of(r, ("office", "district")) for r in rows)]
    wanted.remove("Ballots Cast")
    listed = ", ".join(f'"{race}"' for race in wanted)
    snapshots = read(
        COUNTIES,
        zip_body(),
        race=ZIP_RACE,
        votes=ZIP_VOTES,
        options=f"{RUNOFFS}\nraces = [{listed}]",
    )
    assert list(checked_races(snapshots, rows)) == wanted
    senate = next(s for s in snapshots if s.race is not None and s.race.id == "U.S. Senate")
    assert precincts(senate) == 2_711
    # Three spellings of Warnock: a trailing space (most counties), none, and notes.
    assert {"Raphael Warnock ", "Raphael Warnock", "Raphael Warnock (I) (Dem)"} <= set(
        senate.party_ids
    )
    assert merged(app_totals(senate)) == CERTIFIED
    found = findings(senate).table
    assert found["check"].eq("spelling").sum() > 0
    said = " ".join(found["message"])
    assert "'Raphael Warnock ' (2,664 units) and 'Raphael Warnock' (36 units)" in said
    assert "'Raphael Warnock ' (2,664 units) and 'Raphael Warnock (I) (Dem)' (11 units)" in said
    offices = {r["office"].strip() for r in rows + zip_rows(zip_body(), "__general__")}
    read_offices = {
        r["office"].strip()
        for r in rows + zip_rows(zip_body(), "__general__")
        if race_of(r, ("office", "district")) != "Ballots Cast"
    }
    assert len(offices) == 377 and offices - read_offices == {"Ballots Cast"}
