"""The night read back from the store at start: each source's latest results, the change log,
the baselines and the view, so a restart shows the night as it was. Read in a thread by the
app (rebuilding a large night takes a moment); nothing here touches the screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nightdesk.changelog import Change
from nightdesk.model import Snapshot
from nightdesk.polling import Poller, SourceState

if TYPE_CHECKING:
    from nightdesk.store import HistoryStore


@dataclass(frozen=True)
class StoredNight:
    """What the store kept of the night."""

    states: dict[str, SourceState]
    #: The change log, a list per stored snapshot, oldest first.
    groups: list[list[Change]]
    baselines: dict[tuple[str, str], Snapshot]
    #: The change columns' view (``"poll"``/``"baseline"``), when one was set.
    since: str | None


def load_night(poller: Poller, store: HistoryStore) -> StoredNight:
    """Read the stored night (blocking: call it in a thread)."""
    from nightdesk.changelog import finding_changes
    from nightdesk.history import baseline_snapshot, stored_changes

    states = poller.restore()
    groups: list[list[Change]] = []
    baselines: dict[tuple[str, str], Snapshot] = {}
    for name, state in states.items():
        for result in state.results:
            groups += stored_changes(store, name, result.race_key)
            # The checks are not stored: what fails now is said again, as of the latest
            # snapshot (when each finding first appeared is not kept).
            found = finding_changes(
                name, result.race_key, None, result.findings, result.snapshot.fetched_at
            )
            if found:
                groups.append(found)
            base = baseline_snapshot(store, name, result.race_key)
            if base is not None:
                baselines[(name, result.race_key)] = base
    groups.sort(key=lambda group: group[0].at)  # stable: a source's order is kept
    return StoredNight(states, groups, baselines, store.view("since"))
