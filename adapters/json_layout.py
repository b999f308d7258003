"""The layout of a regular JSON feed, learnt from its first record, and where its records
array opens and closes: hand parsing over a few dozen bytes, never the whole body."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

import numpy as np

from adapters.spans import PAD, Decline

WS = b" \t\r\n"
QUOTE = ord('"')


@dataclass(frozen=True)
class Layout:
    """The first record's shape: its strings, and the bytes between them.

    After string ``t`` of a record come ``before[t]``, a scalar if ``scalar[t]``, then
    ``after[t]``; the last string's ``after`` leads into the next record's first string.
    """

    keys: list[bytes]
    key_at: list[int]  # string index of each key within a record
    value_of: list[int]  # for each key: string index of its string value, or -1: a scalar
    before: list[bytes]
    scalar: list[bool]
    after: list[bytes]


class Cursor:
    """A hand parser over the first record (tens of bytes, not the body)."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data = data
        self.at = at

    def skip(self) -> None:
        while self.at < len(self.data) and self.data[self.at] in WS:
            self.at += 1

    def peek(self) -> int:
        if self.at >= len(self.data):
            raise Decline
        return self.data[self.at]

    def take(self, char: bytes) -> None:
        self.skip()
        if self.peek() != char[0]:
            raise Decline
        self.at += 1

    def string(self) -> tuple[int, int]:
        self.skip()
        if self.peek() != QUOTE:
            raise Decline
        close = self.data.find(b'"', self.at + 1)
        if close < 0:
            raise Decline
        opened, self.at = self.at, close + 1
        return opened, close

    def scalar(self) -> tuple[int, int]:
        start = self.at
        while self.at < len(self.data) and self.data[self.at] not in b' \t\r\n,}]{["':
            self.at += 1
        if self.at == start:
            raise Decline
        return start, self.at


def record_layout(data: bytes, brace: int) -> tuple[Layout, int]:
    """The layout of the record whose ``{`` is at ``brace`` (in ``data``), and where its
    first string opens."""
    cur = Cursor(data, brace + 1)
    strings: list[tuple[int, int]] = []
    scalars: dict[int, tuple[int, int]] = {}
    keys: list[bytes] = []
    key_at: list[int] = []
    value_of: list[int] = []
    while True:
        key = cur.string()
        key_at.append(len(strings))
        keys.append(data[key[0] + 1 : key[1]])
        strings.append(key)
        cur.take(b":")
        cur.skip()
        if cur.peek() == QUOTE:
            value_of.append(len(strings))
            strings.append(cur.string())
        elif cur.peek() in b"{[":
            raise Decline  # a nested value
        else:
            value_of.append(-1)
            scalars[len(strings) - 1] = cur.scalar()
        cur.skip()
        if cur.peek() != ord(","):
            break
        cur.at += 1
    cur.take(b"}")
    cur.skip()
    following = cur.at  # where the gap after the last string ends
    if cur.peek() == ord(","):  # another record: its first string ends the gap
        cur.at += 1
        cur.take(b"{")
        cur.skip()
        if cur.peek() != QUOTE:
            raise Decline
        following = cur.at
    ends = [opened for opened, _ in strings[1:]] + [following]
    before, after, scalar = [], [], []
    for t, (_, close) in enumerate(strings):
        start, stop = scalars.get(t, (close + 1, close + 1))
        if t + 1 < len(strings) and t not in scalars:
            start = stop = ends[t]
        before.append(data[close + 1 : start])
        after.append(data[stop : ends[t]])
        scalar.append(t in scalars)
    return Layout(keys, key_at, value_of, before, scalar, after), strings[0][0]


def array_opens(data: bytes, buf: np.ndarray, quotes: np.ndarray, records: str | None) -> int:
    """Where the records array opens (its ``[``, in ``data``)."""
    if records is None:
        at = len(data) - len(data.lstrip(WS))
        if data[at : at + 1] != b"[":
            raise Decline
        return at
    key = records.rsplit(".", 1)[-1].encode()
    opens, closes = quotes[0::2], quotes[1::2]
    fits = np.flatnonzero(closes - opens - 1 == len(key))
    if key and len(fits):
        window = np.lib.stride_tricks.sliding_window_view(buf, len(key))[opens[fits] + 1]
        fits = fits[(window == np.frombuffer(key, np.uint8)).all(axis=1)]
    found = []
    for k in fits.tolist():
        cur = Cursor(data, int(closes[k]) - PAD + 1)
        try:
            cur.take(b":")
            cur.skip()
            if cur.peek() == ord("["):
                found.append(cur.at)
        except Decline:
            continue
    if len(found) != 1:
        raise Decline
    return found[0]


def array_closes(data: bytes, quotes: np.ndarray, opened: int) -> int:
    """Where the records array closes (in ``data``): at the first ']' outside strings
    after it opens, since a record holds no array."""
    at = opened
    for _ in range(1000):  # a ']' inside a string is rare; past that, decline
        at = data.find(b"]", at + 1)
        if at < 0:
            raise Decline
        if np.searchsorted(quotes, at + PAD) % 2 == 0:
            return at
    raise Decline


def last_content_ends(data: bytes, closed: int) -> int:
    """Reading back from the array's ``]``: where the last record's last value ends."""
    at = closed
    for expected in (b"]", b"}"):
        at -= 1 if data[at : at + 1] == expected else 0
        while at >= 0 and data[at] in WS:
            at -= 1
        if expected == b"]" and data[at : at + 1] != b"}":
            raise Decline
    return at + 1


def skeleton_leads_here(data: bytes, opened: int, closed: int, records: str | None) -> None:
    """The document with the records array replaced by a marker parses, and the records
    path leads to the marker: all outside the array is valid JSON, and the path is right."""
    marker = "nightdesk-" + os.urandom(8).hex()
    while marker.encode() in data:  # pragma: no cover - 64 random bits
        marker = "nightdesk-" + os.urandom(8).hex()
    skeleton = data[: opened + 1] + b'"' + marker.encode() + b'"' + data[closed:]
    try:
        document = json.loads(skeleton)
    except (ValueError, RecursionError):
        raise Decline from None
    here = document
    for step in records.split(".") if records else []:
        if not isinstance(here, dict) or step not in here:
            raise Decline
        here = here[step]
    if here != [marker]:
        raise Decline
