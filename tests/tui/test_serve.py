"""``nightdesk serve``: a real server process on 127.0.0.1 answers with the app's page, a
browser session (a websocket) runs the monitor, and anything but loopback is warned about."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import FeedServer
from tests.tui import scenario
from tui import cli, serve

NAME = "National Assembly 2013 (test night)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def config_file(tmp_path: Path, feed_server: FeedServer) -> Path:
    feed_server.set(scenario.FIRST)
    path = tmp_path / "night.toml"
    text = f"""
[election]
name = "{NAME}"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{feed_server.url}/results.csv"
format = "csv"
interval = 3600

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"
"""
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def served(config_file: Path, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``nightdesk serve`` as its own process; stopped (SIGINT, as Ctrl+C) at the end."""
    port = free_port()
    command = [sys.executable, "-m", "tui.cli", "serve", "-c", str(config_file)]
    command += ["--store", str(tmp_path / "night.sqlite"), "--port", str(port)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/static/css/xterm.css", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    _, err = process.communicate(timeout=5)
                    pytest.fail(f"serve did not answer: rc={process.returncode} {err}")
                time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_serve_answers_on_loopback_with_the_app_page(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = served
    answer = httpx.get(url + "/", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert "/static/js/textual.js" in page  # textual-serve's terminal in the browser
    assert f"nightdesk — {NAME}" in page  # the page names the app and the election
    port = url.rsplit(":", 1)[1]
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page
    # Stopped cleanly: Ctrl+C (SIGINT) ends it with 0, and no warning was printed.
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    out, err = process.communicate()
    assert "NO authentication" not in err
    assert "Serving" in out  # textual-serve's banner (the command and address follow)


def test_a_browser_session_runs_the_monitor(served: tuple[str, subprocess.Popen[str]]) -> None:
    """What a browser does: open the websocket; the monitor's screen arrives over it."""
    import aiohttp  # textual-serve's own HTTP library

    url, _ = served

    async def session() -> bytes:
        got = b""
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url + "/ws?width=100&height=30") as ws,
        ):
            deadline = time.monotonic() + 30
            while b"Kandal" not in got and time.monotonic() < deadline:
                try:
                    message = await ws.receive(timeout=1)
                except TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.BINARY:
                    got += message.data
                elif message.type != aiohttp.WSMsgType.TEXT:
                    break
            await ws.send_json(["stdin", "q"])
        return got

    screen = asyncio.run(session())
    assert NAME.encode() in screen  # the header
    assert b"Kandal" in screen  # the first poll's provinces


def plan(*arguments: str) -> tuple[list[str], str, str]:
    return cli.serve_plan(cli._parser().parse_args(["serve", *arguments]))


def test_the_command_per_session_runs_this_python_on_the_same_config(
    config_file: Path, tmp_path: Path
) -> None:
    store = tmp_path / "s.sqlite"
    arguments, title, warning = plan("-c", str(config_file), "--store", str(store), "--kiosk")
    assert arguments == [
        "-c",
        str(config_file.resolve()),
        "--store",
        str(store.resolve()),
        "--kiosk",
        "--kiosk-interval",
        "8",
    ]
    assert title == f"nightdesk — {NAME}"
    assert warning == ""
    command = shlex.split(serve.app_command(arguments))
    assert command[:3] == [sys.executable, "-m", "tui.cli"]
    assert command[3:] == arguments
    assert plan("--demo")[0] == ["demo"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "desk.example"])
def test_a_reachable_host_is_warned_about(config_file: Path, host: str) -> None:
    _, _, warning = plan("-c", str(config_file), "--host", host, "--port", "8123")
    assert warning.startswith(f"nightdesk serve: warning: listening on {host}:8123")
    assert "NO authentication" in warning
    assert "reverse proxy" in warning


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_is_not_warned_about(config_file: Path, host: str) -> None:
    assert plan("-c", str(config_file), "--host", host)[2] == ""


def test_the_warning_goes_to_stderr_before_serving(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The argument handling, without listening on every interface."""
    calls: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(serve, "serve", lambda command, **kw: calls.append((command, kw)))
    assert cli.main(["serve", "-c", str(config_file), "--host", "0.0.0.0", "--port", "8123"]) == 0
    err = capsys.readouterr().err
    assert "listening on 0.0.0.0:8123 with NO authentication" in err
    ((command, options),) = calls
    assert command.startswith(shlex.quote(sys.executable) + " -m tui.cli -c ")
    assert options["host"] == "0.0.0.0" and options["port"] == 8123
    assert options["url"] is None  # the page then names this machine, not 0.0.0.0
    assert serve.public_url("0.0.0.0", 8123) == f"http://{socket.getfqdn()}:8123"
    assert serve.public_url("::1", 8123) == "http://[::1]:8123"


def test_bad_serve_command_lines(
    config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["serve"]) == 2
    assert "give -c CONFIG" in capsys.readouterr().err
    assert cli.main(["serve", "--demo", "-c", str(config_file)]) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("[election]\n", encoding="utf-8")
    assert cli.main(["serve", "-c", str(bad)]) == 2  # read once, now, not in every browser
    with pytest.raises(SystemExit):
        cli.main(["serve", "--port", "0"])


def test_help_lists_serve(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "serve" in out and "web browser" in out
    assert "--kiosk" in out
