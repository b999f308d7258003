"""Replay: a stored night played back through the same screens, at any speed.

A ``Replayer`` stands where the ``Poller`` stands: it publishes :class:`SourceState` objects
to the same subscribers, so the screens cannot tell a replay from the night itself. Time on
screen is the replayed time (``now``), so "last good" and stale read as they did.

What the store does not keep as cells (vote types) is read again from each stored body
(:func:`nightdesk.history.parse_again`), once per fetch; a source whose first body gives no
vote types is not parsed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from nightdesk.config import Config
from nightdesk.delta import compare
from nightdesk.history import parse_again, with_vote_types
from nightdesk.model import Snapshot
from nightdesk.polling import Callback, SourceHealth, SourceState
from nightdesk.results import RaceResult, assess
from nightdesk.store import HistoryStore, StoredSnapshot

log = logging.getLogger(__name__)


class Replayer:
    """Publishes every stored snapshot in order, waiting the night's own gaps ÷ ``speed``."""

    #: Replay is not the night: the desk's choices (baseline, view) are not written back.
    remembers = False
    #: What ``r`` says in a replay.
    refresh_text = "Showing the next snapshot now"

    def __init__(self, config: Config, store: HistoryStore, *, speed: float = 1.0) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0")
        self.config = config
        self.store = store
        self.speed = speed
        self.states: dict[str, SourceState] = {s.name: SourceState(s) for s in config.sources}
        self.finished = asyncio.Event()
        self.played = 0
        self._callbacks: list[Callback] = []
        self._task: asyncio.Task[None] | None = None
        self._skip = asyncio.Event()
        self._now: datetime | None = None
        #: Sources whose bodies are parsed again for their vote types (True), or not.
        self._vote_types: dict[str, bool] = {}

    def now(self) -> datetime:
        """The replayed time (the fetch time of the snapshot last shown)."""
        return self._now or datetime.now(UTC)

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def restore(self) -> dict[str, SourceState]:
        """Nothing to restore: a replay starts at the beginning of the night."""
        return {}

    def refresh(self, name: str | None = None) -> None:
        """``r`` in a replay: show the next snapshot now."""
        self._skip.set()

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="replay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        timeline = await asyncio.to_thread(self.store.timeline)
        known = {s.name for s in self.config.sources}
        results: dict[str, dict[str, RaceResult]] = {name: {} for name in known}
        before: StoredSnapshot | None = None
        for fetch in _fetches(e for e in timeline if e.source in known):
            first = fetch[0]
            if before is not None:
                await self._wait((first.fetched_at - before.fetched_at).total_seconds())
            before = first
            races = results[first.source]
            for race, result in races.items():  # not in this fetch: unchanged, nothing new
                if result.previous is not result.snapshot:
                    races[race] = await asyncio.to_thread(_unchanged, result)
            parsed = await asyncio.to_thread(self._parse_again, first)
            for entry in fetch:
                prior = races.get(entry.race)
                races[entry.race] = await asyncio.to_thread(
                    self._assess, entry, prior, parsed.get(entry.race)
                )
            # Several sources interleave: the replayed clock never steps back.
            self._now = max(self._now, first.fetched_at) if self._now else first.fetched_at
            self.played += len(fetch)
            state = self.states[first.source]
            health = SourceHealth(last_success=first.fetched_at, last_attempt=first.fetched_at)
            new = replace(
                state,
                results=tuple(races.values()),
                health=health,
                changed=True,
                polls=state.polls + 1,
                stored={e.race: e.id for e in fetch},
            )
            self.states[first.source] = new
            for callback in list(self._callbacks):
                callback(new)
        self.finished.set()

    def _parse_again(self, entry: StoredSnapshot) -> dict[str, Snapshot]:
        if not self._vote_types.get(entry.source, True):
            return {}
        parsed = parse_again(self.store, self.config, entry.id)
        if entry.source not in self._vote_types:
            self._vote_types[entry.source] = any(s.vote_types for s in parsed.values())
        return parsed

    def _assess(
        self, entry: StoredSnapshot, prior: RaceResult | None, parsed: Snapshot | None = None
    ) -> RaceResult:
        snapshot = with_vote_types(self.store.snapshot(entry.id), parsed)
        previous = prior.snapshot if prior else None
        return assess(snapshot, previous, self.config.election, prior=prior)

    async def _wait(self, gap: float) -> None:
        self._skip.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(gap, 0.0) / self.speed):
                await self._skip.wait()


def _fetches(entries: Iterable[StoredSnapshot]) -> Iterator[list[StoredSnapshot]]:
    """Stored snapshots grouped by the fetch that brought them (one body, one time): a
    feed with several races is published once per fetch, as the poller did."""
    group: list[StoredSnapshot] = []
    for entry in entries:
        if group and (entry.source, entry.fetched_at, entry.body_sha256) != (
            group[0].source,
            group[0].fetched_at,
            group[0].body_sha256,
        ):
            yield group
            group = []
        group.append(entry)
    if group:
        yield group


def _unchanged(result: RaceResult) -> RaceResult:
    """The result again, with nothing changed since the last poll (so it is not logged twice)."""
    snapshot = result.snapshot
    return replace(result, previous=snapshot, delta=compare(snapshot, snapshot))
