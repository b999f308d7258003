"""A table for the fast path: column names, a row count, and columns read whole.

A column offers three readers — whole numbers, fractions, labels — each of which returns
typed arrays or raises :class:`~adapters.spans.Decline`. The fast path never raises a
FeedError of its own: anything it cannot vouch for is declined and read again the careful
way, so every message stays the careful reader's.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from adapters.spans import Decline, spans_of_strings
from nightdesk.formats import OPTIONAL_COLUMNS, ColumnMap


class Column(Protocol):
    """One column's cells, read whole."""

    def whole(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """int64 values from 0 to ``limit`` and the not-given mask."""
        ...

    def fraction(self) -> tuple[np.ndarray, np.ndarray]:
        """float64 fractions from 0 to 1 and the not-given mask."""
        ...

    def labels(self, keep_spellings: bool = False) -> tuple[np.ndarray, list[str]]:
        """Codes (``-1`` = not given) into stripped labels listed first seen first.

        ``keep_spellings``: decline where stripping would make two texts one (the careful
        reader keeps such spellings apart: :func:`adapters.table_values.read_ids`)."""
        ...


@dataclass(frozen=True)
class FastTable:
    """Column names (stripped, distinct) and a way to read any of them."""

    names: list[str]
    rows: int
    column: Callable[[str], Column]


def check_mapping(names: list[str], columns: ColumnMap) -> None:
    """Decline any mapping the careful path would refuse (it says why)."""
    if set(columns.optional) - set(OPTIONAL_COLUMNS):
        raise Decline
    if columns.race or columns.parent_path or columns.vote_types:
        raise Decline  # several races, unit paths, vote types: adapters.race_tables
    if columns.is_wide == bool(columns.party or columns.votes):
        raise Decline
    if not columns.is_wide and not (columns.party and columns.votes):
        raise Decline
    present = set(names)
    wanted = list(columns.mapped().values())
    if isinstance(columns.parties, tuple):
        wanted += list(columns.parties)
    if not present.issuperset(wanted):
        raise Decline


def frame_table(frame: pd.DataFrame) -> FastTable:
    """A FastTable over the careful reader's frame of text cells (a quoted CSV, say)."""
    names = [str(name) for name in frame.columns]
    if len(set(names)) != len(names):
        raise Decline

    def column(name: str) -> Column:
        cells = frame[name].to_numpy(dtype=object, na_value="")
        if set(map(type, cells)) != {str}:
            raise Decline
        return spans_of_strings(cells.tolist())

    return FastTable(names=names, rows=len(frame), column=column)


_pause_lock = threading.Lock()
_pausers = 0
_paused_by_us = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a body's many small objects are made.

    Building a few hundred thousand dicts or strings triggers collection after collection
    of a heap that holds no cycles; pausing roughly halves the time. Threads may nest; the
    collector runs again when the last one leaves, unless something else had stopped it.
    """
    global _pausers, _paused_by_us
    with _pause_lock:
        if _pausers == 0:
            _paused_by_us = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pausers -= 1
            if _pausers == 0 and _paused_by_us:
                gc.enable()
