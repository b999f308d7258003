"""The demo feed over real HTTP on 127.0.0.1: bodies, validators, pacing and shutdown."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime

import httpx
import pandas as pd
import pytest

from nightdesk.demo.night import COLUMNS
from nightdesk.demo.server import DemoFeedServer


class FakeClock:
    """A monotonic clock the test moves by hand; from 0 so simulated times are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def at(self, simulated: float) -> None:
        self.now = simulated


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def feed(clock: FakeClock) -> Iterator[DemoFeedServer]:
    with DemoFeedServer(port=0, clock=clock) as server:
        yield server


@pytest.fixture
def client(feed: DemoFeedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=feed.url, timeout=5.0) as c:
        yield c


def test_binds_to_loopback_on_an_ephemeral_port(feed: DemoFeedServer) -> None:
    assert DemoFeedServer().host == "127.0.0.1"
    assert feed.port != 0
    assert feed.url == f"http://127.0.0.1:{feed.port}/"


def test_csv_is_the_long_table(client: httpx.Client, clock: FakeClock) -> None:
    clock.at(0.0)
    first = pd.read_csv(io.StringIO(client.get("/results.csv").text))
    assert tuple(first.columns) == COLUMNS
    assert len(first) == 24 * 8
    assert first["votes"].isna().all() and (first["reporting"] == 0).all()

    clock.at(12.0)  # some provinces have begun, others not yet
    response = client.get("/results.csv")
    assert response.headers["content-type"].startswith("text/csv")
    mid = pd.read_csv(io.StringIO(response.text))
    assert mid["votes"].notna().any() and mid["votes"].isna().any()
    assert (mid["votes"].dropna() >= 0).all()

    clock.at(180.0)
    final = pd.read_csv(io.StringIO(client.get("/results.csv").text))
    totals = final.groupby("party")["votes"].sum()
    assert (totals["CPP"], totals["CNRP"]) == (3_235_969, 2_946_176)
    assert (final["reporting"] == 1.0).all()


def test_json_says_it_is_simulated(client: httpx.Client, clock: FakeClock) -> None:
    clock.at(120.0)
    document = client.get("/results.json").json()
    assert document["simulated"] is True
    assert "simulated" in document["note"]
    assert 0 < document["elapsed"] <= 120.0
    assert len(document["rows"]) == 24 * 8
    assert set(document["rows"][0]) == set(COLUMNS)
    assert all(isinstance(r["votes"], int) or r["votes"] is None for r in document["rows"])


