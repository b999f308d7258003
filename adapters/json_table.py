"""JSON text → a TextTable: an array of row objects, found at the top or at a dotted path."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from adapters.table_values import TextTable
from nightdesk.errors import FeedError

_HINT_DEPTH = 3


def _kind(value: Any) -> str:
    """A JSON value's type as JSON calls it."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a string or number"


def _arrays_of_objects(value: Any, path: str = "", depth: int = 0) -> list[str]:
    """Dotted paths to arrays of objects near the top (to suggest a ``records`` option)."""
    if not isinstance(value, dict) or depth >= _HINT_DEPTH:
        return []
    found = []
    for key, inner in value.items():
        here = f"{path}.{key}" if path else str(key)
        if isinstance(inner, list) and inner and isinstance(inner[0], dict):
            found.append(here)
        else:
            found += _arrays_of_objects(inner, here, depth + 1)
    return found


def _follow(document: Any, path: str, source: str) -> Any:
    """The value at a dotted path (``data.rows``; a number step indexes an array)."""
    here: Any = document
    walked: list[str] = []
    for step in path.split("."):
        where = ".".join(walked) or "the top level"
        if isinstance(here, dict) and step in here:
            here = here[step]
        elif isinstance(here, list) and step.isdigit() and int(step) < len(here):
            here = here[int(step)]
        elif isinstance(here, dict):
            keys = ", ".join(map(str, list(here)[:20])) or "none"
            raise FeedError(
                f"records path {path!r}: {where} has no key {step!r}; its keys are: {keys}",
                source=source,
            )
        else:
            raise FeedError(
                f"records path {path!r}: {where} is {_kind(here)}, which has no {step!r}",
                source=source,
            )
        walked.append(step)
    return here


def _rows(document: Any, records: str | None, source: str) -> list[Any]:
    rows = _follow(document, records, source) if records else document
    if isinstance(rows, list):
        return rows
    if records:
        raise FeedError(
            f"records path {records!r} leads to {_kind(rows)}; expected an array of row objects",
            source=source,
        )
    hint = ""
    candidates = _arrays_of_objects(document)
    if candidates:
        hint = f" (arrays of objects in this feed: {', '.join(candidates[:5])})"
    raise FeedError(
        f"the JSON is {_kind(document)}, not an array of row objects; set records to the "
        f"dotted path of the rows{hint}",
        source=source,
    )


def _ends_early(text: str, exc: json.JSONDecodeError) -> bool:
    """Whether the document is fine as far as it goes but stops short (a truncated body):
    the parser ran out of text, or a string never closes."""
    return exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")


def read_json_table(text: str, *, records: str | None, source: str) -> TextTable:
    """Read a JSON table, keeping numbers as their literal text so nothing is coerced.

    JSON numbers arrive as the digits the feed wrote (``12.5`` stays ``"12.5"`` and is
    rejected as votes; ``1e3`` likewise); booleans, objects and arrays stay what they are for
    the cell readers to reject.

    Raises:
        FeedError: malformed JSON (with line and column), no array of objects, or no rows.
    """
    try:
        document = json.loads(text, parse_int=str, parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        if _ends_early(text, exc):
            raise FeedError(
                f"the JSON stops before its end (line {exc.lineno}, column {exc.colno}: "
                f"{exc.msg}); the feed is truncated",
                source=source,
            ) from None
        raise FeedError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
        ) from None
    except RecursionError:
        raise FeedError("the JSON is nested too deeply to read", source=source) from None
    rows = _rows(document, records, source)
    base = f"$.{records}" if records else "$"
    table = TextTable(frame=pd.DataFrame(), source=source, where=lambda row: f"{base}[{row}]")
    if not rows:
        raise table.error("the feed has no rows (an empty array: truncated?)")
    for row, item in enumerate(rows):
        if not isinstance(item, dict):
            raise table.error(f"{table.where(row)} is {_kind(item)}, not a row object", row=row)
    frame = pd.DataFrame.from_records(rows)
    names = [str(name).strip() for name in frame.columns]
    for k, name in enumerate(names):
        if names.index(name) != k:
            raise table.error(
                f"keys {frame.columns[names.index(name)]!r} and {frame.columns[k]!r} are the "
                "same column once spaces are stripped",
                column=name,
            )
    return TextTable(frame=frame.set_axis(names, axis=1), source=source, where=table.where)
