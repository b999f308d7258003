"""The Textual app: receives source states from the poller and hands them to the screens.

The poller's tasks do the I/O (and parse in a thread); they post a message; the app only
routes it. Nothing here blocks the event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from textual.app import App
from textual.binding import Binding
from textual.message import Message

from nightdesk.changelog import Change, ChangeLog
from nightdesk.config import Config
from nightdesk.polling import Poller, SourceState
from nightdesk.results import RaceResult
from tui import launch, left_crop
from tui.bubble_screen import BubbleScreen
from tui.commands import UnitCommands
from tui.help_screen import HelpScreen, help_markdown
from tui.main_screen import MainScreen
from tui.province_screen import ProvinceScreen
from tui.widgets.election_header import ElectionHeader
from tui.widgets.results_table import ResultsTable

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
    COMMANDS = App.COMMANDS | {UnitCommands}
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
    ]

    def __init__(
        self,
        config: Config,
        *,
        poller: Poller | None = None,
        poll: bool = True,
        now: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        highlight_seconds: float | None = None,
    ) -> None:
        super().__init__()
        left_crop.install()  # partial updates send only the changed cells (see tui/left_crop)
        self.config = config
        self.poller = poller or Poller(config)
        self._poll = poll
        self._now = now or (lambda: datetime.now(UTC))
        self.primary = config.sources[0].name
        if highlight_seconds is None:
            interval = config.sources[0].interval
            highlight_seconds = max(1.0, min(HIGHLIGHT_SECONDS, interval - 0.25))
        self.changelog = ChangeLog()
        self.states: dict[str, SourceState] = {}
        self.main = MainScreen(
            config, now=self._now, monotonic=monotonic, highlight_seconds=highlight_seconds
        )

    async def on_mount(self) -> None:
        await self.push_screen(self.main)
        self.poller.subscribe(lambda state: self.post_message(StateArrived(state)))

        async def after_first_frame() -> None:
            launch.resume()  # the collector, paused by the CLI for the launch
            # The first poll after the first frame: its HTTP client (TLS setup), fetch and
            # parse would otherwise hold the first frame back by ~0.1-0.2 s.
            if self._poll and self.is_running:  # not once the app began shutting down
                await self.poller.start()

        self.call_after_refresh(after_first_frame)

    async def on_unmount(self) -> None:
        await self.poller.stop()

    def deliver(self, state: SourceState) -> None:
        """Show a state (the poller's callback path; tests call it directly)."""
        self.states[state.source.name] = state
        new_changes: list[Change] = []
        if state.changed:
            for result in state.results:
                new_changes += self.changelog.record(
                    state.source.name, result.delta, state.health.last_success or self._now()
                )
        with self.batch_update():  # one frame a poll, whatever it touches
            self.main.show_status(state)
            if state.changed and state.source.name == self.primary and state.results:
                result = state.results[0]
                self.main.show_result(result, new_changes)
                for screen in self.screen_stack:
                    if isinstance(screen, ProvinceScreen):
                        screen.show(result, self._unit_changes(screen.unit))
                    elif isinstance(screen, BubbleScreen):
                        screen.show(result)

    def on_state_arrived(self, message: StateArrived) -> None:
        self.deliver(message.state)

    @property
    def result(self) -> RaceResult | None:
        """The watched race's latest good result (the first source's first race)."""
        state = self.states.get(self.primary)
        return state.results[0] if state and state.results else None

    def _unit_changes(self, unit: str) -> list[Change]:
        race = self.result.race_key if self.result else ""
        return self.changelog.for_unit(self.primary, race, unit)

    def on_results_table_unit_chosen(self, message: ResultsTable.UnitChosen) -> None:
        self.open_unit(message.unit)

    def open_unit(self, unit: str) -> None:
        """Show one unit's screen (from the table or the command palette)."""
        result = self.result
        if result is None or unit not in result.snapshot.votes.index:
            return
        if isinstance(self.screen, ProvinceScreen):
            self.pop_screen()
        self.push_screen(
            ProvinceScreen(
                unit,
                result,
                self._unit_changes(unit),
                self.config.election.timezone,
                self.config.election.rules.method,
                self._header(),
            )
        )

    def _header(self) -> ElectionHeader:
        e = self.config.election
        return ElectionHeader(e.name, zone=e.timezone, simulated=e.simulated, now=self._now)

    def action_bubble(self) -> None:
        result = self.result
        if result is None:
            self.notify("No results yet", timeout=2)
            return
        if not isinstance(self.screen, BubbleScreen):
            self.push_screen(BubbleScreen(result, self._header()))

    def action_refresh(self) -> None:
        self.poller.refresh()
        self.notify("Polling every source now", timeout=2)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        sections = [
            ("Everywhere", [*self.BINDINGS, ("Ctrl+P", "Commands", "Open the command palette")]),
            ("Provinces table", ResultsTable.HELP),
            ("Province screen", ProvinceScreen.BINDINGS),
            ("Bubble screen", BubbleScreen.BINDINGS),
            ("Help", HelpScreen.BINDINGS),
        ]
        self.push_screen(HelpScreen(help_markdown(sections)))


def run_monitor(config: Config) -> int:
    NightdeskApp(config).run()
    return 0


def run_demo(*, port: int = 0, speed: float = 1.0, seed: int = 2013) -> int:
    from nightdesk.demo.server import DemoFeedServer
    from nightdesk.demo.settings import demo_config

    with DemoFeedServer(port=port, speed=speed, seed=seed) as server:
        NightdeskApp(demo_config(server.url)).run()
    return 0
