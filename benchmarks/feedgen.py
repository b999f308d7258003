"""A results feed of any size, and a local HTTP server for it, for the benchmarks.

The feed is long: one record per unit × party with ``unit, name, party, votes, seats,
registered, ballots_cast, reporting``. Version ``k + 1`` differs from version ``k`` in exactly
three vote cells, each in a different unit (when there are at least three units), and votes
only go up, so "a poll that changes 3 cells" is ``version += 1``.

How the changes are chosen: the ``units × parties`` cells are laid out in a fixed sequence
whose consecutive positions lie in different units; step ``j`` (from version ``j - 1`` to
``j``) touches positions ``3(j-1)``, ``3(j-1)+1``, ``3(j-1)+2`` (wrapping round), adding a
fixed per-cell increment. So by version ``k`` position ``s`` has been touched
``ceil((3k - s) / cells)`` times: any version is computed from the base arrays in one
vectorised step, never by replaying ``k`` steps.

A body is rendered once from cached per-row text around the votes column (the only column
that changes); the next few versions patch their changed cells into it in place.

Sizes at 8 parties: the JSON is about 1.1 KB per unit (22 MB at 20,000 units: the long
shape repeats each unit's figures on its 8 rows), the CSV about 0.4 KB (8.2 MB). 6,400 units
make a 7 MB JSON body.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import numpy as np

__all__ = ["COLUMNS", "PARTY_IDS", "FeedGenServer", "config_toml", "feed_body", "votes_at"]

#: The columns of every record, in order (CSV header and JSON keys alike).
COLUMNS = ("unit", "name", "party", "votes", "seats", "registered", "ballots_cast", "reporting")
#: The first eight party ids; more parties are named P9, P10, …
PARTY_IDS = ("CPP", "CNRP", "FUNCINPEC", "LDP", "KAP", "KEDP", "CNP", "RDP")
KINDS = ("json", "csv")
#: Cells changed per version.
CHANGED_PER_VERSION = 3
_RECORDS_KEY = "results"


@dataclass(frozen=True)
class _Base:
    """Everything about a feed that does not depend on the version."""

    votes: np.ndarray  # (units * parties,) int64, row order: unit-major, party-minor
    step: np.ndarray  # (units * parties,) int64, added each time a cell is touched
    position: np.ndarray  # (units * parties,) int64, each cell's place in the change sequence


def _party_ids(parties: int) -> list[str]:
    return [PARTY_IDS[p] if p < len(PARTY_IDS) else f"P{p + 1}" for p in range(parties)]


def _unit_ids(units: int) -> list[str]:
    return [f"U{u:05d}" for u in range(units)]


@lru_cache(maxsize=8)
def _base(units: int, parties: int, seed: int) -> _Base:
    if units < 1 or parties < 1:
        raise ValueError(f"a feed needs at least one unit and one party, not {units}×{parties}")
    rng = np.random.default_rng([seed, units, parties])
    shares = rng.dirichlet(np.linspace(6.0, 0.3, parties), size=units)
    turnout = rng.integers(2_000, 60_000, size=units)
    votes = np.round(shares * turnout[:, None]).astype(np.int64)
    step = rng.integers(1, 40, size=(units, parties), dtype=np.int64)
    # Sequence position s ↔ cell (unit order[s % units], party (s // units + shift) % parties):
    # consecutive positions are consecutive in `order`, so in different units (units ≥ 3).
    order = rng.permutation(units)
    shift = rng.integers(0, parties, size=units)
    s = np.arange(units * parties, dtype=np.int64)
    unit_of = order[s % units]
    party_of = (s // units + shift[unit_of]) % parties
    position = np.empty(units * parties, dtype=np.int64)
    position[unit_of * parties + party_of] = s
    return _Base(votes=votes.ravel(), step=step.ravel(), position=position)


def votes_at(units: int, parties: int = 8, *, version: int = 0, seed: int = 0) -> np.ndarray:
    """The votes column (unit-major, party-minor) at ``version``: O(cells), not O(version)."""
    if version < 0:
        raise ValueError(f"version must be ≥ 0, not {version}")
    base = _base(units, parties, seed)
    cells = units * parties
    touched = np.maximum(CHANGED_PER_VERSION * version - base.position + cells - 1, 0) // cells
    return base.votes + base.step * touched


@lru_cache(maxsize=8)
def _unit_figures(units: int, parties: int, seed: int) -> tuple[list[str], ...]:
    """Per-unit text of the columns that never change: seats, registered, ballots, reporting."""
    base = _base(units, parties, seed)
    rng = np.random.default_rng([seed, units, parties, 1])
    cast = base.votes.reshape(units, parties).sum(axis=1)
    ballots = cast + rng.integers(0, 500, size=units)
    registered = np.round(ballots * rng.uniform(1.3, 2.2, size=units)).astype(np.int64)
    seats = rng.integers(1, 13, size=units)
    reporting = rng.integers(0, 1001, size=units) / 1000
    return (
        seats.astype(str).tolist(),
        registered.astype(str).tolist(),
        ballots.astype(str).tolist(),
        [f"{r:.3f}" for r in reporting],
    )


@lru_cache(maxsize=8)
def _fixed(units: int, parties: int, seed: int, kind: str) -> list[bytes]:
    """The body's text between the votes: item ``i`` comes just before record ``i``'s votes
    (the last item closes the body), so the body is ``fixed[0] v0 fixed[1] v1 … fixed[-1]``."""
    party_ids = _party_ids(parties)
    seats, registered, ballots, reporting = _unit_figures(units, parties, seed)
    if kind == "csv":
        pieces = [(",".join(COLUMNS) + "\n").encode()]
    else:
        pieces = [f'{{"{_RECORDS_KEY}":['.encode()]
    for u, unit in enumerate(_unit_ids(units)):
        name = f"District {u + 1}"
        if kind == "csv":
            tail = f",{seats[u]},{registered[u]},{ballots[u]},{reporting[u]}\n"
            heads = [f"{unit},{name},{party}," for party in party_ids]
        else:
            tail = (
                f',"seats":{seats[u]},"registered":{registered[u]},'
                f'"ballots_cast":{ballots[u]},"reporting":{reporting[u]}}},'
            )
            heads = [
                f'{{"unit":"{unit}","name":"{name}","party":"{party}","votes":'
                for party in party_ids
            ]
        pieces[-1] += heads[0].encode()
        pieces += [(tail + head).encode() for head in heads[1:]]
        pieces.append(tail.encode())
    if kind == "json":
        pieces[-1] = pieces[-1][:-1] + b"]}"  # no comma after the last record
    return pieces


class _Rendered:
    """One feed's latest body, kept so that the next version patches a few cells in place.

    Votes only go up, so a cell may grow a digit; the bytes after it shift (one memmove)
    and the recorded offsets of later cells move with them.
    """

    _PATCH_AT_MOST = 64  # more changed cells than this: render the whole body again

    def __init__(self, units: int, parties: int, seed: int, kind: str) -> None:
        self.key = (units, parties, seed)
        self.fixed = _fixed(units, parties, seed, kind)
        self.lock = threading.Lock()
        self.votes = np.empty(0, dtype=np.int64)
        self.body = bytearray()
        self.start = np.empty(0, dtype=np.int64)
        self.width = np.empty(0, dtype=np.int64)

    def render(self, version: int) -> bytes:
        units, parties, seed = self.key
        votes = votes_at(units, parties, version=version, seed=seed)
        with self.lock:
            changed = np.flatnonzero(votes != self.votes) if len(self.votes) else None
            if changed is None or len(changed) > self._PATCH_AT_MOST:
                self._rebuild(votes)
            else:
                for cell in changed.tolist():
                    self._patch(cell, int(votes[cell]))
            self.votes = votes
            return bytes(self.body)

    def _rebuild(self, votes: np.ndarray) -> None:
        digits = [str(v).encode() for v in votes.tolist()]
        parts: list[bytes] = [b""] * (2 * len(digits) + 1)
        parts[0::2] = self.fixed
        parts[1::2] = digits
        self.body = bytearray(b"".join(parts))
        self.width = np.fromiter(map(len, digits), dtype=np.int64, count=len(digits))
        before = np.fromiter(map(len, self.fixed[:-1]), dtype=np.int64, count=len(digits))
        self.start = np.cumsum(before) + np.cumsum(self.width) - self.width

    def _patch(self, cell: int, value: int) -> None:
        text = str(value).encode()
        at, old = int(self.start[cell]), int(self.width[cell])
        self.body[at : at + old] = text
        if len(text) != old:
            self.start[cell + 1 :] += len(text) - old
            self.width[cell] = len(text)


@lru_cache(maxsize=4)
def _rendered(units: int, parties: int, seed: int, kind: str) -> _Rendered:
    return _Rendered(units, parties, seed, kind)


def feed_body(
    units: int, parties: int = 8, *, version: int = 0, seed: int = 0, kind: str = "json"
) -> bytes:
    """The feed at ``version`` as bytes: ``{"results": [...]}`` (json) or CSV with a header.

    Cheap for the next few versions of the last body rendered (a few cells are patched);
    any other version is rendered whole, in time linear in the cells, not in ``version``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return _rendered(units, parties, seed, kind).render(version)


