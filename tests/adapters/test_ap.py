"""The ap format: AP Elections API v2 files (elex's fixtures), filters, hostile JSON.

Totals are checked against sums written here over the raw JSON, independently of the
adapter's code.
"""

from __future__ import annotations

import copy
import json
import logging
import random
from collections import Counter
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from adapters.ap import AP_FORMAT, APFormat
from nightdesk import config as cfg
from nightdesk.errors import ConfigError, FeedError
from nightdesk.formats import Format, Page, ParseContext, load
from nightdesk.formats import parse as run_format
from nightdesk.model import Snapshot
from tests.conftest import SHARED, shared_path

FETCHED = datetime(2016, 4, 26, 23, 0, tzinfo=UTC)
RESULTS = ("20151103_national.json", "20160301_super_tuesday.json", "20160426_ct_rollups.json")
ELECTIONS = "00000000_elections.json"
#: Every file in the folder, whatever it holds (a new one must be handled too).
ALL_FILES = sorted(p.name for p in (SHARED / "feeds" / "ap").glob("*.json")) or list(RESULTS)


def context(partial: bool = False, **options: Any) -> ParseContext:
    return ParseContext(source="ap", fetched_at=FETCHED, options=options, partial=partial)


def parse(body: bytes, partial: bool = False, **options: Any) -> Page:
    return AP_FORMAT.parse(body, context(partial, **options))


def feed(name: str) -> bytes:
    return shared_path("feeds", "ap", name).read_bytes()


def raw(name: str) -> dict[str, Any]:
    return json.loads(feed(name))


@cache
def _parsed(name: str) -> tuple[Snapshot, ...]:
    return tuple(parse(feed(name)).snapshots)


def parsed(name: str) -> tuple[Snapshot, ...]:
    """A file's snapshots, parsed once per run (ct_rollups is 435 races)."""
    shared_path("feeds", "ap", name)  # skip, not cache, when absent
    return _parsed(name)


def by_race(name: str) -> dict[str, Snapshot]:
    return {s.race.id: s for s in parsed(name) if s.race is not None}


def body(races: list[dict[str, Any]], **top: Any) -> bytes:
    return json.dumps({"electionDate": "2016-04-26", "races": races, **top}).encode()


def a_race(**changes: Any) -> dict[str, Any]:
    race: dict[str, Any] = {
        "raceID": "1",
        "officeName": "Governor",
        "officeID": "G",
        "test": False,
        "reportingUnits": [
            {
                "statePostal": "XX",
                "stateName": "Exland",
                "level": "state",
                "precinctsReporting": 1,
                "precinctsTotal": 2,
                "candidates": [
                    {"first": "Ann", "last": "One", "candidateID": "10", "voteCount": 7},
                    {"first": "Bob", "last": "Two", "candidateID": "20", "voteCount": 5},
                ],
            },
            {
                "statePostal": "XX",
                "reportingunitName": "North",
                "reportingunitID": "100",
                "level": "subunit",
                "precinctsReporting": 1,
                "precinctsTotal": 1,
                "candidates": [
                    {"first": "Ann", "last": "One", "candidateID": "10", "voteCount": 7},
                    {"first": "Bob", "last": "Two", "candidateID": "20", "voteCount": 5},
                ],
            },
        ],
    }
    race.update(changes)
    return race


# ------------------------------------------------------------------ the real files


def test_the_plugin_is_found_by_name() -> None:
    fmt = load("ap")
    assert fmt is AP_FORMAT and isinstance(fmt, Format) and isinstance(fmt, APFormat)
    assert not fmt.needs_columns


@pytest.mark.parametrize("name", ALL_FILES)
def test_every_file_parses_or_says_clearly_why_not(name: str) -> None:
    data = raw(name)
    if "races" not in data:
        with pytest.raises(FeedError) as err:
            parse(feed(name))
        text = str(err.value)
        assert "list of elections, not results" in text
        assert "https://api.ap.org/v2/elections/2016-02-09?format=json&level=ru" in text
        return
    snapshots = parsed(name)
    assert snapshots and all(isinstance(s, Snapshot) for s in snapshots)
    ids = [s.race.id for s in snapshots if s.race is not None]
    assert len(ids) == len(snapshots) == len(set(ids))
    # Through the engine's entry point too (with the hierarchy completed).
    assert len(run_format(AP_FORMAT, feed(name), context())) == len(snapshots)


