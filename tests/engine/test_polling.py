"""The real poller against a real HTTP server on 127.0.0.1 (and real files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nightdesk import config as cfg
from nightdesk.polling import Poller, SourceState
from tests.conftest import FeedServer

GOOD = "province,party,votes,seats\nKandal,CPP,300000,11\nKandal,CNRP,419000,11\nKep,CPP,9,1\n"
BETTER = "province,party,votes,seats\nKandal,CPP,300100,11\nKandal,CNRP,419000,11\nKep,CPP,9,1\n"


def config(url: str, interval: float = 0.05, **extra: str) -> cfg.Config:
    more = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return cfg.parse(
        f"""
[election]
name = "test"
[[sources]]
name = "nec"
url = "{url}"
format = "csv"
interval = {interval}
timeout = 2
{more}
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
""",
        path=Path.cwd() / "x.toml",
    )


async def poll(poller: Poller) -> SourceState:
    return await poller.poll(poller.config.sources[0])


async def test_good_feed_then_every_kind_of_failure_keeps_the_last_good_snapshot(
    feed_server: FeedServer, closed_port: int
) -> None:
    feed_server.set(GOOD)
    async with Poller(config(feed_server.url + "/r.csv")) as poller:
        good = await poll(poller)
        assert good.health.failures == 0 and good.changed
        (result,) = good.results
        assert result.snapshot.votes.at["Kandal", "CNRP"] == 419_000
        assert result.allocation.seats.loc["Kandal"].tolist() == [5, 6]

        failures = [
            (lambda: feed_server.set("oops", status=500), "HTTP 500 Internal Server Error"),
            (
                lambda: feed_server.set("province,party,seats\nKandal,CPP,11\n"),
                "'votes'",
            ),
            (
                lambda: feed_server.set(GOOD.replace("419000", "41x000")),
                "'41x000'",
            ),
        ]
        for n, (make_bad, words) in enumerate(failures, start=1):
            make_bad()
            bad = await poll(poller)
            assert bad.health.failures == n
            assert bad.health.last_error is not None and words in bad.health.last_error
            assert bad.health.status(1.0) == "failing"
            assert bad.results == good.results  # the last good data stays
            assert not bad.changed

        # Unreachable: the same poller pointed at a closed port.
    async with Poller(config(f"http://127.0.0.1:{closed_port}/r.csv")) as poller:
        down = await poll(poller)
        assert down.health.failures == 1
        assert "cannot connect" in (down.health.last_error or "")
        assert down.results == ()


async def test_bad_value_error_names_row_and_column(feed_server: FeedServer) -> None:
    feed_server.set(GOOD.replace("419000", "41x000"))
    async with Poller(config(feed_server.url)) as poller:
        bad = await poll(poller)
    err = bad.health.last_error or ""
    assert "'votes'" in err and "row 2" in err and "41x000" in err


async def test_recovery_after_failure_resets_health(feed_server: FeedServer) -> None:
    feed_server.set(GOOD)
    async with Poller(config(feed_server.url)) as poller:
        await poll(poller)
        feed_server.set("", status=503)
        assert (await poll(poller)).health.failures == 1
        feed_server.set(BETTER)
        again = await poll(poller)
    assert again.health.failures == 0 and again.health.last_error is None
    assert again.changed
    (r,) = again.results
    assert r.previous is not None and r.previous.votes.at["Kandal", "CPP"] == 300_000
    assert r.delta.cells[["unit", "party", "change"]].values.tolist() == [["Kandal", "CPP", 100]]


async def test_identical_body_and_304_are_not_new_snapshots(feed_server: FeedServer) -> None:
    feed_server.set(GOOD)
    async with Poller(config(feed_server.url)) as poller:
        first = await poll(poller)
        same = await poll(poller)  # no validators: full body, identical counts
        assert not same.changed and same.results == first.results
        feed_server.set(GOOD, ETag='"v1"')
        await poll(poller)
        cond = await poll(poller)
    assert feed_server.requests[-1].get("if-none-match") == '"v1"'
    assert not cond.changed and cond.health.failures == 0


async def test_file_source_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "feeds").mkdir()
    feed = tmp_path / "feeds" / "nec.csv"
    feed.write_text(GOOD)
    c = cfg.parse(
        config("feeds/nec.csv").sources[0].url and _file_config(), path=tmp_path / "e.toml"
    )
    async with Poller(c) as poller:
        state = await poll(poller)
        assert state.health.failures == 0
        assert state.results[0].snapshot.votes.at["Kep", "CPP"] == 9
        feed.unlink()
        gone = await poll(poller)
    assert "no such file" in (gone.health.last_error or "")
    assert gone.results == state.results


def _file_config() -> str:
    return """