def test_root_describes_the_feed(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "votes per province are simulated" in response.text
    assert "/results.csv" in response.text


@pytest.mark.parametrize("path", ["/", "/results.csv", "/results.json", "/results.csv?x=1"])
def test_every_response_carries_the_headers(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["x-nightdesk-simulated"] == "true"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["etag"].startswith('"')
    parsedate_to_datetime(response.headers["last-modified"])


def test_unknown_path_is_404(client: httpx.Client) -> None:
    response = client.get("/results.xml")
    assert response.status_code == 404
    assert response.headers["x-nightdesk-simulated"] == "true"


def test_head_sends_headers_only(client: httpx.Client) -> None:
    get, head = client.get("/results.csv"), client.head("/results.csv")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["etag"] == get.headers["etag"]


def test_etag_gives_304_until_the_next_event(
    feed: DemoFeedServer, client: httpx.Client, clock: FakeClock
) -> None:
    times = feed.night.event_times
    clock.at(float(times[100]))
    first = client.get("/results.csv")
    etag = first.headers["etag"]
    assert client.get("/results.json").headers["etag"] != etag  # one tag per representation

    clock.at(float(times[101]) - 1e-3)
    again = client.get("/results.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["x-nightdesk-simulated"] == "true"
    assert client.get("/results.csv", headers={"If-None-Match": f"W/{etag}"}).status_code == 304

    clock.at(float(times[101]))
    changed = client.get("/results.csv", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.text != first.text


def test_etag_names_seed_and_speed(clock: FakeClock) -> None:
    tags = set()
    for seed, speed in [(2013, 1.0), (7, 1.0), (2013, 2.0)]:
        with DemoFeedServer(port=0, seed=seed, speed=speed, clock=clock) as server:
            tags.add(httpx.get(server.url + "results.csv").headers["etag"])
    assert len(tags) == 3


def test_last_modified_is_when_the_version_became_current(
    feed: DemoFeedServer, client: httpx.Client, clock: FakeClock
) -> None:
    started = time.time()
    times = feed.night.event_times
    clock.at(float(times[200]) + 1e-4)  # version 201 is current, it began at times[200]
    response = client.get("/results.csv")
    modified = parsedate_to_datetime(response.headers["last-modified"]).timestamp()
    assert feed.current_version() == 201
    expected = feed.last_modified(201)
    assert modified == int(expected)
    assert started - 2 < expected - float(times[200]) < started + 1


def test_if_modified_since(feed: DemoFeedServer, client: httpx.Client, clock: FakeClock) -> None:
    times = feed.night.event_times
    clock.at(float(times[50]))
    modified = feed.last_modified(51)
    later = formatdate(modified + 5, usegmt=True)
    earlier = formatdate(modified - 5, usegmt=True)
    assert client.get("/results.csv", headers={"If-Modified-Since": later}).status_code == 304
    assert client.get("/results.csv", headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/results.csv", headers={"If-Modified-Since": "nonsense"}).status_code == 200
    # If-None-Match wins over If-Modified-Since.
    stale = {"If-None-Match": '"stale"', "If-Modified-Since": later}
    assert client.get("/results.csv", headers=stale).status_code == 200


def test_if_modified_since_never_hides_a_newer_version(
    feed: DemoFeedServer, client: httpx.Client, clock: FakeClock
) -> None:
    """Versions change within a second; a whole-second Last-Modified must not mask them."""
    times = feed.night.event_times
    i = next(i for i in range(1, len(times)) if times[i] - times[i - 1] < 0.5)
    clock.at(float(times[i - 1]))
    seen = client.get("/results.csv").headers["last-modified"]
    clock.at(float(times[i]))
    assert client.get("/results.csv", headers={"If-Modified-Since": seen}).status_code == 200


def test_speed_1000_reaches_the_end_of_the_night_quickly() -> None:
    with (
        DemoFeedServer(port=0, speed=1000) as server,
        httpx.Client(base_url=server.url, timeout=5.0) as client,
    ):
        deadline = time.monotonic() + 0.5
        while True:
            document = client.get("/results.json").json()
            if document["version"] == len(server.night.event_times):
                break
            assert time.monotonic() < deadline, "the night did not end within 0.5 s at speed 1000"
            time.sleep(0.02)
    totals = pd.DataFrame(document["rows"]).groupby("party")["votes"].sum()
    assert (totals["CPP"], totals["CNRP"]) == (3_235_969, 2_946_176)


def test_stop_frees_the_port(clock: FakeClock) -> None:
    server = DemoFeedServer(port=0, clock=clock)
    server.start()
    port = server.port
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/").status_code == 200  # a kept-alive connection must not block stop
        server.stop()
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2.0)
    with DemoFeedServer(port=port, clock=clock) as again:
        assert httpx.get(again.url).status_code == 200


def test_serve_forever_stops_cleanly_on_ctrl_c(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = DemoFeedServer(port=0, clock=clock)
    served: list[int] = []

    def interrupted(timeout: float | None = None) -> bool:
        served.append(httpx.get(server.url).status_code)
        raise KeyboardInterrupt

    monkeypatch.setattr(server._stopped, "wait", interrupted)
    server.serve_forever()
    assert served == [200]
    assert not server.running
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", server.port)) != 0


def test_serve_forever_returns_when_stopped_from_another_thread(clock: FakeClock) -> None:
    server = DemoFeedServer(port=0, clock=clock)
    server.start()
    runner = threading.Thread(target=server.serve_forever)
    runner.start()
    server.stop()
    runner.join(timeout=3.0)
    assert not runner.is_alive()


def test_requests_are_not_logged_unless_asked(
    clock: FakeClock, capfd: pytest.CaptureFixture[str]
) -> None:
    with DemoFeedServer(port=0, clock=clock) as quiet:
        httpx.get(quiet.url + "results.csv")
    assert capfd.readouterr().err == ""
    with DemoFeedServer(port=0, clock=clock, log=True) as chatty:
        httpx.get(chatty.url + "results.csv")
    assert "GET /results.csv" in capfd.readouterr().err


def test_rejects_a_nonsense_speed() -> None:
    with pytest.raises(ValueError, match="speed"):
        DemoFeedServer(speed=0)