def _raw_races(name: str) -> dict[str, dict[str, Any]]:
    """The raw races with units, keyed as the adapter keys them (written independently)."""
    out = {}
    for race in raw(name)["races"]:
        units = race.get("reportingUnits") or []
        if not units:
            continue
        out[f"{units[0]['statePostal']}-{race['raceID']}"] = race
    return out


@pytest.mark.parametrize("name", RESULTS)
def test_state_totals_equal_the_raw_sums_per_race(name: str) -> None:
    races = by_race(name)
    expected = _raw_races(name)
    assert set(races) == set(expected)
    for key, race in expected.items():
        state_votes: Counter[str] = Counter()
        sub_votes: Counter[str] = Counter()
        subunits = 0
        for unit in race["reportingUnits"]:
            for cand in unit["candidates"]:
                if unit["level"] == "state":
                    state_votes[cand["candidateID"]] += cand["voteCount"]
                else:
                    sub_votes[cand["candidateID"]] += cand["voteCount"]
            subunits += unit["level"] == "subunit"
        snap = races[key]
        state = race["reportingUnits"][0]["statePostal"]
        got_state = {p: int(v) for p, v in snap.votes.loc[state].items() if pd.notna(v)}
        assert got_state == dict(state_votes), key
        below = snap.votes[snap.units["parent"] == state]
        assert len(below) == subunits, key
        got_sub = {p: int(v) for p, v in below.sum(min_count=1).items() if pd.notna(v)}
        assert got_sub == {p: v for p, v in sub_votes.items()}, key
        # National sums count the top level only: the state's own totals.
        totals = snap.party_totals()
        assert {p: int(v) for p, v in totals.items() if pd.notna(v)} == dict(state_votes)


@pytest.mark.parametrize("name", RESULTS)
def test_units_parents_reporting_and_published_time(name: str) -> None:
    races = by_race(name)
    for key, race in _raw_races(name).items():
        snap = races[key]
        units = race["reportingUnits"]
        assert len(snap.units) == len(units)
        for unit, (uid, row) in zip(units, snap.units.iterrows(), strict=True):
            state = unit["statePostal"]
            if unit["level"] == "state":
                assert uid == state and pd.isna(row["parent"])
                assert row["name"] == unit["stateName"]
            else:
                rid = unit.get("reportingunitID") or unit.get("fipsCode")
                assert uid == f"{state}/{rid}" and row["parent"] == state
                assert row["name"] == unit["reportingunitName"]
            if unit["precinctsTotal"]:
                assert row["reporting"] == unit["precinctsReporting"] / unit["precinctsTotal"]
        stamps = [u["lastUpdated"] for u in units] + [race.get("lastUpdated")]
        latest = max(datetime.fromisoformat(t) for t in stamps if t)
        assert snap.published_at == latest


@pytest.mark.parametrize("name", RESULTS)
def test_winner_flags_are_the_state_rows_calls(name: str) -> None:
    races = by_race(name)
    for key, race in _raw_races(name).items():
        state = next(u for u in race["reportingUnits"] if u["level"] == "state")
        flags = {c["candidateID"]: c.get("winner") for c in state["candidates"]}
        called = races[key].parties["called"]
        for cid, flag in flags.items():
            want = {"X": "winner", "R": "runoff"}.get(flag or "")
            assert (called[cid] if pd.notna(called[cid]) else None) == want, (key, cid)


def test_counts_of_each_file() -> None:
    national = by_race("20151103_national.json")
    assert len(national) == 5
    assert sum(len(s.units) for s in national.values()) == 192
    assert sum(int(s.parties["called"].eq("winner").sum()) for s in national.values()) == 5
    tuesday = by_race("20160301_super_tuesday.json")
    assert sum(len(s.units) for s in tuesday.values()) == 704
    ct = by_race("20160426_ct_rollups.json")
    # 436 races; one uncontested race has no reporting units and is left out.
    assert len(ct) == 435 and "PA-39728" not in ct
    gop = ct["CT-7002"]
    assert gop.race.name == "CT President (GOP primary)"
    assert gop.units.at["CT", "reporting"] == 335 / 701
    assert len(gop.units) == 170


def test_test_flag_follows_the_feed() -> None:
    assert all(s.race.test for s in parsed("20160426_ct_rollups.json"))
    assert not any(s.race.test for s in parsed("20151103_national.json"))


