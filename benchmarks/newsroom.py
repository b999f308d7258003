"""The newsroom on PostgreSQL, measured: one ``nightdesk collect``, 20 viewers (``nightdesk
--store URL``, each a real Textual app in its own pseudo-terminal), a local feed that counts
requests. Reported: commit → all viewers showing it, p50/p95 over N commits.

When is a viewer "showing" a snapshot? When the number only that snapshot holds (the CPP
votes in Kandal, a distinct value per commit) first appears in what the viewer writes to its
terminal: the screen itself, no hook in the product. When is the commit? When a LISTEN
connection of this process receives the collector's ``NOTIFY`` and finds the new snapshot's
id (PostgreSQL delivers a notification at commit, so this is no earlier than the commit).

``python -m benchmarks.newsroom [--viewers 20] [--commits 20] [--interval 1.0]
[--pg-url URL]``: without ``--pg-url`` a throwaway cluster is started (scripts/pg-test-server)
and removed afterwards. The harness (:class:`Newsroom`) is what tests/integration uses too.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.machinery
import importlib.util
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks._pty import child_env

REPO = Path(__file__).resolve().parents[1]
COLS, ROWS = 160, 32  # wide enough for a status line with an error on it
HEADER = "province,party,votes,seats\n"


def feed_body(cpp: int) -> str:
    return HEADER + f"Kandal,CPP,{cpp},11\nKandal,CNRP,100,11\nKep,CPP,5,1\nKep,CNRP,7,1\n"


def shown(cpp: int) -> bytes:
    """How the viewer writes ``cpp`` votes on screen (thousands separated)."""
    return f"{cpp:,}".encode()


def styled(*parts: str) -> re.Pattern[bytes]:
    """Text drawn in several styles: the parts with any SGR sequences between them."""
    return re.compile(rb"(?:\x1b\[[0-9;:]*m)*".join(re.escape(p.encode()) for p in parts))


def vote_values() -> Iterator[int]:
    """Distinct CPP counts whose printed form appears nowhere else on screen (no delta,
    share or total of another night can spell 7 digits starting 8,4xx,xxx)."""
    k = 0
    while True:
        k += 1
        yield 8_400_000 + 1_000 * k + 37


def config_text(url: str, interval: float) -> str:
    return f"""
