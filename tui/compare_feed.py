"""``c``: every source side by side. Feeds the compare screen (tui/compare_screen.py) and the
party pane's seats per source from the latest state of each source (nightdesk/compare.py does
the matching and the differences).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nightdesk.polling import SourceState

if TYPE_CHECKING:
    from nightdesk.compare import SourceCount
    from tui.app import NightdeskApp


class CompareFeed:
    """What the sources say of the watched race, kept up to date on screen (nothing to do with
    one source)."""

    def __init__(self, app: NightdeskApp) -> None:
        self.app = app

    def counts(self) -> list[SourceCount] | None:
        """Each source's latest good result of the watched race (the first race of a source
        that has no race by that key), primary first; ``None`` before the primary has any."""
        from nightdesk.compare import count_of

        app = self.app
        primary = app.result
        if primary is None:
            return None
        counts = [count_of(primary)]
        for source in app.config.sources[1:]:
            state = app.states.get(source.name)
            if state is None or not state.results:
                continue
            same = [r for r in state.results if r.race_key == primary.race_key]
            counts.append(count_of(same[0] if same else state.results[0]))
        return counts

    def refresh(self, state: SourceState) -> None:
        """A state arrived: the party pane's seats per source and an open compare screen
        catch up."""
        from nightdesk.compare import compare_sources, national_seats
        from tui.compare_screen import CompareScreen
        from tui.widgets.party_pane import PartyPane

        app = self.app
        if len(app.config.sources) < 2 or not state.results:
            return
        counts = self.counts()
        if counts is None:
            return
        seats = None
        if len(counts) > 1:  # the pane shows the primary's own seats already
            seats = national_seats(counts, app.config.aliases)
            seats.pop(app.primary, None)
        for pane in app.main.query(PartyPane):
            show = getattr(pane, "show_sources", None)  # tui/widgets/party_pane.py (LOOKS)
            if callable(show):
                show(seats)
        screens = [s for s in app.screen_stack if isinstance(s, CompareScreen)]
        if screens:
            found = compare_sources(counts, app.config.aliases)
            for screen in screens:
                screen.show(found)

    def open(self) -> None:
        """``c``: the compare screen, or why it cannot open yet."""
        from nightdesk.compare import compare_sources
        from tui.compare_screen import CompareScreen

        app = self.app
        if len(app.config.sources) < 2:
            app.notify(
                "One source only: add another [[sources]] (a parallel tally or a seat claim) "
                "to compare",
                timeout=4,
            )
            return
        if isinstance(app.screen, CompareScreen):
            return
        counts = self.counts()
        if counts is None:
            app.notify(f"No results yet from {app.primary}", timeout=2)
            return
        if len(counts) < 2:
            app.notify("No results yet from the other sources", timeout=2)
            return
        found = compare_sources(counts, app.config.aliases)
        app.push_screen(CompareScreen(found, app.header()))
