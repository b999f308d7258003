"""Plain CSV bytes → a :class:`FastTable` of byte spans, found with numpy in a few passes.

Only the plainest CSV is read here: no quote character anywhere, no NUL, lines ending in
``\\n`` or ``\\r\\n``, a header on the first line naming every column once, and every other
line either empty or holding exactly as many fields as the header. That is what result
feeds usually are. Anything else — quoted fields, ragged or truncated rows, blank-looking
lines of spaces — is declined and read by pandas the careful way
(:mod:`adapters.csv_table`), which also names the line at fault.
"""

from __future__ import annotations

import codecs

import numpy as np

from adapters.fast_table import FastTable
from adapters.spans import PAD, Decline, Spans, padded

_BOM = codecs.BOM_UTF8


def _utf8(body: bytes, text: str, encoding: str) -> bytes:
    """The body as UTF-8 bytes (the buffer the spans point into)."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise Decline from None
    if codec != "utf-8":
        return text.encode("utf-8")
    return body[len(_BOM) :] if body.startswith(_BOM) else body


def read_plain_csv(body: bytes, text: str, *, delimiter: str, encoding: str) -> FastTable:
    """Read a plain CSV body (``text`` is ``body`` decoded, already checked).

    Raises:
        Decline: the body is not plain CSV as described above, or has no data rows.
    """
    data = _utf8(body, text, encoding)
    sep = delimiter.encode("utf-8")
    if len(sep) != 1 or b'"' in data or b"\x00" in data:
        raise Decline
    crlf = b"\r" in data
    if crlf and data.count(b"\r") != data.count(b"\r\n"):
        raise Decline  # a lone carriage return ends a line for pandas
    buf = padded(data)  # offsets below are into this buffer
    end = PAD + len(data)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([PAD], newlines + 1))
    ends = np.concatenate((newlines, [end]))
    if crlf:
        ends = ends - (buf[ends - 1] == 13) * (ends > starts)
    if ends[0] <= starts[0]:
        raise Decline  # the header is not on the first line
    header_bytes = data[: int(ends[0]) - PAD]
    header = [name.strip() for name in header_bytes.decode().split(delimiter)]
    width = len(header)
    if width < 2 or "" in header or len(set(header)) != width:
        raise Decline
    filled = ends > starts
    rows_start, rows_end = starts[filled][1:], ends[filled][1:]
    if not len(rows_start):
        raise Decline
    seps = np.flatnonzero(buf == sep[0])
    if len(seps) != (width - 1) * (len(rows_start) + 1):
        raise Decline
    inner = seps[width - 1 :].reshape(len(rows_start), width - 1)
    # Sorted separators, as many as the rows need, each row's first and last inside it:
    # then every row holds exactly its share.
    if (inner[:, 0] < rows_start).any() or (inner[:, -1] >= rows_end).any():
        raise Decline
    index = {name: k for k, name in enumerate(header)}

    def column(name: str) -> Spans:
        k = index[name]
        start = rows_start if k == 0 else inner[:, k - 1] + 1
        stop = rows_end if k == width - 1 else inner[:, k]
        return Spans(buf, start, stop)

    return FastTable(names=header, rows=len(rows_start), column=column)
