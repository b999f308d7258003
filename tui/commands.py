"""Command palette entries: jump to any unit's screen by typing part of its name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

if TYPE_CHECKING:
    from tui.app import NightdeskApp


class UnitCommands(Provider):
    """``Open <unit>`` for every unit of the watched race."""

    def _units(self) -> list[tuple[str, str]]:
        app: NightdeskApp = self.app  # type: ignore[assignment]
        result = app.result
        if result is None:
            return []
        names = result.snapshot.units["name"].astype(str)
        return [(str(unit), str(name)) for unit, name in names.items()]

    def _open(self, unit: str):  # type: ignore[no-untyped-def]
        app: NightdeskApp = self.app  # type: ignore[assignment]
        return lambda: app.open_unit(unit)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for unit, name in self._units():
            text = f"Open {name}"
            score, offsets = matcher.fuzzy_search.match(query, text)
            if score > 0:
                # Names are data: build the display as plain content, never from markup.
                display = Content(text)
                for offset in offsets:
                    display = display.stylize("reverse", offset, offset + 1)
                yield Hit(
                    score,
                    display,
                    self._open(unit),
                    text=text,
                    help="Parties, seats, last-seat margin and changes of this unit",
                )

    async def discover(self) -> Hits:
        for unit, name in self._units():
            yield DiscoveryHit(Content(f"Open {name}"), self._open(unit), text=f"Open {name}")


class RaceCommands(Provider):
    """``Watch <race>`` for every race of the first source (AP races, Clarity contests)."""

    def _watch(self, race: str):  # type: ignore[no-untyped-def]
        app: NightdeskApp = self.app  # type: ignore[assignment]
        return lambda: app.watch(race)

    def _races(self) -> list[tuple[str, str]]:
        app: NightdeskApp = self.app  # type: ignore[assignment]
        races = app.races()
        return races if len(races) > 1 else []

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for race, name in self._races():
            text = f"Watch {name or race}"
            score, offsets = matcher.fuzzy_search.match(query, text)
            if score > 0:
                display = Content(text)  # race names are data: never markup
                for offset in offsets:
                    display = display.stylize("reverse", offset, offset + 1)
                yield Hit(score, display, self._watch(race), text=text, help=f"Race {race}")

    async def discover(self) -> Hits:
        for race, name in self._races():
            text = f"Watch {name or race}"
            yield DiscoveryHit(Content(text), self._watch(race), text=text, help=f"Race {race}")
