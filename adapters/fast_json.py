"""JSON bytes → a :class:`FastTable` over the row objects, columns taken whole.

For documents :mod:`adapters.json_template` declines (rows with keys missing or in another
order, nested values beside the mapped ones): the standard library reads the document with
its own number parsing, and whole columns are taken from the row objects. Unlike the careful
reader this turns numbers into ints and floats rather than keeping their literal text, so
whatever that could change is declined: a float where text or a count belongs, a ``-0``
anywhere a number may stand, and an exponent (``5e-1``) in a document whose fractions
arrive as floats. A malformed document, a missing records path, a row that is not an
object or a key that needs stripping are declined too; the careful reader says why.
"""

from __future__ import annotations

import codecs
import json
from functools import cached_property
from itertools import chain, repeat
from operator import itemgetter
from typing import Any

import numpy as np

from adapters.fast_table import FastTable, gc_paused
from adapters.spans import Decline, Spans, spans_of_strings
from nightdesk.errors import FeedError
from nightdesk.formats import ColumnMap

_BOM = codecs.BOM_UTF8
_NONE = type(None)
_WHITESPACE_OR_OPENING = np.zeros(256, dtype=bool)
_WHITESPACE_OR_OPENING[list(b" \t\r\n:,[")] = True


def _refuse(constant: str) -> None:
    """NaN and Infinity are no JSON; the careful reader names them as the bad cells."""
    raise ValueError(constant)


class _Document:
    """The body's bytes, for the checks that need the literal text of its numbers."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    @cached_property
    def buf(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.uint8)

    @cached_property
    def has_negative_zero(self) -> bool:
        """A number written ``-0…`` (``-0`` reads as 0, and a count must not be negative)."""
        if b"-0" not in self.data:
            return False
        buf = self.buf
        at = np.flatnonzero((buf[:-1] == ord("-")) & (buf[1:] == ord("0")))
        return bool((at == 0).any() or _WHITESPACE_OR_OPENING[buf[at[at > 0] - 1]].any())

    @cached_property
    def has_exponent(self) -> bool:
        """A number written with an exponent (anything that looks like one counts)."""
        buf = self.buf
        e = (buf[1:] | 0x20) == ord("e")
        digit_before = (buf[:-1] >= ord("0")) & (buf[:-1] <= ord("9"))
        return bool((e & digit_before).any())


class JsonColumn:
    """One key's values across the rows, as the parser gave them (``None`` if absent)."""

    def __init__(self, values: list[Any], document: _Document) -> None:
        self.values = values
        self.document = document
        self.types = set(map(type, values))

    def _missing(self) -> tuple[np.ndarray, np.ndarray]:
        cells = np.array(self.values, dtype=object)
        if cells.ndim != 1:
            raise Decline
        return cells, np.equal(cells, None)

    def _spans(self) -> Spans:
        cells, missing = self._missing()
        if not missing.any():
            return spans_of_strings(self.values)
        cells[missing] = ""
        spans = spans_of_strings(cells.tolist())
        return Spans(spans.buf, spans.start, spans.end, missing)

    def _numbers(self, dtype: type) -> tuple[np.ndarray, np.ndarray]:
        cells, missing = self._missing()
        try:
            values = np.where(missing, 0, cells).astype(dtype)
        except (OverflowError, TypeError, ValueError):
            raise Decline from None
        if (np.signbit(values) & ~missing).any():
            raise Decline
        return values, missing

    def whole(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        if self.types <= {str, _NONE}:
            return self._spans().whole(limit)
        if not self.types <= {int, _NONE} or self.document.has_negative_zero:
            raise Decline
        values, missing = self._numbers(np.int64)
        if (values > limit).any():
            raise Decline
        return values, missing

    def fraction(self) -> tuple[np.ndarray, np.ndarray]:
        if self.types <= {str, _NONE}:
            return self._spans().fraction()
        if not self.types <= {int, float, _NONE} or self.document.has_negative_zero:
            raise Decline
        if float in self.types and self.document.has_exponent:
            raise Decline
        values, missing = self._numbers(np.float64)
        if int in self.types and (values > 1).any():
            raise Decline  # a whole number above 1: the careful path says why it is refused
        return values, missing

    def labels(self, keep_spellings: bool = False) -> tuple[np.ndarray, list[str]]:
        if self.types <= {str, _NONE}:
            return self._spans().labels(keep_spellings)
        if not self.types <= {str, int, _NONE} or self.document.has_negative_zero:
            raise Decline  # a float's text, a boolean or an object is for the careful path
        cells = np.array(self.values, dtype=object)
        kinds = np.fromiter(map(type, self.values), dtype=object, count=len(self.values))
        numbers = np.equal(kinds, int)
        cells[numbers] = list(map(str, cells[numbers].tolist()))  # 10 → "10", its own text
        return JsonColumn(cells.tolist(), self.document).labels(keep_spellings)


def _rows(document: Any, records: str | None) -> list[Any]:
    from adapters.json_table import _follow  # the careful reader's path rules

    try:
        rows = _follow(document, records, "") if records else document
    except FeedError:
        raise Decline from None
    if not isinstance(rows, list) or not rows:
        raise Decline
    return rows


def _wanted(names: list[str], columns: ColumnMap) -> list[str]:
    if columns.parties == "*":
        return names
    return [*columns.mapped().values(), *(columns.parties or ())]


def read_fast_json(body: bytes, *, records: str | None, columns: ColumnMap) -> FastTable:
    """Read the rows' keys and the columns the mapping needs.

    Raises:
        Decline: see the module's docstring.
    """
    data = body[len(_BOM) :] if body.startswith(_BOM) else body
    with gc_paused():
        try:
            document = json.loads(data, parse_constant=_refuse)
        except (ValueError, RecursionError):
            raise Decline from None
        rows = _rows(document, records)
        if set(map(type, rows)) != {dict}:
            raise Decline
        keys: set[Any] = set().union(*rows)
        names = list(rows[0])
        if len(names) != len(keys):
            names = list(dict.fromkeys(chain.from_iterable(rows)))
        if any(not isinstance(k, str) or k != k.strip() for k in names):
            raise Decline
        complete = set(map(len, rows)) == {len(names)}
        wanted = [name for name in dict.fromkeys(_wanted(names, columns)) if name in keys]
        if complete and len(wanted) > 1:
            tuples = list(map(itemgetter(*wanted), rows))
            columns = {name: list(map(itemgetter(k), tuples)) for k, name in enumerate(wanted)}
        else:
            columns = {name: list(map(dict.get, rows, repeat(name))) for name in wanted}
    doc = _Document(data)
    return FastTable(
        names=names, rows=len(rows), column=lambda name: JsonColumn(columns[name], doc)
    )
