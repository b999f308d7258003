"""Vote types are not stored as cells: restart-time readers (export, replay) read them again
from the stored body, and only when it still counts what the store kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from nightdesk import config as config_mod
from nightdesk import formats
from nightdesk.errors import FeedError
from nightdesk.export import export_document
from nightdesk.formats import ParseContext
from nightdesk.history import parse_again, with_vote_types
from nightdesk.model import Snapshot
from nightdesk.polling import SourceState
from nightdesk.replay import Replayer
from nightdesk.store import Evidence, HistoryStore
from tests.engine.schema1_night import T0

CONFIG_TEXT = """
[election]
name = "Primary"
timezone = "America/New_York"
seats_method = "fptp"

[[sources]]
name = "sos"
url = "results.csv"
format = "csv"
[sources.columns]
unit = "unit"
party = "party"
votes = "votes"
"""
CONFIG = config_mod.parse(CONFIG_TEXT)


class Split:
    """A format whose rows are ``unit,party,day,mail``: the votes split in two types."""

    name = "split"
    needs_columns = False
    options: dict = {}
    calls = 0

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot:
        Split.calls += 1
        if body.startswith(b"!"):
            raise FeedError("not a split table")
        rows = [line.split(",") for line in body.decode().split()]
        frame = pd.DataFrame(rows, columns=["unit", "party", "day", "mail"])
        day = frame.pivot(index="unit", columns="party", values="day").astype("Int64")
        mail = frame.pivot(index="unit", columns="party", values="mail").astype("Int64")
        return Snapshot.build(
            source=ctx.source,
            votes=day + mail,
            fetched_at=ctx.fetched_at,
            vote_types={"Election Day": day, "Mail": mail},
        )


FIRST = b"Cobb,A,1,2 Cobb,B,7,0 Fulton,A,6,4 Fulton,B,5,0"
SECOND = b"Cobb,A,1,3 Cobb,B,7,0 Fulton,A,6,4 Fulton,B,5,1"


@pytest.fixture(autouse=True)
def split_format(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formats, "load", lambda name: Split())
    Split.calls = 0


def record(store: HistoryStore, body: bytes, minute: int) -> Snapshot:
    at = T0 + timedelta(minutes=minute)
    ctx = ParseContext(source="sos", fetched_at=at)
    (snapshot,) = formats.parse(Split(), body, ctx)
    store.record(Evidence("sos", "results.csv", at, 200, None, None, None, body), [snapshot])
    return snapshot


def test_the_stored_body_gives_the_vote_types_back(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "s.sqlite") as store:
        live = record(store, FIRST, 0)
        record(store, SECOND, 1)
    with HistoryStore.open(tmp_path / "s.sqlite") as store:
        stored = store.snapshot(1)
        assert stored.vote_types is None  # not stored as cells
        parsed = parse_again(store, CONFIG, 1)
        back = with_vote_types(stored, parsed[""])
        assert back.votes.equals(live.votes) and back.vote_types is not None
        assert live.vote_types is not None
        for name, table in live.vote_types.items():
            assert back.vote_types[name].equals(table)
        # Another snapshot's body counts differently: nothing is attached.
        assert with_vote_types(stored, parse_again(store, CONFIG, 2)[""]) is stored
        assert with_vote_types(stored, None) is stored


def test_a_body_that_cannot_be_read_again_gives_nothing(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "s.sqlite") as store:
        at = T0
        snapshot = Snapshot.build(
            source="sos", votes=pd.DataFrame({"A": [1]}, index=["u"]), fetched_at=at
        )
        store.record(Evidence("sos", "r.csv", at, 200, None, None, None, b"!oops"), [snapshot])
        assert parse_again(store, CONFIG, 1) == {}
        # A source the config no longer has.
        other = config_mod.parse(CONFIG_TEXT.replace('name = "sos"', 'name = "elsewhere"'))
        assert parse_again(store, other, 1) == {}


def test_export_shows_the_vote_types(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "s.sqlite") as store:
        record(store, FIRST, 0)
        record(store, SECOND, 1)
        document = export_document(CONFIG, store)
    (source,) = document["sources"]
    cobb = next(u for u in source["units"] if u["id"] == "Cobb")
    assert cobb["votes"] == {"A": 4, "B": 7}
    assert cobb["vote_types"] == {"Election Day": {"A": 1, "B": 7}, "Mail": {"A": 3, "B": 0}}


async def test_replay_shows_the_vote_types_and_parses_each_body_once(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "s.sqlite") as store:
        record(store, FIRST, 0)
        record(store, SECOND, 1)
        Split.calls = 0
        seen: list[SourceState] = []
        replayer = Replayer(CONFIG, store, speed=1e6)
        replayer.subscribe(seen.append)
        await replayer.start()
        await asyncio.wait_for(replayer.finished.wait(), 10)
        await replayer.stop()
    assert Split.calls == 2
    types = [state.results[0].snapshot.vote_types for state in seen]
    assert all(t is not None for t in types)
    assert types[-1] is not None and types[-1]["Mail"].at["Cobb", "A"] == 3


async def test_replay_stops_parsing_a_source_without_vote_types(tmp_path: Path) -> None:
    with HistoryStore.open(tmp_path / "s.sqlite") as store:
        for k in range(3):
            at = T0 + timedelta(minutes=k)
            snapshot = Snapshot.build(
                source="sos", votes=pd.DataFrame({"A": [k]}, index=["u"]), fetched_at=at
            )
            store.record(
                Evidence("sos", "r.csv", at, 200, None, None, None, b"!%d" % k), [snapshot]
            )
        Split.calls = 0
        replayer = Replayer(CONFIG, store, speed=1e6)
        await replayer.start()
        await asyncio.wait_for(replayer.finished.wait(), 10)
        await replayer.stop()
        assert replayer.played == 3 and Split.calls == 1
