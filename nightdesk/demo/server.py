"""The demo feed over local HTTP: the simulated night, served like a real results feed.

A stdlib :class:`~http.server.ThreadingHTTPServer` in a background thread, so it runs beside
the Textual app in one process (``nightdesk demo``) or alone (``nightdesk demo --feed-only``).
It binds to loopback unless told otherwise. Simulated time is ``(clock() - start) * speed``.

Endpoints: ``/results.csv`` (the official count, one row per province × party),
``/results.json`` (the same rows with a note), ``/tally.csv`` (the opposition's parallel tally,
invented for the demo: :mod:`nightdesk.demo.tally`), ``/claim.csv`` (its seat claim, CNRP 63)
and ``/`` (what this is). Each body depends only on the night's version (the claim on
nothing), so ``ETag`` and ``Last-Modified`` let a poller's conditional GET cost nothing
between events. Every response says ``X-Nightdesk-Simulated: true``.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Callable
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from nightdesk.demo.definition import ELECTION_NAME, PARTIES
from nightdesk.demo.night import COLUMNS, NOTE, Night
from nightdesk.demo.tally import CLAIM_CSV, Tally
from nightdesk.demo.tally import COLUMNS as TALLY_COLUMNS

_PATHS = {
    "/": ("text", "text/plain; charset=utf-8"),
    "/results.csv": ("csv", "text/csv; charset=utf-8"),
    "/results.json": ("json", "application/json"),
    "/tally.csv": ("tally", "text/csv; charset=utf-8"),
    "/claim.csv": ("claim", "text/csv; charset=utf-8"),
}
#: Representations that never change during the night: always version 0.
_STATIC = frozenset({"claim"})
_NOT_FOUND = f"not found: try {' , '.join(_PATHS)}\n".encode()
_CACHED_BODIES = 16


class _HTTPServer(ThreadingHTTPServer):
    # Never wait for open keep-alive connections on stop: a poller may still hold one.
    block_on_close = False


class _HTTPServerV6(_HTTPServer):
    address_family = socket.AF_INET6


class DemoFeedServer:
    """Serves a :class:`~nightdesk.demo.night.Night` at ``http://host:port/``.

    Args:
        host: where to listen; loopback unless deliberately changed.
        port: TCP port; 0 picks a free one (read :attr:`port` after :meth:`start`).
        speed: simulated seconds per real second.
        seed: the night's seed; the same seed serves the same night.
        clock: a monotonic clock in seconds (injectable for tests).
        log: print one line per request to stderr, as ``http.server`` does.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8765,
        speed: float = 1.0,
        seed: int = 2013,
        clock: Callable[[], float] = time.monotonic,
        *,
        log: bool = False,
    ) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive number, not {speed!r}")
        self.host = host
        self.port = port
        self.speed = float(speed)
        self.seed = seed
        self.log = log
        self._night: Night | None = None  # built on first use: see `night`
        self._tally: Tally | None = None  # likewise: see `tally`
        self._night_lock = threading.Lock()
        self._clock = clock
        self._started_at: float | None = None
        self._wall_started_at = 0.0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        self._bodies: dict[tuple[str, int], bytes] = {}
        self._lock = threading.Lock()

    @property
    def night(self) -> Night:
        """The simulated night, built on first use (by the first request, usually).

        Building it takes ~40 ms of CPU; ``nightdesk demo`` starts the feed before the
        monitor, whose first frame must not wait for it. The night's clock starts at
        :meth:`start` whenever it is built: the night is a pure function of the seed.
        """
        night = self._night
        if night is None:
            with self._night_lock:
                if self._night is None:
                    self._night = Night(self.seed)
                night = self._night
        return night

    @property
    def tally(self) -> Tally:
        """The opposition's tally of :attr:`night`, built on first use (~2 ms)."""
        tally = self._tally
        if tally is None:
            night = self.night
            with self._night_lock:
                if self._tally is None:
                    self._tally = Tally(night)
                tally = self._tally
        return tally

    @property
    def url(self) -> str:
        """The base URL, ending in ``/`` (valid once started when the port was 0)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> None:
        """Bind and serve in a daemon thread; the night starts now."""
        if self._httpd is not None:
            raise RuntimeError("the demo feed is already running")
        server_class = _HTTPServerV6 if ":" in self.host else _HTTPServer
        self._httpd = server_class((self.host, self.port), _make_handler(self))
        self.port = self._httpd.server_address[1]
        self._started_at = self._clock()
        self._wall_started_at = time.time()
        self._stopped.clear()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"nightdesk-demo-feed:{self.port}",
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
        self._stopped.set()

    def serve_forever(self) -> None:
        """Serve until Ctrl-C (or :meth:`stop` from another thread), then stop cleanly."""
        if self._httpd is None:
            self.start()
        try:
            while not self._stopped.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

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

    def elapsed(self) -> float:
        """Simulated seconds since :meth:`start` (not capped at the night's length)."""
        if self._started_at is None:
            raise RuntimeError("the demo feed has not been started")
        return max(0.0, (self._clock() - self._started_at) * self.speed)

    def current_version(self) -> int:
        return self.night.version_at(self.elapsed())

    def etag(self, kind: str, version: int) -> str:
        """A strong validator: the body is a pure function of these."""
        return f'"nightdesk-demo-{self.seed}-{self.speed:g}-{version}-{kind}"'

    def last_modified(self, version: int) -> float:
        """Wall-clock time (epoch seconds) at which ``version`` became current."""
        return self._wall_started_at + self.night.version_time(version) / self.speed

    def body(self, kind: str, version: int) -> bytes:
        """The rendered response for one version, cached: many pollers, few events."""
        key = (kind, version)
        with self._lock:
            cached = self._bodies.get(key)
        if cached is not None:
            return cached
        rendered = self._render(kind, version)
        with self._lock:
            if len(self._bodies) >= _CACHED_BODIES:
                self._bodies.pop(next(iter(self._bodies)))
            self._bodies[key] = rendered
        return rendered

    def _render(self, kind: str, version: int) -> bytes:
        at = self.night.version_time(version)
        if kind == "text":
            return _describe(self, at).encode()
        if kind == "claim":
            return CLAIM_CSV.encode()
        if kind == "tally":
            frame = self.tally.frame(version)
            return frame.to_csv(index=False, lineterminator="\n").encode()
        frame = self.night.state_at(at)
        if kind == "csv":
            return frame.to_csv(index=False, lineterminator="\n").encode()
        document = {
            "simulated": True,
            "note": NOTE,
            "elapsed": at,
            "length": self.night.length,
            "version": version,
            "parties": [{"id": p.id, "name": p.name, "colour": p.colour} for p in PARTIES],
            "rows": json.loads(frame.to_json(orient="records")),
        }
        return json.dumps(document, ensure_ascii=False).encode()


def _describe(feed: DemoFeedServer, at: float) -> str:
    return (
        f"nightdesk demo feed: {ELECTION_NAME}\n"
        "\n"
        "SIMULATED. The votes per province are simulated (never published for 2013); so are\n"
        "the registered voters per province and the small parties' votes. Real: the seats and\n"
        "seat split of every province, the national CPP and CNRP totals (NEC official\n"
        "preliminary, 12 Aug 2013) and the reported late revisions (Takeo, Kratie, Kandal).\n"
        "\n"
        f"GET /results.csv   one row per province and party: {','.join(COLUMNS)}\n"
        'GET /results.json  {"simulated": true, "note", "elapsed", "rows": [...]}\n'
        f"GET /tally.csv     the opposition's parallel tally: {','.join(TALLY_COLUMNS)}\n"
        "GET /claim.csv     the opposition's seat claim: party,seats (CNRP 63, as claimed)\n"
        "\n"
        "The tally is INVENTED for the demo (none per province was published in 2013): it\n"
        "follows the official count and differs in Takeo, Kampong Cham (which it spells\n"
        "Kompong Cham), Kandal and Prey Veng. The claim of 63 seats is the CNRP's own.\n"
        "\n"
        f"As of simulated second {at:.3f} of {feed.night.length:.0f}"
        f" (speed {feed.speed:g}, seed {feed.seed}).\n"
    )


def _not_modified(request_headers: Message, etag: str, modified: float) -> bool:
    """RFC 7232: If-None-Match wins; If-Modified-Since only when it is absent.

    ``Last-Modified`` is sent in whole seconds (rounded down) while versions change within a
    second, so If-Modified-Since is compared against the exact time: a client can be sent a
    full body it already has, never a 304 for a body it has not seen.
    """
    if_none_match = request_headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = request_headers.get("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return False
    return modified <= since


def _make_handler(feed: DemoFeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "nightdesk-demo"
        protocol_version = "HTTP/1.1"
        timeout = 30  # an idle keep-alive connection does not hold a thread forever

        def do_GET(self) -> None:
            self._respond(send_body=True)

        def do_HEAD(self) -> None:
            self._respond(send_body=False)

        def log_message(self, format: str, *args: object) -> None:
            if feed.log:
                super().log_message(format, *args)

        def _respond(self, *, send_body: bool) -> None:
            route = _PATHS.get(urlsplit(self.path).path)
            if route is None:
                self._send(404, _NOT_FOUND, send_body)
                return
            kind, content_type = route
            version = 0 if kind in _STATIC else feed.current_version()
            etag = feed.etag(kind, version)
            modified = feed.last_modified(version)
            validators = {"ETag": etag, "Last-Modified": formatdate(modified, usegmt=True)}
            if _not_modified(self.headers, etag, modified):
                self._send(304, None, send_body, validators)
                return
            body = feed.body(kind, version)
            self._send(200, body, send_body, {**validators, "Content-Type": content_type})

        def _send(
            self,
            status: int,
            body: bytes | None,
            send_body: bool,
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("X-Nightdesk-Simulated", "true")
            self.send_header("Cache-Control", "no-cache")
            if status == 404:
                self.send_header("Content-Type", "text/plain; charset=utf-8")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body is not None and send_body:
                self.wfile.write(body)

    return Handler