def _feed_url(url: str, kind: str) -> str:
    """A base URL (ending in ``/``) gets ``results.<kind>``; a feed URL is kept."""
    return f"{url}results.{kind}" if url.endswith("/") else url


def config_toml(url: str, kind: str = "json", interval: float = 2.0) -> str:
    """A nightdesk config watching the generated feed at ``url`` (a feed URL, or a base
    URL ending in ``/`` such as :attr:`FeedGenServer.url`)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    records = f'records = "{_RECORDS_KEY}"\n' if kind == "json" else ""
    mapping = "\n".join(f'{c} = "{c}"' for c in COLUMNS if c != "unit")
    return (
        "[election]\n"
        'name = "Benchmark night"\n'
        'timezone = "UTC"\n'
        'seats_method = "dhondt"\n'
        "threshold = 0.0\n"
        "simulated = true\n"
        "\n"
        "[[sources]]\n"
        'name = "feedgen"\n'
        f'url = "{_feed_url(url, kind)}"\n'
        f'format = "{kind}"\n'
        f"interval = {interval:g}\n"
        f"{records}"
        "\n"
        "[sources.columns]\n"
        'unit = "unit"\n'
        f"{mapping}\n"
    )


_PATHS = {"/results.json": "json", "/results.csv": "csv"}
_CONTENT_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


class _HTTPServer(ThreadingHTTPServer):
    block_on_close = False  # a poller may still hold a keep-alive connection on stop
    daemon_threads = True


class FeedGenServer:
    """Serves the generated feed at ``http://127.0.0.1:<free port>/results.{json,csv}``.

    Setting :attr:`version` (or :meth:`advance`) renders both bodies at once, in the caller's
    thread, so a poll never pays for rendering. Responses carry a strong ``ETag``; a request
    with a matching ``If-None-Match`` gets ``304``. Counts: :attr:`requests` (all),
    :attr:`full` (200 with a body) and :attr:`not_modified` (304).
    """

    def __init__(
        self, units: int, parties: int = 8, *, seed: int = 0, version: int = 0, log: bool = False
    ) -> None:
        self.units = units
        self.parties = parties
        self.seed = seed
        self.log = log
        self.requests = 0
        self.full = 0
        self.not_modified = 0
        self._lock = threading.Lock()
        self._bodies: dict[str, bytes] = {}
        self._version = -1
        self.version = version
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def version(self) -> int:
        return self._version

    @version.setter
    def version(self, version: int) -> None:
        if version == self._version:
            return
        bodies = {
            kind: feed_body(self.units, self.parties, version=version, seed=self.seed, kind=kind)
            for kind in KINDS
        }
        with self._lock:
            self._version, self._bodies = version, bodies

    def advance(self, n: int = 1) -> int:
        """Move ``n`` versions on (3 cells each); returns the new version."""
        self.version = self._version + n
        return self._version

    @property
    def url(self) -> str:
        """The base URL, ending in ``/`` (valid once started)."""
        return f"http://127.0.0.1:{self.port}/"

    def feed_url(self, kind: str = "json") -> str:
        return _feed_url(self.url, kind)

    def etag(self, kind: str, version: int) -> str:
        return f'"feedgen-{self.units}x{self.parties}-{self.seed}-{version}-{kind}"'

    def current(self, kind: str) -> tuple[int, bytes]:
        """The current version and its body, read together."""
        with self._lock:
            return self._version, self._bodies[kind]

    def count(self, status: int) -> None:
        with self._lock:
            self.requests += 1
            if status == 200:
                self.full += 1
            elif status == 304:
                self.not_modified += 1

    def start(self) -> None:
        if self._httpd is not None:
            raise RuntimeError("the feed server is already running")
        self._httpd = _HTTPServer(("127.0.0.1", 0), _make_handler(self))
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"feedgen:{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _make_handler(feed: FeedGenServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "nightdesk-feedgen"
        protocol_version = "HTTP/1.1"
        timeout = 30

        def do_GET(self) -> None:
            self._respond(send_body=True)

        def do_HEAD(self) -> None:
            self._respond(send_body=False)

        def log_message(self, format: str, *args: object) -> None:
            if feed.log:
                super().log_message(format, *args)

        def _respond(self, *, send_body: bool) -> None:
            kind = _PATHS.get(urlsplit(self.path).path)
            if kind is None:
                self._send(404, b"not found: try /results.json or /results.csv\n", send_body, {})
                return
            version, body = feed.current(kind)
            etag = feed.etag(kind, version)
            tags = [
                t.strip().removeprefix("W/")
                for t in self.headers.get("If-None-Match", "").split(",")
            ]
            if etag in tags or "*" in tags:
                self._send(304, None, send_body, {"ETag": etag})
                return
            headers = {"ETag": etag, "Content-Type": _CONTENT_TYPES[kind]}
            self._send(200, body, send_body, headers)

        def _send(
            self, status: int, body: bytes | None, send_body: bool, headers: dict[str, str]
        ) -> None:
            feed.count(status)
            self.send_response(status)
            self.send_header("Cache-Control", "no-cache")
            for name, value in headers.items():
                self.send_header(name, value)
            if body is not None:  # a 304 has no body and no length
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body is not None and send_body:
                with contextlib.suppress(OSError):  # the client gave up
                    self.wfile.write(body)

    return Handler
