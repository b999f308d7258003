"""The newsroom commands' command line: what ``--help`` says about store URLs, and a bad URL
(exit 2) or a server that does not answer (exit 1) said in one line, never with the password
and never with a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from nightdesk.stores import open_store, upgrade
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
    "command", [[], ["-c", "CONFIG"], ["collect", "-c", "CONFIG"], ["db", "upgrade"]]
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
