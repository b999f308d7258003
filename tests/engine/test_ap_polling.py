"""The ap format through the real poller and a real loopback server: incremental polling
(``nextrequest``), the API key, and AP's quota answers.

The server answers by path and query, as AP does: the configured URL gives the full
results, each next URL what changed since. The partial answers are built here from two
full answers (the reference file, and a copy with some counts and a call changed).
"""

from __future__ import annotations

import copy
import json
import logging
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from adapters.ap import AP_FORMAT
from nightdesk import config as cfg
from nightdesk import formats
from nightdesk.deferred import DeferredSnapshot
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot
from nightdesk.polling import Poller, SourceState
from nightdesk.results import assess
from nightdesk.store import HistoryStore
from tests.conftest import shared_path

KEY_ENV = "NIGHTDESK_TEST_AP_KEY"
KEY = "k3y-0f-th3-n1ght-do-not-show"
FULL_PATH = "/v2/elections/2015-11-03?format=json&level=ru"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class APServer:
    """A loopback server answering by path and query (404 for anything not set)."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path?query, headers)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                reply = outer.replies.get(self.path, Reply(404, b"not here"))
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def set(
        self, path: str, body: bytes | dict[str, Any], status: int = 200, **headers: str
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        named = {k.replace("_", "-"): v for k, v in headers.items()}
        self.replies[path] = Reply(status, data, named)

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


@pytest.fixture
def ap() -> Iterator[APServer]:
    yield from _serve()


@pytest.fixture
def elsewhere() -> Iterator[APServer]:
    yield from _serve()


def _serve() -> Iterator[APServer]:
    server = APServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


def config(url: str, interval: float = 1.0, key_env: str = KEY_ENV) -> cfg.Config:
    return cfg.parse(
        f"""
[election]
name = "test"
seats_method = "fptp"
[[sources]]
name = "ap"
url = "{url}"
format = "ap"
interval = {interval}
timeout = 2
api_key_env = "{key_env}"
""",
        path=Path.cwd() / "ap.toml",
    )


async def poll(poller: Poller) -> SourceState:
    return await poller.poll(poller.config.sources[0])


def national() -> dict[str, Any]:
    return json.loads(shared_path("feeds", "ap", "20151103_national.json").read_bytes())


def later(first: dict[str, Any]) -> dict[str, Any]:
    """The night a little later: Kentucky's governor race moves in two counties (and the
    state row), Colorado's recall in Dist 2 changes its call."""
    doc = copy.deepcopy(first)
    ky = next(r for r in doc["races"] if r["raceID"] == "18525")
    for unit in [ky["reportingUnits"][0], ky["reportingUnits"][5], ky["reportingUnits"][9]]:
        unit["candidates"][0]["voteCount"] += 1000
        unit["candidates"][1]["voteCount"] += 7
        unit["lastUpdated"] = "2015-11-05T01:00:00Z"
    recall = next(r for r in doc["races"] if r["raceID"] == "7585")
    for unit in recall["reportingUnits"]:
        for cand in unit["candidates"]:
            cand["winner"] = "X" if cand.get("winner") != "X" else ""
        unit["lastUpdated"] = "2015-11-05T01:00:00Z"
    return doc


CHANGED = {"18525", "7585"}


def ky_units(doc: dict[str, Any]) -> set[str]:
    """The ids of the two Kentucky counties ``later`` moves."""
    ky = next(r for r in doc["races"] if r["raceID"] == "18525")
    return {"KY/" + ky["reportingUnits"][i]["reportingunitID"] for i in (5, 9)}


def partial(full: dict[str, Any], next_url: str, units_only: bool = False) -> dict[str, Any]:
    """What AP's next URL would answer: only the races that changed since ``national()``
    (with ``units_only``: only their changed reporting units)."""
    races = [copy.deepcopy(r) for r in full["races"] if r["raceID"] in CHANGED]
    if units_only:
        for race in races:
            race["reportingUnits"] = [
                u for u in race["reportingUnits"] if u["lastUpdated"] == "2015-11-05T01:00:00Z"
            ]
    return {"electionDate": full["electionDate"], "nextrequest": next_url, "races": races}


def parsed(doc: dict[str, Any]) -> dict[str, Snapshot]:
    ctx = ParseContext(source="ap", fetched_at=datetime.now(UTC))
    return {s.race.id: s for s in formats.parse(AP_FORMAT, json.dumps(doc).encode(), ctx)}


def state_races(state: SourceState) -> dict[str, Snapshot]:
    return {r.race_key: r.snapshot for r in state.results}


