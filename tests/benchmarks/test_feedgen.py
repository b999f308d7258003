"""The benchmark feed generator: what it serves parses as nightdesk reads it, and changes by 3."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import numpy as np
import pytest

from benchmarks.feedgen import FeedGenServer, config_toml, feed_body, votes_at
from nightdesk import config, formats
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot


def parsed(body: bytes, kind: str) -> Snapshot:
    source = config.parse(config_toml("http://127.0.0.1:1/", kind)).sources[0]
    assert source.url == f"http://127.0.0.1:1/results.{kind}"
    ctx = ParseContext(
        source=source.name,
        fetched_at=datetime.now(UTC),
        columns=source.columns,
        options=source.options,
    )
    [snapshot] = formats.parse(formats.load(source.format), body, ctx)
    return snapshot


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_both_kinds_parse_with_the_generated_config(kind: str) -> None:
    snap = parsed(feed_body(40, 8, version=2, seed=7, kind=kind), kind)
    assert snap.votes.shape == (40, 8)
    assert snap.votes.index[0] == "U00000"
    assert list(snap.votes.columns[:2]) == ["CPP", "CNRP"]
    assert snap.votes.to_numpy(dtype=np.int64).ravel().tolist() == (
        votes_at(40, 8, version=2, seed=7).tolist()
    )
    assert snap.units["seats"].between(1, 12).all()
    assert snap.units["name"].iloc[0] == "District 1"
    assert snap.units[["registered", "ballots_cast", "reporting"]].notna().all().all()


@pytest.mark.parametrize("kind", ["json", "csv"])
def test_each_version_changes_three_cells_upwards_in_three_units(kind: str) -> None:
    before = parsed(feed_body(24, 8, version=5, kind=kind), kind).votes
    after = parsed(feed_body(24, 8, version=6, kind=kind), kind).votes
    differ = (after != before).to_numpy()
    assert differ.sum() == 3
    assert differ.any(axis=1).sum() == 3  # three different units
    assert (after >= before).all().all()


def test_any_version_is_computed_directly_and_only_grows() -> None:
    prev = votes_at(5, 3, version=0)
    for version in range(1, 40):  # wraps round the 15 cells several times
        now = votes_at(5, 3, version=version)
        changed = np.flatnonzero(now != prev)
        assert len(changed) == 3 and len(set(changed // 3)) == 3
        assert (now >= prev).all()
        prev = now
    # A far version rendered whole equals one reached by patching step by step.
    stepped = [feed_body(30, 4, version=v, seed=3, kind="csv") for v in range(100, 104)][-1]
    assert stepped == feed_body(30, 4, version=103, seed=3, kind="csv")
    assert feed_body(30, 4, version=10**6, seed=3, kind="json").startswith(b'{"results":[')


def test_server_serves_the_current_version_and_honours_if_none_match() -> None:
    with FeedGenServer(24, 8, seed=1) as server, httpx.Client() as client:
        first = client.get(server.url + "results.json")
        assert first.status_code == 200
        assert first.content == feed_body(24, 8, version=0, seed=1, kind="json")
        etag = first.headers["etag"]
        again = client.get(server.url + "results.json", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert server.advance() == 1
        moved = client.get(server.url + "results.json", headers={"If-None-Match": etag})
        assert moved.status_code == 200 and moved.headers["etag"] != etag
        assert moved.content == feed_body(24, 8, version=1, seed=1, kind="json")
        server.version = 9
        csv = client.get(server.feed_url("csv"))
        assert csv.content == feed_body(24, 8, version=9, seed=1, kind="csv")
        assert client.get(server.url + "nothing").status_code == 404
        assert (server.requests, server.full, server.not_modified) == (5, 3, 1)
