"""The child's side of the terminal benchmark: commands in, JSON events out, a loop-lag probe.

A benchmark child is a Textual app running in a pseudo-terminal the parent reads. The pty
carries only what the app writes to the terminal, so commands and measurements travel over a
separate socket whose descriptor the parent passes in ``BENCH_CONTROL_FD``. Nothing here
touches product code: apps mix :class:`Controlled` in and answer commands with ``bench_*``
methods.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import traceback
from typing import Any

from textual.app import App

CONTROL_ENV = "BENCH_CONTROL_FD"
PROBE_SECONDS = 0.005


class LagProbe:
    """A task that sleeps 5 ms in a loop and remembers how late it woke: the loop's blocks."""

    def __init__(self) -> None:
        self.max_lateness = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="bench:lag")

    def take(self) -> float:
        """The largest lateness (seconds) since the last call, then start afresh."""
        worst, self.max_lateness = self.max_lateness, 0.0
        return worst

    async def _run(self) -> None:
        while True:
            start = time.monotonic()
            await asyncio.sleep(PROBE_SECONDS)
            late = time.monotonic() - start - PROBE_SECONDS
            self.max_lateness = max(self.max_lateness, late)


class Controlled(App[Any]):
    """An app the parent drives: one command per line, ``bench_<command>(*args)`` answers it."""

    def on_mount(self) -> None:
        # Textual calls every class's on_mount in the MRO, so a subclass's own on_mount
        # (the product app's) still runs; this one only opens the control socket.
        fd = int(os.environ[CONTROL_ENV])
        self._bench_sock = socket.socket(fileno=fd)
        self._bench_sock.setblocking(False)
        self._bench_buffer = b""
        self.bench_probe = LagProbe()  # started on request: its wake-ups cost CPU (~3%)
        asyncio.get_running_loop().add_reader(fd, self._bench_read)
        self.bench_mounted()
        self.call_after_refresh(self.bench_send, "ready", at=time.monotonic())

    def bench_mounted(self) -> None:
        """Set-up after mount (for subclasses)."""

    def bench_send(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **fields}) + "\n"
        self._bench_sock.setblocking(True)
        try:
            self._bench_sock.sendall(line.encode())
        finally:
            self._bench_sock.setblocking(False)

    def _bench_read(self) -> None:
        try:
            data = self._bench_sock.recv(65536)
        except BlockingIOError:
            return
        if not data:  # the parent is gone
            asyncio.get_running_loop().remove_reader(self._bench_sock.fileno())
            self.exit()
            return
        self._bench_buffer += data
        while b"\n" in self._bench_buffer:
            line, self._bench_buffer = self._bench_buffer.split(b"\n", 1)
            command, *args = line.decode().split()
            try:
                getattr(self, f"bench_{command}")(*args)
            except Exception:
                self.bench_send("error", text=traceback.format_exc())

    def bench_quit(self) -> None:
        self.exit()

    def bench_probe_loop(self) -> None:
        """Start the loop-lag probe (only where CPU is not being measured)."""
        self.bench_probe.start()
        self.bench_send("probing")

    def bench_lag(self) -> None:
        """Report the worst loop lateness since the last ask."""
        self.bench_send("lag", max_lag=self.bench_probe.take())