def assert_same(got: dict[str, Snapshot], want: dict[str, Snapshot]) -> None:
    assert set(got) == set(want)
    for race, snapshot in want.items():
        assert got[race].same_counts(snapshot), race
        assert got[race].race == snapshot.race
        assert got[race].published_at == snapshot.published_at, race
        assert got[race].parties.equals(snapshot.parties), race


# ------------------------------------------------------------------ incremental polling


@pytest.mark.parametrize("units_only", [False, True], ids=["whole-races", "changed-units"])
async def test_full_then_partial_merges_into_what_the_next_full_answer_gives(
    ap: APServer, tmp_path: Path, units_only: bool
) -> None:
    first, second = national(), later(national())
    next1, next2 = f"{FULL_PATH}&minDateTime=1", f"{FULL_PATH}&minDateTime=2"
    ap.set(FULL_PATH, {**first, "nextrequest": ap.base + next1})
    ap.set(next1, partial(second, ap.base + next2, units_only))
    with HistoryStore.open(tmp_path / "night.sqlite") as store:
        async with Poller(config(ap.base + FULL_PATH), store=store, store_after=0) as poller:
            full = await poll(poller)
            assert full.changed and not full.health.failures
            assert_same(state_races(full), parsed(first))
            merged = await poll(poller)
            assert merged.changed and not merged.health.failures, merged.health.last_error
            assert ap.paths == [FULL_PATH, next1]
            want = parsed(second)
            assert_same(state_races(merged), want)
            # Races the partial answer left out are the very snapshots held before.
            before = state_races(full)
            for result in merged.results:
                if result.race_key.split("-")[1] not in CHANGED:
                    assert result.snapshot is before[result.race_key]
                    # Nothing changed there since the last poll, as a full answer would say.
                    assert result.delta.is_empty and result.previous is result.snapshot
                    fresh = assess(result.snapshot, result.snapshot, poller.config.election)
                    assert result.allocation.seats.equals(fresh.allocation.seats)
            # The deltas say what moved: Kentucky's two counties and state row.
            ky = next(r for r in merged.results if r.race_key == "KY-18525")
            assert set(ky.delta.cells["unit"]) == {"KY", *ky_units(second)}
            # The store holds the merged state: each race's latest equals the next full answer.
            for race, snapshot in want.items():
                latest = store.latest_id("ap", race)
                assert latest is not None and store.snapshot(latest).same_counts(snapshot), race
            assert len(store.timeline()) == 5 + len(CHANGED)
            # The chain goes on: the next poll asks the partial's own next URL.
            ap.set(next2, {"nextrequest": ap.base + next1})
            quiet = await poll(poller)
            assert not quiet.changed and not quiet.health.failures
            assert ap.paths[-1] == next2
    # Every request carried the key, as AP expects it.
    assert all(headers.get("x-api-key") == KEY for _, headers in ap.requests)


