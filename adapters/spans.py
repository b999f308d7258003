"""A column of text cells as byte ranges of one buffer, read whole with numpy.

The fast path's cells: no Python string per cell, only offsets into the body (or into the
column's strings joined). Each reader accepts only what is unambiguous — a cell of plain
digits, a plain decimal — and otherwise *declines*: the caller then reads the feed the
careful way (:mod:`adapters.table_values`), which names the row, column and value at fault.
So a fast read never accepts a cell the careful reader would refuse, nor reads it
differently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

_DECIMAL_DIGITS_AT_MOST = 15  # m / 10**k is then the correctly rounded double
#: Zero bytes on each side of a span buffer, so a window of up to this many bytes
#: around any cell stays inside it; also the longest label read the fast way.
PAD = 256
_ZERO, _NINE, _DOT, _PERCENT = 48, 57, 46, 37
_POWERS = 10 ** np.arange(_DECIMAL_DIGITS_AT_MOST + 1, dtype=np.int64)
_MIX = np.uint64(0x9E3779B97F4A7C15)
# Eight ASCII digits in one little-endian word (the first digit in the lowest byte).
ASCII_ZEROS = np.uint64(0x3030303030303030)
_HIGH_NIBBLES = np.uint64(0xF0F0F0F0F0F0F0F0)
_PLUS_SIX = np.uint64(0x0606060606060606)
#: _LOW_BYTES[k]: a word's lowest k bytes (k = 0…8).
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


class Decline(Exception):
    """The fast path cannot vouch for this input; read it the careful way."""


def padded(data: bytes) -> np.ndarray:
    """A span buffer: ``data`` with :data:`PAD` zero bytes on each side."""
    buf = np.zeros(len(data) + 2 * PAD, dtype=np.uint8)
    buf[PAD : PAD + len(data)] = np.frombuffer(data, dtype=np.uint8)
    return buf


def words_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The eight bytes from each offset in ``at``, each as one little-endian word (its
    first byte lowest): one gather through an overlapping view, no rows of bytes copied."""
    view = np.ndarray(shape=(len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
    return view[at]


def words_from(buf: np.ndarray, at: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` words from each offset in ``at``: one row each, ``[:, k]`` the word
    at ``at + 8 * k``. One gather: NumPy copies an unaligned item at a time, at about the
    same cost for 8 bytes as for 32, so reading two to four words at once is nearly free.
    """
    size = 8 * count
    view = np.ndarray(shape=(len(buf) - size + 1,), dtype=f"V{size}", buffer=buf, strides=(1,))
    return view[at].view("<u8").reshape(len(at), count)


def same_bytes(buf: np.ndarray, at: np.ndarray, expected: bytes) -> bool:
    """Whether the bytes from each offset in ``at`` are ``expected``, eight at a time."""
    if len(expected) in (1, 2, 4):  # one narrow gather
        dtype = {1: "<u1", 2: "<u2", 4: "<u4"}[len(expected)]
        view = np.ndarray(shape=(len(buf) - 7,), dtype=dtype, buffer=buf, strides=(1,))
        return bool((view[at] == int.from_bytes(expected, "little")).all())
    for k in range(0, len(expected), 8):
        chunk = expected[k : k + 8]
        want = np.uint64(int.from_bytes(chunk, "little"))
        if not ((words_at(buf, at + k) & _LOW_BYTES[len(chunk)]) == want).all():
            return False
    return True


def eight_digits(words: np.ndarray) -> np.ndarray:
    """The number eight ASCII digits spell, for each word (SWAR: three multiplies)."""
    v = ((words & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    v = ((v & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    v = ((v & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)
    return (v & np.uint64(0xFFFFFFFF)).astype(np.int64)


def all_digits(words: np.ndarray) -> bool:
    """Whether every byte of every word is an ASCII digit."""
    high = words & _HIGH_NIBBLES
    shifted = (words + _PLUS_SIX) & _HIGH_NIBBLES
    return bool(((high == ASCII_ZEROS) & (shifted == ASCII_ZEROS)).all())


_DOTS = np.uint64(0x2E2E2E2E2E2E2E2E)
_SEVENS = np.uint64(0x7F7F7F7F7F7F7F7F)


def plain_json_numbers(
    buf: np.ndarray, start: np.ndarray, end: np.ndarray, lengths: np.ndarray
) -> bool:
    """Whether every scalar (at most 8 bytes) is a plain JSON number — digits, at most one
    '.' between digits, no leading zero — checked a word at a time. ``False`` means look
    closer, not that one is bad."""
    word = words_at(buf, start)
    inside = _LOW_BYTES[lengths]
    dots = word ^ _DOTS  # a zero byte where a dot is
    dots = ~(((dots & _SEVENS) + _SEVENS) | dots | _SEVENS) & inside  # high bit per dot
    dot_bytes = (dots >> np.uint64(7)) * np.uint64(0xFF)
    digits = (word & inside & ~dot_bytes) | (ASCII_ZEROS & (~inside | dot_bytes))
    high = digits & _HIGH_NIBBLES
    if not ((high == ASCII_ZEROS) & (((digits + _PLUS_SIX) & _HIGH_NIBBLES) == ASCII_ZEROS)).all():
        return False
    first = word & np.uint64(0xFF)
    second = (word >> np.uint64(8)) & np.uint64(0xFF)
    last = buf[end - 1]
    zero, dot = np.uint64(ord("0")), np.uint64(ord("."))
    bad = (first == zero) & (lengths > 1) & (second != dot)  # a leading zero
    bad |= (first == dot) | (last == ord(".")) | ((dots & (dots - np.uint64(1))) != 0)
    if bad.any():
        raise Decline
    return True


def _first_seen(codes: np.ndarray) -> np.ndarray:
    """Positions where a code (numbered in order of first appearance) first appears."""
    return np.flatnonzero(codes > np.maximum.accumulate(np.r_[-1, codes[:-1]]))


def _grouped(key: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes in order of first appearance for rows with equal ``words`` (``key`` hashes
    them), and each code's first row; cheaper where the texts repeat in runs (a unit's rows)
    or in a cycle (the same parties in the same order for each unit).

    Raises:
        Decline: two different texts share a key (astronomically rare).
    """
    count = len(key)
    differs = key[1:] != key[:-1]
    for k in range(1, words.shape[1]):
        differs |= words[1:, k] != words[:-1, k]
    heads = np.flatnonzero(np.r_[True, differs])
    if 2 * len(heads) < count:  # runs: rows equal their run's head, byte for byte
        head_codes = pd.factorize(key[heads])[0].astype(np.int64)
        rows = heads
        codes = np.repeat(head_codes, np.diff(np.r_[heads, count]))
        firsts = heads[_first_seen(head_codes)]
        checked = (rows, head_codes)
    else:
        again = np.flatnonzero(key[1:] == key[0])
        period = int(again[0]) + 1 if len(again) else count
        cycle = words.reshape(count // period, period, -1) if count % period == 0 else None
        if period < count and cycle is not None and (cycle == cycle[0]).all():
            period_codes = pd.factorize(key[:period])[0].astype(np.int64)
            codes = np.tile(period_codes, count // period)
            firsts = _first_seen(period_codes)
            checked = (np.arange(period), period_codes)
        else:
            codes = pd.factorize(key)[0].astype(np.int64)
            firsts = _first_seen(codes)
            checked = (np.arange(count), codes)
    if words.shape[1] > 1:
        rows, row_codes = checked
        if not (words[rows] == words[firsts][row_codes]).all():
            raise Decline
    return codes, firsts


@dataclass(frozen=True)
class Spans:
    """Cells ``buf[start[i]:end[i]]`` (UTF-8) of a :func:`padded` buffer; ``missing``
    marks cells that are absent (a JSON null or a key the row lacks), as against empty."""

    buf: np.ndarray
    start: np.ndarray
    end: np.ndarray
    missing: np.ndarray | None = None
    #: The cells are the insides of JSON strings, some with escapes (``\\u00e9``): labels
    #: are decoded as JSON (numbers with an escape are not digits, and are declined).
    escaped: bool = False

    def __len__(self) -> int:
        return len(self.start)

    def lengths(self) -> np.ndarray:
        lengths = self.end - self.start
        return lengths if self.missing is None else np.where(self.missing, 0, lengths)

    def _window(self, at: np.ndarray, width: int) -> np.ndarray:
        """The ``width`` bytes from each offset in ``at``, one row per cell (a copy)."""
        return np.lib.stride_tricks.sliding_window_view(self.buf, width)[at]

    def whole(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """Whole numbers from 0 to ``limit``: values and the not-given mask (empty cells).

        Up to 16 digits, read eight at a time from each cell's last bytes.
        """
        lengths = self.lengths()
        given = lengths > 0
        width = int(lengths.max(initial=0))
        if width > 16:
            raise Decline
        count = 1 if width <= 8 else 2
        outside = 8 * count - lengths  # bytes before the cell, at the low end
        values = np.zeros(len(self), dtype=np.int64)
        for k in range(count):
            fill = _LOW_BYTES[np.clip(outside - 8 * k, 0, 8)]
            word = words_at(self.buf, self.end - 8 * (count - k))
            word = (word & ~fill) | (ASCII_ZEROS & fill)
            if not all_digits(word):
                raise Decline
            values = values * 100_000_000 + eight_digits(word)
        if (values > limit).any():
            raise Decline
        return values, ~given

    def distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cells with the same bytes share a code (first seen first): the codes, each
        code's first row, and each code's bytes as one zero-padded row of words."""
        lengths = self.lengths()
        words_per_cell = max(1, -(-int(lengths.max(initial=0)) // 8))
        if words_per_cell * 8 > PAD:
            raise Decline
        lows = [_LOW_BYTES[np.clip(lengths - 8 * k, 0, 8)] for k in range(words_per_cell)]
        columns = [words_at(self.buf, self.start + 8 * k) & low for k, low in enumerate(lows)]
        words = columns[0][:, None] if words_per_cell == 1 else np.stack(columns, axis=1)
        key = columns[0]
        for column in columns[1:]:
            key = key * _MIX ^ column
        codes, first = _grouped(key, words)
        return codes, first, words[first]

    def fraction(self) -> tuple[np.ndarray, np.ndarray]:
        """Fractions written ``0.45``, ``.45``, ``45%`` or ``45.5%`` (no spaces; above 1
        only with a point or a % sign); each distinct text is read once."""
        lengths = self.lengths()
        given = lengths > 0
        if not given.any():
            return np.zeros(len(self), dtype=np.float64), ~given
        codes, first, _ = self.distinct()
        values = Spans(self.buf, self.start[first], self.end[first])._fractions()
        return values[codes], ~given

    def _fractions(self) -> np.ndarray:
        lengths = self.lengths()
        given = lengths > 0
        width = int(lengths.max(initial=0))
        if width > _DECIMAL_DIGITS_AT_MOST + 2:
            raise Decline
        chars = self._window(self.end - width, width)  # right-aligned
        inside = np.arange(width - 1, -1, -1) < lengths[:, None]
        digit = inside & (chars >= _ZERO) & (chars <= _NINE)
        dot = inside & (chars == _DOT)
        percent = given & (chars[:, -1] == _PERCENT)
        others = inside & ~(digit | dot)
        others[:, -1] &= ~percent
        if others.any():
            raise Decline
        count = digit.sum(axis=1)
        if (given & ((count == 0) | (dot.sum(axis=1) > 1))).any():
            raise Decline
        after = np.cumsum(digit[:, ::-1], axis=1)[:, ::-1]  # digits from here to the end
        places = _POWERS[np.maximum(after - 1, 0)]
        mantissa = (np.where(digit, chars - np.uint8(_ZERO), 0) * places).sum(axis=1)
        scale = (digit & (np.cumsum(dot, axis=1) > 0)).sum(axis=1)
        values = mantissa / np.power(10.0, scale)
        values = np.where(percent, values / 100, values)
        # Above 100% is kept (and flagged downstream); a bare whole number above 1 is an
        # ambiguous percentage, for the careful path to explain.
        if (given & (values > 1) & ~percent & (dot.sum(axis=1) == 0)).any():
            raise Decline
        return values

    def labels(self, keep_spellings: bool = False) -> tuple[np.ndarray, list[str]]:
        """Stripped text: codes (``-1`` = missing or blank) and the labels, first seen first.

        ``keep_spellings``: decline where stripping makes two texts one ("X " and "X")."""
        codes, _, words = self.distinct()
        raw = words.view(f"S{words.shape[1] * 8}").ravel().tolist()
        texts = json_strings(raw) if self.escaped else list(map(bytes.decode, raw))
        stripped = list(map(str.strip, texts))
        missing = self.missing is not None and bool(self.missing.any())
        unique = not self.escaped or len(set(texts)) == len(texts)  # "é" and "\\u00e9"
        if stripped == texts and "" not in texts and not missing and unique:
            return codes, texts
        if keep_spellings:
            given = {text for text, bare in zip(texts, stripped, strict=True) if bare}
            if len({bare for bare in stripped if bare}) < len(given):
                raise Decline
        if missing:
            codes = np.where(self.missing, -1, codes)
        return relabel(codes, stripped)


def json_strings(insides: Sequence[bytes]) -> list[str]:
    """JSON string insides (escapes and all) decoded, in one call to the standard library.

    Raises:
        Decline: one is not a valid JSON string.
    """
    joined = b'","'.join(insides)
    try:
        texts = json.loads(b'["' + joined + b'"]')
    except (ValueError, RecursionError):
        raise Decline from None
    if len(texts) != len(insides):  # pragma: no cover - an inside holding '","' has a quote
        raise Decline
    return texts


def relabel(codes: np.ndarray, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Codes into ``texts`` → codes into the distinct non-empty texts, first seen first."""
    table = pd.Series(list(texts), dtype=object)
    blank = (table == "").to_numpy()
    merged, distinct = pd.factorize(table)
    merged = np.where(blank, -1, merged).astype(np.int64)
    rows = np.where(codes >= 0, merged[np.maximum(codes, 0)], -1)
    return renumber(rows, list(distinct))


def renumber(codes: np.ndarray, texts: list[str]) -> tuple[np.ndarray, list[str]]:
    """Codes (``-1`` = missing) renumbered in order of first appearance; unused texts go."""
    present = codes >= 0
    order, used = pd.factorize(codes[present])
    out = np.full(len(codes), -1, dtype=np.int64)
    out[present] = order
    return out, [texts[k] for k in used.tolist()]


def spans_of_strings(values: Sequence[str]) -> Spans:
    """Spans over a list of strings joined into one UTF-8 buffer.

    Raises:
        Decline: a string holds a NUL (the byte readers pad with NULs).
    """
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    text = "".join(values)
    if "\x00" in text:
        raise Decline
    if text.isascii():
        data = text.encode("ascii")
    else:
        encoded = list(map(str.encode, values))
        lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(values))
        data = b"".join(encoded)
    end = np.cumsum(lengths) + PAD
    return Spans(padded(data), end - lengths, end)