def test_race_names_and_ids_are_readable_and_qualified() -> None:
    national = by_race("20151103_national.json")
    assert national["CO-7582"].race.name == "CO Proposition, BB Retain Revenue"
    assert national["KY-18525"].race.name == "KY Governor"
    tuesday = by_race("20160301_super_tuesday.json")
    assert sorted(s.race.name for s in tuesday.values()) == [
        "MA President (Dem primary)",
        "MA President (GOP primary)",
    ]
    trump = tuesday["MA-24547"].parties.loc["33360"]
    assert (trump["name"], trump["short_name"]) == ("Donald Trump", "Trump")


def test_subunits_without_fips_code_keep_their_ap_id() -> None:
    ct = by_race("20160426_ct_rollups.json")
    units = ct["RI-40002"].units
    assert units.at["RI/62803", "name"] == "Mail Ballots C.D. 1"
    assert units.at["RI/62803", "parent"] == "RI"


def test_the_uncontested_race_without_units_is_left_out_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="adapters.ap"):
        parse(feed("20160426_ct_rollups.json"), state="PA", office="State House")
    assert "PA-39728" in caplog.text and "uncontested" in caplog.text
    with pytest.raises(FeedError, match=r"no reporting units .*uncontested.*PA-39728"):
        parse(feed("20160426_ct_rollups.json"), races=["39728"])


def test_next_request_is_the_pages_next_url() -> None:
    page = parse(feed("20151103_national.json"), races=["7582"])
    assert page.next_url is not None and "minDateTime=2015-11-04T19" in page.next_url
    assert not page.more


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    ("options", "keys"),
    [
        ({"races": ["7582"]}, ["CO-7582"]),
        ({"races": ["co-7582", "18525"]}, ["CO-7582", "KY-18525"]),
        ({"office": "Governor"}, ["KY-18525"]),
        ({"office": ["g"]}, ["KY-18525"]),
        ({"state": "CO"}, ["CO-7582", "CO-7583", "CO-7585", "CO-7587"]),
        ({"state": ["kentucky"]}, ["KY-18525"]),
        ({"state": "CO", "office": "Question"}, ["CO-7583", "CO-7585", "CO-7587"]),
    ],
)
def test_filters(options: dict[str, Any], keys: list[str]) -> None:
    page = parse(feed("20151103_national.json"), **options)
    assert [s.race.id for s in page.snapshots] == keys


def test_filters_on_the_big_feed() -> None:
    page = parse(feed("20160426_ct_rollups.json"), office="President", state=["CT", "MD"])
    assert len(page.snapshots) == 4
    assert {s.race.id.split("-")[0] for s in page.snapshots} == {"CT", "MD"}


def test_a_filter_that_matches_nothing_says_what_the_feed_has() -> None:
    with pytest.raises(FeedError) as err:
        parse(feed("20151103_national.json"), office="Mayor")
    text = str(err.value)
    assert "no race matches" in text and "Governor" in text and "5 races" in text
    with pytest.raises(FeedError, match="race '9999' is not in the feed"):
        parse(feed("20151103_national.json"), races=["7582", "9999"])


def test_a_partial_answer_may_lack_races_and_matches() -> None:
    only_next = json.dumps({"nextrequest": "https://api.ap.org/v2/next"}).encode()
    page = parse(only_next, partial=True)
    assert page == Page([], "https://api.ap.org/v2/next")
    page = parse(feed("20151103_national.json"), partial=True, races=["9999"])
    assert page.snapshots == [] and page.next_url
    with pytest.raises(FeedError, match='no "races" array'):
        parse(only_next)


def test_truncated_pages_ask_for_more() -> None:
    page = parse(body([a_race()], nextrequest="https://x/n", isTruncated=True), partial=True)
    assert page.more and page.next_url == "https://x/n"


def test_options_in_a_config(tmp_path: Path) -> None:
    def load_config(extra: str) -> cfg.Config:
        text = f"""
[election]
name = "t"
[[sources]]
name = "ap"
url = "https://api.ap.org/v2/elections/2016-04-26?format=json&level=ru"
format = "ap"
{extra}
"""
        return cfg.parse(text, path=tmp_path / "c.toml")

    source = load_config('races = ["7582", 18525]\nstate = "CO"\napi_key_env = "MY_KEY"\n')
    assert source.sources[0].options == {
        "races": ["7582", 18525],
        "state": "CO",
        "api_key_env": "MY_KEY",
    }
    for bad, words in [
        ("races = []", "at least one"),
        ('races = "7582"', "expected a list"),
        ("office = 3", "expected an office name"),
        ('api_key_env = "not a name"', "not the name of an environment variable"),
    ]:
        with pytest.raises(ConfigError, match=words):
            load_config(bad)


