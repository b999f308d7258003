"""Issue 9's acceptance, with real processes: one ``nightdesk collect`` on a real PostgreSQL,
20 viewers (``nightdesk --store URL``, each a real Textual app in its own pseudo-terminal) and
a local feed that counts requests.

What a viewer shows is read from its terminal (no hook in the product): each commit puts a
distinct vote count on the feed, and a viewer shows the snapshot once that number is in what
it writes. The commit time is when this process's own LISTEN connection sees the new
snapshot (PostgreSQL notifies at commit). The tests share one newsroom and run in order:
the steady night, the collector killed with -9, PostgreSQL restarted under the viewers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.newsroom import Newsroom, shown, styled
from tests.conftest_pg import pg_cluster  # noqa: F401 - the module's own, restartable server

pytestmark = [pytest.mark.integration]

VIEWERS = 20
INTERVAL = 1.0  # the feed's poll interval (s)
#: The collector's silence after which a viewer says the source is stale (three intervals),
#: plus the follower's catch-up and the status line's recheck.
STALE_WITHIN = 15.0


def all_shown(
    room: Newsroom, marker: bytes | re.Pattern[bytes], since: list[int], timeout: float
) -> list[float]:
    times = room.wait_all(marker, since, timeout)
    late = [i for i, t in enumerate(times) if t is None]
    assert not late, (
        f"viewers {late} never showed {marker!r}:\n{room.viewers[late[0]].text()[-1500:]}"
    )
    return [t for t in times if t is not None]


@pytest.fixture(scope="module")
def room(pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsroom]:  # noqa: F811
    """The newsroom up: the schema made by `nightdesk db upgrade`, the collector's first
    snapshot committed, 20 viewers each showing it and done starting."""
    with Newsroom(
        pg_cluster.url, Path(tmp_path_factory.mktemp("newsroom")), interval=INTERVAL
    ) as r:
        r.cluster = pg_cluster  # type: ignore[attr-defined]
        r.upgrade()
        r.watch_commits()
        first = next(r.values)
        r.feed.set(first)
        r.start_collector()
        deadline = time.monotonic() + 30
        while not r.commits:
            assert time.monotonic() < deadline, "the collector committed nothing"
            time.sleep(0.05)
        r.start_viewers(VIEWERS)
        all_shown(r, shown(first), [0] * VIEWERS, timeout=90)  # 20 Textual apps on 2 cores
        r.settle()  # their start-up done: the commits below measure the following
        r.last = first  # type: ignore[attr-defined]
        yield r


def commit_and_check(room: Newsroom, within: float) -> float:
    """A new value on the feed; every viewer shows it within ``within`` s of the commit.
    Returns the slowest viewer's lag."""
    cpp, sid, committed, times = room.commit(timeout=20)
    room.last = cpp  # type: ignore[attr-defined]  # what the screens show next, pass or fail
    assert all(t is not None for t in times), f"not every viewer showed snapshot {sid}"
    lag = max(t for t in times if t is not None) - committed
    assert lag < within, f"snapshot {sid}: the slowest of {len(times)} viewers took {lag:.2f} s"
    return lag


def test_one_poller_and_twenty_viewers_show_each_commit_within_a_second(room: Newsroom) -> None:
    """Every commit on every one of the 20 screens within 1 s. On this project's 2-core
    machine the slowest viewer takes 0.4-0.65 s (``make bench``: p50 410 ms, p95 520 ms,
    max 603 ms over 100 commits): a viewer reads only the new cells (the store keeps each
    stream folded) and a poll with new results is one commit, data and health together."""
    start = time.monotonic()
    lags = [commit_and_check(room, within=1.0) for _ in range(8)]
    span = time.monotonic() - start
    polls = room.feed.count(start)
    # One poll per interval, the collector's: 20 viewers polling would be 21 per interval.
    assert span / INTERVAL - 2 <= polls <= span / INTERVAL + 2, (polls, span)
    print(f"commit → all {VIEWERS} viewers: {', '.join(f'{x * 1000:.0f}' for x in lags)} ms")


def test_collector_killed_viewers_keep_the_data_say_stale_and_resume(room: Newsroom) -> None:
    before = room.timeline()
    assert before, "nothing was committed"
    room.kill_collector()
    killed = time.monotonic()
    since = room.offsets()
    # Stale on every screen, by the collector's silence alone (no clean last word).
    all_shown(room, b"STALE", since, timeout=STALE_WITHIN)
    # The numbers stay: redrawn whole, every screen still shows the last snapshot.
    since = room.offsets()
    for v in room.viewers:
        v.repaint(COLS_ALT)
    all_shown(room, shown(room.last), since, timeout=30)  # type: ignore[attr-defined]
    # … and the stale mark with it (the frame arrives in pieces: wait for the status line).
    all_shown(room, b"STALE", since, timeout=30)
    # With the collector gone, 20 viewers up: not one request to the feed.
    assert room.feed.count(killed + 0.1) == 0
    # A new collector, the same feed: nothing stored twice.
    room.start_collector()
    time.sleep(3 * INTERVAL)
    assert room.timeline() == before
    said = room.collector_logs[-1].read_text()
    assert "poll source=nec status=ok new=yes" in said  # it found the feed as it was…
    assert f"ids={before[-1][0]}" not in said  # …and did not count it as stored again
    # The feed moves: every viewer shows it, the source is ok again.
    since = room.offsets()
    commit_and_check(room, within=5.0)
    for v in room.viewers:
        v.repaint(COLS_ALT - 1)
    all_shown(room, styled("nec: ", "ok"), since, timeout=30)
    after = room.timeline()
    assert after[: len(before)] == before and len(after) == len(before) + 1  # nothing lost


def test_postgresql_restarted_under_the_viewers_they_reconnect(room: Newsroom) -> None:
    cluster = room.cluster  # type: ignore[attr-defined]
    if room.collector is None or room.collector.poll() is not None:
        room.start_collector()  # the test before failed with it down: not this test's subject
        time.sleep(3 * INTERVAL)
    before = room.timeline()
    since = room.offsets()
    cluster.shut_down()
    try:
        # Every viewer says it cannot read the store (the data stays on screen).
        all_shown(room, b"cannot read the store", since, timeout=15)
    finally:
        cluster.start_again()
    assert room.collector is not None and room.collector.poll() is None  # it rode it out
    # No one restarts anything: the next snapshot reaches every viewer by itself.
    commit_and_check(room, within=10.0)
    after = room.timeline()
    assert after[: len(before)] == before and len(after) == len(before) + 1


COLS_ALT = 150
