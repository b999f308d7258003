"""Viewer mode's :class:`Follower`: the night a collector writes, followed from the store,
never from the feed; a collector killed and restarted under it."""

from __future__ import annotations

import asyncio
import signal
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from nightdesk import config as cfg
from nightdesk.follower import Follower, collector_live
from nightdesk.polling import Poller, SourceState
from nightdesk.stores import open_store
from tests.conftest import FeedServer
from tests.engine.test_collect import body, config_text, start_collector


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def cpp(state: SourceState | None) -> int | None:
    if state is None or not state.results:
        return None
    return int(state.results[0].snapshot.votes.loc["Kandal", "CPP"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_a_new_snapshot_reaches_the_viewer_within_a_second_of_its_commit(
    feed_server: FeedServer, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    c = cfg.parse(config_text(feed_server.url, interval=60))
    if backend == "sqlite":
        writer = open_store(tmp_path / "night.sqlite")  # the collector's; the viewer's own
        viewer = open_store(tmp_path / "night.sqlite")
    else:
        pytest.importorskip("nightdesk.store_pg", reason="STORE-PG's backend is not there yet")
        url = request.getfixturevalue("pg_url")
        writer = open_store(url, upgrade=True)
        viewer = open_store(url)
    poller = Poller(c, store=writer, store_after=0)
    committed: dict[int, float] = {}
    seen: dict[int, float] = {}
    poller.subscribe(
        lambda s: committed.setdefault(s.stored[""], time.monotonic()) if s.stored else None
    )
    follower = Follower(c, viewer)
    follower.subscribe(
        lambda s: seen.setdefault(s.stored[""], time.monotonic()) if s.stored else None
    )
    feed_server.set(body(1))
    await poller.poll(c.sources[0])
    await asyncio.to_thread(follower.restore)
    await follower.start()
    try:
        for votes in range(2, 8):
            feed_server.set(body(votes))
            await poller.poll(c.sources[0])
            sid = max(committed)
            await until(lambda sid=sid: sid in seen, timeout=5)  # type: ignore[misc]
            assert cpp(follower.states["nec"]) == votes
    finally:
        await follower.stop()
        await poller.stop()
        writer.close()
        viewer.close()
    lags = [seen[i] - committed[i] for i in seen]
    assert len(lags) == 6
    print(
        f"commit → viewer: p50 {statistics.median(lags) * 1000:.0f} ms,"
        f" max {max(lags) * 1000:.0f} ms"
    )
    assert max(lags) < 1.0
    # Each snapshot was published once, in order, as the poller publishes it.
    assert sorted(seen) == list(seen)


async def test_a_viewer_never_asks_the_feed(feed_server: FeedServer, tmp_path: Path) -> None:
    c = cfg.parse(config_text(feed_server.url, interval=0.2))
    db = tmp_path / "night.sqlite"
    with open_store(db) as writer:
        async with Poller(c, store=writer, store_after=0) as poller:
            feed_server.set(body(10))
            await poller.poll(c.sources[0])
    asked = len(feed_server.requests)
    viewer = open_store(db)
    follower = Follower(c, viewer, catch_up=0.1)
    restored = await asyncio.to_thread(follower.restore)
    assert cpp(restored["nec"]) == 10
    await follower.start()
    follower.refresh()  # `r` in a viewer reads the store again, it does not poll
    await asyncio.sleep(1.5)  # seven intervals of the source
    await follower.stop()
    viewer.close()
    assert len(feed_server.requests) == asked
    assert follower.remembers is False  # the desk's choices are not written to the store


async def test_collector_killed_the_viewer_keeps_the_data_marks_stale_and_resumes(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    config = tmp_path / "night.toml"
    config.write_text(config_text(feed_server.url, interval=0.5))
    c = cfg.load(config)
    db = tmp_path / "night.sqlite"
    feed_server.set(body(10))
    proc = start_collector(config, db)
    viewer = open_store(db)
    follower = Follower(c, viewer, catch_up=0.25)
    states: list[SourceState] = []
    follower.subscribe(states.append)
    await follower.start()
    try:
        await until(lambda: cpp(follower.states["nec"]) == 10)
        await until(lambda: follower.states["nec"].health.last_success is not None)
        assert collector_live(viewer, c)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # Three intervals without a word: stale on screen, said once, the numbers kept.
        await until(lambda: (follower.states["nec"].health.notice or "").startswith("no word"))
        state = follower.states["nec"]
        assert state.health.status(0.5) == "stale"
        assert cpp(state) == 10
        assert not collector_live(viewer, c)
        # A new collector: the viewer follows it again by itself.
        feed_server.set(body(20))
        proc = start_collector(config, db)
        await until(lambda: cpp(follower.states["nec"]) == 20)
        await until(lambda: follower.states["nec"].health.notice is None)
        assert follower.states["nec"].health.status(0.5) == "ok"
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
        assert proc.returncode == 0
        await until(lambda: "stopped" in (follower.states["nec"].health.notice or ""))
    finally:
        if proc.poll() is None:
            proc.kill()
        await follower.stop()
    # Nothing committed was lost: both snapshots, in order, each published to the viewer once.
    assert [e.seq for e in viewer.timeline("nec")] == [1, 2]
    published = [s.stored[""] for s in states if s.stored]
    assert published == [e.id for e in viewer.timeline("nec")]
    viewer.close()