def test_the_key_header_comes_from_the_named_variable() -> None:
    ap_url = "https://api.ap.org/v2/elections/2016-04-26"
    assert AP_FORMAT.env_headers({}, ap_url) == {"x-api-key": "AP_API_KEY"}
    assert AP_FORMAT.env_headers({"api_key_env": "K"}, "http://127.0.0.1:8/x") == {"x-api-key": "K"}
    assert AP_FORMAT.env_headers({}, "http://127.0.0.1:8/x") == {}
    assert AP_FORMAT.env_headers({}, "https://evil-ap.org.example/x") == {}


# ------------------------------------------------------------------ hostile and broken input


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty response"),
        (b"   \n", "empty response"),
        (b'{"races": [{"raceID": "1", "reportingUnits": [', "the feed is truncated"),
        (b"{'races': []}", "not valid JSON (line 1, column 2"),
        (b"<html><title>502 Bad Gateway</title></html>", "looks like HTML"),
        (b"[1, 2]", "expected a JSON object"),
        (b'"races"', "expected a JSON object"),
        (b'{"races": {}}', '"races" must be an array'),
        (b'{"races": [3]}', "races[0] must be an object"),
        (b'{"races": [{"officeName": "x"}]}', "races[0] has no raceID"),
        (b'{"races": [{"raceID": true}]}', "raceID must be a string"),
        (b'{"races": [{"raceID": "1", "reportingUnits": 5}]}', "reportingUnits must be an array"),
        (b'{"races": []}', "the feed lists no races"),
        (b'{"races": "\xff"}', "not valid UTF-8 JSON (invalid start byte at byte 11)"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
        (b'{"reports": []}', "list of reports, not results"),
    ],
)
def test_broken_bodies_are_feed_errors(data: bytes, words: str) -> None:
    with pytest.raises(FeedError) as err:
        parse(data)
    assert words in str(err.value)


def _with_candidate(**cand: Any) -> bytes:
    race = a_race()
    race["reportingUnits"][1]["candidates"][0].update(cand)
    return body([race])


@pytest.mark.parametrize(
    ("cand", "words"),
    [
        ({"voteCount": "7"}, "voteCount '7' is not a whole number"),
        ({"voteCount": -1}, "voteCount -1 is not a whole number"),
        ({"voteCount": 7.5}, "voteCount 7.5 is not"),
        ({"voteCount": True}, "voteCount True is not"),
        ({"voteCount": 10**13}, "is not a whole number of votes from 0 to"),
        ({"candidateID": "20"}, "candidate 20 appears twice in reporting unit XX/100"),
        ({"candidateID": None, "polID": None}, "has no candidateID or polID"),
        ({"candidateID": ["x"]}, "candidateID must be a string"),
    ],
)
def test_bad_candidates_name_race_unit_and_value(cand: dict[str, Any], words: str) -> None:
    with pytest.raises(FeedError) as err:
        parse(_with_candidate(**cand))
    assert words in str(err.value) and "race XX-1" in str(err.value)


def test_bad_units_are_feed_errors() -> None:
    race = a_race()
    race["reportingUnits"][1]["precinctsReporting"] = "1"
    with pytest.raises(FeedError, match="precinctsReporting '1' is not a whole number"):
        parse(body([race]))
    race = a_race()
    race["reportingUnits"][1].pop("statePostal")
    race["reportingUnits"][0].pop("statePostal")
    with pytest.raises(FeedError, match="has no statePostal"):
        parse(body([race]))
    race = a_race()
    race["reportingUnits"][1]["candidates"] = {"a": 1}
    with pytest.raises(FeedError, match="candidates must be an array"):
        parse(body([race]))
    race = a_race()
    race["reportingUnits"].append(dict(race["reportingUnits"][1]))
    with pytest.raises(FeedError, match="'XX/100' appears twice"):
        parse(body([race]))
    with pytest.raises(FeedError, match="race XX-1 appears twice"):
        parse(body([a_race(), a_race()]))


def test_missing_counts_are_not_reported_never_zero() -> None:
    race = a_race()
    del race["reportingUnits"][1]["candidates"][0]["voteCount"]
    (snap,) = parse(body([race])).snapshots
    assert pd.isna(snap.votes.at["XX/100", "10"]) and snap.votes.at["XX/100", "20"] == 5


