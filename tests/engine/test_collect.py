"""``nightdesk collect``: headless pollers writing snapshots and health, journal-friendly log
lines, a clean exit on SIGTERM (real processes where it matters)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nightdesk import config as cfg
from nightdesk.collector import Collector, EventLog, decode_health
from nightdesk.store import HistoryStore
from tests.conftest import REPO, FeedServer

HEADER = "province,party,votes,seats\n"


def config_text(url: str, interval: float = 0.5) -> str:
    return f"""
[election]
name = "Test night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{url}/results.csv"
format = "csv"
interval = {interval}
timeout = 3

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
"""


def body(cpp: int, cnrp: int = 100) -> str:
    return HEADER + f"Kandal,CPP,{cpp},11\nKandal,CNRP,{cnrp},11\nKep,CPP,5,1\nKep,CNRP,7,1\n"


def start_collector(config: Path, store: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "JOURNAL_STREAM": "1:1"}
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "collect", "-c", str(config), "--store", str(store)],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def wait_for(predicate, timeout: float = 15.0, step: float = 0.02) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(step)


def test_the_collector_polls_once_per_interval_stores_and_exits_0_on_sigterm(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    config = tmp_path / "night.toml"
    config.write_text(config_text(feed_server.url, interval=0.5))
    db = tmp_path / "night.sqlite"
    feed_server.set(body(10))
    proc = start_collector(config, db)
    try:
        wait_for(lambda: len(feed_server.requests) >= 1)
        first = len(feed_server.requests)
        time.sleep(2.0)
        polls = len(feed_server.requests) - first
        assert 3 <= polls <= 5, polls  # one poll per 0.5 s interval, no more
        feed_server.set(body(12))
        wait_for(lambda: len(feed_server.requests) >= first + polls + 2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    lines = err.splitlines()
    # Journal-friendly: one line per event, no colours, no timestamp under systemd.
    assert all(line.startswith("nightdesk collect: ") for line in lines), err
    assert "\x1b" not in err
    assert any("poll source=nec status=ok new=yes" in line for line in lines)
    assert any(line.startswith("nightdesk collect: signal name=SIGTERM") for line in lines)
    assert lines[-1].startswith("nightdesk collect: stopped snapshots_stored=2")
    with HistoryStore.open(db) as store:
        timeline = store.timeline("nec")
        assert [e.seq for e in timeline] == [1, 2]
        assert store.snapshot(timeline[-1].id).votes.loc["Kandal", "CPP"] == 12
        text, settings_path = store.settings() or ("", None)
        assert 'name = "Test night"' in text and settings_path == str(config.resolve())
        record, _ = store.health()["nec"]
    health, raw = decode_health(record)
    assert raw["stopped"] is True and raw["state"] == "ok" and raw["interval"] == 0.5
    assert health.failures == 0 and health.last_success is not None


async def test_a_write_in_flight_finishes_before_the_collector_exits(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    c = cfg.parse(config_text(feed_server.url, interval=30))
    store = HistoryStore.open(tmp_path / "night.sqlite")
    record = store.record
    writing = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_record(evidence, snapshots, **kw):  # type: ignore[no-untyped-def]
        loop.call_soon_threadsafe(writing.set)
        time.sleep(0.5)
        return record(evidence, snapshots, **kw)

    store.record = slow_record  # type: ignore[method-assign]
    out = io.StringIO()
    collector = Collector(c, store, log=EventLog(out, stamp=False))
    feed_server.set(body(10))
    run = asyncio.create_task(collector.run())
    await asyncio.wait_for(writing.wait(), 10)
    collector.stop()  # mid-transaction
    assert await asyncio.wait_for(run, 10) == 0
    assert [e.seq for e in store.timeline("nec")] == [1]
    store.close()
    assert "stopped" in out.getvalue().splitlines()[-1]


async def test_health_is_recorded_after_each_poll_failures_included(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    c = cfg.parse(config_text(feed_server.url, interval=0.2))
    store = HistoryStore.open(tmp_path / "night.sqlite")
    out = io.StringIO()
    collector = Collector(c, store, log=EventLog(out, stamp=False))
    feed_server.set(body(10))
    run = asyncio.create_task(collector.run())
    w = store
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if collector.health_writes >= 2:
                break
        feed_server.set("<html>bad gateway</html>", status=502)
        for _ in range(200):
            await asyncio.sleep(0.05)
            record = w.health().get("nec")
            if record and json.loads(record[0])["failures"]:
                break
        state = json.loads(record[0])  # type: ignore[possibly-undefined]
        assert state["state"] == "failing" and "502" in state["last_error"]
        assert state["next_attempt"] is not None
    finally:
        collector.stop()
        await run
        store.close()
    failing = [line for line in out.getvalue().splitlines() if "status=failing" in line]
    assert failing and failing[0].startswith("nightdesk collect: poll source=nec")
    assert 'error="HTTP 502' in failing[0] and "next_try=" in failing[0]
    # Each failed poll is one line (the poller publishes it twice).
    assert len({line for line in failing}) == len(failing)


async def test_new_results_and_their_health_are_one_commit(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """Viewers wake on every commit: a poll that brings new results commits its snapshots
    and the source's health together (one change of the marker, one NOTIFY), and the health
    read beside the snapshot is the poll's own, never an older one."""
    c = cfg.parse(config_text(feed_server.url, interval=30))  # one poll, then r-style asks
    store = HistoryStore.open(tmp_path / "night.sqlite")
    collector = Collector(c, store, log=EventLog(io.StringIO(), stamp=False))
    feed_server.set(body(10))
    marker = store.change_marker()
    run = asyncio.create_task(collector.run())
    try:
        for _ in range(200):
            await asyncio.sleep(0.05)
            if store.timeline("nec"):
                break
        await asyncio.sleep(0.3)  # anything the collector would write after it
        assert store.change_marker() == marker + 1
        assert collector.health_writes == 0
        (entry,) = store.timeline("nec")
        health, raw = decode_health(store.health()["nec"][0])
        assert raw["state"] == "ok" and raw["store_error"] is None and raw["polls"] == 1
        assert health.last_success is not None  # the poll's start; the fetch ended after
        assert 0 <= (entry.fetched_at - health.last_success).total_seconds() < 5
        # An unchanged poll writes its health on its own (the viewers' heartbeat).
        collector.poller.refresh("nec")
        for _ in range(200):
            await asyncio.sleep(0.05)
            if collector.health_writes:
                break
        assert store.change_marker() == marker + 2
        assert len(store.timeline("nec")) == 1
    finally:
        collector.stop()
        await run
        store.close()


def test_collect_without_config_is_a_usage_error(tmp_path: Path) -> None:
    from tui import cli

    assert cli.main(["collect", "--store", str(tmp_path / "x.sqlite")]) == 2


def test_db_upgrade_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tui import cli

    db = tmp_path / "night.sqlite"
    assert cli.main(["db", "upgrade", "--store", str(db)]) == 2  # nothing there: not made
    assert not db.exists()
    HistoryStore.open(db).close()
    assert cli.main(["db", "upgrade", "--store", f"sqlite://{db}"]) == 0
    assert "up to date" in capsys.readouterr().err
