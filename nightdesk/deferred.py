"""Snapshots whose tables are built when first read.

A feed such as AP's or a state's Clarity file carries hundreds of races in one body, and a
desk watches one of them. Building three pandas tables per race costs milliseconds each
(seconds per poll); a :class:`DeferredSnapshot` keeps what the adapter read and checked
(plain lists and NumPy arrays) and builds its tables through :meth:`Snapshot.build` the
first time anything reads them. Races nobody looks at, whose counts did not change, never
pay for pandas.

The adapter's promise: everything :meth:`Snapshot.build` would refuse was refused while
reading (so building later cannot fail on the feed's data), and ``content`` is a value,
compared with ``==``, that is equal for two reads of the same counts (the ids, names,
figures, votes and calls the tables are made of). Equal contents let
:meth:`Snapshot.same_counts` answer without building either side; unequal ones fall back
to comparing the tables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from nightdesk.model import Race, Snapshot

__all__ = ["DeferredSnapshot", "Tables"]

#: What :meth:`Snapshot.build` takes besides the metadata: votes, units, parties,
#: vote_types (the keyword arguments, by name).
Tables = Mapping[str, Any]
#: The caches :meth:`Snapshot.build` fills, taken over from the built snapshot.
_CACHES = ("_vote_arrays", "_figure_arrays")


class DeferredSnapshot(Snapshot):
    """A :class:`Snapshot` built on first read of its tables (see the module docstring).

    Everything else behaves as on a built snapshot: the tables are the ones
    :meth:`Snapshot.build` makes from ``make()``, once.
    """

    def __init__(
        self,
        *,
        source: str,
        fetched_at: datetime,
        published_at: datetime | None,
        race: Race | None,
        make: Callable[[], Tables],
        content: object = None,
        tree_complete: bool | None = None,
    ) -> None:
        put = self.__dict__.__setitem__  # frozen dataclass: no attribute assignment
        put("source", source)
        put("fetched_at", fetched_at)
        put("published_at", published_at)
        put("race", race)
        put("_make", make)
        put("_content", content)
        put("_tree_complete", tree_complete)

    @classmethod
    def many(
        cls,
        *,
        source: str,
        fetched_at: datetime,
        published_at: datetime | None,
        tree_complete: bool | None,
        races: Iterable[tuple[Race | None, Callable[[], Tables], object]],
    ) -> list[DeferredSnapshot]:
        """One snapshot per ``(race, make, content)``, the rest shared: what ``__init__``
        makes, for the hundreds of races of one body at a fraction of the calls."""
        new = object.__new__
        out: list[DeferredSnapshot] = []
        append = out.append
        for race, make, content in races:
            snapshot = new(cls)
            snapshot.__dict__.update(
                source=source,
                fetched_at=fetched_at,
                published_at=published_at,
                race=race,
                _make=make,
                _content=content,
                _tree_complete=tree_complete,
            )
            append(snapshot)
        return out

    def _built(self) -> Snapshot:
        built: Snapshot | None = self.__dict__.get("_built_snapshot")
        if built is None:
            built = Snapshot.build(
                source=self.source,
                fetched_at=self.fetched_at,
                published_at=self.published_at,
                race=self.race,
                **self._make(),
            )
            for name in _CACHES:
                if name in built.__dict__ and name not in self.__dict__:
                    self.__dict__[name] = built.__dict__[name]
            self.__dict__["_built_snapshot"] = built
            self.__dict__.pop("_make")  # what it held is in the tables now
        return built

    @property
    def built(self) -> bool:
        """Whether the tables exist yet (for tests and benchmarks)."""
        return "_built_snapshot" in self.__dict__

    @property  # type: ignore[override]
    def votes(self) -> pd.DataFrame:
        return self._built().votes

    @property  # type: ignore[override]
    def units(self) -> pd.DataFrame:
        return self._built().units

    @property  # type: ignore[override]
    def parties(self) -> pd.DataFrame:
        return self._built().parties

    @property  # type: ignore[override]
    def vote_types(self) -> Mapping[str, pd.DataFrame] | None:
        return self._built().vote_types

    def tree_complete(self) -> bool | None:
        return self._tree_complete  # type: ignore[no-any-return]

    def counts_token(self) -> object:
        return self._content