def test_reporting_falls_back_to_the_percentage() -> None:
    race = a_race()
    unit = race["reportingUnits"][1]
    unit.update(precinctsTotal=0, precinctsReportingPct=47.79)
    (snap,) = parse(body([race])).snapshots
    assert snap.units.at["XX/100", "reporting"] == pytest.approx(0.4779)
    unit.pop("precinctsReportingPct")
    (snap,) = parse(body([race])).snapshots
    assert pd.isna(snap.units.at["XX/100", "reporting"])


def test_hostile_names_are_kept_as_literal_text() -> None:
    race = a_race(officeName="[bold red]Gov\x1b[2J", seatName="[/]")
    race["reportingUnits"][1]["reportingunitName"] = "[link=http://x]North[/link]\x07"
    race["reportingUnits"][0]["candidates"][0].update(first="\x1b]0;pwned\x07Ann", last="[b]")
    (snap,) = parse(body([race])).snapshots
    assert snap.race.name == "XX [bold red]Gov\ufffd[2J, [/]"
    assert snap.units.at["XX/100", "name"] == "[link=http://x]North[/link]\ufffd"
    assert snap.parties.at["10", "name"] == "\ufffd]0;pwned\ufffdAnn [b]"
    assert snap.parties.at["10", "short_name"] == "[b]"


def test_calls_runoffs_and_shared_last_names() -> None:
    race = a_race(party="Dem", raceType="Primary")
    state, sub = race["reportingUnits"]
    state["candidates"][0]["winner"] = "R"
    state["candidates"][1].update(winner="R", last="One")
    sub["candidates"][1].update(last="One")
    sub["candidates"][0]["winner"] = "X"  # a subunit's flag is not the race call
    (snap,) = parse(body([race])).snapshots
    assert snap.race.name == "XX Governor (Dem primary)"
    assert snap.parties["called"].tolist() == ["runoff", "runoff"]
    # Two candidates called One: the short name would not tell them apart.
    assert snap.parties["short_name"].isna().all()
    assert snap.party_label("10") == "Ann One" and snap.party_label("20") == "Bob One"


def test_a_race_without_a_state_row_is_rolled_up_from_its_subunits() -> None:
    race = a_race()
    race["reportingUnits"] = race["reportingUnits"][1:]
    (snap,) = run_format(AP_FORMAT, body([race]), context())
    assert snap.votes.loc["XX"].tolist() == [7, 5]


def test_feed_timestamp_when_no_unit_says_when() -> None:
    (snap,) = parse(body([a_race()], timestamp="2016-04-26T20:00:00.5Z")).snapshots
    assert snap.published_at == datetime(2016, 4, 26, 20, 0, 0, 500_000, tzinfo=UTC)
    race = a_race(lastUpdated="2016-04-26T21:00:00Z")
    race["reportingUnits"][1]["lastUpdated"] = "not a time"
    (snap,) = parse(body([race], timestamp="2016-04-26T20:00:00Z")).snapshots
    assert snap.published_at == datetime(2016, 4, 26, 21, 0, tzinfo=UTC)


def test_every_prefix_of_a_real_file_is_an_error_or_a_result() -> None:
    data = feed("20151103_national.json")
    for cut in range(0, len(data), 997):
        try:
            parse(data[:cut])
        except FeedError:
            continue


def test_races_per_state_match_the_raw_file() -> None:
    counts = Counter(s.race.id.split("-")[0] for s in parsed("20160426_ct_rollups.json"))
    expected = Counter(
        u["statePostal"]
        for r in raw("20160426_ct_rollups.json")["races"]
        for u in r.get("reportingUnits") or []
        if u["level"] == "state"
    )
    assert counts == expected == Counter({"PA": 369, "MD": 60, "CT": 2, "DE": 2, "RI": 2})


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a decoded JSON document."""
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*here, i))
    return out


def test_any_value_of_any_type_anywhere_is_an_error_or_a_result() -> None:
    """The typed decode and the careful reading agree on what is readable: a value of another
    type anywhere in a real file gives a FeedError or snapshots that build, never a crash."""

    doc = raw("20151103_national.json")
    paths = [p for p in _paths(doc) if p]
    rng = random.Random(7)
    odd: list[Any] = [None, True, -1, 1.5, 10**13, "", "x", [], {}, [1], {"a": 1}, "\x1b[2J"]
    for _ in range(150):
        mutated = copy.deepcopy(doc)
        path = rng.choice(paths)
        node = mutated
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = rng.choice(odd)
        try:
            page = parse(json.dumps(mutated).encode())
        except FeedError:
            continue
        for snap in page.snapshots:
            assert snap.votes.dtypes.eq("Int64").all(), path
            assert snap.units.index.is_unique and snap.parties.index.is_unique, path
