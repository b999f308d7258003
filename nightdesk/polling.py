"""Polling: one asyncio task per source, one shared httpx client, never overlapping polls.

The poller owns the latest good state of every source. A screen subscribes with a callback
(or iterates :meth:`Poller.updates`) and receives :class:`SourceState` objects: it never sees
HTTP, and a failed poll only changes the health, never the last good results.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import httpx

from nightdesk import formats, hierarchy, partial
from nightdesk.config import Config, SourceConfig
from nightdesk.delta import Delta, compare
from nightdesk.errors import ConfigError, FeedError, FetchError
from nightdesk.fetch import Response, Validators, fetch, new_client
from nightdesk.formats import Page, ParseContext
from nightdesk.model import Snapshot, printable_text
from nightdesk.results import RaceResult, assess

if TYPE_CHECKING:
    from nightdesk.store import HistoryStore

log = logging.getLogger(__name__)

Status = Literal["waiting", "ok", "stale", "failing"]
#: A source is stale when its last good poll is older than this many intervals.
STALE_AFTER_INTERVALS = 3
MAX_BACKOFF = 300.0
#: A server's Retry-After is honoured up to this many seconds (a results night cannot wait an
#: hour because a cache said so; the status line shows the next try either way).
MAX_RETRY_AFTER = 900.0
#: Failed writes kept per source for another try; past this the oldest are dropped
#: (the status line says the store is failing long before).
MAX_UNSTORED = 100
#: Seconds between publishing a new state and starting to store it (see ``Poller._store``).
STORE_AFTER = 0.05
#: Truncated pages (AP's ``isTruncated``) asked for back to back before the interval applies.
MAX_MORE = 20


@dataclass(frozen=True)
class SourceHealth:
    """How a source is doing, for the status line."""

    last_success: datetime | None = None
    last_attempt: datetime | None = None
    last_error: str | None = None  # one line, without the source name
    failures: int = 0  # consecutive
    next_attempt: datetime | None = None
    #: Something true about the last answer that is not a failure, e.g. an older copy served.
    notice: str | None = None
    #: Why the last snapshot could not be stored (the data is still shown); None when stored.
    store_error: str | None = None

    def status(self, interval: float, now: datetime | None = None) -> Status:
        if self.failures:
            return "failing"
        if self.last_success is None:
            return "waiting"
        now = now or datetime.now(UTC)
        age = (now - self.last_success).total_seconds()
        return "stale" if age > STALE_AFTER_INTERVALS * interval else "ok"


@dataclass(frozen=True)
class SourceState:
    """The latest good results of one source (one per race) and its health.

    ``changed`` is false when a poll succeeded but the feed had nothing new (a 304 or an
    identical body): subscribers then only need to refresh the status line.
    """

    source: SourceConfig
    results: tuple[RaceResult, ...] = ()
    health: SourceHealth = field(default_factory=SourceHealth)
    changed: bool = False
    polls: int = 0
    #: Race → id of its latest snapshot in the history store, published once a write has
    #: committed (a state of its own, ``changed`` false) and with restored states: screens
    #: that read the store refresh on it, never before the data is there, and a baseline
    #: set on these results is remembered by this id.
    stored: Mapping[str, int] = field(default_factory=dict)


Callback = Callable[[SourceState], None]


class Poller:
    """Polls every source of a config until stopped."""

    #: The desk's choices (baseline, view) are written to the store (a replay's are not).
    remembers = True
    #: What ``r`` says (a viewer's follower reads the store instead; a replay steps on).
    refresh_text = "Polling every source now"

    def __init__(
        self,
        config: Config,
        *,
        client: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] | None = None,
        store: HistoryStore | None = None,
        store_after: float = STORE_AFTER,
        health_with_write: Callable[[SourceState], str] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        #: A collector's health record of the source, written in the snapshot's transaction
        #: (given the source's state as it will be once the write commits).
        self.health_with_write = health_with_write
        #: A headless poller (no screen to draw first) stores at once: ``store_after=0``.
        self._store_after = store_after
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client = client
        self._own_client = client is None
        self._ca_clients: dict[Path, httpx.AsyncClient] = {}  # sources with their own CA bundle
        self._rng = rng or random.Random()
        self._callbacks: list[Callback] = []
        self._queues: list[asyncio.Queue[SourceState]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._validators: dict[str, Validators] = {}
        self._asked_wait: dict[str, float] = {}  # source → seconds its server asked us to wait
        self._quota_wait: dict[str, float] = {}  # source → seconds to wait after "over quota"
        # Incremental feeds (``nightdesk.partial``): the next URL to ask (same origin as the
        # configured one; dropped on any failure, so the next poll asks the full feed), the
        # races as last parsed (before the roll-up) to merge partial answers into, and the
        # truncated pages read back to back.
        self._next: dict[str, str] = {}
        self._held: dict[str, dict[str, Snapshot]] = {}
        self._more: dict[str, int] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._writes: set[asyncio.Future[list[int]]] = set()  # store writes in flight
        #: Per source, the states whose write failed, oldest first (tried after each poll).
        self._unstored: dict[str, deque[tuple[SourceState, Response]]] = {}
        self.states: dict[str, SourceState] = {s.name: SourceState(s) for s in config.sources}

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = new_client()
        return self._client

    def client_for(self, source: SourceConfig) -> httpx.AsyncClient:
        """The shared client, or the one for sources that trust the same CA bundle."""
        if source.verify is None:
            return self.client
        if source.verify not in self._ca_clients:
            self._ca_clients[source.verify] = new_client(source.verify)
        return self._ca_clients[source.verify]

    def subscribe(self, callback: Callback) -> Callable[[], None]:
        """Call ``callback`` with every new state; returns a function that unsubscribes."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    async def updates(self) -> AsyncIterator[SourceState]:
        """Every new state, as an async iterator (for headless consumers)."""
        queue: asyncio.Queue[SourceState] = asyncio.Queue()
        self._queues.append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.remove(queue)

    async def poll(self, source: SourceConfig) -> SourceState:
        """Poll one source once and publish the new state; never raises for feed trouble."""
        state = self.states[source.name]
        now = self._clock()
        notice = None
        # A followed next URL answers with what changed only; popped, so that any failure
        # falls back to the configured URL (the full feed) next time.
        follow = self._next.pop(source.name, None)
        self._more[source.name] = self._more.get(source.name, 0) if follow else 0
        try:
            response = await fetch(
                self.client_for(source),
                replace(source, url=follow) if follow else source,
                None if follow else self._validators.get(source.name),
            )
            try:
                results, changed, response, notice = await self._digest(
                    source, state, response, followed=follow is not None
                )
            except OlderCopy as older:
                results, changed, notice = state.results, False, str(older)
        except FeedError as exc:
            new = self._failed(state, now, self._failure(source, exc))
        except Exception as exc:  # a bug must not stop the night: record it, keep polling
            log.exception("unexpected error polling %s", source.name)  # to the log file only
            new = self._failed(state, now, f"internal error: {type(exc).__name__}: {exc}")
        else:
            health = SourceHealth(
                last_success=now,
                last_attempt=now,
                notice=notice,
                store_error=state.health.store_error,
            )
            new = SourceState(source, results, health, changed, state.polls + 1)
        self.states[source.name] = new
        self._publish(new)
        if self.store is not None:
            # What a failed write left (the store was down) goes first, in order: a feed
            # that does not move again must not lose the snapshot it moved to.
            unstored = self._unstored.get(source.name)
            while unstored:
                if not await self._store(*unstored[0]):
                    break
                unstored.popleft()
            if new.changed:
                await self._store(new, response)
        return new

    async def _store(self, state: SourceState, response: Response) -> bool:
        """Keep the new snapshots, off the event loop; a store that cannot write is reported
        in the source's health and polling goes on (the screen still has the data), and the
        write is tried again after the next poll. Returns whether it was stored."""
        from nightdesk.store import Evidence

        assert self.store is not None
        evidence = Evidence(
            source=state.source.name,
            url=display_url(state.source),
            # The latest: a partial answer leaves some races as an earlier poll fetched them.
            fetched_at=max(r.snapshot.fetched_at for r in state.results),
            status=response.status,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            date=response.headers.get("date"),
            body=response.body,
        )
        store = self.store
        name = state.source.name
        races = [r.race_key for r in state.results]

        health = None
        if self.health_with_write is not None:
            current = self.states[name]
            health = self.health_with_write(
                replace(current, health=replace(current.health, store_error=None))
            )

        def record() -> dict[str, int]:
            store.record(evidence, [r.snapshot for r in state.results], health=health)
            # What is committed now: the new snapshot, or the equal one stored before it.
            latest = {race: store.latest_id(name, race) for race in races}
            return {race: i for race, i in latest.items() if i is not None}

        # The screen first: subscribers draw the new state while the write waits its turn
        # (the write's Python work would otherwise contend with the frame for the GIL).
        if self._store_after > 0:
            await asyncio.sleep(self._store_after)
        write = asyncio.ensure_future(asyncio.to_thread(record))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        stored: dict[str, int] = {}
        try:
            # Shielded: stopping the poller mid-write must not abandon a transaction half way
            # (``stop`` waits for it).
            stored = await asyncio.shield(write)
            error = None
        except Exception as exc:  # disk full, file removed, locked: never stop polling
            log.exception("cannot store a snapshot of %s", name)
            error = f"cannot store the snapshot: {exc}".splitlines()[0]
            unstored = self._unstored.setdefault(name, deque(maxlen=MAX_UNSTORED))
            if not unstored or unstored[0][0] is not state:
                unstored.append((state, response))
        current = self.states[name]
        health = replace(current.health, store_error=error)
        self.states[name] = replace(current, health=health, changed=False, stored=stored)
        self._publish(self.states[name])
        self.states[name] = replace(self.states[name], stored={})
        return error is None

    def restore(self) -> dict[str, SourceState]:
        """The night so far from the store: each source's latest stored results (assessed
        against the snapshot before them, so deltas show as they did) and the validators of
        its latest body, so the first poll of an unchanged feed is a 304. Synchronous and
        CPU-bound: call it before the app starts, or in a thread."""
        if self.store is None:
            return {}
        for source in self.config.sources:
            results: list[RaceResult] = []
            stored: dict[str, int] = {}
            newest = None
            for race, _name in self.store.races(source.name):
                latest = self.store.latest_id(source.name, race)
                if latest is None:
                    continue
                stored[race] = latest
                before = self.store.previous_id(latest)
                snapshot = self.store.snapshot(latest)
                previous = self.store.snapshot(before) if before is not None else None
                results.append(assess(snapshot, previous, self.config.election))
                entry = self.store.entry(latest)
                if newest is None or entry.id > newest.id:
                    newest = entry
            if not results or newest is None:
                continue
            self._validators[source.name] = Validators(newest.etag, newest.last_modified)
            health = SourceHealth(last_success=newest.fetched_at)
            self.states[source.name] = SourceState(
                source, tuple(results), health, True, 0, stored=stored
            )
        return dict(self.states)

    def _failure(self, source: SourceConfig, exc: FeedError) -> str:
        """The failure's one line; sets the wait the server asked for (Retry-After), or the
        API's own wait after an "over quota" answer (the format's :class:`formats.Quota`)."""
        wait = getattr(exc, "retry_after", None)
        status = getattr(exc, "status", None)
        quota = _quota(source)
        if quota is not None and status in quota.statuses:
            floor = min(wait, MAX_RETRY_AFTER) if wait is not None else 0.0
            delay = max(self._rng.uniform(*quota.wait), floor)
            self._quota_wait[source.name] = delay
            low, high = quota.wait
            what = f"HTTP {status}" if status != 403 else "HTTP 403; or the key is refused"
            return (
                f"over quota ({what}): next try in {delay:.0f} s "
                f"(the API advises waiting {low:g}–{high:g} s)"
            )
        if wait is not None:
            self._asked_wait[source.name] = min(wait, MAX_RETRY_AFTER)
        return exc.describe(with_source=False)

    @staticmethod
    def _failed(state: SourceState, now: datetime, reason: str) -> SourceState:
        health = replace(
            state.health,
            last_attempt=now,
            last_error=reason.splitlines()[0] if reason else "unknown error",
            failures=state.health.failures + 1,
        )
        return replace(state, health=health, changed=False, polls=state.polls + 1)

    async def _digest(
        self, source: SourceConfig, state: SourceState, response: Response, *, followed: bool
    ) -> tuple[tuple[RaceResult, ...], bool, Response, str | None]:
        """The results a response gives, whether they changed, and a notice (or None).

        ``followed``: the response answers a followed next URL: it holds only what changed,
        and is merged into the races held (see :mod:`nightdesk.partial`).
        """
        if response.not_modified and (state.results or followed):
            return state.results, False, response, None
        if response.not_modified:
            # A 304 with nothing stored (we restarted): ask again without validators.
            self._validators.pop(source.name, None)
            response = await fetch(self.client_for(source), source)
        if not response.body.strip():
            raise FeedError("empty response", source=source.name)
        held = self._held.get(source.name) if followed else None
        if followed and held is None:
            raise FeedError("a partial answer with no full state to merge it into")
        fmt = formats.load(source.format)
        ctx = ParseContext(
            source=source.name,
            # The poller's clock (injectable), so stored times, the change log and the
            # status line agree.
            fetched_at=self._clock(),
            columns=source.columns,
            options=source.options,
            headers=response.headers,
            partial=followed,
        )
        # The last results, not copies: each assess starts from its race's previous result.
        previous = {r.race_key: r for r in state.results}
        parsed = await asyncio.to_thread(
            _read_and_assess, fmt, response.body, ctx, previous, self.config, held
        )
        self._held[source.name] = parsed.held
        if not followed:
            # Only remember validators once the body parsed (a bad body must be fetched
            # again) and was not an older copy (OlderCopy skips this line). A next URL's
            # answer has none worth keeping: the next one is another URL.
            self._validators[source.name] = response.validators
        notice = self._follow(source, parsed.page)
        if not parsed.changed:
            return state.results, False, response, notice
        return parsed.results, True, response, notice

    def _follow(self, source: SourceConfig, page: Page) -> str | None:
        """Remember the page's next URL if it may be followed; a notice when it may not."""
        name = source.name
        if page.next_url is None or not source.is_http:
            self._more[name] = 0
            return None
        url = partial.resolve(page.next_url, source.url)
        if url is None:
            self._more[name] = 0
            from nightdesk.store import display_url as without_secrets

            shown = printable_text(without_secrets(page.next_url))[:120]
            return (
                f"the feed's next URL is on another host or scheme ({shown}): not followed "
                "(the key goes nowhere else); the full feed is asked each time"
            )
        self._next[name] = url
        self._more[name] = self._more.get(name, 0) + 1 if page.more else 0
        return None

    def _publish(self, state: SourceState) -> None:
        for callback in list(self._callbacks):
            callback(state)
        for queue in self._queues:
            queue.put_nowait(state)

    def next_delay(self, source: SourceConfig) -> float:
        """Seconds until the next poll: the interval, or backoff with jitter after failures."""
        failures = self.states[source.name].health.failures
        asked = self._asked_wait.pop(source.name, 0.0)
        quota_wait = self._quota_wait.pop(source.name, None)
        if not failures:
            # A truncated page: the API asks for the rest at once (a bounded number of times).
            more = self._more.get(source.name, 0)
            return 0.0 if 0 < more <= MAX_MORE else source.interval
        if quota_wait is not None:
            return quota_wait
        growth = 2.0 ** min(failures - 1, 16)  # bounded: no overflow after a long outage
        delay = min(source.interval * growth, max(MAX_BACKOFF, source.interval))
        # The server's Retry-After is a floor: jitter may add to it, never take from it.
        return max(delay * self._rng.uniform(0.8, 1.2), asked)

    async def _run_source(self, source: SourceConfig) -> None:
        wake = self._wake.setdefault(source.name, asyncio.Event())
        while True:
            # Cleared before the poll, not after: an `r` that comes while this poll is still
            # fetching or storing asks for another poll, and is not lost.
            wake.clear()
            await self.poll(source)
            delay = self.next_delay(source)
            state = self.states[source.name]
            if state.health.failures:
                # Say when the next try is, so a desk knows the source is not forgotten.
                when = self._clock() + timedelta(seconds=delay)
                state = replace(state, health=replace(state.health, next_attempt=when))
                self.states[source.name] = state
                self._publish(state)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await wake.wait()

    def refresh(self, name: str | None = None) -> None:
        """Poll now (one source, or all) instead of waiting for the interval."""
        for source_name, event in self._wake.items():
            if name is None or name == source_name:
                event.set()

    async def start(self) -> None:
        """Start one task per source (returns at once)."""
        if self._tasks:
            return
        for source in self.config.sources:
            self._tasks.append(
                asyncio.create_task(self._run_source(source), name=f"poll:{source.name}")
            )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self._writes:  # let a snapshot being stored finish its transaction
            await asyncio.gather(*self._writes, return_exceptions=True)
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client = None
        for ca_client in self._ca_clients.values():
            await ca_client.aclose()
        self._ca_clients.clear()

    async def poll_all_once(self) -> dict[str, SourceState]:
        """Every source once, concurrently (for ``nightdesk snapshot``)."""
        await asyncio.gather(*(self.poll(s) for s in self.config.sources))
        return dict(self.states)

    async def __aenter__(self) -> Poller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


