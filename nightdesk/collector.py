"""``nightdesk collect``: the pollers without a screen, writing every distinct snapshot and
each source's health to the store, for the viewers (``nightdesk.follower``) to show.

One collector per store: it is the only process that asks the feeds, so a newsroom of twenty
desks makes one request per interval. Its log is one line per event on stderr, ``key=value``
pairs after a short verb (logfmt), without colours; under systemd (``JOURNAL_STREAM`` set)
without a timestamp, since the journal adds its own.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TextIO

from nightdesk.config import Config
from nightdesk.polling import Poller, SourceHealth, SourceState


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat()


def _time(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def encode_health(state: SourceState, now: datetime, *, stopped: bool = False) -> str:
    """A source's health as the collector records it (``record_health``'s JSON)."""
    h = state.health
    return json.dumps(
        {
            "state": h.status(state.source.interval, now),
            "last_success": _iso(h.last_success),
            "last_attempt": _iso(h.last_attempt),
            "last_error": h.last_error,
            "failures": h.failures,
            "next_attempt": _iso(h.next_attempt),
            "notice": h.notice,
            "store_error": h.store_error,
            "interval": state.source.interval,
            "polls": state.polls,
            "stopped": stopped,
        },
        ensure_ascii=False,
    )


def decode_health(text: str) -> tuple[SourceHealth, dict[str, Any]]:
    """The recorded health as the status line's :class:`SourceHealth`, and the raw record
    (an unreadable record reads as no health)."""
    try:
        data = json.loads(text)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    failures = data.get("failures")
    health = SourceHealth(
        last_success=_time(data.get("last_success")),
        last_attempt=_time(data.get("last_attempt")),
        last_error=data.get("last_error") if isinstance(data.get("last_error"), str) else None,
        failures=failures if isinstance(failures, int) and failures > 0 else 0,
        next_attempt=_time(data.get("next_attempt")),
        notice=data.get("notice") if isinstance(data.get("notice"), str) else None,
        store_error=data.get("store_error") if isinstance(data.get("store_error"), str) else None,
    )
    return health, data


class EventLog:
    """One logfmt line per event on a text stream (stderr)."""

    def __init__(self, out: TextIO | None = None, *, stamp: bool | None = None) -> None:
        self.out = out or sys.stderr
        self.stamp = (not os.environ.get("JOURNAL_STREAM")) if stamp is None else stamp

    def __call__(self, event: str, **fields: object) -> None:
        parts = [f"{k}={_value(v)}" for k, v in fields.items() if v is not None]
        head = f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} " if self.stamp else ""
        self.out.write(f"{head}nightdesk collect: {event} {' '.join(parts)}".rstrip() + "\n")
        self.out.flush()


def _value(v: object) -> str:
    text = " ".join(str(v).split())  # one line, whatever a feed's error said
    if text and all(c not in text for c in ' ="\\'):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Collector:
    """Runs a :class:`Poller` (``store_after=0``) on ``store`` and records each source's
    health after each poll; :meth:`run` returns once :meth:`stop` was asked and every write
    in flight has finished."""

    def __init__(
        self,
        config: Config,
        store: Any,
        *,
        log: Callable[..., None] | None = None,
        poller: Poller | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.log = log or EventLog()
        self._clock = clock or (lambda: datetime.now(UTC))
        self.poller = poller or Poller(config, store=store, store_after=0, clock=self._clock)
        if self.poller.health_with_write is None:
            self.poller.health_with_write = lambda state: encode_health(state, self._clock())
        self.stored = 0  # snapshots this run committed (distinct ones only)
        self.health_writes = 0
        self._queue: asyncio.Queue[tuple[SourceState, bool] | None] = asyncio.Queue()
        self._stop = asyncio.Event()
        self._last_ids: dict[str, dict[str, int]] = {}
        self._awaiting: set[str] = set()  # sources whose new results are being written
        self._failing: dict[str, SourceState] = {}  # failed polls, logged once they settle

    def stop(self) -> None:
        """Ask :meth:`run` to finish (signal handlers call it)."""
        self._stop.set()

    def _on_state(self, state: SourceState) -> None:
        """The poller's callback, on the loop: log the event, queue the health record.

        A poll with new results has its health written in the snapshots' transaction
        (``Poller.health_with_write``): viewers hear of one commit, and the health a
        viewer reads never runs ahead of the data. A write that failed or stored nothing
        new is recorded on its own once it has finished."""
        name = state.source.name
        h = state.health
        if state.changed:
            self._awaiting.add(name)
            self.log("poll", source=name, status="ok", new="yes", races=len(state.results))
            return
        if name in self._awaiting:  # the write of the new results is done (or failed)
            self._awaiting.discard(name)
            before = self._last_ids.get(name, {})
            new = {r: i for r, i in state.stored.items() if before.get(r) != i}
            self._last_ids[name] = dict(state.stored) or before
            self.stored += len(new)
            if h.store_error is not None and not state.stored:
                self.log("store", source=name, status="failed", error=h.store_error)
            else:
                ids = ",".join(str(i) for i in sorted(new.values()))
                self.log("store", source=name, status="ok", snapshots=len(new), ids=ids or None)
                if new and self.poller.health_with_write is not None:
                    return  # its health was written with the snapshots, in one commit
            self._queue.put_nowait((state, False))
            return
        if h.failures:
            # A failed poll publishes twice: the failure, then the time of the next try.
            # The later one is logged, once the poll task yields.
            if name not in self._failing:
                asyncio.get_running_loop().call_soon(self._flush_failure, name)
            self._failing[name] = state
            return
        self.log("poll", source=name, status="ok", new="no", notice=h.notice)
        self._queue.put_nowait((state, False))

    def _flush_failure(self, name: str) -> None:
        state = self._failing.pop(name)
        h = state.health
        self.log(
            "poll",
            source=name,
            status="failing",
            failures=h.failures,
            next_try=_iso(h.next_attempt),
            error=h.last_error,
        )
        self._queue.put_nowait((state, False))

    async def _record(self) -> None:
        """Health records, one at a time and in order, off the event loop."""
        while True:
            item = await self._queue.get()
            if item is None:
                return
            state, stopped = item
            text = encode_health(state, self._clock(), stopped=stopped)
            try:
                await asyncio.to_thread(self.store.record_health, state.source.name, text)
                self.health_writes += 1
            except Exception as exc:  # the store is down: polling and storing go on
                self.log("health", source=state.source.name, status="not-recorded", error=exc)

    def _stored_ids(self) -> dict[str, dict[str, int]]:
        """Each source's latest stored snapshot per race, so a first poll that the store
        finds already stored (the collector was restarted) is not logged or counted as new."""
        out: dict[str, dict[str, int]] = {}
        for source in self.config.sources:
            ids = {
                race: self.store.latest_id(source.name, race)
                for race, _ in self.store.races(source.name)
            }
            out[source.name] = {r: i for r, i in ids.items() if i is not None}
        return out

    async def run(self) -> int:
        """Poll until stopped; returns the exit status (0)."""
        self.log(
            "started",
            sources=",".join(s.name for s in self.config.sources),
            election=self.config.election.name,
            pid=os.getpid(),
        )
        try:  # a restarted collector's first poll finds its snapshots stored already
            self._last_ids = await asyncio.to_thread(self._stored_ids)
        except Exception as exc:  # the store is down: the polls say so, one by one
            self.log("store", status="unreadable", error=exc)
        recorder = asyncio.create_task(self._record(), name="collect:health")
        unsubscribe = self.poller.subscribe(self._on_state)
        await self.poller.start()
        try:
            await self._stop.wait()
        finally:
            self.log("stopping", reason="asked")
            # Stops the polls; waits for a snapshot being written (its transaction commits).
            await self.poller.stop()
            unsubscribe()
            now = self._clock()
            for state in self.poller.states.values():
                if state.polls:  # "the collector stopped", so viewers need not wait to see it
                    self._queue.put_nowait((replace(state, stored={}), True))
            self._queue.put_nowait(None)
            await recorder
            self.log(
                "stopped",
                snapshots_stored=self.stored,
                health_writes=self.health_writes,
                at=_iso(now),
            )
        return 0


def run_collector(config: Config, store: Any, *, log: Callable[..., None] | None = None) -> int:
    """``nightdesk collect``: until SIGTERM or SIGINT; closes the store; exit 0."""

    async def main() -> int:
        collector = Collector(config, store, log=log)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, _on_signal, collector, sig)
        try:
            return await collector.run()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)

    try:
        return asyncio.run(main())
    finally:
        store.close()


def _on_signal(collector: Collector, sig: signal.Signals) -> None:
    collector.log("signal", name=sig.name)
    collector.stop()
