"""The Textual app: receives source states from the poller and hands them to the screens.

The poller's tasks do the I/O (and parse in a thread); they post a message; the app only
routes it. Nothing here blocks the event loop. Each feature keeps its state and logic in its
own small object, which the app owns and calls: alerts (tui/alert_desk.py), freeze
(tui/freeze.py), compare (tui/compare_feed.py), the big screen (tui/kiosk_feed.py), the
watched race (tui/race_watch.py), baselines and the timeline (tui/baselines.py), and the
stored night read back at start (tui/restore.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from textual.app import App
from textual.binding import Binding
from textual.message import Message

from nightdesk import hierarchy
from nightdesk.changelog import FOUND, Change, ChangeLog
from nightdesk.config import Config
from nightdesk.polling import Poller, SourceState
from nightdesk.results import RaceResult
from tui import hangup, launch, left_crop
from tui.alert_desk import AlertDesk
from tui.baselines import Baselines, Since
from tui.bubble_screen import BubbleScreen
from tui.commands import RaceCommands, UnitCommands
from tui.compare_feed import CompareFeed
from tui.freeze import Freeze
from tui.help_screen import HelpScreen, help_markdown
from tui.key_commands import KeyCommands
from tui.kiosk_feed import KioskFeed
from tui.main_screen import MainScreen
from tui.province_screen import ProvinceScreen
from tui.race_watch import RaceWatch
from tui.restore import load_night
from tui.widgets.election_header import ElectionHeader
from tui.widgets.results_table import ResultsTable

if TYPE_CHECKING:
    from nightdesk.store import HistoryStore

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
        self.kiosk_feed = KioskFeed(self, clock=monotonic, interval=kiosk_interval)
        left_crop.install()  # partial updates send only the changed cells (see tui/left_crop)
        self.config = config
        self.poller = poller or Poller(config, store=store)
        self.store = store if store is not None else self.poller.store
        #: ``b``/``t``/``d``: the snapshots compared against, and what the change columns count.
        self.baselines = Baselines(self)
        #: Set once the stored night is back on screen and polling has started (tests wait).
        self.ready = asyncio.Event()
        self._poll = poll
        self._now = now or (lambda: datetime.now(UTC))
        self.primary = config.sources[0].name
        #: ``w``: the race of the primary source on screen.
        self.race_watch = RaceWatch(self)
        if highlight_seconds is None:
            interval = config.sources[0].interval
            highlight_seconds = max(1.0, min(HIGHLIGHT_SECONDS, interval - 0.25))
        self.changelog = ChangeLog()
        #: ``a``: the night's alerts (``[alerts]``), fed each state in ``deliver``.
        self.alerts_desk = AlertDesk(self, clock=self._now)
        self.alert_book = self.alerts_desk.book
        self.states: dict[str, SourceState] = {}
        #: ``p``: the states held back while the view is frozen.
        self.freeze = Freeze(self)
        #: ``c``: the sources side by side.
        self.compare_feed = CompareFeed(self)
        self.main = MainScreen(
            config,
            now=self._now,
            monotonic=monotonic,
            highlight_seconds=highlight_seconds,
            badge=badge,
        )

    @property
    def alert_bells(self) -> int:
        """How many times the alert bell rang (tests read it)."""
        return self.alerts_desk.bells

    @property
    def freeze_waiting(self) -> int | None:
        """Polls with new results held back by ``p`` (``None``: the view is live)."""
        return self.freeze.waiting

    @property
    def since(self) -> Since:
        """What the change columns count from: the last poll or the baseline."""
        return self.baselines.since

    @property
    def watched(self) -> str | None:
        """The key of the primary source's race on screen."""
        return self.race_watch.key

    async def on_mount(self) -> None:
        await self.push_screen(self.main)
        if not self.is_headless:
            hangup.watch(self)  # a terminal gone without SIGHUP must not leave us spinning
        if self.kiosk:
            await self.push_screen(self.kiosk_feed.screen())
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
        store = self.store
        assert store is not None
        try:
            night = await asyncio.to_thread(load_night, self.poller, store)
        except Exception as exc:  # an unreadable store must not stop the night
            self.notify(f"Could not restore the stored night: {exc}", severity="error")
            return
        self.baselines.restore(night.baselines, night.since)
        for group in night.groups:
            self.changelog.add(group)
        for state in night.states.values():
            if state.results:
                self.deliver(state, restored=night.groups)
        result = self.result
        if result is not None:
            self.main.show_since(self.since, self.baselines.of(result.race_key))

    def deliver(self, state: SourceState, *, restored: list[list[Change]] | None = None) -> None:
        """Show a state (the poller's callback path; tests call it directly).

        ``restored``: the change log read back from the store, a list per stored snapshot,
        shown instead of the state's own delta (which the log already holds).
        """
        self.alerts_desk.observe(state)
        if self.freeze.hold(state):
            return  # the view (and what its keys read: ``self.states``) stays as it was
        before = self.states.get(state.source.name)
        self.states[state.source.name] = state
        notice = state.health.notice
        if notice and state.results and (before is None or before.health.notice != notice):
            self._log_notice(state, notice)
        if state.stored:
            self.baselines.note_stored(state)
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
                polled = self.race_watch.of(state)
                result = self.baselines.as_shown(polled)
                self.race_watch.say(state, polled)
                # Cells light up for what this poll changed, whatever the Change column counts.
                shown = self._pane_changes(polled, new_changes)
                self.main.show_result(result, shown, polled.delta.cells)
                self.kiosk_feed.show(result)
                for group in restored or ():
                    if group[0].source == state.source.name:
                        self.main.show_changes(result, self._pane_changes(polled, group))
                for screen in self.screen_stack:
                    if isinstance(screen, ProvinceScreen):
                        screen.show(result, self._unit_changes(screen.unit))
                    elif isinstance(screen, BubbleScreen):
                        screen.show(result)
            self.compare_feed.refresh(state)

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

    def reshow(self) -> None:
        """Show the watched result again (after the baseline or the view changed)."""
        state = self.states.get(self.primary)
        if state is None or not state.results:
            return
        with self.batch_update():
            polled = self.race_watch.of(state)
            result = self.baselines.as_shown(polled)
            # Nothing new arrived: nothing lights up.
            self.main.show_result(result, [], polled.delta.cells.iloc[:0])
            self.kiosk_feed.show(result)
            self.main.show_since(self.since, self.baselines.of(result.race_key))
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
        return self.race_watch.of(state) if state and state.results else None

    def _pane_changes(self, result: RaceResult, changes: list[Change]) -> list[Change]:
        """The changes the pane lists: the watched race's, at the table's top level (a
        precinct's change is also its county's and its state's: one line, not three)."""
        key = result.race_key
        top = result.snapshot.top_level()
        if top.all():
            return [c for c in changes if c.race == key]
        below = set(result.snapshot.units.index[~top])
        return [c for c in changes if c.race == key and c.unit not in below]

    def races(self) -> list[tuple[str, str]]:
        """(key, name) of every race of the primary source, in the feed's order."""
        return self.race_watch.races()

    def watch(self, race: str) -> None:
        """Show another race of the primary source (from ``w`` or the command palette)."""
        self.race_watch.watch(race)

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
                self.header(),
                history=history,
            )
        )

    def header(self) -> ElectionHeader:
        """A new header for a screen pushed on top of the monitor."""
        e = self.config.election
        return ElectionHeader(
            e.name, zone=e.timezone, simulated=e.simulated, now=self._now, badge=self.badge
        )

    # --- the keys: each feature's own object does the work ---------------------------------

    def action_refresh(self) -> None:
        self.poller.refresh()
        # What r does depends on who feeds the app (a viewer reads the store, a poller polls).
        self.notify(getattr(self.poller, "refresh_text", "Polling every source now"), timeout=2)

    def action_bubble(self) -> None:
        result = self.result
        if result is None:
            self.notify("No results yet", timeout=2)
            return
        if not isinstance(self.screen, BubbleScreen):
            self.push_screen(BubbleScreen(result, self.header()))

    def action_pick_race(self) -> None:
        self.race_watch.pick()

    def action_baseline(self) -> None:
        self.baselines.mark()

    def action_toggle_since(self) -> None:
        self.baselines.toggle_since()

    def action_timeline(self) -> None:
        self.baselines.pick()

    def action_alerts(self) -> None:
        self.alerts_desk.open()

    def action_freeze(self) -> None:
        self.freeze.toggle()

    def action_compare(self) -> None:
        self.compare_feed.open()

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
