"""Several races in one table: which rows belong to which race, and which races to read.

``race = ["office", "district"]`` in ``[sources.columns]``: a row's race is its values in
those columns, joined with " / " (empty values left out): "U.S. House / 5", "U.S. Senate".
The joined text is the race's id and name. The source's ``races = [...]`` picks some
(by that text; case and spacing aside when nothing matches exactly); rows of the other
races are not read at all, so one race's bad row does not stop the others'.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapters.table_values import LABEL, TextTable, read_column
from nightdesk.model import Race

#: Joins a row's race values into the race's id and name.
RACE_JOIN = " / "
_LISTED = 20


@dataclass(frozen=True)
class RaceSplit:
    """The races read, the table rows they own (sorted), and each such row's race."""

    races: list[Race | None]
    rows: np.ndarray
    codes: np.ndarray


def combine_codes(*codes: np.ndarray) -> np.ndarray:
    """One code per distinct combination of the given codes (each ``>= -1``), numbered in
    order of first appearance."""
    key = np.asarray(codes[0], dtype=np.int64)
    for more in codes[1:]:
        more = np.asarray(more, dtype=np.int64)
        key = pd.factorize(key * (int(more.max(initial=0)) + 2) + (more + 1))[0]
    return pd.factorize(key)[0].astype(np.int64)


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def split_races(
    table: TextTable, columns: tuple[str, ...], wanted: Sequence[str] | None
) -> RaceSplit:
    """Each row's race from ``columns``; only the ``wanted`` races (all when ``None``).

    Raises:
        FeedError: a row whose race columns are all empty; two races whose joined names
            are the same text; a wanted race the table does not have (close ones named).
    """
    n = len(table.frame)
    if not columns:
        return RaceSplit([None], np.arange(n), np.zeros(n, dtype=np.int64))
    values = [read_column(table, column, LABEL) for column in columns]
    codes = combine_codes(*(pd.factorize(v, use_na_sentinel=True)[0] for v in values))
    firsts = np.flatnonzero(codes > np.maximum.accumulate(np.r_[-1, codes[:-1]]))
    parts = [v.to_numpy(dtype=object, na_value="")[firsts] for v in values]
    names = [RACE_JOIN.join(p for p in row if p) for row in zip(*parts, strict=True)]
    for k, name in enumerate(names):
        if not name:
            row = int(firsts[k])
            raise table.cell_error(
                row,
                columns[0],
                f"the race is empty ({_listed(columns)} all empty)",
                "the race's name in " + _listed(columns),
            )
    seen: dict[str, int] = {}
    for k, name in enumerate(names):
        if name in seen:
            a, b = int(firsts[seen[name]]), int(firsts[k])
            raise table.error(
                f"two races read as {name!r}: {table.where(a)} and {table.where(b)} split it "
                f"differently across {_listed(columns)}",
                row=b,
            )
        seen[name] = k
    chosen = list(range(len(names))) if wanted is None else _chosen(table, names, wanted)
    position = np.full(len(names), -1, dtype=np.int64)
    position[chosen] = np.arange(len(chosen))
    row_race = position[codes]
    rows = np.flatnonzero(row_race >= 0)
    return RaceSplit(
        [Race(names[k], names[k]) for k in chosen], rows, row_race[rows].astype(np.int64)
    )


def _listed(columns: Sequence[str]) -> str:
    shown = [repr(c) for c in columns]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _chosen(table: TextTable, names: list[str], wanted: Sequence[str]) -> list[int]:
    """The races named in ``races``, in that order."""
    exact = {name: k for k, name in enumerate(names)}
    folded: dict[str, list[int]] = {}
    for k, name in enumerate(names):
        folded.setdefault(_folded(name), []).append(k)
    chosen: list[int] = []
    unknown: list[str] = []
    for want in wanted:
        if want in exact:
            chosen.append(exact[want])
            continue
        like = folded.get(_folded(want), [])
        if len(like) == 1:
            chosen.append(like[0])
        elif like:
            spellings = ", ".join(repr(names[k]) for k in like)
            raise table.error(f"race {want!r} matches several races ({spellings}); name one")
        else:
            unknown.append(want)
    if unknown:
        raise table.error(_unknown_message(unknown, names))
    return list(dict.fromkeys(chosen))


def _unknown_message(unknown: list[str], names: list[str]) -> str:
    said = []
    for want in unknown:
        close = difflib.get_close_matches(want, names, n=3, cutoff=0.6)
        if not close:
            by_case = {_folded(n): n for n in names}
            close = [
                by_case[c]
                for c in difflib.get_close_matches(_folded(want), list(by_case), n=3, cutoff=0.6)
            ]
        hint = f" (close: {', '.join(map(repr, close))})" if close else ""
        said.append(f"{want!r}{hint}")
    listed = ", ".join(map(repr, names[:_LISTED]))
    more = f" … and {len(names) - _LISTED} more" if len(names) > _LISTED else ""
    noun = "race" if len(unknown) == 1 else "races"
    return f"{noun} {'; '.join(said)} not in the feed; its {len(names)} races are: {listed}{more}"
