"""The fault matrix (issue 6): every way a feed breaks, served by a real loopback server and
read by the real poller (real httpx client, 1 s timeout, a small size cap) that keeps a real
history store: an error stores nothing, new data is stored once.

For each fault: a good poll first; then the fault. An error keeps the last good results and
says, in one line, what went wrong and where (the exact wording is pinned here, so a change
of message shows as a failing test). Data that is odd but legitimate (a new or vanished unit,
a byte-order mark, Khmer names, markup and control characters in names) is not an error: it
is taken and shown as it is. Either way the next good poll recovers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.faults import (
    BAD_ROW,
    CONTROL_NAMES,
    FAULTS,
    HUGE,
    KHMER_NAMES,
    LATIN1_NAMES,
    MARKUP_NAMES,
    RETRY_AFTER,
    FaultServer,
    config_toml,
)
from nightdesk import config as cfg
from nightdesk.polling import Poller, SourceState
from nightdesk.store import HistoryStore

CAP = 16_000
EXPECTED_VOTES = "expected a whole number of votes ≥ 0, or empty for not reported"
COLUMNS_LEFT = "unit, name, party, seats, registered, ballots_cast, reporting"
NEWLINE = b"\n"
#: Stands for a number that depends on timing (bytes of a slow drip that arrived).
N = "\x00N\x00"

#: The message each error fault must leave in ``health.last_error``. ``{url}``: the feed URL;
#: ``{at}``: where data row 7 sits (CSV "line 8", JSON "$.results[6]"); ``{fmt}``: CSV/JSON.
MESSAGES: dict[str, str] = {
    "http_400": "HTTP 400 Bad Request from {url}",
    "http_401": "HTTP 401 Unauthorized from {url}",
    "http_403": "HTTP 403 Forbidden from {url}",
    "http_404": "HTTP 404 Not Found from {url}",
    "http_429": f"HTTP 429 Too Many Requests from {{url}}; it asks to wait {RETRY_AFTER} s",
    "http_500": "HTTP 500 Internal Server Error from {url}",
    "http_502": "HTTP 502 Bad Gateway from {url}",
    "http_503": "HTTP 503 Service Unavailable from {url}",
    "refused": "cannot connect to {url}: connection refused (nothing listens there: "
    "is the server down?)",
    "reset_mid_body": "the connection to {url} broke after {half} bytes of the body: "
    "connection reset by the server",
    "slow_drip": f"no complete answer from {{url}} within 1 s ({N} bytes of the body had arrived)",
    "truncated_csv": "row 7: line 8 has 4 fields where the header has 8: the feed may be "
    "truncated (or the row has lost some of its fields)",
    "truncated_json": "the JSON stops before its end (line 1, column {cut}: Expecting ',' "
    "delimiter); the feed is truncated",
    "html_200": "the feed looks like HTML or XML, not {fmt} (an error page or a login page?); "
    "its title is '502 Bad Gateway'",
    "empty_body": "empty response",
    "missing_column": "column 'votes': votes column 'votes' (mapped as votes) is not in the "
    f"table; columns are: {COLUMNS_LEFT}",
    "renamed_column": "column 'votes': votes column 'votes' (mapped as votes) is not in the "
    "table; columns are: unit, name, party, vote_count, seats, registered, ballots_cast, "
    "reporting; was it renamed to 'vote_count'?",
    "non_numeric": f"row 7, column 'votes': 'abc' is not a number ({{at}}); {EXPECTED_VOTES}",
    "negative": f"row 7, column 'votes': '-5' is negative ({{at}}); {EXPECTED_VOTES}",
    "fractional": f"row 7, column 'votes': '12.5' is not a whole number ({{at}}); {EXPECTED_VOTES}",
    "huge": f"row 7, column 'votes': '{HUGE}' is larger than any real vote count "
    f"(at most 999,999,999,999) ({{at}}); {EXPECTED_VOTES}",
    "duplicate_rows": "row 8: unit 'U00000' has two rows for party 'CNRP': {dup}",
    "latin1": "the feed is not valid utf-8 at byte offset {offset} ({line}, byte 0xe9); {hint}",
    "over_cap": f"response larger than max_bytes = {CAP:,} bytes (Content-Length {{size}}); "
    "refused",
    "over_cap_undeclared": f"response larger than max_bytes = {CAP:,} bytes; refused",
    "gzip_bomb": f"response larger than max_bytes = {CAP:,} bytes once decompressed (gzip); "
    "refused",
    "redirect_loop": "too many redirects from {url} (a redirect loop? the last one pointed to "
    "{again})",
}

LATIN1_HINT = {
    "csv": 'it reads as Windows-1252/Latin-1: set encoding = "cp1252" for this source if '
    "that is what it sends",
    "json": "a JSON feed must be UTF-8",
}

ACCEPTED = [name for name, f in FAULTS.items() if f.accepted and name != "good"]
ERRORS = [name for name, f in FAULTS.items() if not f.accepted]


def cases(names: list[str]) -> list[tuple[str, str]]:
    """(fault, kind) for every kind of feed a fault is meant for."""
    return [(n, k) for n in names for k in ("csv", "json") if FAULTS[n].kind in ("any", k)]


def test_every_fault_has_a_message_or_is_data() -> None:
    assert set(MESSAGES) == set(ERRORS)
    assert len(FAULTS) == 1 + len(ACCEPTED) + len(ERRORS)


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer(max_bytes=CAP, drip_for=2.0) as s:
        yield s


def poller_for(
    server: FaultServer, kind: str, store: HistoryStore | None = None, **extra: str
) -> Poller:
    text = config_toml(server.feed_url(kind), kind, timeout=1.0, max_bytes=CAP, **extra)
    return Poller(cfg.parse(text, path=Path.cwd() / "faults.toml"), store=store, store_after=0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    with HistoryStore.open(tmp_path / "night.sqlite") as s:
        yield s


def stored(store: HistoryStore) -> int:
    """Snapshots in the store (every poll has committed its write when ``poll`` returns)."""
    return len(store.timeline())


async def poll(poller: Poller) -> SourceState:
    return await poller.poll(poller.config.sources[0])


def expected(fault: str, kind: str, server: FaultServer) -> re.Pattern[str]:
    url = server.feed_url(kind)
    good_body = server.body("good", kind)
    latin = server.body("latin1", kind)
    offset = latin.index(b"\xe9")
    rows = {"csv": ("line 3", "line 9"), "json": ("$.results[1]", "$.results[7]")}[kind]
    text = MESSAGES[fault].format(
        url=url,
        again=url.replace("/results.", "/again/results."),
        fmt=kind.upper(),
        at="line 8" if kind == "csv" else f"$.results[{BAD_ROW}]",
        dup=" and ".join(rows),
        half=f"{len(good_body) // 2:,}",
        cut=len(good_body) * 2 // 3 + 1,
        offset=offset,
        line=f"line {latin.count(NEWLINE, 0, offset) + 1}",
        hint=LATIN1_HINT[kind],
        size=f"{len(server.body('over_cap', kind)):,}",
    )
    return re.compile(re.escape(text).replace(re.escape(N), r"[0-9,]+"))


def votes(state: SourceState) -> dict[tuple[str, str], int]:
    frame = state.results[0].snapshot.votes
    return {(u, p): int(frame.at[u, p]) for u in frame.index for p in frame.columns}


def good_votes(server: FaultServer) -> dict[tuple[str, str], int]:
    return {(r["unit"], r["party"]): int(r["votes"]) for r in server.records("good")}


def names(state: SourceState) -> list[str]:
    return state.results[0].snapshot.units["name"].tolist()


@pytest.mark.parametrize(("fault", "kind"), cases(ERRORS))
async def test_an_error_keeps_the_last_good_data_says_what_and_recovers(
    server: FaultServer, store: HistoryStore, fault: str, kind: str
) -> None:
    async with poller_for(server, kind, store) as poller:
        good = await poll(poller)
        assert good.changed and good.health.failures == 0
        assert votes(good) == good_votes(server)
        assert stored(store) == 1

        server.serve(fault)
        bad = await poll(poller)
        assert stored(store) == 1  # nothing stored from a bad answer
        error = bad.health.last_error or ""
        assert expected(fault, kind, server).fullmatch(error), error
        assert "\n" not in error and "Traceback" not in error
        assert bad.health.failures == 1 and bad.health.status(5.0) == "failing"
        assert bad.results is good.results and not bad.changed  # the last good data stays
        if fault == "http_429":
            assert poller.next_delay(poller.config.sources[0]) >= RETRY_AFTER

        server.serve("good")
        server.advance()
        again = await poll(poller)
        assert again.health.failures == 0 and again.health.last_error is None
        assert again.changed and votes(again) == good_votes(server)
        assert again.results[0].delta.cells["change"].gt(0).all()  # only the new counts
        assert stored(store) == 2
        assert store.evidence(store.timeline()[-1].id).body == server.body("good", kind)
        assert store.integrity_check() == "ok"


@pytest.mark.parametrize(("fault", "kind"), cases(ACCEPTED))
async def test_odd_but_legitimate_data_is_taken_as_it_is(
    server: FaultServer, store: HistoryStore, fault: str, kind: str
) -> None:
    async with poller_for(server, kind, store) as poller:
        good = await poll(poller)
        before = names(good)
        server.serve(fault)
        state = await poll(poller)
        assert state.health.failures == 0 and state.health.last_error is None
        result = state.results[0]
        units = list(result.snapshot.votes.index)
        if fault == "bom":
            # The same data: not a new snapshot; the header's first column is still "unit".
            assert not state.changed and state.results is good.results
        elif fault == "vanished_unit":
            assert units == [f"U{u:05d}" for u in range(5)]
            assert result.delta.vanished == ("U00005",)  # shown as a withdrawal
            assert result.delta.has_corrections
        elif fault == "new_unit":
            assert units[-1] == "U99999" and result.delta.appeared == ("U99999",)
            assert result.snapshot.votes.loc["U99999"].tolist() == [7, 7, 7, 7]
        elif fault == "khmer_names":
            assert names(state) == [KHMER_NAMES[k % len(KHMER_NAMES)] for k in range(6)]
        elif fault == "markup_names":
            assert names(state) == [MARKUP_NAMES[k % len(MARKUP_NAMES)] for k in range(6)]
        elif fault == "control_names":
            shown = names(state)
            assert shown[0] == "Evil\ufffd[2J\ufffd]0;pwned\ufffd District"
            assert shown[1] == "Bell\ufffd District" and shown[2] == "C1\ufffd31m District"
            assert all(not re.search(r"[\x00-\x1f\x7f-\x9f]", n) for n in shown)
            assert len(shown[0]) == len(CONTROL_NAMES[0])  # one mark per character
        if fault != "bom":
            assert state.changed
        if fault.endswith("_names"):
            assert names(state) != before
        if fault != "vanished_unit":
            assert (
                votes(state).items()
                >= {k: v for k, v in good_votes(server).items() if k[0] != "U99999"}.items()
            )

        server.serve("good")
        again = await poll(poller)
        assert again.health.failures == 0
        assert names(again) == before and votes(again) == good_votes(server)
        if fault == "vanished_unit":
            assert again.results[0].delta.appeared == ("U00005",)
        # Stored exactly when new: the odd snapshot (unless it only differed in a BOM), and
        # the good one again after it.
        assert stored(store) == 1 + state.changed + again.changed
        latest = store.timeline()[-1].id
        assert store.snapshot(latest).votes.equals(again.results[0].snapshot.votes)


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
async def test_a_latin1_feed_reads_with_the_encoding_option(
    server: FaultServer, encoding: str
) -> None:
    async with poller_for(server, "csv", encoding=encoding) as poller:
        server.serve("latin1")
        state = await poll(poller)
    assert state.health.failures == 0
    assert names(state) == [LATIN1_NAMES[k % len(LATIN1_NAMES)] for k in range(6)]


async def test_a_refused_connection_then_the_server_comes_back(server: FaultServer) -> None:
    async with poller_for(server, "csv") as poller:
        server.serve("refused")
        down = await poll(poller)
        assert down.results == () and down.health.status(5.0) == "failing"
        server.serve("good")
        up = await poll(poller)
    assert up.health.failures == 0 and votes(up) == good_votes(server)
