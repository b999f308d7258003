"""The newsroom commands' command line: what ``--help`` says about store URLs, and a bad URL
(exit 2) or a server that does not answer (exit 1) said in one line, never with the password
and never with a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nightdesk.stores import open_store, upgrade
from tests.conftest import FeedServer
from tests.engine.test_collect import config_text
from tui import cli

SECRET = "s3cret-pw"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    return code, capsys.readouterr().err


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "night.toml"
    path.write_text(config_text("http://127.0.0.1:9"), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["collect"], ["db", "upgrade"], []])
def test_help_says_store_urls_and_credentials(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main([*command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "postgresql://" in text and "sqlite:///PATH" in text
    assert "PGPASSWORD" in text and "PGSERVICE" in text


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://editor:{SECRET}@db.example/night",
        f"postgresql://editor:{SECRET}@db.example:notaport/night",
        f"postgresql://editor:{SECRET}@[db.example/night",
    ],
)
@pytest.mark.parametrize("command", [[], ["collect", "-c", "CONFIG"], ["db", "upgrade"]])
def test_a_bad_url_is_a_command_line_error(
    url: str, command: list[str], config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(config) if a == "CONFIG" else a for a in command]
    code, err = run(capsys, *args, "--store", url)
    assert code == 2
    assert err.startswith("nightdesk --store: ") and err.count("\n") == 1
    assert SECRET not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["-c", "CONFIG"],
        ["collect", "-c", "CONFIG"],
        ["db", "upgrade"],
        ["export", "--format", "json"],
        ["evidence", "1"],
        ["replay"],
    ],
)
def test_a_server_that_does_not_answer_is_one_line_and_exit_1(
    command: list[str], config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://editor:{SECRET}@127.0.0.1:{closed_port()}/night"
    args = [str(config) if a == "CONFIG" else a for a in command]
    code, err = run(capsys, *args, "--store", url)
    assert code == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"postgresql://127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}/night" in err
    assert SECRET not in err and "editor" not in err


def with_password(url: str) -> str:
    """The test server's URL with a password libpq is given (and nightdesk must not show)."""
    head, sep, rest = url.partition("://")
    user, at, host = rest.partition("@")
    if at and ":" not in user:
        return f"{head}{sep}{user}:{SECRET}@{host}"
    return f"{url}{'&' if '?' in url else '?'}password={SECRET}"


def test_messages_name_the_database_without_its_password(
    pg_url: str, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = with_password(pg_url)
    upgrade(url)
    code, err = run(capsys, "--store", url)  # a viewer of a store no collector has written
    assert code == 2 and "holds no election settings yet" in err
    assert SECRET not in err and err.count("\n") == 1
    with open_store(url) as store:
        where = store.where
        store.remember_settings(config_text("http://127.0.0.1:9").replace("Test", "Other"), None)
    assert SECRET not in where
    code, err = run(capsys, "-c", str(config), "--store", url)
    assert code == 2
    assert f"the store {where} keeps the night of 'Other night'" in err
    assert SECRET not in err
    code, err = run(capsys, "db", "upgrade", "--store", url)
    assert code == 0 and err == f"nightdesk: {where}: schema 1, up to date\n"


async def test_export_evidence_and_replay_read_a_collectors_postgresql(
    pg_url: str, feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The store commands take the newsroom's URL as they take a file: the evidence byte
    for byte, the export in the design.md shape, the replay in order."""
    import hashlib
    import json

    from nightdesk import config as cfg
    from nightdesk.polling import Poller
    from tests.engine.test_collect import body

    upgrade(pg_url)
    text = config_text(feed_server.url)
    c = cfg.parse(text)
    with open_store(pg_url) as store:
        store.remember_settings(text, None)
        async with Poller(c, store=store) as poller:
            for cpp in (10, 12):
                feed_server.set(body(cpp))
                await poller.poll(c.sources[0])
        ids = [e.id for e in store.timeline("nec")]
    assert len(ids) == 2
    out = tmp_path / "body.csv"
    code, err = run(capsys, "evidence", "--store", pg_url, str(ids[0]), "-o", str(out))
    assert code == 0, err
    assert out.read_text() == body(10)
    assert cli.main(["export", "--store", pg_url, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [source] = document["sources"]
    assert source["evidence"]["body_sha256"] == hashlib.sha256(body(12).encode()).hexdigest()
    kandal = next(u for u in source["units"] if u["id"] == "Kandal")
    assert kandal["votes"] == {"CPP": 12, "CNRP": 100}
    # What `nightdesk replay --store URL` plays: the night, in order, from the server.
    import asyncio

    from nightdesk.replay import Replayer

    seen = []
    with open_store(pg_url) as store:
        replayer = Replayer(cfg.parse(store.settings()[0]), store, speed=1e6)
        replayer.subscribe(seen.append)
        await replayer.start()
        await asyncio.wait_for(replayer.finished.wait(), 10)
        await replayer.stop()
    played = [s.results[0].snapshot.votes.loc["Kandal", "CPP"] for s in seen if s.changed]
    assert played == [10, 12]
