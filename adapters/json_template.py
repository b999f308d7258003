"""Regular JSON → a :class:`FastTable` of byte spans, checked with numpy, no object per cell.

Machine-written feeds repeat one record layout: the same keys in the same order, each
value always a string or always a scalar, the same spacing. This reader learns that layout
from the first record (parsed by hand, a few dozen bytes) and then checks every record
against it at once: the bytes between strings, the keys, the scalars' grammar. Values
become spans of the body — a number keeps its literal text, as the careful reader keeps it.
Everything outside the records array is checked by the standard library on a skeleton of
the document (the array replaced by a marker), which also proves the records path leads to
this array. Anything irregular — an escaped quote, a nested value, a record laid out
differently — is declined; the next reader takes it.
"""

from __future__ import annotations

import numpy as np

from adapters.fast_table import Column, FastTable
from adapters.json_layout import (
    QUOTE,
    Cursor,
    array_closes,
    array_opens,
    last_content_ends,
    record_layout,
    skeleton_leads_here,
)
from adapters.json_scalars import Scalars, check_scalars
from adapters.spans import PAD, Decline, Spans, json_strings, padded, same_bytes


def _gap(
    buf: np.ndarray, start: np.ndarray, end: np.ndarray, before: int, scalar: bool, after: bytes
) -> tuple[np.ndarray, np.ndarray]:
    """Check gaps ``buf[start:end]`` (their first ``before`` bytes already checked) end in
    ``after`` and hold a scalar between, or nothing, as ``scalar`` says; return the
    scalars' spans."""
    inner = (end - len(after)) - (start + before)
    if (inner <= 0).any() if scalar else inner.any():
        raise Decline
    if not same_bytes(buf, end - len(after), after):
        raise Decline
    return start + before, end - len(after)


def _escaped_strings(data: bytes, buf: np.ndarray, quotes: np.ndarray) -> np.ndarray | None:
    """Which strings hold a backslash (``None``: none does), each escape checked valid.

    Raises:
        Decline: a quote follows a backslash (an escaped quote, or an escaped backslash
            closing a string: the quotes no longer pair simply), a backslash outside a
            string, or an escape the standard library rejects.
    """
    if b"\\" not in data:
        return None
    if (buf[quotes - 1] == ord("\\")).any():
        raise Decline
    owners = np.searchsorted(quotes, np.flatnonzero(buf == ord("\\")))
    if not (owners % 2).all():
        raise Decline  # a backslash outside any string
    which = np.unique(owners // 2)
    spans = Spans(buf, quotes[0::2][which] + 1, quotes[1::2][which])
    _, _, words = spans.distinct()  # each distinct string checked once
    json_strings(words.view(f"S{words.shape[1] * 8}").ravel().tolist())
    escaped = np.zeros(len(quotes) // 2, dtype=bool)
    escaped[which] = True
    return escaped


def read_template_json(body: bytes, *, records: str | None) -> FastTable:
    """Read a regular JSON feed (see the module docstring).

    Raises:
        Decline: the body is not regular in that sense, or anything about it is doubtful.
    """
    data = body[3:] if body.startswith(b"\xef\xbb\xbf") else body
    buf = padded(data)
    quotes = np.flatnonzero(buf == QUOTE)
    if len(quotes) % 2:
        raise Decline
    escaped = _escaped_strings(data, buf, quotes)
    controls = np.flatnonzero(buf[PAD : PAD + len(data)] < 32) + PAD
    if len(controls):  # only whitespace, and only between tokens
        kinds = buf[controls]
        if not ((kinds == 9) | (kinds == 10) | (kinds == 13)).all():
            raise Decline
        if (np.searchsorted(quotes, controls) % 2).any():
            raise Decline
    opened = array_opens(data, buf, quotes, records)
    cur = Cursor(data, opened + 1)
    cur.take(b"{")
    layout, first_open = record_layout(data, cur.at - 1)
    per_record = len(layout.before)
    closed = array_closes(data, quotes, opened)
    first_q, last_q = np.searchsorted(quotes, [first_open + PAD, closed + PAD]).tolist()
    if (last_q - first_q) % (2 * per_record) or last_q == first_q:
        raise Decline
    rows = (last_q - first_q) // (2 * per_record)
    pairs = quotes[first_q:last_q].reshape(rows, per_record, 2)
    opens, closes = np.ascontiguousarray(pairs[:, :, 0].T), np.ascontiguousarray(pairs[:, :, 1].T)
    last_end = np.array([last_content_ends(data, closed) + PAD])
    keyed = dict(zip(layout.key_at, layout.keys, strict=True))
    if any(b"\\" in key for key in layout.keys):
        raise Decline  # a key with an escape
    spans: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for t in range(per_record):
        before, scalar, after = layout.before[t], layout.scalar[t], layout.after[t]
        # A key and what follows it up to its value, in one comparison ('"votes": '); the
        # quote closing the key is then where the key's length says.
        key = keyed.get(t)
        lead, at = (b'"' + key + b'"' + before, opens[t]) if key else (b'"' + before, closes[t])
        if not same_bytes(buf, at, lead):
            raise Decline
        if t + 1 < per_record:
            spans[t] = _gap(buf, closes[t] + 1, opens[t + 1], len(before), scalar, after)
            continue
        inner = _gap(buf, closes[t, :-1] + 1, opens[0, 1:], len(before), scalar, after)
        last = _gap(buf, closes[t, -1:] + 1, last_end, len(before), scalar, b"")
        spans[t] = (np.r_[inner[0], last[0]], np.r_[inner[1], last[1]])
    if escaped is not None:  # each record's strings, as numbered in the whole document
        at = (first_q // 2) + np.arange(per_record)[:, None] + np.arange(rows) * per_record
        escaped = escaped[at]
    names = [key.decode() for key in layout.keys]
    if len(set(names)) != len(names) or any(n != n.strip() or not n for n in names):
        raise Decline
    skeleton_leads_here(data, opened, closed, records)
    columns: dict[str, Column] = {}
    for name, t, value in zip(names, layout.key_at, layout.value_of, strict=True):
        if value >= 0:
            some = escaped is not None and bool(escaped[value].any())
            columns[name] = Spans(buf, opens[value] + 1, closes[value], escaped=some)
        else:  # every key's scalars are checked, mapped or not: the array must be JSON
            start, end = spans[t]
            nulls, booleans = check_scalars(buf, start, end)
            columns[name] = Scalars(Spans(buf, start, end, nulls), booleans)
    return FastTable(names=names, rows=rows, column=columns.__getitem__)