[election]
name = "test"
[[sources]]
name = "nec"
url = "feeds/nec.csv"
format = "csv"
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
"""


async def test_oversized_response_is_refused(feed_server: FeedServer) -> None:
    feed_server.set(GOOD * 100)
    async with Poller(config(feed_server.url, max_bytes="1000")) as poller:
        state = await poll(poller)
    assert "larger than max_bytes" in (state.health.last_error or "")


async def test_slow_feed_times_out(feed_server: FeedServer) -> None:
    feed_server.set(GOOD)
    feed_server.answer.delay = 1.5
    c = config(feed_server.url)
    source = c.sources[0]
    from dataclasses import replace

    c = replace(c, sources=(replace(source, timeout=0.3),))
    async with Poller(c) as poller:
        state = await poll(poller)
    assert "0.3 s" in (state.health.last_error or "")


async def test_secret_header_from_environment_never_in_errors(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEC_TEST_KEY", "s3cret-value")
    feed_server.set("nope", status=403)
    c = config(feed_server.url, headers_env='{ "x-api-key" = "NEC_TEST_KEY" }')
    async with Poller(c) as poller:
        state = await poll(poller)
    assert feed_server.requests[-1]["x-api-key"] == "s3cret-value"
    assert "s3cret" not in (state.health.last_error or "")
    assert "403" in (state.health.last_error or "")
    monkeypatch.delenv("NEC_TEST_KEY")
    async with Poller(c) as poller:
        state = await poll(poller)
    assert "NEC_TEST_KEY" in (state.health.last_error or "") and "not set" in (
        state.health.last_error or ""
    )


async def test_running_poller_publishes_to_subscribers_and_never_overlaps(
    feed_server: FeedServer,
) -> None:
    feed_server.set(GOOD)
    feed_server.answer.delay = 0.1
    seen: list[SourceState] = []
    poller = Poller(config(feed_server.url, interval=0.01))
    unsubscribe = poller.subscribe(seen.append)
    updates = poller.updates()
    await poller.start()
    first = await asyncio.wait_for(anext(updates), 5)
    assert first.results
    await asyncio.sleep(0.5)
    await poller.stop()
    unsubscribe()
    assert len(seen) >= 3
    # Polls of one source are sequential: the delay would make an overlap visible.
    assert feed_server.max_in_flight == 1
    assert len(feed_server.requests) in (len(seen), len(seen) + 1)  # + one cut by stop()
    assert seen[0].changed and not any(s.changed for s in seen[1:])


async def test_backoff_grows_with_failures_and_resets(feed_server: FeedServer) -> None:
    import random

    feed_server.set("x", status=500)
    poller = Poller(config(feed_server.url, interval=1), rng=random.Random(1))
    src = poller.config.sources[0]
    assert poller.next_delay(src) == 1
    delays = []
    for _ in range(4):
        await poller.poll(src)
        delays.append(poller.next_delay(src))
    assert delays == sorted(delays) and delays[-1] > 6
    feed_server.set(GOOD)
    await poller.poll(src)
    assert poller.next_delay(src) == 1
    await poller.stop()


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_is_a_floor_for_the_next_try(
    feed_server: FeedServer, status: int
) -> None:
    import random

    poller = Poller(config(feed_server.url, interval=1), rng=random.Random(1))
    src = poller.config.sources[0]
    feed_server.set("slow down", status=status, Retry_After="37")
    state = await poller.poll(src)
    assert state.health.failures == 1
    assert state.health.last_error.startswith(f"HTTP {status} ")
    assert state.health.last_error.endswith("it asks to wait 37 s")
    assert poller.next_delay(src) >= 37  # not the 1 s backoff
    # Asked once: the next failure without the header backs off as usual.
    feed_server.set("x", status=500)
    await poller.poll(src)
    assert poller.next_delay(src) < 5
    # An absurd wait is capped; a date in the past means now; garbage is ignored.
    feed_server.set("x", status=429, Retry_After="86400")
    await poller.poll(src)
    assert poller.next_delay(src) == 900
    for value in ("Wed, 21 Oct 2015 07:28:00 GMT", "soon", "-5"):
        feed_server.set("x", status=429, Retry_After=value)
        state = await poller.poll(src)
        backoff = 1.2 * 2 ** (state.health.failures - 1)  # the plain backoff's ceiling
        assert poller.next_delay(src) <= backoff
        assert (
            "asks to wait" not in state.health.last_error or "wait 0 s" in state.health.last_error
        )
    await poller.stop()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    from nightdesk.fetch import retry_after

    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    assert retry_after("120", now) == 120
    assert retry_after("Fri, 27 Nov 2026 12:00:30 GMT", now) == 30
    assert retry_after("Fri, 27 Nov 2026 11:00:00 GMT", now) == 0
    assert retry_after(None, now) is None
    assert retry_after("in a while", now) is None


async def test_bearer_and_basic_auth_from_the_environment(
    feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    feed_server.set(GOOD)
    monkeypatch.setenv("NEC_TOKEN", "tok-123")
    async with Poller(config(feed_server.url, bearer_env='"NEC_TOKEN"')) as poller:
        state = await poll(poller)
    assert state.results and feed_server.requests[-1]["authorization"] == "Bearer tok-123"

    monkeypatch.setenv("NEC_USER", "desk")
    monkeypatch.setenv("NEC_PASSWORD", "pa:ss")
    basic = '{ user = "NEC_USER", password = "NEC_PASSWORD" }'
    async with Poller(config(feed_server.url, basic_auth_env=basic)) as poller:
        await poll(poller)
    sent = feed_server.requests[-1]["authorization"]
    assert base64.b64decode(sent.removeprefix("Basic ")) == b"desk:pa:ss"

    monkeypatch.delenv("NEC_PASSWORD")
    async with Poller(config(feed_server.url, basic_auth_env=basic)) as poller:
        state = await poll(poller)
    error = state.health.last_error or ""
    assert "NEC_PASSWORD" in error and "not set" in error and "desk" not in error


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"bearer_env": '"not a name"'}, "bearer_env: expected the name of an environment"),
        ({"basic_auth_env": '{ user = "U" }'}, "password: expected the name of an environment"),
        ({"basic_auth_env": '{ user = "U", password = "P", realm = "x" }'}, "realm"),
        (
            {"bearer_env": '"T"', "basic_auth_env": '{ user = "U", password = "P" }'},
            "either bearer_env or this, not both",
        ),
    ],
)
def test_auth_settings_are_checked(extra: dict[str, str], message: str) -> None:
    from nightdesk.errors import ConfigError

    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        config("http://127.0.0.1:1/", **extra)


async def test_a_source_can_trust_its_own_ca_bundle(tmp_path: Path) -> None:
    """A real HTTPS server on 127.0.0.1 with a certificate from a throwaway CA."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    body = GOOD.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f'"https://127.0.0.1:{httpd.server_address[1]}/"'
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    try:
        async with Poller(config(url.strip('"'), verify=f'"{bundle}"')) as poller:
            state = await poll(poller)
        assert state.results and not state.health.failures
        async with Poller(config(url.strip('"'))) as poller:  # the system's CAs: refused
            state = await poll(poller)
        assert state.health.failures == 1
        assert "certificate" in (state.health.last_error or "").lower()
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_verify_must_name_a_file() -> None:
    from nightdesk.errors import ConfigError

    with pytest.raises(ConfigError, match="verify: expected a CA bundle"):
        config("https://127.0.0.1:1/", verify='"no-such-ca.pem"')


async def test_refresh_during_a_poll_is_not_lost(feed_server: FeedServer) -> None:
    """`r` pressed while a poll is still fetching (or storing) asks for one more poll."""
    feed_server.set(GOOD)
    feed_server.answer.delay = 0.3
    async with Poller(config(feed_server.url + "/r.csv", interval=3600)) as poller:
        await poller.start()
        for _ in range(200):
            if feed_server.in_flight:
                break
            await asyncio.sleep(0.01)
        assert feed_server.in_flight == 1
        poller.refresh()  # while the first poll waits for its answer
        for _ in range(200):
            if len(feed_server.requests) >= 2 and not feed_server.in_flight:
                break
            await asyncio.sleep(0.01)
        assert len(feed_server.requests) == 2
