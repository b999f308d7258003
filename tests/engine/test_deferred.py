"""Snapshots built on first read (nightdesk.deferred): the tables are those an eager build
makes, the reading refuses at once what the build would refuse later, and equal reads
compare equal without building anything."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.ap import AP_FORMAT
from adapters.clarity import CLARITY_FORMAT
from nightdesk import formats
from nightdesk.deferred import DeferredSnapshot
from nightdesk.errors import FeedError
from nightdesk.formats import ParseContext
from nightdesk.model import MAX_COUNT, Snapshot
from tests.adapters.test_ap import a_race, body
from tests.adapters.test_clarity import document
from tests.conftest import shared_path

CTX = ParseContext(source="s", fetched_at=datetime(2026, 11, 3, 20, tzinfo=UTC))


def ap(doc: bytes) -> list[Snapshot]:
    return formats.parse(AP_FORMAT, doc, CTX)


def clarity(doc: bytes) -> list[Snapshot]:
    return formats.parse(CLARITY_FORMAT, doc, CTX)


def eager(snapshot: Snapshot) -> Snapshot:
    """The same snapshot built at once from its tables."""
    return Snapshot.build(
        source=snapshot.source,
        votes=snapshot.votes,
        units=snapshot.units,
        parties=snapshot.parties,
        fetched_at=snapshot.fetched_at,
        published_at=snapshot.published_at,
        race=snapshot.race,
        vote_types=snapshot.vote_types,
    )


def test_a_parse_builds_no_table_until_one_is_read() -> None:
    data = shared_path("feeds", "ap", "20160426_ct_rollups.json").read_bytes()
    snapshots = ap(data)
    assert len(snapshots) == 435
    assert all(isinstance(s, DeferredSnapshot) and not s.built for s in snapshots)
    first = snapshots[0]
    assert first.votes.shape[1] >= 1 and first.built
    assert not any(s.built for s in snapshots[1:])
    # What was built is what an eager build makes, caches included.
    again = eager(first)
    assert again.same_counts(first)
    assert (first.vote_arrays()[0] == again.vote_arrays()[0]).all()
    assert first.parties.equals(again.parties)


def test_equal_reads_compare_without_building_and_changes_are_seen() -> None:
    race = a_race()
    one, two = ap(body([race])), ap(body([copy.deepcopy(race)]))
    assert one[0].same_counts(two[0]) and not one[0].built and not two[0].built
    moved = copy.deepcopy(race)
    moved["reportingUnits"][1]["candidates"][0]["voteCount"] += 1
    (three,) = ap(body([moved]))
    assert not one[0].same_counts(three)
    # Only the time changed: the tokens differ, the tables are compared, the counts agree.
    later = copy.deepcopy(race)
    later["reportingUnits"][1]["lastUpdated"] = "2026-11-03T21:00:00Z"
    (four,) = ap(body([later]))
    assert one[0].same_counts(four) and four.built


def test_clarity_contests_are_deferred_with_their_vote_types() -> None:
    (snap,) = clarity(document())
    assert isinstance(snap, DeferredSnapshot) and not snap.built
    assert snap.vote_types is not None and snap.built
    assert snap.vote_types["Election Day"].at["Appling", "10"] == 10
    (again,) = clarity(document())
    assert again.same_counts(clarity(document())[0]) and not again.built


def test_ap_ids_that_printing_would_make_equal_are_refused_while_reading() -> None:
    race = a_race()
    units = race["reportingUnits"]
    units.append(copy.deepcopy(units[1]))
    units[1]["reportingunitID"], units[2]["reportingunitID"] = "a\x01", "a\x02"
    with pytest.raises(FeedError, match="unit 'XX/a\ufffd' appears twice"):
        ap(body([race]))
    race = a_race()
    for cand, pid in zip(race["reportingUnits"][0]["candidates"], ["c\x01", "c\x02"], strict=True):
        cand["candidateID"] = pid
    for cand, pid in zip(race["reportingUnits"][1]["candidates"], ["c\x01", "c\x02"], strict=True):
        cand["candidateID"] = pid
    with pytest.raises(FeedError, match="candidate 'c\ufffd' appears twice"):
        ap(body([race]))


def test_clarity_refuses_a_count_past_the_limit_while_reading() -> None:
    with pytest.raises(FeedError, match="larger than"):
        clarity(document(f'<County name="A" votes="{MAX_COUNT + 1}" />'))
    # Each within the limit, their sum over vote types not.
    doc = document(f'<County name="A" votes="{MAX_COUNT}" />').replace(
        b"</VoteType>",
        b'</VoteType><VoteType name="Early" votes="1"><County name="A" votes="1" /></VoteType>',
    )
    with pytest.raises(FeedError, match="larger than"):
        clarity(doc)


def test_clarity_unit_names_equal_once_printed_are_refused_while_reading() -> None:
    # C1 controls are allowed in XML 1.0, and shown as U+FFFD: the two would be one unit.
    cells = '<County name="A&#x85;" votes="1" /><County name="A&#x86;" votes="2" />'
    with pytest.raises(FeedError, match="differ only in control characters"):
        clarity(document(cells))


def test_a_repeated_choice_key_is_refused_while_reading() -> None:
    doc = document().replace(
        b"</Choice>",
        b'</Choice><Choice key="10" text="X" totalVotes="0" />',
    )
    with pytest.raises(FeedError, match="choice key twice"):
        clarity(doc)


def test_the_token_is_the_records_as_read() -> None:
    race: dict[str, Any] = a_race()
    (snap,) = ap(body([race]))
    assert snap.counts_token() is not None
    assert snap.tree_complete() is True
    alone = a_race()
    alone["reportingUnits"] = alone["reportingUnits"][1:]  # no state row: to roll up
    (rolled,) = ap(json.dumps({"races": [alone]}).encode())
    assert rolled.votes.loc["XX"].tolist() == [7, 5]
