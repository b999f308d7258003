"""``b``, ``t`` and ``d``: the snapshot a desk compares against, per (source, race), and whether
the change columns count from it or from the last poll. Both are remembered in the store, so a
restart shows the night as the desk left it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from nightdesk.delta import compare
from nightdesk.model import Snapshot
from nightdesk.polling import SourceState
from nightdesk.results import RaceResult

if TYPE_CHECKING:
    from nightdesk.store import HistoryStore
    from tui.app import NightdeskApp

Since = Literal["poll", "baseline"]


class Baselines:
    """The baselines of the night and the ``since`` view (the app shows results through
    :meth:`as_shown`)."""

    def __init__(self, app: NightdeskApp) -> None:
        self.app = app
        #: (source, race) → the snapshot compared against; set with ``b`` or ``t``.
        self.marked: dict[tuple[str, str], Snapshot] = {}
        self.since: Since = "poll"
        #: (source, race) → the latest committed snapshot shown and its id in the store.
        self._committed: dict[tuple[str, str], tuple[Snapshot, int]] = {}
        #: Baselines marked on a snapshot not yet committed: remembered once it is.
        self._pending: dict[tuple[str, str], Snapshot] = {}
        self._remembering = asyncio.Lock()

    def of(self, race: str) -> Snapshot | None:
        """The primary source's baseline for ``race``."""
        return self.marked.get((self.app.primary, race))

    def restore(self, marked: Mapping[tuple[str, str], Snapshot], since: str | None) -> None:
        """The baselines and the view read back from the store."""
        self.marked.update(marked)
        if since == "baseline" and self.marked:
            self.since = "baseline"

    def as_shown(self, result: RaceResult) -> RaceResult:
        """The result with the change the desk asked for: since the last poll (as computed)
        or since the baseline (compared here; the engine's own result is left alone)."""
        base = self.of(result.race_key)
        if self.since != "baseline" or base is None:
            return result
        return replace(result, previous=base, delta=compare(base, result.snapshot))

    def mark(self) -> None:
        """``b``: the results now are the baseline."""
        app = self.app
        result = app.result
        if result is None:
            app.notify("No results yet", timeout=2)
            return
        key = (app.primary, result.race_key)
        committed = self._committed.get(key)
        stored_id = committed[1] if committed and committed[0] is result.snapshot else None
        self.set(result.snapshot, stored_id)
        if stored_id is None and app.store is not None:
            # Not committed yet (the write runs after the screen is updated): remembered by
            # its id once the poller says it is stored (``note_stored``).
            self._pending[key] = result.snapshot

    def set(self, snapshot: Snapshot, snapshot_id: int | None) -> None:
        """Compare against ``snapshot`` from now on (and after a restart, when stored)."""
        from tui.formatting import clock

        app = self.app
        key = (app.primary, snapshot.race.id if snapshot.race else "")
        self.marked[key] = snapshot
        self._pending.pop(key, None)
        when = snapshot.published_at or snapshot.fetched_at
        label = f"#{snapshot_id}, " if snapshot_id is not None else ""
        shown = clock(when, app.config.election.timezone, seconds=True)
        app.notify(f"Baseline set: {label}{shown}", timeout=3)
        if snapshot_id is not None:
            self.remember(lambda store: store.set_baseline(key[0], key[1], snapshot_id))
        app.reshow()

    def note_stored(self, state: SourceState) -> None:
        """Which of the shown snapshots are committed, by id (no store call on the loop)."""
        for result in state.results:
            stored_id = state.stored.get(result.race_key)
            if stored_id is None:
                continue
            key = (state.source.name, result.race_key)
            self._committed[key] = (result.snapshot, stored_id)
            if self._pending.get(key) is result.snapshot:
                del self._pending[key]
                self.remember(lambda store, k=key, i=stored_id: store.set_baseline(*k, i))

    def remember(self, write: Callable[[HistoryStore], None]) -> None:
        """A small write to the store, off the event loop, in the order asked (one at a time);
        a failure is said, not raised. ``write`` must carry its values, not read them later."""
        app = self.app
        store = app.store
        if store is None or not getattr(app.poller, "remembers", True):
            return  # a replay shows the night; it does not write the desk's choices into it

        async def run() -> None:
            async with self._remembering:  # FIFO: the last choice made is the one kept
                try:
                    await asyncio.to_thread(write, store)
                except Exception as exc:
                    app.notify(f"Could not store it: {exc}", severity="warning")

        app.run_worker(run(), group="store", exclusive=False)

    def toggle_since(self) -> None:
        """``d``: change since the last poll, or since the baseline."""
        app = self.app
        result = app.result
        if result is None:
            app.notify("No results yet", timeout=2)
            return
        if self.since == "poll" and self.of(result.race_key) is None:
            app.notify("No baseline yet: press b to mark one, or t to pick one", timeout=3)
            return
        since = self.since = "baseline" if self.since == "poll" else "poll"
        self.remember(lambda store: store.set_view("since", since))
        app.reshow()

    def pick(self) -> None:
        """``t``: the timeline of stored snapshots; the one picked becomes the baseline."""
        from tui.timeline_screen import TimelineScreen

        app = self.app
        if app.store is None:
            app.notify("No history store: the timeline needs one", timeout=3)
            return
        if isinstance(app.screen, TimelineScreen):
            return
        result = app.result
        race = result.race_key if result else ""

        async def picked(snapshot_id: int | None) -> None:
            store = app.store
            if snapshot_id is None or store is None:
                return
            try:  # rebuilding a large snapshot takes ~0.1 s: not on the event loop
                snapshot = await asyncio.to_thread(store.snapshot, snapshot_id)
            except Exception as exc:
                app.notify(f"Could not read snapshot #{snapshot_id}: {exc}", severity="error")
                return
            self.set(snapshot, snapshot_id)

        app.push_screen(
            TimelineScreen(app.store, app.primary, race, app.config.election.timezone), picked
        )
