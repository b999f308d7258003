"""The scalars of a JSON records array checked whole: each a JSON number, true, false or
null, as the standard library would accept it; numbers keep their literal text."""

from __future__ import annotations

import numpy as np

from adapters.spans import Decline, Spans, plain_json_numbers

_SCALAR_BYTES_AT_MOST = 40
_LITERALS = (b"null", b"true", b"false")
# A JSON number, one byte at a time. States: 0 start, 1 after '-', 2 a leading 0,
# 3 integer digits, 4 after '.', 5 fraction digits, 6 after 'e', 7 after its sign,
# 8 exponent digits, 9 rejected. Classes: '0', '1'-'9', '-', '+', '.', 'e'/'E', other.
_NUMBER = np.array(
    [
        [2, 3, 1, 9, 9, 9, 9],
        [2, 3, 9, 9, 9, 9, 9],
        [9, 9, 9, 9, 4, 6, 9],
        [3, 3, 9, 9, 4, 6, 9],
        [5, 5, 9, 9, 9, 9, 9],
        [5, 5, 9, 9, 9, 6, 9],
        [8, 8, 7, 7, 9, 9, 9],
        [8, 8, 9, 9, 9, 9, 9],
        [8, 8, 9, 9, 9, 9, 9],
        [9, 9, 9, 9, 9, 9, 9],
    ],
    dtype=np.uint8,
)
_NUMBER_ENDS = np.array([False, False, True, True, False, True, False, False, True, False])
_CLASS = np.full(256, 6, dtype=np.uint8)
_CLASS[ord("0")] = 0
_CLASS[ord("1") : ord("9") + 1] = 1
_CLASS[[ord("-"), ord("+"), ord("."), ord("e"), ord("E")]] = [2, 3, 4, 5, 5]


def _window(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(buf, width)[at]


def check_scalars(
    buf: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Decline any scalar that is not a JSON number, true, false or null; return the
    masks of nulls and of booleans."""
    lengths = end - start
    width = int(lengths.max())
    if width > _SCALAR_BYTES_AT_MOST:
        raise Decline
    if width <= 8 and plain_json_numbers(buf, start, end, lengths):
        none = np.zeros(len(start), dtype=bool)
        return none, none
    chars = _window(buf, start, max(width, 5))
    found = {
        word: (lengths == len(word))
        & (chars[:, : len(word)] == np.frombuffer(word, np.uint8)).all(axis=1)
        for word in _LITERALS
    }
    state = np.zeros(len(start), dtype=np.uint8)
    classes = _CLASS[chars[:, :width]]
    for k in range(width):
        state = np.where(k < lengths, _NUMBER[state, classes[:, k]], state)
    nulls = found[b"null"]
    booleans = found[b"true"] | found[b"false"]
    if not (_NUMBER_ENDS[state] | nulls | booleans).all():
        raise Decline
    return nulls, booleans


class Scalars:
    """A column of scalars: numbers as their literal text, null as missing."""

    def __init__(self, spans: Spans, booleans: np.ndarray) -> None:
        self.spans = spans
        self.booleans = booleans

    def _checked(self) -> Spans:
        if self.booleans.any():
            raise Decline  # a boolean where a value belongs: the careful path says so
        return self.spans

    def whole(self, limit: int) -> tuple[np.ndarray, np.ndarray]:
        return self._checked().whole(limit)

    def fraction(self) -> tuple[np.ndarray, np.ndarray]:
        return self._checked().fraction()

    def labels(self, keep_spellings: bool = False) -> tuple[np.ndarray, list[str]]:
        return self._checked().labels(keep_spellings)