async def test_a_full_answer_builds_and_assesses_only_the_races_that_moved(
    ap: APServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two full answers (no next URL): the races that counted the same keep their result,
    and their new reads are compared and dropped without building a table."""
    built: list[str] = []
    real = DeferredSnapshot._built

    def counting(self: DeferredSnapshot) -> Snapshot:
        if not self.built:
            built.append(self.race.id if self.race else "")
        return real(self)

    monkeypatch.setattr(DeferredSnapshot, "_built", counting)
    first, second = national(), later(national())
    ap.set(FULL_PATH, first)
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        before = state_races(await poll(poller))
        assert len(built) == len(before)  # the first answer: every race assessed
        built.clear()
        ap.set(FULL_PATH, second)
        after = await poll(poller)
        assert after.changed and not after.health.failures
    assert sorted(k.split("-")[1] for k in built) == sorted(CHANGED)
    assert_same(state_races(after), parsed(second))
    for result in after.results:
        if result.race_key.split("-")[1] not in CHANGED:
            assert result.snapshot is before[result.race_key]
            assert result.delta.is_empty
        elif result.race_key == "KY-18525":  # the recall's change is a call, not a count
            assert not result.delta.is_empty


async def test_a_failed_next_url_falls_back_to_the_full_feed(ap: APServer) -> None:
    first = national()
    next1 = f"{FULL_PATH}&minDateTime=1"
    ap.set(FULL_PATH, {**first, "nextrequest": ap.base + next1})
    ap.set(next1, b'{"races": [{"raceID": "7585", "reportingUnits": [', 200)
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        await poll(poller)
        broken = await poll(poller)
        assert "the feed is truncated" in (broken.health.last_error or "")
        assert len(broken.results) == 5  # the last good state stays
        again = await poll(poller)
        assert not again.health.failures
        ap.set(next1, b"oops", status=500)
        await poll(poller)  # follows again, fails again
        await poll(poller)
    assert ap.paths == [FULL_PATH, next1, FULL_PATH, next1, FULL_PATH]


@pytest.mark.parametrize("where", ["other-port", "other-scheme", "other-host"])
async def test_a_next_url_elsewhere_is_never_followed(
    ap: APServer, elsewhere: APServer, where: str
) -> None:
    foreign = {
        "other-port": elsewhere.base + FULL_PATH + "&minDateTime=1",
        "other-scheme": ap.base.replace("http:", "https:") + FULL_PATH + "&minDateTime=1",
        "other-host": ap.base.replace("127.0.0.1", "localhost") + FULL_PATH + "&minDateTime=1",
    }[where]
    ap.set(FULL_PATH, {**national(), "nextrequest": foreign})
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        first = await poll(poller)
        assert "not followed" in (first.health.notice or "")
        assert "minDateTime" not in (first.health.notice or "")  # no query shown
        await poll(poller)
    assert ap.paths == [FULL_PATH, FULL_PATH]
    assert elsewhere.requests == []


async def test_a_relative_next_url_is_followed_on_the_same_host(ap: APServer) -> None:
    next1 = f"{FULL_PATH}&minDateTime=1"
    ap.set(FULL_PATH, {**national(), "nextrequest": next1})
    ap.set(next1, {"nextrequest": next1 + "1"})
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        await poll(poller)
        state = await poll(poller)
    assert not state.health.failures and ap.paths == [FULL_PATH, next1]


async def test_a_truncated_page_asks_for_the_rest_at_once(ap: APServer) -> None:
    next1, next2 = f"{FULL_PATH}&minDateTime=1", f"{FULL_PATH}&minDateTime=2"
    ap.set(FULL_PATH, {**national(), "nextrequest": ap.base + next1})
    ap.set(next1, {**partial(later(national()), ap.base + next2), "isTruncated": True})
    ap.set(next2, {"nextrequest": ap.base + next1, "isTruncated": False})
    async with Poller(config(ap.base + FULL_PATH, interval=30)) as poller:
        source = poller.config.sources[0]
        await poll(poller)
        assert poller.next_delay(source) == 30
        await poll(poller)
        assert poller.next_delay(source) == 0
        await poll(poller)
        assert poller.next_delay(source) == 30


# ------------------------------------------------------------------ the key


async def test_the_key_is_sent_and_never_shown_logged_or_stored(
    ap: APServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    next1 = f"{FULL_PATH}&minDateTime=1"
    ap.set(FULL_PATH, {**national(), "nextrequest": ap.base + next1})
    ap.set(next1, b"Forbidden", status=401)
    with HistoryStore.open(tmp_path / "night.sqlite") as store:
        async with Poller(config(ap.base + FULL_PATH), store=store, store_after=0) as poller:
            await poll(poller)
            refused = await poll(poller)
            urls = {entry.url for entry in store.timeline()}
    assert ap.requests[0][1]["x-api-key"] == KEY
    error = refused.health.last_error or ""
    assert "HTTP 401" in error
    assert urls == {ap.base + "/v2/elections/2015-11-03"}  # no query: nothing secret
    for text in [error, *urls, caplog.text, repr(refused)]:
        assert KEY not in text


async def test_a_missing_key_variable_is_named(
    ap: APServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    ap.set(FULL_PATH, national())
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        state = await poll(poller)
    assert state.health.last_error == (
        f"environment variable {KEY_ENV} (for header 'x-api-key') is not set"
    )
    assert ap.requests == []


async def test_a_key_that_cannot_be_a_header_is_refused_without_quoting_it(
    ap: APServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "abc\x1bdef-secret")
    ap.set(FULL_PATH, national())
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        state = await poll(poller)
    error = state.health.last_error or ""
    assert KEY_ENV in error and "cannot carry" in error and "secret" not in error
    assert ap.requests == []


async def test_a_redirect_elsewhere_does_not_carry_the_key(
    ap: APServer, elsewhere: APServer
) -> None:
    elsewhere.set(FULL_PATH, national())
    ap.set("/moved", b"", status=302, Location=ap.base + FULL_PATH)
    ap.set(FULL_PATH, b"", status=302, Location=elsewhere.base + FULL_PATH)
    async with Poller(config(ap.base + "/moved")) as poller:
        state = await poll(poller)
    assert not state.health.failures, state.health.last_error
    assert [h.get("x-api-key") for _, h in ap.requests] == [KEY, KEY]  # same origin: kept
    assert [h.get("x-api-key") for _, h in elsewhere.requests] == [None]


# ------------------------------------------------------------------ quota


@pytest.mark.parametrize("status", [403, 429])
async def test_over_quota_waits_five_to_ten_seconds_and_says_so(ap: APServer, status: int) -> None:
    ap.set(FULL_PATH, b"Per-minute quota exceeded", status=status)
    poller = Poller(config(ap.base + FULL_PATH, interval=60), rng=random.Random(7))
    source = poller.config.sources[0]
    async with poller:
        for _ in range(4):  # no growth: AP's advice, not exponential backoff
            state = await poll(poller)
            delay = poller.next_delay(source)
            assert 5 <= delay <= 10
            error = state.health.last_error or ""
            assert error.startswith(f"over quota (HTTP {status}")
            assert f"next try in {delay:.0f} s" in error
            assert ("key is refused" in error) == (status == 403)
        ap.set(FULL_PATH, b"", status=429, Retry_After="30")
        state = await poll(poller)
        assert poller.next_delay(source) == 30  # the server's Retry-After is a floor
        assert "next try in 30 s" in (state.health.last_error or "")
        ap.set(FULL_PATH, national())
        await poll(poller)
        assert poller.next_delay(source) == 60


async def test_other_formats_keep_exponential_backoff_on_429(ap: APServer) -> None:
    ap.set("/r.csv", b"", status=429)
    text = f"""
[election]
name = "t"
[[sources]]
name = "nec"
url = "{ap.base}/r.csv"
format = "csv"
interval = 1
[sources.columns]
unit = "u"
party = "p"
votes = "v"
"""
    poller = Poller(cfg.parse(text, path=Path.cwd() / "c.toml"), rng=random.Random(1))
    async with poller:
        state = await poll(poller)
    assert "over quota" not in (state.health.last_error or "")
    assert poller.next_delay(poller.config.sources[0]) < 5


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"races": [{"raceID": "1", "reportingUnits": [{"statePostal": "XX"', "truncated"),
        (b'{"races": [{"raceID": "1", "reportingUnits": 5}]}', "reportingUnits must be an array"),
        (b'{"elections": []}', "list of elections, not results"),
        (b"[]", "expected a JSON object"),
    ],
)
async def test_bad_answers_keep_the_last_good_state(ap: APServer, body: bytes, words: str) -> None:
    ap.set(FULL_PATH, national())
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        good = await poll(poller)
        ap.set(FULL_PATH, body)
        bad = await poll(poller)
    assert words in (bad.health.last_error or "")
    assert bad.results == good.results


async def test_hostile_names_arrive_as_literal_text(ap: APServer) -> None:
    doc = national()
    race = doc["races"][0]
    race["seatName"] = "[bold]Seat\x1b[2J"
    race["reportingUnits"][1]["reportingunitName"] = "[red]Adams[/red]\r\n"
    ap.set(FULL_PATH, doc)
    async with Poller(config(ap.base + FULL_PATH)) as poller:
        state = await poll(poller)
    snapshot = state.results[0].snapshot
    assert snapshot.race is not None
    assert snapshot.race.name == "CO Proposition, [bold]Seat\ufffd[2J"
    assert snapshot.units.at["CO/6001", "name"] == "[red]Adams[/red]\ufffd\ufffd"


def test_formats_without_pages_read_as_before() -> None:
    """The protocol extension is optional: a format returning snapshots gives a Page with no
    next URL, and ``formats.parse`` still returns the snapshots, rolled up."""
    csv = formats.load("csv")
    source = cfg.parse(
        '[election]\nname = "t"\n[[sources]]\nname = "n"\nurl = "x.csv"\nformat = "csv"\n'
        '[sources.columns]\nunit = "u"\nparty = "p"\nvotes = "v"\n',
        path=Path.cwd() / "c.toml",
    ).sources[0]
    ctx = ParseContext(source="n", fetched_at=datetime.now(UTC), columns=source.columns)
    page = formats.read(csv, b"u,p,v\nA,X,1\n", ctx)
    assert page.next_url is None and not page.more and len(page.snapshots) == 1
    assert formats.parse(csv, b"u,p,v\nA,X,1\n", ctx)[0].votes.at["A", "X"] == 1
    assert formats.env_headers(csv, {}, "https://api.ap.org/x") == {}
    assert formats.quota(csv) is None
    assert formats.quota(AP_FORMAT) is not None and formats.quota(AP_FORMAT).wait == (5.0, 10.0)
