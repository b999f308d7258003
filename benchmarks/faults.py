"""A loopback feed server that serves a good results feed or, on command, any fault of the matrix.

The fault matrix (issue 6) is every way a results feed breaks on election night: HTTP errors,
dead or dying connections, bodies that are truncated, too big, or not the format at all, bad
cells, and data that is odd but legitimate (a new unit, Khmer names, a byte-order mark). The
server speaks HTTP/1.1 on a raw socket, one thread per connection and ``Connection: close``,
because several faults (a reset mid-body, a slow drip, a refused connection) cannot be had
from ``http.server``.

The good feed is :mod:`benchmarks.feedgen`'s long shape (``unit, name, party, votes, seats,
registered, ballots_cast, reporting``) at :attr:`FaultServer.version`; the faults are made
from its records. Both ``/results.csv`` and ``/results.json`` are served; a fault applies to
whichever is asked for (``truncated_csv`` and ``truncated_json`` are meant for their own kind,
every other fault for both).

The server counts what it served: :attr:`FaultServer.distinct` counts, per kind, the answers
a poller should accept as a new snapshot (a good or legitimately odd body whose records differ
from the last such body served), so a soak can check that the poller accepted exactly those.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import select
import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from benchmarks.feedgen import COLUMNS, feed_body

__all__ = ["FAULTS", "Fault", "FaultServer", "config_toml"]

Record = dict[str, str]
Records = list[Record]

#: Names a feed may legitimately carry (the matrix's "Khmer and accented names").
KHMER_NAMES = ("ខេត្តកណ្តាល", "ភ្នំពេញ", "Bantéay Méanchey", "Siĕm Réab", "Kâmpóng Cham")
#: Accented names that Latin-1 can encode (for the Latin-1 file).
LATIN1_NAMES = ("Bantéay Méanchey", "Siem Réab", "Kâmpóng Cham", "Pursát")
#: Names with Rich markup: shown literally, never interpreted.
MARKUP_NAMES = ("[bold red]District[/]", "[/]", "[link=http://evil.example]x[/link]")
#: Names with terminal control characters: an escape sequence that would clear the screen and
#: set the window title, a bell, a C1 CSI. Shown with U+FFFD in their place, never executed.
CONTROL_NAMES = ("Evil\x1b[2J\x1b]0;pwned\x07 District", "Bell\x07 District", "C1\x9b31m District")
#: A count above 2^53 (where a JSON double stops being exact): no real vote count is.
HUGE = str(2**53 + 1)
#: What a 429 asks the client to wait.
RETRY_AFTER = 120
_DRIP_EVERY = 0.05
_DRIP_FOR = 4.0


@dataclass(frozen=True)
class Fault:
    """One entry of the matrix.

    Attributes:
        name: how tests and the soak ask for it.
        what: the fault in a few words (the README table's first column).
        kind: which feed it is meant for: ``"csv"``, ``"json"`` or ``"any"`` (both).
        accepted: whether a poller with the default settings should take the answer as data
            (a new unit, a byte-order mark…) rather than report an error.
    """

    name: str
    what: str
    kind: str = "any"
    accepted: bool = False


def _faults() -> dict[str, Fault]:
    listed = [
        Fault("good", "the good feed", accepted=True),
        *(
            Fault(f"http_{code}", f"HTTP {code}" + (" with Retry-After" if code == 429 else ""))
            for code in (400, 401, 403, 404, 429, 500, 502, 503)
        ),
        Fault("refused", "connection refused (the server is down)"),
        Fault("reset_mid_body", "connection reset in the middle of the body"),
        Fault("slow_drip", "a body dripping slower than the timeout"),
        Fault("truncated_csv", "a truncated CSV (the file stops mid-row)", "csv"),
        Fault("truncated_json", "a truncated JSON document", "json"),
        Fault("html_200", "an HTML error page served with 200 OK"),
        Fault("empty_body", "an empty body with 200 OK"),
        Fault("missing_column", "a mapped column missing (votes)"),
        Fault("renamed_column", "a mapped column renamed (votes → vote_count)"),
        Fault("non_numeric", "a non-numeric vote count ('abc')"),
        Fault("negative", "a negative vote count"),
        Fault("fractional", "a fractional vote count"),
        Fault("huge", "a vote count above 2^53"),
        Fault("duplicate_rows", "the same unit × party row twice"),
        Fault("vanished_unit", "a unit that vanishes from the feed", accepted=True),
        Fault("new_unit", "a unit never seen before", accepted=True),
        Fault("bom", "UTF-8 with a byte-order mark", accepted=True),
        Fault("khmer_names", "Khmer and accented names (UTF-8)", accepted=True),
        Fault("latin1", "a Latin-1 file (accented names) where UTF-8 is expected"),
        Fault("over_cap", "a body over max_bytes (declared in Content-Length)"),
        Fault("over_cap_undeclared", "a body over max_bytes, no Content-Length"),
        Fault("gzip_bomb", "a small gzip body that inflates past max_bytes"),
        Fault("redirect_loop", "a redirect loop"),
        Fault("markup_names", "names with Rich markup ([bold], [/])", accepted=True),
        Fault("control_names", "names with terminal control characters (ESC, BEL)", accepted=True),
    ]
    return {f.name: f for f in listed}


FAULTS: dict[str, Fault] = _faults()


# --- the records and their faults ------------------------------------------------------------


def good_records(units: int, parties: int, version: int, seed: int) -> Records:
    """The good feed at ``version`` as records (feedgen's CSV, read back)."""
    text = feed_body(units, parties, version=version, seed=seed, kind="csv").decode()
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]


def _with(records: Records, row: int, **cells: str) -> Records:
    out = [dict(r) for r in records]
    out[row].update(cells)
    return out


def _renamed(records: Records, names: tuple[str, ...]) -> Records:
    """Each unit's name replaced, in turn, by one of ``names``."""
    units = list(dict.fromkeys(r["unit"] for r in records))
    new = {u: names[k % len(names)] for k, u in enumerate(units)}
    return [{**r, "name": new[r["unit"]]} for r in records]


#: Data row (0-based) of the cell the value faults spoil: row 7 of the body, line 8.
BAD_ROW = 6


def _data_fault(name: str, records: Records) -> Records:
    """The records of a data fault (the good ones for faults that are not about the data)."""
    if name == "non_numeric":
        return _with(records, BAD_ROW, votes="abc")
    if name == "negative":
        return _with(records, BAD_ROW, votes="-5")
    if name == "fractional":
        return _with(records, BAD_ROW, votes="12.5")
    if name == "huge":
        return _with(records, BAD_ROW, votes=HUGE)
    if name == "duplicate_rows":
        return [*records[: BAD_ROW + 1], dict(records[1]), *records[BAD_ROW + 1 :]]
    if name == "vanished_unit":
        last = records[-1]["unit"]
        return [r for r in records if r["unit"] != last]
    if name == "new_unit":
        parties = list(dict.fromkeys(r["party"] for r in records))
        template = records[0]
        return records + [
            {**template, "unit": "U99999", "name": "New District", "party": p, "votes": "7"}
            for p in parties
        ]
    if name == "missing_column":
        return [{k: v for k, v in r.items() if k != "votes"} for r in records]
    if name == "renamed_column":
        return [{("vote_count" if k == "votes" else k): v for k, v in r.items()} for r in records]
    if name == "khmer_names":
        return _renamed(records, KHMER_NAMES)
    if name == "latin1":
        return _renamed(records, LATIN1_NAMES)
    if name == "markup_names":
        return _renamed(records, MARKUP_NAMES)
    if name == "control_names":
        return _renamed(records, CONTROL_NAMES)
    return records


def render_csv(records: Records) -> str:
    """The records as CSV, the first record's keys as the header."""
    columns = list(records[0]) if records else list(COLUMNS)
    lines = [",".join(columns)]
    lines += [",".join(r.get(c, "") for c in columns) for r in records]
    return "\n".join(lines) + "\n"


def _json_value(text: str) -> int | float | str:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def render_json(records: Records) -> str:
    rows = [
        {c: (v if c in ("unit", "name", "party") else _json_value(v)) for c, v in r.items()}
        for r in records
    ]
    return json.dumps({"results": rows}, ensure_ascii=False)


def _truncated_csv(text: str) -> str:
    """The CSV cut in the middle of a row's votes (so the last row is short)."""
    lines = text.splitlines(keepends=True)
    cut = lines[BAD_ROW + 1]
    fields = cut.split(",")
    keep = ",".join(fields[:3]) + "," + fields[3][: max(1, len(fields[3]) // 2)]
    return "".join(lines[: BAD_ROW + 1]) + keep


HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>The upstream server is not responding.</p></body></html>\n"
)


# --- the server ------------------------------------------------------------------------------


@dataclass
class _Answer:
    """What to send for one request, and how."""

    status: int
    reason: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: normal: Content-Length and the body; reset: half the body then a TCP reset;
    #: drip: the body a byte at a time; undeclared: no length, end of body = close.
    mode: str = "normal"
    #: The records a poller should accept this answer as (None: not acceptable data).
    accepted: tuple[tuple[str, ...], ...] | None = None


_PATHS = {"/results.csv": "csv", "/results.json": "json"}
_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
_REASONS = {
    200: "OK",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class FaultServer:
    """Serves ``/results.csv`` and ``/results.json`` on 127.0.0.1 (an ephemeral port).

    :attr:`fault` (a name from :data:`FAULTS`) says what the next requests get; ``"good"``
    serves the feed at :attr:`version`. Good and accepted answers carry a strong ``ETag`` and
    a matching ``If-None-Match`` gets ``304``. Counters: :attr:`served` (answers by fault
    name, ``"304"`` for not-modified), :attr:`distinct` (per kind: acceptable answers whose
    records differ from the previous acceptable answer of that kind).

    Args:
        units, parties, seed: the good feed's size and randomness (:mod:`benchmarks.feedgen`).
        max_bytes: the cap the client uses; the cap faults are sized to exceed it.
        drip_for: how long a slow drip goes on before the server gives up (seconds).
    """

    def __init__(
        self,
        units: int = 6,
        parties: int = 4,
        *,
        seed: int = 0,
        max_bytes: int = 64_000,
        drip_for: float = _DRIP_FOR,
    ) -> None:
        self.units = units
        self.parties = parties
        self.seed = seed
        self.max_bytes = max_bytes
        self.drip_for = drip_for
        self.version = 0
        self.served: Counter[str] = Counter()
        self.distinct: Counter[str] = Counter()
        self._last_accepted: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._fault = "good"
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._want_listening = True
        self._running = False
        self._thread: threading.Thread | None = None
        self._handlers: set[threading.Thread] = set()
        self.port = 0

    # --- control ---

    @property
    def fault(self) -> str:
        return self._fault

    @fault.setter
    def fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        with self._lock:
            self._fault = name
        self._listen(name != "refused")

    def serve(self, name: str) -> None:
        """Serve the fault ``name`` from the next request on (``"good"`` to stop faulting)."""
        self.fault = name

    def advance(self, n: int = 1) -> int:
        """Move the good feed on ``n`` versions (a few vote cells each); the new version."""
        with self._lock:
            self.version += n
            return self.version

    @property
    def url(self) -> str:
        """The base URL, ending in ``/``."""
        return f"http://127.0.0.1:{self.port}/"

    def feed_url(self, kind: str = "csv") -> str:
        return f"{self.url}results.{kind}"

    def tally(self) -> tuple[dict[str, int], dict[str, int]]:
        """(:attr:`served`, :attr:`distinct`) as plain dicts: what a proxy in another process
        can ask for (see :mod:`benchmarks.soak`)."""
        with self._lock:
            return dict(self.served), dict(self.distinct)

    def records(self, fault: str = "good", version: int | None = None) -> Records:
        """The records a data fault (or the good feed) carries at ``version`` (default: now)."""
        v = self.version if version is None else version
        return _data_fault(fault, good_records(self.units, self.parties, v, self.seed))

    def body(self, fault: str = "good", kind: str = "csv", version: int | None = None) -> bytes:
        """The body the server sends for ``fault`` (as served with 200, for tests to compare)."""
        return self._answer(fault, kind, self.version if version is None else version).body

    # --- lifecycle ---

    def start(self) -> None:
        if self._running:
            raise RuntimeError("the fault server is already running")
        self._running = True
        self._open(0)
        self._thread = threading.Thread(target=self._accept_loop, name="faults", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; safe to call twice. Connections in progress are cut."""
        self._running = False
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            listener, self._listener = self._listener, None
            handlers = list(self._handlers)
        if listener is not None:
            listener.close()
        for t in handlers:
            t.join(timeout=self.drip_for + 1)

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

    # --- sockets ---

    def _open(self, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(64)
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        with self._lock:
            self._listener = sock

    def _listen(self, on: bool) -> None:
        """Open or close the listening socket: closed, a connect is refused by the kernel."""
        if not self._running:
            return
        with self._lock:
            listener = self._listener
            if on == (listener is not None):
                return
            self._listener = None
        if on:
            self._open(self.port)
        else:
            assert listener is not None
            # shutdown first: the accept loop's select() holds the socket open until it
            # returns, and a connect in that window would be accepted and then reset.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept_loop(self) -> None:
        while self._running:
            with self._lock:
                listener = self._listener
            if listener is None:
                time.sleep(0.005)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):  # closed under us to refuse connections
                continue
            conn.setblocking(True)
            t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            with self._lock:
                self._handlers.add(t)
            t.start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                conn.settimeout(10)
                request = _read_request(conn)
                if request is None:
                    return
                path, headers = request
                self._respond(conn, path, headers)
        except OSError:
            pass  # the client gave up (timeout, cap): that is its business
        finally:
            with self._lock:
                self._handlers.discard(threading.current_thread())

    def _respond(self, conn: socket.socket, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            fault, version = self._fault, self.version
        kind = _PATHS.get(urlsplit(path).path)
        if fault == "redirect_loop":
            there = "/again" + path if not path.startswith("/again/") else path[len("/again") :]
            answer = _Answer(302, "Found", b"", {"Location": there})
        elif kind is None:
            answer = _Answer(404, "Not Found", b"try /results.csv or /results.json\n")
        else:
            answer = self._answer(fault, kind, version)
        etag = answer.headers.get("ETag")
        if etag is not None and headers.get("if-none-match") == etag:
            _send(conn, _Answer(304, "Not Modified", b"", {"ETag": etag}))
            self._count("304", kind, None)
            return
        _send(conn, answer, drip_for=self.drip_for)
        self._count(fault, kind, answer.accepted)

    def _count(
        self, name: str, kind: str | None, accepted: tuple[tuple[str, ...], ...] | None
    ) -> None:
        with self._lock:
            self.served[name] += 1
            new = kind is not None and accepted is not None
            if new and self._last_accepted.get(kind) != accepted:
                self.distinct[kind] += 1
                self._last_accepted[kind] = accepted

    # --- answers ---

    def _answer(self, fault: str, kind: str, version: int) -> _Answer:
        """The answer to a feed request while ``fault`` is on."""
        if fault.startswith("http_"):
            code = int(fault[5:])
            headers = {"Content-Type": "text/plain"}
            if code == 429:
                headers["Retry-After"] = str(RETRY_AFTER)
            return _Answer(code, _REASONS[code], f"{code} {_REASONS[code]}\n".encode(), headers)
        if fault == "html_200":
            return _Answer(200, "OK", HTML_PAGE.encode(), {"Content-Type": "text/html"})
        if fault == "empty_body":
            return _Answer(200, "OK", b"", {"Content-Type": _TYPES[kind]})
        if fault in ("over_cap", "over_cap_undeclared"):
            body = _padded_feed(self.records("good", version), kind, self.max_bytes + 1)
            mode = "undeclared" if fault == "over_cap_undeclared" else "normal"
            return _Answer(200, "OK", body, {"Content-Type": _TYPES[kind]}, mode)
        if fault == "gzip_bomb":
            body = gzip.compress(b" " * (self.max_bytes * 16), compresslevel=9)
            headers = {"Content-Type": _TYPES[kind], "Content-Encoding": "gzip"}
            return _Answer(200, "OK", body, headers)
        records = self.records(fault, version)
        text = render_csv(records) if kind == "csv" else render_json(records)
        if fault == "truncated_csv":
            text = _truncated_csv(render_csv(records))
        if fault == "truncated_json":
            text = render_json(records)
            text = text[: len(text) * 2 // 3]
        encoding = "latin-1" if fault == "latin1" else "utf-8"
        body = text.encode(encoding)
        if fault == "bom":
            body = b"\xef\xbb\xbf" + body
        mode = {"reset_mid_body": "reset", "slow_drip": "drip"}.get(fault, "normal")
        meant = FAULTS[fault].kind in ("any", kind)
        accepted = None
        if FAULTS[fault].accepted and meant:
            accepted = tuple(tuple(r.values()) for r in records)
        headers = {"Content-Type": _TYPES[kind]}
        if fault == "latin1":
            headers["Content-Type"] = "text/csv"  # no charset: the file's own, as found
        if accepted is not None:
            headers["ETag"] = f'"{fault}-{kind}-{version}"'
        return _Answer(200, "OK", body, headers, mode, accepted)


def _padded_feed(records: Records, kind: str, at_least: int) -> bytes:
    """A valid feed of more than ``at_least`` bytes (filler units after the real ones)."""
    render = render_csv if kind == "csv" else render_json
    body = render(records).encode()
    filler: Records = []
    while len(body) <= at_least:
        more = max(1, (at_least - len(body)) // 40 + 1)
        filler += [
            {**records[0], "unit": f"F{n:06d}", "name": f"Filler {n}"}
            for n in range(len(filler), len(filler) + more)
        ]
        body = render(records + filler).encode()
    return body


def _read_request(conn: socket.socket) -> tuple[str, dict[str, str]] | None:
    """The request line's path and the headers (lower-case names); None if the client left."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 65536:
            return None
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) < 2:
        return None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return parts[1], headers


def _send(conn: socket.socket, answer: _Answer, drip_for: float = _DRIP_FOR) -> None:
    head = [f"HTTP/1.1 {answer.status} {answer.reason}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in answer.headers.items()]
    if answer.mode != "undeclared" and answer.status != 304:
        head.append(f"Content-Length: {len(answer.body)}")
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    body = answer.body
    if answer.mode == "reset":
        conn.sendall(body[: len(body) // 2])
        time.sleep(0.01)  # let the half arrive first: the client sees a cut, not a refusal
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return
    if answer.mode == "drip":
        stop = time.monotonic() + drip_for
        for k in range(len(body)):
            if time.monotonic() > stop:
                return
            conn.sendall(body[k : k + 1])
            time.sleep(_DRIP_EVERY)
        return
    conn.sendall(body)
    if answer.mode == "undeclared":
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_WR)


def config_toml(
    url: str,
    kind: str = "csv",
    *,
    timeout: float = 1.0,
    max_bytes: int = 64_000,
    interval: float = 5.0,
    encoding: str | None = None,
    name: str = "nec",
) -> str:
    """A nightdesk config for the fault server's feed at ``url`` (a feed URL)."""
    records = 'records = "results"\n' if kind == "json" else ""
    enc = f'encoding = "{encoding}"\n' if encoding else ""
    mapping = "\n".join(f'{c} = "{c}"' for c in COLUMNS)
    return (
        "[election]\n"
        'name = "Fault matrix night"\n'
        'timezone = "UTC"\n'
        'seats_method = "dhondt"\n'
        "simulated = true\n\n"
        "[[sources]]\n"
        f'name = "{name}"\n'
        f'url = "{url}"\n'
        f'format = "{kind}"\n'
        f"interval = {interval:g}\n"
        f"timeout = {timeout:g}\n"
        f"max_bytes = {max_bytes}\n"
        f"{records}{enc}\n"
        "[sources.columns]\n"
        f"{mapping}\n"
    )
