"""Reading a table's cells as votes, counts, fractions and labels, whole columns at once.

A feed's cells arrive as text (CSV) or as JSON values; nothing is trusted or coerced until a
rule has checked a whole column. A bad cell is a :class:`FeedError` naming the source, the
data row (1-based), the column, the value and what was expected — never a silent zero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from nightdesk.errors import FeedError
from nightdesk.model import MAX_COUNT, MAX_SEATS

#: What a vote cell may hold, as the error messages say it.
VOTES_EXPECTED = "a whole number of votes ≥ 0, or empty for not reported"
#: What a reporting cell may hold.
REPORTING_EXPECTED = (
    "a fraction such as 0.45 or a percentage with a % sign such as 45%, or empty if not "
    "given (above 100% is kept and flagged)"
)

_SHOWN_LENGTH = 40
_REPORTING = r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*(%?)\s*$"


def shown(value: Any) -> str:
    """A cell value as an error message quotes it: its repr, at most 40 characters."""
    if isinstance(value, bool | np.bool_):
        return f"{str(bool(value)).lower()} (a JSON boolean)"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str) and len(value) > _SHOWN_LENGTH:
        return repr(value[:_SHOWN_LENGTH]) + "…"
    return repr(value)


@dataclass(frozen=True)
class TextTable:
    """A feed's rows before any value is trusted, and how to point a person at one.

    Attributes:
        frame: one row per data row (``RangeIndex``, 0 = the first), the feed's column
            names; a cell is text, missing, or (JSON only) another JSON value, which the
            readers reject.
        source: the configured source name, for errors.
        where: 0-based row position → where it sits in the body ("line 7", "$.rows[5]").
    """

    frame: pd.DataFrame
    source: str
    where: Callable[[int], str]
    #: For a :meth:`subset`: each row's position in the whole table (errors count those).
    origin: np.ndarray | None = None

    def error(self, reason: str, *, row: int | None = None, column: str | None = None) -> FeedError:
        """A FeedError about data row ``row`` (0-based position), with its place in the body."""
        if row is None:
            return FeedError(reason, source=self.source, column=column)
        at = row if self.origin is None else int(self.origin[row])
        return FeedError(reason, source=self.source, row=at + 1, column=column)

    def subset(self, rows: np.ndarray) -> TextTable:
        """The rows at these positions (one race's, say); errors still name the body's rows."""
        if len(rows) == len(self.frame) and bool((rows == np.arange(len(rows))).all()):
            return self
        where = self.where
        return TextTable(
            frame=self.frame.take(rows).reset_index(drop=True),
            source=self.source,
            where=lambda row: where(int(rows[row])),
            origin=rows if self.origin is None else self.origin[rows],
        )

    def cell_error(self, row: int, column: str, problem: str, expected: str) -> FeedError:
        """The error for one bad cell: what is wrong, where, and what was expected."""
        return self.error(
            f"{problem} ({self.where(row)}); expected {expected}", row=row, column=column
        )

    def raw(self, row: int, column: str) -> Any:
        """A cell as the feed gave it (for quoting in messages)."""
        return self.frame[column].iloc[row]


@dataclass(frozen=True)
class CellRule:
    """How to read one kind of cell over a whole column.

    ``convert`` takes stripped text (``string`` dtype, ``<NA>`` = missing) and returns the
    typed values and a mask of bad cells; ``problem`` says what is wrong with one bad
    stripped value (``None`` for a rule whose ``convert`` never finds one).
    """

    noun: str
    expected: str
    convert: Callable[[pd.Series], tuple[pd.Series, np.ndarray]]
    problem: Callable[[str], str] | None = None


def _given(text: pd.Series) -> np.ndarray:
    """Cells that hold something (not missing, not blank)."""
    return (text != "").to_numpy(dtype=bool, na_value=False)


def _whole_numbers(limit: int) -> Callable[[pd.Series], tuple[pd.Series, np.ndarray]]:
    """Reads whole numbers from 0 to ``limit``; anything else is bad (never coerced).

    The limits are the engine's (:data:`~nightdesk.model.MAX_COUNT`, ``MAX_SEATS``), which
    :meth:`Snapshot.build` enforces too; checked here, the error names the row and cell.
    """
    digits = rf"0*[0-9]{{1,{len(str(limit))}}}"  # few enough digits to fit in int64

    def convert(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
        given = _given(text)
        ok = given & text.str.fullmatch(digits).to_numpy(dtype=bool, na_value=False)
        values = text.where(pd.Series(ok, index=text.index)).astype("Int64")
        ok &= (values <= limit).to_numpy(dtype=bool, na_value=False)
        return values.where(pd.Series(ok, index=text.index)), given & ~ok

    return convert


def _whole_problem(too_large: str) -> Callable[[str], str]:
    """What is wrong with a bad whole-number cell; ``too_large`` ends the sentence for one
    that is all digits (so above the rule's limit)."""

    def problem(value: str) -> str:
        if re.fullmatch(r"[0-9]+", value):
            return f"{shown(value)} {too_large}"
        return _not_whole(value)

    return problem


def _not_whole(value: str) -> str:
    if re.fullmatch(r"-\s*[0-9.,]+", value):
        return f"{shown(value)} is negative"
    if re.fullmatch(r"[0-9]{1,3}(,[0-9]{3})+", value):
        return f"{shown(value)} has a thousands separator"
    if re.fullmatch(r"[0-9]*\.[0-9]+|[0-9]+\.", value):
        return f"{shown(value)} is not a whole number"
    return f"{shown(value)} is not a number"


def _fractions(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    given = _given(text)
    parts = text.str.extract(_REPORTING)
    number = pd.to_numeric(parts[0]).astype("Float64")
    percent = (parts[1] == "%").to_numpy(dtype=bool, na_value=False)
    values = number.where(~pd.Series(percent, index=text.index), number / 100)
    # Above 100% is a feed's inconsistency, kept for the checks to flag (nightdesk.checks);
    # a bare whole number above 1 ("45") is a percentage without its sign: ambiguous, refused.
    decimal = parts[0].str.contains(".", regex=False).to_numpy(dtype=bool, na_value=False)
    readable = (values >= 0).to_numpy(dtype=bool, na_value=False) & (
        (values <= 1).to_numpy(dtype=bool, na_value=False) | percent | decimal
    )
    return values.where(pd.Series(given & readable, index=text.index)), given & ~readable


def _fraction_problem(value: str) -> str:
    match = re.fullmatch(_REPORTING, value)
    if match is None:
        return f"{shown(value)} is neither a fraction nor a percentage"
    return f"{shown(value)} is more than 1 (a percentage needs a % sign)"


def _labels(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    return text.where(pd.Series(_given(text), index=text.index)), np.zeros(len(text), bool)


_TOO_MANY_VOTES = f"is larger than any real vote count (at most {MAX_COUNT:,})"

VOTES = CellRule(
    "a number", VOTES_EXPECTED, _whole_numbers(MAX_COUNT), _whole_problem(_TOO_MANY_VOTES)
)
REPORTING = CellRule("a number", REPORTING_EXPECTED, _fractions, _fraction_problem)
LABEL = CellRule("text", "text, or empty if not given", _labels)
SEATS = CellRule(
    "a number",
    f"a whole number of seats from 0 to {MAX_SEATS:,}, or empty if not given",
    _whole_numbers(MAX_SEATS),
    _whole_problem(f"is too many seats: no electoral unit has more than {MAX_SEATS:,} seats"),
)


def count_rule(role: str) -> CellRule:
    """The rule for a whole-number unit figure such as ``seats`` or ``registered``."""
    if role == "seats":
        return SEATS
    expected = f"a whole number ≥ 0 ({role}), or empty if not given"
    return CellRule(
        "a number", expected, _whole_numbers(MAX_COUNT), _whole_problem(_TOO_MANY_VOTES)
    )


def _checked_cells(table: TextTable, column: str, rule: CellRule) -> pd.Series:
    """A column whose cells are all text or missing; a JSON value that is not text is an error."""
    cells = table.frame[column]
    if infer_dtype(cells, skipna=True) in ("string", "empty"):
        return cells
    present = cells.notna().to_numpy()
    for pos in np.flatnonzero(present):  # only reached when some cell is not text
        value = cells.iloc[pos]
        if not isinstance(value, str):
            raise table.cell_error(
                int(pos), column, f"{shown(value)} is not {rule.noun}", rule.expected
            )
    return cells.astype(object).where(pd.Series(present, index=cells.index), None)


def read_cells(table: TextTable, column: str, rule: CellRule) -> tuple[pd.Series, np.ndarray]:
    """One column read by ``rule``: typed values and the mask of bad cells (not raised).

    Each distinct text is read once: figures repeated on every row of a long table, and
    ids, cost no more than their distinct values.
    """
    codes, distinct = pd.factorize(_checked_cells(table, column, rule), use_na_sentinel=True)
    text = pd.Series(np.asarray(distinct, dtype=object), dtype="string").str.strip()
    values, bad = rule.convert(text)
    taken = pd.Series(values.array.take(codes, allow_fill=True))
    if not len(bad):  # every cell missing
        return taken, np.zeros(len(codes), dtype=bool)
    return taken, bad[codes] & (codes >= 0)


def raise_bad(table: TextTable, column: str, rule: CellRule, row: int) -> NoReturn:
    """Raise the error for the bad cell at ``row`` of ``column``."""
    value = str(table.raw(row, column)).strip()
    problem = rule.problem(value) if rule.problem else f"{shown(value)} is not {rule.noun}"
    raise table.cell_error(row, column, problem, rule.expected)


def read_column(table: TextTable, column: str, rule: CellRule) -> pd.Series:
    """One column read by ``rule``; the first bad cell is raised as a FeedError."""
    values, bad = read_cells(table, column, rule)
    if bad.any():
        raise_bad(table, column, rule, int(bad.argmax()))
    return values


def read_columns(table: TextTable, columns: Sequence[str], rule: CellRule) -> list[pd.Series]:
    """Several columns read by one rule; the error, if any, is for the earliest row."""
    read = [read_cells(table, column, rule) for column in columns]
    first: tuple[int, int] | None = None
    for k, (_, bad) in enumerate(read):
        if bad.any():
            row = int(bad.argmax())
            if first is None or row < first[0]:
                first = (row, k)
    if first is not None:
        raise_bad(table, columns[first[1]], rule, first[0])
    return [values for values, _ in read]


def read_ids(
    table: TextTable,
    column: str,
    what: str,
    *,
    keep_spellings: bool = False,
    groups: np.ndarray | None = None,
) -> pd.Series:
    """Ids (unit or party) as stripped text; an empty id is an error, never a blank unit.

    ``keep_spellings``: ids that differ only in surrounding spaces ("Warnock " and
    "Warnock") stay apart, as the feed spelled them, so that no two spellings are merged
    unseen (the feed checks report them); an id spelled one way only is still stripped.
    ``groups`` (a code per row, such as its race): only spellings within one group count.
    """
    rule = CellRule("text", f"a {what} id", _labels)
    if keep_spellings:
        ids = _spelled_ids(table, column, rule, groups)
    else:
        ids, _ = read_cells(table, column, rule)
    missing = ids.isna().to_numpy()
    if missing.any():
        row = int(missing.argmax())
        raise table.cell_error(row, column, f"the {what} id is empty", f"a {what} id")
    return ids


def _spelled_ids(
    table: TextTable, column: str, rule: CellRule, groups: np.ndarray | None
) -> pd.Series:
    """Ids stripped unless stripping would make two of the feed's spellings one (within a
    group)."""
    codes, distinct = pd.factorize(_checked_cells(table, column, rule), use_na_sentinel=True)
    raw = pd.Series(np.asarray(distinct, dtype=object), dtype="string")
    stripped = raw.str.strip()
    bare = pd.factorize(stripped)[0]
    blank = (stripped == "").to_numpy(dtype=bool, na_value=True)
    stripped_values, _ = rule.convert(stripped)
    ids = pd.Series(stripped_values.array.take(codes, allow_fill=True))
    if groups is None:
        groups = np.zeros(len(codes), dtype=np.int64)
    spelt = pd.DataFrame({"group": groups, "raw": codes}).drop_duplicates()
    spelt = spelt[spelt["raw"] >= 0]
    spelt = spelt[~blank[spelt["raw"].to_numpy()]]
    spelt["bare"] = bare[spelt["raw"].to_numpy()]
    clash = spelt[spelt.duplicated(["group", "bare"], keep=False)]
    if clash.empty:
        return ids
    rows = pd.MultiIndex.from_arrays([groups, codes]).isin(
        pd.MultiIndex.from_frame(clash[["group", "raw"]])
    )
    kept = raw.array.take(codes[rows])
    return ids.where(~pd.Series(rows, index=ids.index), pd.Series(kept, index=ids.index[rows]))
