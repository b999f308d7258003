"""``w``: which race of the primary source is on screen. A feed may carry several races (or
contests); the first is watched until the desk picks another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nightdesk.polling import SourceState
from nightdesk.results import RaceResult
from tui.bubble_screen import BubbleScreen
from tui.province_screen import ProvinceScreen
from tui.widgets.election_header import ElectionHeader
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.app import NightdeskApp


class RaceWatch:
    """The watched race (its key) and the switch to another."""

    def __init__(self, app: NightdeskApp) -> None:
        self.app = app
        #: The race of the primary source on screen; ``None`` until its first results.
        self.key: str | None = None

    def of(self, state: SourceState) -> RaceResult:
        """The watched race among a state's results; the first when it is not there (a
        filter changed, the feed dropped it), which becomes the watched one."""
        for result in state.results:
            if result.race_key == self.key:
                return result
        first = state.results[0]
        self.key = first.race_key
        return first

    def races(self) -> list[tuple[str, str]]:
        """(key, name) of every race of the primary source, in the feed's order."""
        state = self.app.states.get(self.app.primary)
        if state is None:
            return []
        return [
            (r.race_key, r.snapshot.race.name if r.snapshot.race else "") for r in state.results
        ]

    def say(self, state: SourceState, result: RaceResult) -> None:
        """The status line names the race on screen when the source has several; the
        header marks test data."""
        main = self.app.main
        race = result.snapshot.race
        main.query_one(ElectionHeader).set_test(bool(race and race.test))
        if len(state.results) < 2 or race is None:
            text = ""
        else:
            at = [r.race_key for r in state.results].index(result.race_key)
            text = f"race {at + 1} of {len(state.results)}: {race.name} (w: other races)"
        main.query_one(StatusBar).show_race(state.source.name, text)

    def watch(self, race: str) -> None:
        """Show another race of the primary source (from ``w`` or the command palette)."""
        app = self.app
        state = app.states.get(app.primary)
        if state is None or race not in {r.race_key for r in state.results}:
            return
        if race == self.key:
            return
        self.key = race
        polled = self.of(state)
        result = app.baselines.as_shown(polled)
        with app.batch_update():
            while isinstance(app.screen, ProvinceScreen | BubbleScreen):
                app.pop_screen()
            self.say(state, polled)
            app.main.show_race(result, app.changelog.for_race(app.primary, race))
            app.main.show_since(app.baselines.since, app.baselines.of(race))

    def pick(self) -> None:
        """``w``: the command palette, listing the races."""
        from textual.command import CommandPalette

        from tui.commands import RaceCommands

        if len(self.races()) < 2:
            self.app.notify("This feed has one race", timeout=2)
            return
        self.app.push_screen(
            CommandPalette(providers=[RaceCommands], placeholder="Watch which race…")
        )
