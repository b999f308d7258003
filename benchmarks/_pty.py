"""The parent's side: run a program in a real pseudo-terminal and count what it writes.

The child gets a 200×50 pty (TIOCSWINSZ) as stdin, stdout and stderr (Textual draws on
stderr), ``TERM=xterm-256color`` without ``COLORTERM``, and a control socket
(``benchmarks._control``). Every read from the pty master is timestamped, so a caller can
count the bytes of any window. Nobody answers the terminal's queries (as with a terminal
that supports none of them), so Textual draws without synchronized-output brackets.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import signal
import socket
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._control import CONTROL_ENV

REPO = Path(__file__).resolve().parents[1]
COLS, ROWS = 200, 50
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Environment that would change what or how much Textual draws.
DROPPED_ENV = ("COLORTERM", "COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TERM_PROGRAM")


class ChildFailed(RuntimeError):
    """The child exited or reported an error; the message carries what it printed last."""


def child_env(animations: bool = False) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in DROPPED_ENV and not k.startswith("TEXTUAL")
    }
    env["TERM"] = "xterm-256color"
    if not animations:
        env["TEXTUAL_ANIMATIONS"] = "none"
    return env


def visible_text(data: bytes) -> str:
    """The printable part of terminal output (escape sequences dropped), for error messages."""
    import re

    text = re.sub(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b.", b"", data)
    return text.decode(errors="replace")


class PtyChild:
    """A child process in a pty: read everything it writes, talk over the control socket."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        control: bool = True,
        cols: int = COLS,
        rows: int = ROWS,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = dict(env if env is not None else child_env())
        pass_fds: tuple[int, ...] = ()
        self.sock: socket.socket | None = None
        theirs: socket.socket | None = None
        if control:
            self.sock, theirs = socket.socketpair()
            env[CONTROL_ENV] = str(theirs.fileno())
            pass_fds = (theirs.fileno(),)
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=REPO,
            pass_fds=pass_fds,
            start_new_session=True,
        )
        os.close(slave)
        if theirs is not None:
            theirs.close()
        self.master = master
        os.set_blocking(master, False)
        if self.sock is not None:
            self.sock.setblocking(False)
        self.total = 0  # bytes read from the pty so far
        self.last_output = self.started
        self.chunks: list[tuple[float, int]] = []  # (time read, size)
        self.keep: bytearray | None = None  # when set, every byte read is appended
        self.tail = bytearray()  # the last few kB, for error messages
        self.events: list[dict[str, Any]] = []
        self._buffer = b""
        self.eof = False

    @property
    def pid(self) -> int:
        return self.proc.pid

    # -- reading ----------------------------------------------------------------------------

    def pump(self, timeout: float) -> None:
        """Read whatever arrives within ``timeout`` seconds (returns early on any input)."""
        fds = [] if self.eof else [self.master]
        if self.sock is not None:
            fds.append(self.sock.fileno())
        if not fds:
            time.sleep(max(timeout, 0))
            return
        ready, _, _ = select.select(fds, [], [], max(timeout, 0))
        now = time.monotonic()
        if self.master in ready:
            try:
                data = os.read(self.master, 1 << 16)
            except OSError:  # EIO: the child closed its end
                data = b""
            if not data:
                self.eof = True
            else:
                self.total += len(data)
                self.last_output = now
                self.chunks.append((now, len(data)))
                if self.keep is not None:
                    self.keep += data
                self.tail = (self.tail + data)[-8192:]
        if self.sock is not None and self.sock.fileno() in ready:
            try:
                data = self.sock.recv(1 << 16)
            except BlockingIOError:
                data = None
            if data == b"":
                self.sock.close()
                self.sock = None
            elif data:
                self._buffer += data
                while b"\n" in self._buffer:
                    line, self._buffer = self._buffer.split(b"\n", 1)
                    event = json.loads(line)
                    event["received"] = now
                    if event["event"] == "error":
                        raise ChildFailed(f"child {self.pid} reported:\n{event['text']}")
                    self.events.append(event)

    def _check_alive(self) -> None:
        if self.proc.poll() is not None and self.eof:
            raise ChildFailed(
                f"child {self.pid} exited with {self.proc.returncode}; it last printed:\n"
                + visible_text(bytes(self.tail))[-3000:]
            )

    def wait_event(self, name: str, timeout: float = 60.0) -> dict[str, Any]:
        """The oldest unclaimed event called ``name``, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.events):
                if event["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChildFailed(
                    f"child {self.pid}: no {name!r} within {timeout:.0f} s; it last printed:\n"
                    + visible_text(bytes(self.tail))[-2000:]
                )
            self._check_alive()
            self.pump(min(left, 0.5))

    def settle(self, quiet: float, *, at_least: float = 0.0, at_most: float = 30.0) -> float:
        """Read until the pty has been silent ``quiet`` s and ``at_least`` s have passed.

        Returns the time the last byte arrived.
        """
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if now - start >= at_most:
                return self.last_output
            if now - start >= at_least and now - max(self.last_output, start) >= quiet:
                return self.last_output
            self._check_alive()
            wake = max(self.last_output, start) + quiet
            self.pump(min(max(wake - now, start + at_least - now, 0.005), at_most))

    def wait_output(self, marker: bytes, timeout: float = 30.0) -> float:
        """When ``marker`` first appeared in the output (``keep`` must be set)."""
        assert self.keep is not None
        deadline = time.monotonic() + timeout
        while marker not in self.keep:
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"child {self.pid}: {marker!r} did not appear within {timeout:.0f} s; "
                    "it last printed:\n" + visible_text(bytes(self.tail))[-2000:]
                )
            self._check_alive()
            self.pump(0.2)
        return self.last_output

    def idle(self, seconds: float) -> None:
        """Keep reading for ``seconds``."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self._check_alive()
            self.pump(left)

    # -- talking ----------------------------------------------------------------------------

    def send(self, command: str) -> None:
        assert self.sock is not None, "the child has no control socket"
        self.sock.setblocking(True)
        try:
            self.sock.sendall(command.encode() + b"\n")
        finally:
            self.sock.setblocking(False)

    def ask(self, command: str, event: str, timeout: float = 60.0) -> dict[str, Any]:
        self.send(command)
        return self.wait_event(event, timeout)

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    # -- the child's resources --------------------------------------------------------------

    def cpu(self, *, main: bool = False) -> float:
        """CPU seconds of every live thread (or the main one), from /proc/…/schedstat (ns)."""
        total = 0
        tasks = Path(f"/proc/{self.pid}/task")
        for task in [tasks / str(self.pid)] if main else tasks.iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[0])
        return total / 1e9

    def cpu_ticks(self) -> float:
        """CPU seconds from /proc/<pid>/stat: utime + stime (whole process, 1/CLK_TCK steps)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss(self) -> int:
        """Resident set size in bytes, from /proc/<pid>/status."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    # -- ending -----------------------------------------------------------------------------

    def close(self, timeout: float = 10.0) -> None:
        """Ask the child to quit; if it does not, terminate it (only this child's pid)."""
        with contextlib.suppress(OSError, AssertionError):
            if self.proc.poll() is None and self.sock is not None:
                self.send("quit")
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            with contextlib.suppress(ChildFailed):
                self.pump(0.1)
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self.master)
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def __enter__(self) -> PtyChild:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
