"""The poller keeping its night in a history store: what is stored, what is not, and proof."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from nightdesk import config as cfg
from nightdesk.polling import Poller
from nightdesk.store import HistoryStore
from tests.conftest import FeedServer
from tui import cli

HEADER = "province,party,votes,seats\n"


def config_text(url: str) -> str:
    return f"""
[election]
name = "Test night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{url}/results.csv"
format = "csv"
interval = 60
timeout = 3

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
"""


def body(cpp: int, cnrp: int = 100) -> str:
    return HEADER + f"Kandal,CPP,{cpp},11\nKandal,CNRP,{cnrp},11\nKep,CPP,5,1\nKep,CNRP,7,1\n"


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    with HistoryStore.open(tmp_path / "night.sqlite") as s:
        yield s


async def test_only_distinct_snapshots_are_stored(feed_server: FeedServer, store) -> None:  # type: ignore[no-untyped-def]
    c = cfg.parse(config_text(feed_server.url))
    async with Poller(c, store=store) as poller:
        source = c.sources[0]
        feed_server.set(body(10))
        await poller.poll(source)
        await poller.poll(source)  # the same body again: not a new snapshot
        feed_server.set(body(10), Last_Modified="Sun, 28 Jul 2013 12:00:00 GMT")
        await poller.poll(source)  # only a timestamp moved: not new either
        feed_server.set(body(12))
        await poller.poll(source)
        feed_server.set(b"<html>502 Bad Gateway</html>", status=502)
        state = await poller.poll(source)
        assert state.health.failures == 1
    timeline = store.timeline()
    assert [e.seq for e in timeline] == [1, 2]
    assert timeline[1].cells_changed == 1
    assert store.snapshot(timeline[1].id).votes.loc["Kandal", "CPP"] == 12


async def test_an_older_copy_is_said_and_the_newer_data_kept(
    feed_server: FeedServer, store
) -> None:  # type: ignore[no-untyped-def]
    c = cfg.parse(config_text(feed_server.url))
    async with Poller(c, store=store) as poller:
        source = c.sources[0]
        feed_server.set(body(10), Last_Modified="Sun, 28 Jul 2013 12:00:00 GMT")
        await poller.poll(source)
        feed_server.set(body(20), Last_Modified="Sun, 28 Jul 2013 12:05:00 GMT")
        await poller.poll(source)
        # A cache hands out the 12:00 copy again: counts "went down" but nothing was corrected.
        feed_server.set(body(10), Last_Modified="Sun, 28 Jul 2013 12:00:00 GMT")
        state = await poller.poll(source)
        assert state.changed is False
        assert state.health.failures == 0
        assert state.health.notice is not None
        assert state.health.notice.startswith("older copy served")
        assert state.results[0].snapshot.votes.loc["Kandal", "CPP"] == 20
        assert not state.results[0].delta.has_corrections
        # The origin catches up: the newer data flows again and the notice goes.
        feed_server.set(body(30), Last_Modified="Sun, 28 Jul 2013 12:10:00 GMT")
        state = await poller.poll(source)
        assert state.changed and state.health.notice is None
    assert len(store.timeline()) == 3


async def test_a_store_that_cannot_write_is_reported_and_polling_goes_on(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    c = cfg.parse(config_text(feed_server.url))
    store = HistoryStore.open(tmp_path / "night.sqlite")
    store.close()  # every write now fails
    async with Poller(c, store=store) as poller:
        feed_server.set(body(10))
        state = await poller.poll(c.sources[0])
        assert state.results  # the data is there for the screen
        state = poller.states["nec"]
        assert state.health.store_error is not None
        assert state.health.store_error.startswith("cannot store the snapshot")


class FlakyStore:
    """A real store whose writes fail while ``down`` (a server restarting, a full disk)."""

    def __init__(self, store: HistoryStore) -> None:
        self.store = store
        self.down = True

    def record(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.down:
            raise OSError("the store is restarting")
        return self.store.record(*args, **kwargs)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


async def test_a_snapshot_whose_write_failed_is_stored_at_the_next_poll_even_unchanged(
    feed_server: FeedServer, store: HistoryStore
) -> None:
    """The feed moved while the store was down and then stood still: its snapshot must not
    be lost because the next polls bring nothing new (they are tried again, in order)."""
    c = cfg.parse(config_text(feed_server.url))
    flaky = FlakyStore(store)
    async with Poller(c, store=flaky, store_after=0) as poller:  # type: ignore[arg-type]
        feed_server.set(body(10))
        await poller.poll(c.sources[0])
        feed_server.set(body(20))
        await poller.poll(c.sources[0])
        assert poller.states["nec"].health.store_error is not None
        assert store.timeline() == []
        flaky.down = False
        await poller.poll(c.sources[0])  # the same body: nothing new, but the two go in
        stored = [store.snapshot(e.id).votes.loc["Kandal", "CPP"] for e in store.timeline()]
        assert stored == [10, 20]
        assert poller.states["nec"].health.store_error is None
        await poller.poll(c.sources[0])
        assert len(store.timeline()) == 2  # once each


ODD_BODY = (
    "\ufeffprovince,party,votes,seats\r\n"
    "កណ្ដាល,CPP,10,11\r\nកណ្ដាល,CNRP,20,11\r\nÉcole,CPP,1,1\r\nÉcole,CNRP,2,1\r\n"
).encode()


async def test_evidence_and_export_give_back_what_was_served(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "night.sqlite"
    text = config_text(feed_server.url)
    c = cfg.parse(text)
    with HistoryStore.open(path) as store:
        store.remember_settings(text, None)
        async with Poller(c, store=store) as poller:
            feed_server.set(ODD_BODY, ETag='"a"', Date="Sun, 28 Jul 2013 12:00:00 GMT")
            await poller.poll(c.sources[0])
            feed_server.set(body(12))
            await poller.poll(c.sources[0])
        first = store.timeline()[0]
        assert first.etag == '"a"' and first.status == 200
        assert first.url == f"{feed_server.url}/results.csv"

    out = tmp_path / "body.csv"
    assert cli.main(["evidence", "--store", str(path), str(first.id), "-o", str(out)]) == 0
    assert out.read_bytes() == ODD_BODY  # byte for byte, BOM and CRLF included
    err = capsys.readouterr().err
    assert hashlib.sha256(ODD_BODY).hexdigest() in err

    assert cli.main(["export", "--store", str(path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [source] = document["sources"]
    assert source["evidence"]["body_sha256"] == hashlib.sha256(body(12).encode()).hexdigest()
    assert source["units"][0]["votes"]  # the design.md snapshot shape
    kinds = {(c["unit_id"], c["kind"]) for c in document["changes"]}
    assert ("កណ្ដាល", "withdrawn") in kinds  # the Khmer units vanished in the second body
    assert all(c["body_sha256"] for c in document["changes"])

    assert cli.main(["export", "--store", str(path), "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("record,source,race,snapshot,fetched_at")
    assert any(r.startswith("state,nec,") for r in rows)
    assert any(r.startswith("change,nec,") for r in rows)


def test_store_commands_say_what_is_wrong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export", "--format", "csv"]) == 2
    assert "--store" in capsys.readouterr().err
    assert cli.main(["evidence", "--store", str(tmp_path / "none.sqlite"), "1"]) == 2
    assert "no history store" in capsys.readouterr().err
    with HistoryStore.open(tmp_path / "empty.sqlite"):
        pass
    assert cli.main(["evidence", "--store", str(tmp_path / "empty.sqlite"), "7"]) == 2
    assert "no snapshot 7" in capsys.readouterr().err
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("hello")
    assert cli.main(["export", "--store", str(not_a_store)]) == 2
    assert "not a nightdesk store" in capsys.readouterr().err


def test_evidence_never_writes_raw_bytes_to_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with HistoryStore.open(tmp_path / "n.sqlite"):
        pass
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert cli.main(["evidence", "--store", str(tmp_path / "n.sqlite"), "1"]) == 2
    # An unknown snapshot is said first; a known one is refused for the terminal.
    assert "no snapshot 1" in capsys.readouterr().err


async def test_evidence_to_a_terminal_is_refused(
    feed_server: FeedServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "n.sqlite"
    c = cfg.parse(config_text(feed_server.url))
    with HistoryStore.open(path) as store:
        async with Poller(c, store=store) as poller:
            feed_server.set(body(10))
            await poller.poll(c.sources[0])
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert cli.main(["evidence", "--store", str(path), "1"]) == 2
    assert "-o FILE" in capsys.readouterr().err


def test_a_store_keeps_one_election(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "n.sqlite"
    with HistoryStore.open(path) as store:
        store.remember_settings(config_text(feed_server.url).replace("Test night", "Other"), None)
    config = tmp_path / "night.toml"
    config.write_text(config_text(feed_server.url))
    assert cli.main(["-c", str(config), "--store", str(path)]) == 2
    err = capsys.readouterr().err
    assert "keeps the night of 'Other', not 'Test night'" in err