[election]
name = "Newsroom night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{url}/results.csv"
format = "csv"
interval = {interval}
timeout = 3

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
"""


class CountingFeed:
    """A loopback HTTP feed that serves the last body set and stamps every request."""

    def __init__(self) -> None:
        self.body = b""
        self.requests: list[float] = []  # time.monotonic() of each request
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(time.monotonic())
                body = outer.body
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def set(self, cpp: int) -> None:
        self.body = feed_body(cpp).encode()

    def count(self, since: float, until: float | None = None) -> int:
        end = time.monotonic() if until is None else until
        return sum(1 for t in list(self.requests) if since <= t < end)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@dataclass
class Viewer:
    """``nightdesk --store URL`` in its own pty; every byte it writes, with read times."""

    proc: subprocess.Popen[bytes]
    master: int
    out: bytearray = field(default_factory=bytearray)
    stamps: list[tuple[int, float]] = field(default_factory=list)  # (end offset, time read)
    eof: bool = False

    def first(self, marker: bytes | re.Pattern[bytes], since: int = 0) -> float | None:
        """When ``marker`` (or a match of the pattern) first appeared at or after offset
        ``since`` (None: not yet)."""
        if isinstance(marker, bytes):
            at = self.out.find(marker, since)
            if at < 0:
                return None
            end = at + len(marker)
        else:
            match = marker.search(self.out, since)
            if match is None:
                return None
            end = match.end()
        for offset, when in self.stamps:
            if offset >= end:
                return when
        return None

    def repaint(self, cols: int, rows: int = ROWS) -> None:
        """Resize the terminal: the app draws its whole screen again (what it shows now)."""
        import fcntl
        import struct
        import termios

        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGWINCH)  # no controlling tty: say it ourselves

    def text(self, since: int = 0) -> str:
        raw = bytes(self.out[since:])
        return re.sub(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b.", b"", raw).decode(
            errors="replace"
        )


class Newsroom:
    """One collector, ``viewers`` viewers and a counting feed, on the PostgreSQL at ``url``
    (its schema made by ``nightdesk db upgrade``). Use as a context manager."""

    def __init__(self, url: str, workdir: Path, *, interval: float = 1.0) -> None:
        self.url = url
        self.workdir = workdir
        self.interval = interval
        self.feed = CountingFeed()
        self.config = workdir / "newsroom.toml"
        self.config.write_text(config_text(self.feed.url, interval))
        self.values = vote_values()
        self.collector: subprocess.Popen[bytes] | None = None
        self.collector_logs: list[Path] = []
        self.viewers: list[Viewer] = []
        self.commits: dict[int, float] = {}  # snapshot id → when this process saw it committed
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- processes -------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "JOURNAL_STREAM": "1:1"}
        return env

    @staticmethod
    def _nightdesk(*args: str) -> list[str]:
        return [sys.executable, "-m", "tui.cli", *args]

    def upgrade(self) -> None:
        cmd = [sys.executable, "-m", "tui.cli", "db", "upgrade", "--store", self.url]
        subprocess.run(cmd, cwd=REPO, env=self._env(), check=True, capture_output=True)

    def start_collector(self) -> None:
        log = self.workdir / f"collector-{len(self.collector_logs) + 1}.log"
        self.collector_logs.append(log)
        with open(log, "wb") as err:
            self.collector = subprocess.Popen(
                [*self._nightdesk("collect", "-c", str(self.config)), "--store", self.url],
                cwd=REPO,
                env=self._env(),
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def kill_collector(self) -> None:
        """SIGKILL: no clean exit, no last health record."""
        assert self.collector is not None
        self.collector.send_signal(signal.SIGKILL)
        self.collector.wait(10)

    def stop_collector(self) -> int:
        assert self.collector is not None
        self.collector.send_signal(signal.SIGTERM)
        return self.collector.wait(15)

    def start_viewers(self, n: int) -> None:
        import fcntl
        import struct
        import termios

        env = child_env()
        for _ in range(n):
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
            proc = subprocess.Popen(
                [sys.executable, "-m", "tui.cli", "--store", self.url],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=env,
                cwd=REPO,
                start_new_session=True,
            )
            os.close(slave)
            os.set_blocking(master, False)
            self.viewers.append(Viewer(proc, master))
        if not any(t.name == "newsroom:pty" for t in self._threads):
            self._spawn(self._read_ptys, "newsroom:pty")

    # --- watching --------------------------------------------------------------------------

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _read_ptys(self) -> None:
        """Drain every viewer's terminal (a full pty would block the app), stamping reads."""
        while not self._stop.is_set():
            live = {v.master: v for v in self.viewers if not v.eof}
            if not live:
                time.sleep(0.05)
                continue
            ready, _, _ = select.select(list(live), [], [], 0.1)
            now = time.monotonic()
            for fd in ready:
                viewer = live[fd]
                try:
                    data = os.read(fd, 1 << 16)
                except OSError:
                    data = b""
                if not data:
                    viewer.eof = True
                    continue
                with self._lock:
                    viewer.out += data
                    viewer.stamps.append((len(viewer.out), now))

    def watch_commits(self) -> None:
        """LISTEN as the viewers do; note when each new snapshot id is first visible."""
        self._spawn(self._listen, "newsroom:listen")

    def _listen(self) -> None:
        import psycopg

        conn: psycopg.Connection[Any] | None = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed or conn.broken:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=2)
                    conn.execute("LISTEN nightdesk")
                    self._note_commits(conn)
                # Query after the generator ends: it holds the connection's lock meanwhile.
                if list(conn.notifies(timeout=0.2, stop_after=1)):
                    self._note_commits(conn)
            except psycopg.Error:
                with contextlib.suppress(Exception):
                    if conn is not None:
                        conn.close()
                conn = None
                time.sleep(0.1)
        if conn is not None:
            conn.close()

    def _note_commits(self, conn: Any) -> None:
        now = time.monotonic()
        for (sid,) in conn.execute("SELECT id FROM snapshots").fetchall():
            self.commits.setdefault(int(sid), now)

    def timeline(self) -> list[tuple[int, int, str]]:
        """(id, seq, fetched_at) of every stored snapshot, read directly."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute("SELECT id, seq, fetched_at FROM snapshots ORDER BY id").fetchall()
        return [(int(a), int(b), str(c)) for a, b, c in rows]

    def settle(self, quiet: float = 0.5, timeout: float = 20.0) -> float:
        """Wait until the viewers have finished starting: their CPU over half a second is
        under ``quiet`` of one core (Linux ``/proc``). Twenty apps started at once keep both
        cores busy for about a second after they first show the night; a commit then
        measures the start-up, not the following. Returns the seconds waited."""
        start = time.monotonic()
        ticks = os.sysconf("SC_CLK_TCK")

        def used() -> float:
            total = 0
            for v in self.viewers:
                with contextlib.suppress(OSError):
                    with open(f"/proc/{v.proc.pid}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    total += int(fields[11]) + int(fields[12])
            return total / ticks

        while time.monotonic() - start < timeout:
            before = used()
            time.sleep(0.5)
            if (used() - before) / 0.5 < quiet:
                break
        return time.monotonic() - start

    def offsets(self) -> list[int]:
        with self._lock:
            return [len(v.out) for v in self.viewers]

    def wait_all(
        self, marker: bytes | re.Pattern[bytes], since: Sequence[int], timeout: float
    ) -> list[float | None]:
        """When each viewer first showed ``marker`` after its offset in ``since``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                times = [v.first(marker, s) for v, s in zip(self.viewers, since, strict=True)]
            if all(t is not None for t in times) or time.monotonic() > deadline:
                return times
            for v in self.viewers:
                if v.proc.poll() is not None:
                    raise RuntimeError(
                        f"viewer {v.proc.pid} exited {v.proc.returncode}:\n{v.text()[-2000:]}"
                    )
            time.sleep(0.02)

    def commit(self, timeout: float = 15.0) -> tuple[int, int, float, list[float | None]]:
        """A new value on the feed: (value, snapshot id, commit time, each viewer's show time)."""
        cpp = next(self.values)
        since = self.offsets()
        known = set(self.commits)
        self.feed.set(cpp)
        deadline = time.monotonic() + timeout
        while not (set(self.commits) - known):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the collector committed nothing within {timeout} s")
            time.sleep(0.01)
        sid = max(set(self.commits) - known)
        times = self.wait_all(shown(cpp), since, timeout)
        return cpp, sid, self.commits[sid], times

    # --- ending ----------------------------------------------------------------------------

    def close(self) -> None:
        for v in self.viewers:  # only our own children, by pid
            if v.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    v.proc.send_signal(signal.SIGTERM)
        if self.collector is not None and self.collector.poll() is None:
            self.collector.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in [v.proc for v in self.viewers] + [self.collector]:
            if p is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(deadline - time.monotonic(), 0.1))
            if p.poll() is None:
                p.kill()
                p.wait()
        self._stop.set()
        for t in self._threads:
            t.join(5)
        for v in self.viewers:
            with contextlib.suppress(OSError):
                os.close(v.master)
        self.feed.close()

    def __enter__(self) -> Newsroom:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pg_server_module() -> ModuleType:
    """scripts/pg-test-server as a module (start / stop a throwaway cluster)."""
    script = REPO / "scripts" / "pg-test-server"
    loader = importlib.machinery.SourceFileLoader("pg_test_server", str(script))
    spec = importlib.util.spec_from_loader("pg_test_server", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    loader.exec_module(module)
    return module


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ready(room: Newsroom, n: int, cpp: int, timeout: float) -> float:
    """Start ``n`` viewers and wait until each shows the night (``cpp`` votes, committed
    already): seconds it took."""
    start = time.monotonic()
    room.start_viewers(n)
    times = room.wait_all(shown(cpp), [0] * n, timeout)
    missing = sum(t is None for t in times)
    if missing:
        raise RuntimeError(f"{missing} of {n} viewers never showed the night")
    room.settle()
    return time.monotonic() - start


def run(url: str, viewers: int, commits: int, interval: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="nightdesk-newsroom-") as tmp:
        room = Newsroom(url, Path(tmp), interval=interval)
        with room:
            room.upgrade()
            room.watch_commits()
            first = next(room.values)
            room.feed.set(first)
            room.start_collector()
            deadline = time.monotonic() + 30
            while not room.commits:
                if time.monotonic() > deadline:
                    raise RuntimeError("the collector committed nothing")
                time.sleep(0.05)
            started = ready(room, viewers, first, timeout=120)
            print(
                f"{viewers} viewers up, showing the night and settled: {started:.1f} s", flush=True
            )
            polls_from = time.monotonic()
            lags: list[float] = []
            each: list[float] = []
            for _ in range(commits):
                _, _, committed, times = room.commit()
                if any(t is None for t in times):
                    raise RuntimeError("a viewer did not show a commit within 15 s")
                shown_at = [t for t in times if t is not None]
                lags.append(max(shown_at) - committed)
                each += [t - committed for t in shown_at]
            span = time.monotonic() - polls_from
            polls = room.feed.count(polls_from)
    return {
        "p50": statistics.median(lags),
        "p95": percentile(lags, 0.95),
        "max": max(lags),
        "each_p50": statistics.median(each),
        "polls_per_interval": polls / (span / interval),
    }


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--viewers", type=int, default=20)
    p.add_argument("--commits", type=int, default=20)
    p.add_argument("--interval", type=float, default=1.0, help="the feed's poll interval (s)")
    p.add_argument("--pg-url", help="a PostgreSQL database to use (default: a throwaway one)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cluster = None
    url = args.pg_url
    if url is None:
        server = pg_server_module()
        try:
            cluster = server.start()
        except server.Unavailable as exc:
            print(f"newsroom: skipped (no PostgreSQL: {exc})", flush=True)
            return
        url = cluster.url
    try:
        numbers = run(url, args.viewers, args.commits, args.interval)
    finally:
        if cluster is not None:
            cluster.stop()
    print(
        f"commit → all {args.viewers} viewers showing it, over {args.commits} commits:"
        f" p50 {numbers['p50'] * 1000:.0f} ms, p95 {numbers['p95'] * 1000:.0f} ms,"
        f" max {numbers['max'] * 1000:.0f} ms"
    )
    print(f"commit → one viewer showing it (p50 over all): {numbers['each_p50'] * 1000:.0f} ms")
    print(f"feed requests per poll interval (20 viewers up): {numbers['polls_per_interval']:.2f}")


if __name__ == "__main__":
    main()