@dataclass(frozen=True)
class _Parsed:
    """One body parsed and assessed: the results (empty when nothing changed), the races as
    parsed (merged, for a partial answer) before the roll-up, and the page they came on."""

    results: tuple[RaceResult, ...]
    changed: bool
    held: dict[str, Snapshot]
    page: Page


def _parse_and_assess(
    fmt: formats.Format,
    body: bytes,
    ctx: ParseContext,
    previous: dict[str, RaceResult],
    config: Config,
) -> tuple[tuple[RaceResult, ...], bool]:
    """A full body's results and whether they changed (:func:`_read_and_assess`)."""
    parsed = _read_and_assess(fmt, body, ctx, previous, config)
    return parsed.results, parsed.changed


def _read_and_assess(
    fmt: formats.Format,
    body: bytes,
    ctx: ParseContext,
    previous: dict[str, RaceResult],
    config: Config,
    held: dict[str, Snapshot] | None = None,
) -> _Parsed:
    """Parse and compute off the event loop; ``changed`` is false for identical counts.

    ``held``: for a partial answer, the races it is merged into (``nightdesk.partial``);
    the races it leaves out are the held ones, completed as before. Each race is assessed
    from its previous result, so only the units that changed are recomputed
    (``nightdesk.results.assess``).
    """
    page = formats.read(fmt, body, ctx)
    got = list(page.snapshots)
    keys = [partial.race_key(s) for s in got]
    if len(set(keys)) != len(keys):
        raise FeedError("the feed repeats a race", source=ctx.source)
    if held is None:
        if not got:
            raise FetchError("the feed holds no results", source=ctx.source)
        raw = dict(zip(keys, got, strict=True))
    else:
        raw = partial.merge(held, got)
    touched = set(keys)
    snapshots: dict[str, Snapshot] = {}
    for key, snapshot in raw.items():
        prior = previous.get(key)
        if key not in touched and prior is not None:
            snapshots[key] = prior.snapshot  # left out of a partial answer: as it was
        else:
            # Units within units: the tree completed once the race is whole.
            snapshots[key] = hierarchy.rollup(snapshot)
    keys = [k for k in snapshots if k in touched]
    _refuse_older([snapshots[k] for k in keys], keys, previous)
    # Races that counted the same as before keep their previous snapshot (and result).
    for k in keys:
        if k in previous and snapshots[k].same_counts(previous[k].snapshot):
            snapshots[k] = previous[k].snapshot
    changed = set(snapshots) != set(previous) or any(
        snapshots[k] is not previous[k].snapshot for k in keys if k in previous
    )
    if not changed:
        return _Parsed((), False, raw, page)
    results = []
    blank: Delta | None = None
    for key, snapshot in snapshots.items():
        prior = previous.get(key)
        if prior is not None and snapshot is prior.snapshot:
            # Left out of a partial answer, or counted the same: what assess would find
            # (nothing changed, the same seats), without its cost per race (a big AP feed
            # has hundreds of races, and one poll changes a few).
            blank = blank or compare(snapshot, snapshot, same_units=True)
            unchanged = replace(blank, before=snapshot, after=snapshot)
            results.append(replace(prior, previous=snapshot, delta=unchanged))
            continue
        results.append(
            assess(snapshot, prior.snapshot if prior else None, config.election, prior=prior)
        )
    return _Parsed(tuple(results), True, raw, page)


def _quota(source: SourceConfig) -> formats.Quota | None:
    try:
        return formats.quota(formats.load(source.format))
    except ConfigError:
        return None


class OlderCopy(Exception):
    """The feed's own time went backwards: a cache served an older copy. The newer data is
    kept; the message says what happened (it is not a failure of the source)."""


def _refuse_older(
    snapshots: list[Snapshot], keys: list[str], previous: dict[str, RaceResult]
) -> None:
    for snapshot, key in zip(snapshots, keys, strict=True):
        prior = previous.get(key)
        served, held = snapshot.published_at, prior.snapshot.published_at if prior else None
        if served is not None and held is not None and served < held:
            raise OlderCopy(
                f"older copy served (feed time {served:%H:%M:%S} UTC, we have "
                f"{held:%H:%M:%S} UTC); kept the newer data"
            )


def display_url(source: SourceConfig) -> str:
    """Where a source is, as it may be shown or stored: no credentials, no query string."""
    from nightdesk.store import display_url as without_secrets

    return without_secrets(source.url) if source.is_http else str(source.path)
