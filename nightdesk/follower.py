"""Viewer mode: the night as a collector (``nightdesk collect``) writes it, read from the store.

A :class:`Follower` stands where the :class:`~nightdesk.polling.Poller` stands for the app
(``subscribe``, ``start``, ``stop``, ``restore``, ``refresh``, ``states``, ``store``) and
never asks a feed: one collector polls, any number of viewers follow. A task waits on the
store's ``wait_for_change`` in a thread (PostgreSQL: LISTEN/NOTIFY; SQLite: a cheap look
at the file's data version) and, on a change, reads the snapshots committed since the last
look, in order, each published as the poller would have published it (so the change log
is the collector's). Whatever the notifications do, the store is read again every
``catch_up`` seconds.

Health is the collector's (``record_health``), shown as recorded. A collector that stops
writing turns its sources stale on screen after three intervals (the status line's own
rule: the last good poll is the collector's), with a notice saying since when.

A viewer writes nothing to the store: ``remembers`` is false, so the desk's baseline and
view stay in this viewer's memory (each desk its own; they are gone when it quits).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from nightdesk.collector import decode_health
from nightdesk.config import Config, SourceConfig
from nightdesk.polling import STALE_AFTER_INTERVALS, Callback, SourceHealth, SourceState
from nightdesk.replay import _fetches, _unchanged
from nightdesk.results import RaceResult, assess
from nightdesk.store import StoredSnapshot

log = logging.getLogger(__name__)

#: Seconds between full looks at the store, whatever the notifications say.
CATCH_UP = 5.0
#: Longest single wait for a change (so ``stop`` and ``refresh`` are never kept waiting).
WAIT_STEP = 0.5
#: Seconds between tries while the store cannot be read.
RETRY = 1.0

T = TypeVar("T")


@dataclass(frozen=True)
class RecordedHealth(SourceHealth):
    """A source's health as the collector recorded it, and when it wrote it (the viewer's
    status line says "collector wrote HH:MM:SS")."""

    written_at: datetime | None = None


class Follower:
    """Publishes what a collector commits to the store, as :class:`SourceState` objects."""

    #: The desk's choices stay in memory: a viewer writes nothing to the shared store.
    remembers = False
    #: What ``r`` says it does (the app's notification): a viewer never polls a feed.
    refresh_text = "Reading the store now"

    def __init__(
        self,
        config: Config,
        store: Any,
        *,
        catch_up: float = CATCH_UP,
        wait_step: float = WAIT_STEP,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.catch_up = catch_up
        self.wait_step = wait_step
        self._clock = clock or (lambda: datetime.now(UTC))
        self.states: dict[str, SourceState] = {s.name: SourceState(s) for s in config.sources}
        #: How many reads of the store found something new (tests and benchmarks read it).
        self.reads = 0
        self._callbacks: list[Callback] = []
        self._task: asyncio.Task[None] | None = None
        self._thread: asyncio.Future[Any] | None = None  # the store call in flight
        self._force = False
        self._marker: int | None = None
        self._seen: dict[str, int] = {}  # source → the highest snapshot id shown
        self._results: dict[str, dict[str, RaceResult]] = {}  # source → race → result
        self._fetched: dict[str, datetime] = {}  # source → fetch time of its latest shown
        self._read_error: str | None = None

    # --- the Poller's interface -----------------------------------------------------------

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def restore(self) -> dict[str, SourceState]:
        """The night so far: each source's latest stored results (assessed against the
        snapshot before them) with the collector's recorded health. Synchronous: call it
        before the app starts, or in a thread."""
        records = self._health_records()
        now = self._clock()
        for source in self.config.sources:
            name = source.name
            races: dict[str, RaceResult] = {}
            stored: dict[str, int] = {}
            for race, _ in self.store.races(name):
                latest = self.store.latest_id(name, race)
                if latest is None:
                    continue
                before = self.store.previous_id(latest)
                previous = self.store.snapshot(before) if before is not None else None
                races[race] = assess(self.store.snapshot(latest), previous, self.config.election)
                stored[race] = latest
                entry = self.store.entry(latest)
                if name not in self._fetched or entry.fetched_at > self._fetched[name]:
                    self._fetched[name] = entry.fetched_at
            self._seen[name] = max(stored.values(), default=0)
            if not races:
                continue
            self._results[name] = races
            health = self._health(source, records.get(name), now)
            self.states[name] = SourceState(
                source, tuple(races.values()), health, True, 0, stored=stored
            )
        return dict(self.states)

    def refresh(self, name: str | None = None) -> None:
        """``r`` in a viewer: read the store now (a viewer never polls a feed)."""
        self._force = True

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="follow")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._thread is not None:  # a wait or read in a thread: let it end (≤ wait_step)
            with contextlib.suppress(Exception):
                await self._thread

    # --- following ------------------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn`` in a thread; shielded, so a cancelled task never abandons a store call
        (``stop`` waits for it)."""
        self._thread = asyncio.ensure_future(asyncio.to_thread(fn, *args))
        try:
            return await asyncio.shield(self._thread)
        finally:
            if self._thread.done():
                self._thread = None

    async def _run(self) -> None:
        last_full = time.monotonic()
        while True:
            try:
                marker = await self._call(self.store.change_marker)
                due = self._force or time.monotonic() - last_full >= self.catch_up
                if marker != self._marker or due:
                    self._force = False
                    last_full = time.monotonic()
                    self._marker = marker  # read before the data: a later commit moves it
                    for state in await self._call(self._read):
                        self._publish(state)
                if self._read_error is not None:
                    self._read_error = None
                    self._say_read_error(None)
                await self._call(self.store.wait_for_change, self.wait_step)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store is away (restarting): keep the data, retry
                log.warning("cannot read the store: %s", exc)
                text = f"cannot read the store: {exc}".splitlines()[0]
                if text != self._read_error:
                    self._read_error = text
                    self._say_read_error(text)
                self._marker = None
                await asyncio.sleep(RETRY)

    def _say_read_error(self, text: str | None) -> None:
        """The store's trouble on every source's line (the data shown stays)."""
        for name, state in self.states.items():
            new = replace(
                state, health=replace(state.health, store_error=text), changed=False, stored={}
            )
            self.states[name] = new
            self._publish(new)

    def _publish(self, state: SourceState) -> None:
        for callback in list(self._callbacks):
            callback(state)

    def _health_records(self) -> dict[str, tuple[str, datetime]]:
        try:
            return self.store.health()
        except Exception as exc:
            log.warning("cannot read the collector's health: %s", exc)
            return {}

    def _read(self) -> list[SourceState]:
        """In a thread: the states to publish, oldest first (new snapshots, then sources
        whose health alone changed)."""
        records = self._health_records()
        now = self._clock()
        out: list[SourceState] = []
        for source in self.config.sources:
            name = source.name
            seen = self._seen.get(name)
            entries = self.store.timeline(name, after=seen or 0)
            groups = list(_fetches(entries))
            if seen is None and groups:
                groups = groups[-1:]  # never restored: the latest fetch, not the whole night
            state = self.states[name]
            for group in groups:
                results = self._advance(source, group)
                self._seen[name] = max(self._seen.get(name, 0), *(e.id for e in group))
                self._fetched[name] = group[0].fetched_at
                health = self._health(source, records.get(name), now)
                state = SourceState(
                    source,
                    results,
                    health,
                    True,
                    state.polls + 1,
                    stored={e.race: e.id for e in group},
                )
                out.append(state)
            self._seen.setdefault(name, 0)
            health = self._health(source, records.get(name), now)
            if not groups and health != state.health:
                state = replace(state, health=health, changed=False, stored={})
                out.append(state)
            self.states[name] = replace(state, stored={}) if out and out[-1] is state else state
        if out:
            self.reads += 1
        return out

    def _advance(self, source: SourceConfig, group: list[StoredSnapshot]) -> tuple[RaceResult, ...]:
        """The source's results after one stored fetch (races it left out: unchanged)."""
        races = self._results.setdefault(source.name, {})
        for race, result in races.items():
            if result.previous is not result.snapshot:
                races[race] = _unchanged(result)
        for entry in group:
            prior = races.get(entry.race)
            if prior is not None:
                previous = prior.snapshot
            else:
                before = self.store.previous_id(entry.id)
                previous = self.store.snapshot(before) if before is not None else None
            snapshot = self.store.snapshot(entry.id)
            races[entry.race] = assess(snapshot, previous, self.config.election, prior=prior)
        return tuple(races.values())

    def _health(
        self, source: SourceConfig, record: tuple[str, datetime] | None, now: datetime
    ) -> SourceHealth:
        """The collector's recorded health; a collector silent for three intervals (or
        stopped) is said in the notice, and the status line turns stale on its own."""
        if record is None:
            # No collector has recorded this source (a monitor wrote the store): as restored.
            return SourceHealth(last_success=self._fetched.get(source.name))
        text, written = record
        decoded, raw = decode_health(text)
        health = RecordedHealth(**vars(decoded), written_at=written)
        when = written.astimezone(self.config.election.timezone)
        silent = now - written > timedelta(seconds=STALE_AFTER_INTERVALS * source.interval)
        if raw.get("stopped"):
            return replace(health, notice=f"the collector stopped at {when:%H:%M:%S}")
        if silent:
            return replace(health, notice=f"no word from the collector since {when:%H:%M:%S}")
        return health


def collector_live(store: Any, config: Config, now: datetime | None = None) -> bool:
    """Whether a collector is writing to ``store``: a health record of one of the config's
    sources newer than three of its intervals, and not its last word."""
    now = now or datetime.now(UTC)
    records = store.health()
    for source in config.sources:
        record = records.get(source.name)
        if record is None:
            continue
        _, raw = decode_health(record[0])
        age = (now - record[1]).total_seconds()
        if not raw.get("stopped") and age <= STALE_AFTER_INTERVALS * source.interval:
            return True
    return False
