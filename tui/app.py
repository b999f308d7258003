"""The Textual app: receives source states from the poller and hands them to the screens.

The poller's tasks do the I/O (and parse in a thread); they post a message; the app only
routes it. Nothing here blocks the event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel

from nightdesk import hierarchy
from nightdesk.alerts import Alert, AlertBook
from nightdesk.changelog import FOUND, Change, ChangeLog
from nightdesk.config import Config
from nightdesk.delta import compare
from nightdesk.model import Snapshot
from nightdesk.polling import Poller, SourceState
from nightdesk.results import RaceResult
from tui import launch, left_crop
from tui.bubble_screen import BubbleScreen
from tui.commands import RaceCommands, UnitCommands
from tui.help_screen import HelpScreen, help_markdown
from tui.key_commands import KeyCommands
from tui.main_screen import MainScreen
from tui.province_screen import ProvinceScreen
from tui.widgets.election_header import ElectionHeader
from tui.widgets.results_table import ResultsTable
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from nightdesk.compare import SourceCount
    from nightdesk.store import HistoryStore

Since = Literal["poll", "baseline"]

#: Alerts: seconds between looks at the clock for stale sources; toasts shown at most per
#: poll (the rest are counted in one more); how long each stays; how each rule looks.
ALERT_TICK = 5.0
MAX_TOASTS = 2
ALERT_TOAST_SECONDS = 6.0
ALERT_SEVERITY: dict[str, SeverityLevel] = {"full_reporting": "information", "failing": "error"}

#: Changed cells stay highlighted this long, or just under one poll interval if that is shorter.
HIGHLIGHT_SECONDS = 4.0


class StateArrived(Message):
    """A source was polled (successfully or not)."""

    def __init__(self, state: SourceState) -> None:
        super().__init__()
        self.state = state


class NightdeskApp(App[int]):
    """The monitor."""

    TITLE = "nightdesk"
    CSS_PATH = "nightdesk.tcss"
    COMMANDS = App.COMMANDS | {UnitCommands, RaceCommands, KeyCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave nightdesk"),
        Binding(
            "question_mark",
            "help",
            "Keys",
            key_display="?",
            id="app.help",
            tooltip="Show every key",
        ),
        Binding("r", "refresh", "Refresh", id="app.refresh", tooltip="Poll every source now"),
        Binding(
            "v",
            "bubble",
            "Bubble",
            id="app.bubble",
            tooltip="Seats on the bubble: the closest last seats and what if they flipped",
        ),
        Binding(
            "b",
            "baseline",
            "Baseline",
            id="app.baseline",
            tooltip="Mark the results now as the baseline to compare against",
        ),
        Binding(
            "d",
            "toggle_since",
            "Since poll/base",
            id="app.since",
            tooltip="Show change since the last poll, or since the baseline",
        ),
        Binding(
            "w",
            "pick_race",
            "Race",
            id="app.race",
            tooltip="Watch another race or contest of the feed",
        ),
        Binding(
            "t",
            "timeline",
            "Timeline",
            id="app.timeline",
            tooltip="Every stored snapshot of the night; pick one as the baseline",
        ),
        Binding(
            "a",
            "alerts",
            "Alerts",
            id="app.alerts",
            tooltip="The night's alerts, newest first: seats, close margins, 100%, corrections, "
            "sources",
        ),
        Binding(
            "p",
            "freeze",
            "Freeze",
            id="app.freeze",
            tooltip="Freeze the view to read it: polling and storing go on, the header counts "
            "the updates waiting; p again shows the latest at once",
        ),
        Binding(
            "c",
            "compare",
            "Compare",
            id="app.compare",
            tooltip="Every source side by side: per unit, votes and seats and how far each "
            "is from the first source, the largest disagreement first",
        ),
    ]

    def __init__(
        self,
        config: Config,
        *,
        poller: Poller | None = None,
        store: HistoryStore | None = None,
        poll: bool = True,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        highlight_seconds: float | None = None,
        badge: str | None = None,
        kiosk: bool = False,
        kiosk_interval: float = 8.0,
    ) -> None:
        super().__init__()
        self.badge = badge
        #: ``--kiosk``: the big screen on top of the monitor (tui/kiosk_screen.py).
        self.kiosk = kiosk
        self._kiosk_interval = kiosk_interval
        self._kiosk_clock = monotonic
        left_crop.install()  # partial updates send only the changed cells (see tui/left_crop)
        self.config = config
        self.poller = poller or Poller(config, store=store)
        self.store = store if store is not None else self.poller.store
        #: The snapshot a desk compares against, per (source, race); set with ``b`` or ``t``.
        self.baselines: dict[tuple[str, str], Snapshot] = {}
        self.since: Since = "poll"
        #: Set once the stored night is back on screen and polling has started (tests wait).
        self.ready = asyncio.Event()
        #: (source, race) → the latest committed snapshot shown and its id in the store.
        self._committed: dict[tuple[str, str], tuple[Snapshot, int]] = {}
        #: Baselines marked on a snapshot not yet committed: remembered once it is.
        self._pending_baseline: dict[tuple[str, str], Snapshot] = {}
        self._remembering = asyncio.Lock()
        self._poll = poll
        self._now = now or (lambda: datetime.now(UTC))
        self.primary = config.sources[0].name
        #: The race of the primary source on screen (its key); the first race until the desk
        #: picks another (``w`` or the command palette).
        self.watched: str | None = None
        if highlight_seconds is None:
            interval = config.sources[0].interval
            highlight_seconds = max(1.0, min(HIGHLIGHT_SECONDS, interval - 0.25))
        self.changelog = ChangeLog()
        #: The night's alerts (``[alerts]``): fed each state in ``deliver``; ``a`` lists them.
        self.alert_book = AlertBook(config.alerts, clock=self._now)
        self.alert_bells = 0  # how many times the bell rang (tests read it)
        self._alerts_timer: Timer | None = None
        self.states: dict[str, SourceState] = {}
        #: ``p``: the states held back while the view is frozen, each with the state of its
        #: source before it (``None``: the view is live).
        #: The states that arrived while the view is frozen (``p``); ``None``: live.
        self._freeze_held: list[SourceState] | None = None
        self.main = MainScreen(
            config,
            now=self._now,
            monotonic=monotonic,
            highlight_seconds=highlight_seconds,
            badge=badge,
        )

    async def on_mount(self) -> None:
        await self.push_screen(self.main)
        if self.kiosk:
            await self.push_screen(self._kiosk_screen())
        self.poller.subscribe(lambda state: self.post_message(StateArrived(state)))

        async def after_first_frame() -> None:
            launch.resume()  # the collector, paused by the CLI for the launch
            if self.store is not None:
                await self._restore()
            # The first poll after the first frame: its HTTP client (TLS setup), fetch and
            # parse would otherwise hold the first frame back by ~0.1-0.2 s.
            if self._poll and self.is_running:  # not once the app began shutting down
                await self.poller.start()
            self.ready.set()

        self.call_after_refresh(after_first_frame)

    async def on_unmount(self) -> None:
        await self.poller.stop()

    async def _restore(self) -> None:
        """Put the night back as it was: results, change log, baselines and view, from the
        store (read in a thread: rebuilding a large night takes a moment)."""
        from nightdesk.changelog import finding_changes
        from nightdesk.history import baseline_snapshot, stored_changes

        store = self.store
        assert store is not None

        def load() -> tuple[
            dict[str, SourceState],
            list[list[Change]],
            dict[tuple[str, str], Snapshot],
            str | None,
        ]:
            states = self.poller.restore()
            groups: list[list[Change]] = []
            baselines: dict[tuple[str, str], Snapshot] = {}
            for name, state in states.items():
                for result in state.results:
                    groups += stored_changes(store, name, result.race_key)
                    # The checks are not stored: what fails now is said again, as of the
                    # latest snapshot (when each finding first appeared is not kept).
                    found = finding_changes(
                        name, result.race_key, None, result.findings, result.snapshot.fetched_at
                    )
                    if found:
                        groups.append(found)
                    base = baseline_snapshot(store, name, result.race_key)
                    if base is not None:
                        baselines[(name, result.race_key)] = base
            groups.sort(key=lambda group: group[0].at)  # stable: a source's order is kept
            return states, groups, baselines, store.view("since")

        try:
            states, groups, baselines, since = await asyncio.to_thread(load)
        except Exception as exc:  # an unreadable store must not stop the night
            self.notify(f"Could not restore the stored night: {exc}", severity="error")
            return
        self.baselines.update(baselines)
        if since == "baseline" and self.baselines:
            self.since = "baseline"
        for group in groups:
            self.changelog.add(group)
        for state in states.values():
            if state.results:
                self.deliver(state, restored=groups)
        result = self.result
        if result is not None:
            self.main.show_since(self.since, self.baselines.get((self.primary, result.race_key)))

    def deliver(self, state: SourceState, *, restored: list[list[Change]] | None = None) -> None:
        """Show a state (the poller's callback path; tests call it directly).

        ``restored``: the change log read back from the store, a list per stored snapshot,
        shown instead of the state's own delta (which the log already holds).
        """
        self._alerts_observe(state)
        if self._freeze_hold(state):
            return  # the view (and what its keys read: ``self.states``) stays as it was
        before = self.states.get(state.source.name)
        self.states[state.source.name] = state
        notice = state.health.notice
        if notice and state.results and (before is None or before.health.notice != notice):
            self._log_notice(state, notice)
        if state.stored:
            self._note_stored(state)
            if restored is None:
                self._history_stored(state)
            if not state.changed and before is not None and before.health == state.health:
                return  # only "it is stored": nothing on this screen changes
        new_changes: list[Change] = []
        if restored is not None:
            pass
        elif state.changed:
            for result in state.results:
                new_changes += self.changelog.record(
                    state.source.name, result.delta, result.snapshot.fetched_at
                )
        with self.batch_update():  # one frame a poll, whatever it touches
            self.main.show_status(state)
            if state.changed and state.source.name == self.primary and state.results:
                polled = self._watched_of(state)
                result = self._as_shown(polled)
                self._say_race(state, polled)
                # Cells light up for what this poll changed, whatever the Change column counts.
                shown = self._pane_changes(polled, new_changes)
                self.main.show_result(result, shown, polled.delta.cells)
                self._kiosk_show(result)
                for group in restored or ():
                    if group[0].source == state.source.name:
                        self.main.show_changes(result, self._pane_changes(polled, group))
                for screen in self.screen_stack:
                    if isinstance(screen, ProvinceScreen):
                        screen.show(result, self._unit_changes(screen.unit))
                    elif isinstance(screen, BubbleScreen):
                        screen.show(result)
            self._compare_refresh(state)

    def _history_stored(self, state: SourceState) -> None:
        """New snapshots are in the store: screens that read it catch up."""
        from tui.timeline_screen import TimelineScreen

        if state.source.name != self.primary:
            return
        changed = set()
        for result in state.results:
            changed |= set(result.delta.changed_units())
        for screen in self.screen_stack:
            if isinstance(screen, TimelineScreen):
                screen.refresh_timeline()
            elif (
                isinstance(screen, ProvinceScreen)
                and screen.history is not None
                and screen.unit in changed
            ):
                screen.history.refresh_history()

    def _log_notice(self, state: SourceState, notice: str) -> None:
        """A source's notice (an older copy served) as a flagged line in the changes pane,
        once per occurrence, as well as on the status line."""
        name = state.source.name
        entry = Change(
            self._now(), name, "", name, "notice", None, None, 0, False, False, FOUND, notice
        )
        self.changelog.add([entry])
        self.main.show_changes(state.results[0], [entry])

    def _as_shown(self, result: RaceResult) -> RaceResult:
        """The result with the change the desk asked for: since the last poll (as computed)
        or since the baseline (compared here; the engine's own result is left alone)."""
        base = self.baselines.get((self.primary, result.race_key))
        if self.since != "baseline" or base is None:
            return result
        return replace(result, previous=base, delta=compare(base, result.snapshot))

    def _reshow(self) -> None:
        """Show the watched result again (after the baseline or the view changed)."""
        state = self.states.get(self.primary)
        if state is None or not state.results:
            return
        with self.batch_update():
            polled = self._watched_of(state)
            result = self._as_shown(polled)
            # Nothing new arrived: nothing lights up.
            self.main.show_result(result, [], polled.delta.cells.iloc[:0])
            self._kiosk_show(result)
            self.main.show_since(self.since, self.baselines.get((self.primary, result.race_key)))
            for screen in self.screen_stack:
                if isinstance(screen, ProvinceScreen):
                    screen.show(result, self._unit_changes(screen.unit))
                elif isinstance(screen, BubbleScreen):
                    screen.show(result)

    def on_state_arrived(self, message: StateArrived) -> None:
        self.deliver(message.state)

    @property
    def result(self) -> RaceResult | None:
        """The watched race's latest good result (of the first source)."""
        state = self.states.get(self.primary)
        return self._watched_of(state) if state and state.results else None

    def _watched_of(self, state: SourceState) -> RaceResult:
        """The watched race among a state's results; the first when it is not there (a
        filter changed, the feed dropped it), which becomes the watched one."""
        for result in state.results:
            if result.race_key == self.watched:
                return result
        first = state.results[0]
        self.watched = first.race_key
        return first

    def _pane_changes(self, result: RaceResult, changes: list[Change]) -> list[Change]:
        """The changes the pane lists: the watched race's, at the table's top level (a
        precinct's change is also its county's and its state's: one line, not three)."""
        key = result.race_key
        top = result.snapshot.top_level()
        if top.all():
            return [c for c in changes if c.race == key]
        below = set(result.snapshot.units.index[~top])
        return [c for c in changes if c.race == key and c.unit not in below]

    def _say_race(self, state: SourceState, result: RaceResult) -> None:
        """The status line names the race on screen when the source has several; the
        header marks test data."""
        race = result.snapshot.race
        self.main.query_one(ElectionHeader).set_test(bool(race and race.test))
        if len(state.results) < 2 or race is None:
            text = ""
        else:
            at = [r.race_key for r in state.results].index(result.race_key)
            text = f"race {at + 1} of {len(state.results)}: {race.name} (w: other races)"
        self.main.query_one(StatusBar).show_race(state.source.name, text)

    def races(self) -> list[tuple[str, str]]:
        """(key, name) of every race of the primary source, in the feed's order."""
        state = self.states.get(self.primary)
        if state is None:
            return []
        return [
            (r.race_key, r.snapshot.race.name if r.snapshot.race else "") for r in state.results
        ]

    def watch(self, race: str) -> None:
        """Show another race of the primary source (from ``w`` or the command palette)."""
        state = self.states.get(self.primary)
        if state is None or race not in {r.race_key for r in state.results}:
            return
        if race == self.watched:
            return
        self.watched = race
        polled = self._watched_of(state)
        result = self._as_shown(polled)
        with self.batch_update():
            while isinstance(self.screen, ProvinceScreen | BubbleScreen):
                self.pop_screen()
            self._say_race(state, polled)
            self.main.show_race(result, self.changelog.for_race(self.primary, race))
            self.main.show_since(self.since, self.baselines.get((self.primary, race)))

    def action_pick_race(self) -> None:
        from textual.command import CommandPalette

        from tui.commands import RaceCommands

        if len(self.races()) < 2:
            self.notify("This feed has one race", timeout=2)
            return
        self.push_screen(CommandPalette(providers=[RaceCommands], placeholder="Watch which race…"))

    def _unit_changes(self, unit: str) -> list[Change]:
        race = self.result.race_key if self.result else ""
        return self.changelog.for_unit(self.primary, race, unit)

    def on_results_table_unit_chosen(self, message: ResultsTable.UnitChosen) -> None:
        """Enter: down into a unit that has units below it, else that unit's screen."""
        result = self.result
        if result is not None and message.unit in hierarchy.branches(result.snapshot):
            self.main.drill(message.unit)
        else:
            self.open_unit(message.unit)

    def open_unit(self, unit: str) -> None:
        """Show one unit's screen (from the table or the command palette)."""
        result = self.result
        if result is None or unit not in result.snapshot.votes.index:
            return
        if isinstance(self.screen, ProvinceScreen):
            self.pop_screen()
        history = None
        if self.store is not None:
            from tui.widgets.unit_history import UnitHistory

            names = result.snapshot.parties["name"]
            history = UnitHistory(
                self.store,
                self.primary,
                result.race_key,
                unit,
                self.config.election.timezone,
                {str(p): str(n) for p, n in names.items()},
            )
        self.push_screen(
            ProvinceScreen(
                unit,
                result,
                self._unit_changes(unit),
                self.config.election.timezone,
                self.config.election.rules.method,
                self._header(),
                history=history,
            )
        )

    def _header(self) -> ElectionHeader:
        e = self.config.election
        return ElectionHeader(
            e.name, zone=e.timezone, simulated=e.simulated, now=self._now, badge=self.badge
        )

    def action_bubble(self) -> None:
        result = self.result
        if result is None:
            self.notify("No results yet", timeout=2)
            return
        if not isinstance(self.screen, BubbleScreen):
            self.push_screen(BubbleScreen(result, self._header()))

    def action_baseline(self) -> None:
        result = self.result
        if result is None:
            self.notify("No results yet", timeout=2)
            return
        key = (self.primary, result.race_key)
        committed = self._committed.get(key)
        stored_id = committed[1] if committed and committed[0] is result.snapshot else None
        self.set_baseline(result.snapshot, stored_id)
        if stored_id is None and self.store is not None:
            # Not committed yet (the write runs after the screen is updated): remembered by
            # its id once the poller says it is stored (``_note_stored``).
            self._pending_baseline[key] = result.snapshot

    def set_baseline(self, snapshot: Snapshot, snapshot_id: int | None) -> None:
        """Compare against ``snapshot`` from now on (and after a restart, when stored)."""
        key = (self.primary, snapshot.race.id if snapshot.race else "")
        self.baselines[key] = snapshot
        self._pending_baseline.pop(key, None)
        when = snapshot.published_at or snapshot.fetched_at
        label = f"#{snapshot_id}, " if snapshot_id is not None else ""
        self.notify(f"Baseline set: {label}{self._clock_text(when)}", timeout=3)
        if snapshot_id is not None:
            self._remember(lambda store: store.set_baseline(key[0], key[1], snapshot_id))
        self._reshow()

    def _note_stored(self, state: SourceState) -> None:
        """Which of the shown snapshots are committed, by id (no store call on the loop)."""
        for result in state.results:
            stored_id = state.stored.get(result.race_key)
            if stored_id is None:
                continue
            key = (state.source.name, result.race_key)
            self._committed[key] = (result.snapshot, stored_id)
            if self._pending_baseline.get(key) is result.snapshot:
                del self._pending_baseline[key]
                self._remember(lambda store, k=key, i=stored_id: store.set_baseline(*k, i))

    def _remember(self, write: Callable[[HistoryStore], None]) -> None:
        """A small write to the store, off the event loop, in the order asked (one at a time);
        a failure is said, not raised. ``write`` must carry its values, not read them later."""
        store = self.store
        if store is None or not getattr(self.poller, "remembers", True):
            return  # a replay shows the night; it does not write the desk's choices into it

        async def run() -> None:
            async with self._remembering:  # FIFO: the last choice made is the one kept
                try:
                    await asyncio.to_thread(write, store)
                except Exception as exc:
                    self.notify(f"Could not store it: {exc}", severity="warning")

        self.run_worker(run(), group="store", exclusive=False)

    def action_toggle_since(self) -> None:
        result = self.result
        if result is None:
            self.notify("No results yet", timeout=2)
            return
        if self.since == "poll" and (self.primary, result.race_key) not in self.baselines:
            self.notify("No baseline yet: press b to mark one, or t to pick one", timeout=3)
            return
        since = self.since = "baseline" if self.since == "poll" else "poll"
        self._remember(lambda store: store.set_view("since", since))
        self._reshow()

    def action_timeline(self) -> None:
        from tui.timeline_screen import TimelineScreen

        if self.store is None:
            self.notify("No history store: the timeline needs one", timeout=3)
            return
        if isinstance(self.screen, TimelineScreen):
            return
        result = self.result
        race = result.race_key if result else ""

        async def picked(snapshot_id: int | None) -> None:
            store = self.store
            if snapshot_id is None or store is None:
                return
            try:  # rebuilding a large snapshot takes ~0.1 s: not on the event loop
                snapshot = await asyncio.to_thread(store.snapshot, snapshot_id)
            except Exception as exc:
                self.notify(f"Could not read snapshot #{snapshot_id}: {exc}", severity="error")
                return
            self.set_baseline(snapshot, snapshot_id)

        self.push_screen(
            TimelineScreen(self.store, self.primary, race, self.config.election.timezone),
            picked,
        )

    def _clock_text(self, when: datetime) -> str:
        from tui.formatting import clock

        return clock(when, self.config.election.timezone, seconds=True)

    def action_refresh(self) -> None:
        self.poller.refresh()
        self.notify("Polling every source now", timeout=2)

    def _kiosk_screen(self) -> Screen[None]:
        from tui.kiosk_screen import KioskScreen

        return KioskScreen(self._header(), clock=self._kiosk_clock, interval=self._kiosk_interval)

    def _kiosk_show(self, result: RaceResult) -> None:
        """The big screen, when open, follows every result the monitor shows."""
        from tui.kiosk_screen import KioskScreen

        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.show(result)

    # -- alerts (nightdesk/alerts.py; the log screen is tui/alerts_screen.py)

    def _alerts_observe(self, state: SourceState) -> None:
        """Say what this state brings that the desk asked to be told about, each thing once:
        a notification, a line in the changes pane, a row of the alerts log, the bell if
        asked. Runs before any view update, so a frozen view still alerts (the book keeps its
        own reference: the first state seen, or the night restored from the store, only
        sets it)."""
        try:
            new = self.alert_book.observe(state)
        except Exception:  # a rule that trips on odd data must not stop the night
            import logging

            logging.getLogger(__name__).exception(
                "alert rules failed on a state of %s", state.source.name
            )
            return
        if self._alerts_timer is None and self.alert_book.rules.stale_after is not None:
            # A source that stops answering publishes nothing: look at the clock meanwhile.
            self._alerts_timer = self.set_interval(ALERT_TICK, self._alerts_tick)
        self._alerts_say(new)

    def _alerts_tick(self) -> None:
        self._alerts_say(self.alert_book.tick(self._now()))

    def _alerts_say(self, new: list[Alert]) -> None:
        if not new:
            return
        from tui.alerts_screen import AlertsScreen

        several = len(self.config.sources) > 1
        changes = [alert.change(with_source=several) for alert in new]
        self.changelog.add(changes)
        # After the poll's own lines (``deliver`` adds them next): the counts, then what
        # they mean.
        self.call_later(self._alerts_pane, changes)
        # One toast a poll, whatever it brings: toasts stacking up would hide the table on a
        # busy night; the pane and the log (``a``) have every alert.
        lines = [alert.message for alert in new[:MAX_TOASTS]]
        if len(new) > MAX_TOASTS:
            lines.append(f"+{len(new) - MAX_TOASTS} more (a: the alerts log)")
        sources = sorted({alert.source for alert in new})
        levels = [ALERT_SEVERITY.get(alert.rule, "warning") for alert in new]
        self.notify(
            "\n".join(lines),
            title=f"{'Alert' if len(new) == 1 else f'{len(new)} alerts'} · {', '.join(sources)}",
            severity="error" if "error" in levels else "warning",
            timeout=ALERT_TOAST_SECONDS,
            markup=False,  # names are feed data
        )
        if self.alert_book.rules.bell:
            self.alert_bells += 1  # once per batch: twenty units at 100% are not twenty bells
            self.bell()
        for screen in self.screen_stack:
            if isinstance(screen, AlertsScreen):
                screen.refresh_alerts()

    def _alerts_pane(self, changes: list[Change]) -> None:
        from tui.widgets.changes_pane import ChangesPane

        for pane in self.main.query(ChangesPane):
            pane.add(changes, {})

    def action_alerts(self) -> None:
        from tui.alerts_screen import AlertsScreen

        if isinstance(self.screen, AlertsScreen):
            return
        self.push_screen(
            AlertsScreen(self.alert_book, self.config.election.timezone, self._header())
        )

    # --- p: freeze the view --------------------------------------------------------------

    @property
    def freeze_waiting(self) -> int | None:
        """Polls with new results held back by ``p`` (``None``: the view is live)."""
        held = self._freeze_held
        return None if held is None else sum(1 for state in held if state.changed)

    def action_freeze(self) -> None:
        if self._freeze_held is not None:
            self._freeze_catch_up()
            return
        if not self.ready.is_set():  # the stored night is still being put back
            self.notify("Still loading the night", timeout=2)
            return
        self._freeze_held = []
        self._freeze_mark()

    def _freeze_hold(self, state: SourceState) -> bool:
        """While frozen, keep ``state`` for later and count it. Its status line still shows
        it: polls go on, and a desk must see a source failing even while it reads."""
        held = self._freeze_held
        if held is None:
            return False
        held.append(state)
        with self.batch_update():
            self.main.show_status(state)
            self._freeze_mark()
        return True

    def _freeze_catch_up(self) -> None:
        """Show every held state in the order it came, in one frame: the change log, the
        changes pane and the highlights are as if each poll had been shown."""
        held, self._freeze_held = self._freeze_held or [], None
        with self.batch_update(), self._freeze_replaying():
            for state in held:
                self.deliver(state)
            self._freeze_mark()

    @contextmanager
    def _freeze_replaying(self) -> Iterator[None]:
        """Alerts saw each held state when it arrived: the replay must not raise them again
        (the alert book compares with the last state it saw, which is the newest)."""
        self._alerts_observe = lambda state: None  # type: ignore[method-assign]
        try:
            yield
        finally:
            del self._alerts_observe  # the method again

    def _freeze_mark(self) -> None:
        """Every header on screen says whether the view is frozen, and what waits."""
        waiting = self.freeze_waiting
        for screen in self.screen_stack:
            for header in screen.query(ElectionHeader):
                header.set_frozen(waiting)

    # --- c: compare the sources (nightdesk/compare.py; the screen is tui/compare_screen.py)

    def _compare_counts(self) -> list[SourceCount] | None:
        """Each source's latest good result of the watched race (the first race of a source
        that has no race by that key), primary first; ``None`` before the primary has any."""
        from nightdesk.compare import count_of

        primary = self.result
        if primary is None:
            return None
        counts = [count_of(primary)]
        for source in self.config.sources[1:]:
            state = self.states.get(source.name)
            if state is None or not state.results:
                continue
            same = [r for r in state.results if r.race_key == primary.race_key]
            counts.append(count_of(same[0] if same else state.results[0]))
        return counts

    def _compare_refresh(self, state: SourceState) -> None:
        """A state arrived: the party pane's seats per source and an open compare screen
        catch up (nothing to do with one source)."""
        from nightdesk.compare import compare_sources, national_seats
        from tui.compare_screen import CompareScreen
        from tui.widgets.party_pane import PartyPane

        if len(self.config.sources) < 2 or not state.results:
            return
        counts = self._compare_counts()
        if counts is None:
            return
        seats = None
        if len(counts) > 1:  # the pane shows the primary's own seats already
            seats = national_seats(counts, self.config.aliases)
            seats.pop(self.primary, None)
        for pane in self.main.query(PartyPane):
            show = getattr(pane, "show_sources", None)  # tui/widgets/party_pane.py (LOOKS)
            if callable(show):
                show(seats)
        screens = [s for s in self.screen_stack if isinstance(s, CompareScreen)]
        if screens:
            found = compare_sources(counts, self.config.aliases)
            for screen in screens:
                screen.show(found)

    def action_compare(self) -> None:
        from nightdesk.compare import compare_sources
        from tui.compare_screen import CompareScreen

        if len(self.config.sources) < 2:
            self.notify(
                "One source only: add another [[sources]] (a parallel tally or a seat claim) "
                "to compare",
                timeout=4,
            )
            return
        if isinstance(self.screen, CompareScreen):
            return
        counts = self._compare_counts()
        if counts is None:
            self.notify(f"No results yet from {self.primary}", timeout=2)
            return
        if len(counts) < 2:
            self.notify("No results yet from the other sources", timeout=2)
            return
        found = compare_sources(counts, self.config.aliases)
        self.push_screen(CompareScreen(found, self._header()))

    def action_help(self) -> None:
        from tui.alerts_screen import AlertsScreen
        from tui.compare_screen import CompareScreen
        from tui.kiosk_screen import KioskScreen
        from tui.timeline_screen import TimelineList, TimelineScreen

        if isinstance(self.screen, HelpScreen):
            return
        sections = [
            ("Everywhere", [*self.BINDINGS, ("Ctrl+P", "Commands", "Open the command palette")]),
            ("Provinces table", [*ResultsTable.HELP, *MainScreen.BINDINGS]),
            ("Province screen", ProvinceScreen.BINDINGS),
            ("Bubble screen", BubbleScreen.BINDINGS),
            ("Timeline", [*TimelineScreen.BINDINGS, *TimelineList.BINDINGS]),
            ("Big screen (--kiosk)", KioskScreen.BINDINGS),
            ("Alerts log", AlertsScreen.BINDINGS),
            ("Compare screen", CompareScreen.BINDINGS),
            ("Help", HelpScreen.BINDINGS),
        ]
        self.push_screen(HelpScreen(help_markdown(sections)))


def run_monitor(
    config: Config,
    store: HistoryStore | None = None,
    *,
    kiosk: bool = False,
    kiosk_interval: float = 8.0,
) -> int:
    try:
        NightdeskApp(config, store=store, kiosk=kiosk, kiosk_interval=kiosk_interval).run()
    finally:
        if store is not None:
            store.close()
    return 0


def run_demo(
    *,
    port: int = 0,
    speed: float = 1.0,
    seed: int = 2013,
    kiosk: bool = False,
    kiosk_interval: float = 8.0,
) -> int:
    import tempfile
    from pathlib import Path

    from nightdesk.demo.server import DemoFeedServer
    from nightdesk.demo.settings import demo_config, demo_toml
    from nightdesk.store import HistoryStore

    # The demo's night is simulated: its history goes in a throwaway store.
    with (
        tempfile.TemporaryDirectory(prefix="nightdesk-demo-") as tmp,
        DemoFeedServer(port=port, speed=speed, seed=seed) as server,
    ):
        store = HistoryStore.open(Path(tmp) / "demo.sqlite")
        store.remember_settings(demo_toml(server.url), None)
        return run_monitor(
            demo_config(server.url), store, kiosk=kiosk, kiosk_interval=kiosk_interval
        )
