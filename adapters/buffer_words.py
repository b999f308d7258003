"""Words of a padded byte buffer (:func:`adapters.spans.padded`), read with NumPy: where
a byte is, whether the bytes at many offsets are the ones expected, where the first double
quote of a word is.

Each pass keeps its temporaries small: on this kind of machine fresh memory costs a page
fault a page, more than the arithmetic.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from adapters.spans import PAD, words_at, words_from

#: The bytes searched at once for a byte's positions (their flags stay in a core's L2 cache).
BLOCK = 1 << 19
#: Blocks smaller than this are searched byte by byte (too few to pay for the word passes).
WORDWISE = 1 << 16
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_QUOTES = np.uint64(int.from_bytes(b'"' * 8, "little"))
_ONES, _HIGHS = np.uint64(0x0101010101010101), np.uint64(0x8080808080808080)
_ONE = np.uint64(1)


def padded_copy(body: bytes) -> np.ndarray:
    """:func:`adapters.spans.padded`, without first zeroing the bytes it copies."""
    buf = np.empty(len(body) + 2 * PAD, dtype=np.uint8)
    buf[:PAD] = 0
    buf[PAD : PAD + len(body)] = np.frombuffer(body, dtype=np.uint8)
    buf[PAD + len(body) :] = 0
    return buf


def byte_positions(buf: np.ndarray, start: int, byte: int) -> np.ndarray:
    """Where ``byte`` (not zero) is in ``buf`` from ``start`` on:
    a block at a time (no whole-size temporary: the heap the process keeps stays small).
    The flags of a block are read eight at a time, as words: few hold any, and those
    mostly one, found by counting the bits below it."""
    aligned = start - start % 8
    end = len(buf) - len(buf) % 8
    found = [
        _block_positions(buf, at, min(at + BLOCK, end), byte) for at in range(aligned, end, BLOCK)
    ]
    if end < len(buf):  # (the last bytes, short of a word: an unpadded buffer's)
        found.append(np.flatnonzero(buf[max(end, start) :] == byte) + max(end, start))
    at = np.concatenate(found) if found else np.zeros(0, dtype=np.intp)
    return at[np.searchsorted(at, start) :]


def _block_positions(buf: np.ndarray, start: int, end: int, byte: int) -> np.ndarray:
    """Where ``byte`` is in ``buf[start:end]`` (a whole number of words), in order."""
    if end - start < WORDWISE:  # (too few to pay for the passes over the words)
        return np.flatnonzero(buf[start:end] == byte) + start
    flags = (buf[start:end] == byte).view("<u8")
    hits = np.flatnonzero(flags != 0)
    words = flags[hits]
    counts = np.bitwise_count(words)
    base = hits * 8 + start
    first = base + lowest_byte(words)
    if (counts == 1).all():
        return first
    # Words with more than one: the rest by rounds, each in its place (still in order).
    sizes = counts.astype(np.intp)
    into = np.cumsum(sizes) - sizes
    out = np.empty(int(into[-1] + sizes[-1]), dtype=np.intp)
    out[into] = first
    more = np.flatnonzero(counts > 1)
    words = words[more]
    for k in range(1, 8):
        if not len(more):
            break
        words &= words - _ONE  # (the lowest flag cleared)
        out[into[more] + k] = base[more] + lowest_byte(words)
        left = counts[more] > k + 1
        more, words = more[left], words[left]
    return out


def lowest_byte(words: np.ndarray) -> np.ndarray:
    """The byte of each word's lowest set bit (each word has one)."""
    below = (words & (~words + _ONE)) - _ONE
    count = np.bitwise_count(below)
    count >>= 3
    return count


def quote_mask(words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the first double quote is in each word (0-7, 8 where there is none; uint8),
    and the mask of the bytes before it: the lowest zero byte of the word xor eight
    quotes, found with a borrow (SWAR), then the bits below it counted (in place: a few
    passes, few arrays)."""
    x = words ^ _QUOTES
    zeros = x - _ONES
    np.invert(x, out=x)
    zeros &= x
    zeros &= _HIGHS  # the lowest flag is exact: bit 8 * (its byte) + 7
    np.subtract(zeros, _ONE, out=x)
    np.invert(zeros, out=zeros)
    x &= zeros  # the bits below the lowest flag: 8 * byte + 7 of them, 64 where none
    index = np.bitwise_count(x)
    index >>= 3
    # Its bytes: the bits below it less seven; all of them where there is no quote.
    np.right_shift(x.view(np.int64), 63, out=zeros.view(np.int64))
    x >>= np.uint64(7)
    x |= zeros
    return index, x


def same_bytes_at(buf: np.ndarray, at: np.ndarray, expected: bytes) -> np.ndarray:
    """Whether the bytes from each offset in ``at`` are ``expected`` (one bool each): its
    words read in one gather, masked and compared; a row's answers (a power of two of
    them, the last ones padding) are then one integer, all ones or not."""
    if len(expected) <= 8:
        word = words_at(buf, at) & _LOW_BYTES[len(expected)]
        return word == np.uint64(int.from_bytes(expected, "little"))
    masks, wanted = _expected_words(expected)
    words = words_from(buf, at, len(masks))
    words &= masks
    same = words == wanted
    return same.view(_ROW_OF[len(masks)])[:, 0] == _ALL_TRUE[len(masks)]


#: A row of 2, 4 or 8 bools as one integer; its value where all are true.
_ROW_OF = {2: np.uint16, 4: np.uint32, 8: np.uint64}
_ALL_TRUE = {k: int.from_bytes(b"\x01" * k, "little") for k in _ROW_OF}


@cache
def _expected_words(expected: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``expected`` as words, and each word's mask (the last may be partial), padded with
    empty words to a power of two of them (at most eight)."""
    count = -(-len(expected) // 8)
    count = next(k for k in _ROW_OF if k >= count)
    lows = [max(0, min(8, len(expected) - 8 * k)) for k in range(count)]
    masks = np.array([(1 << (8 * n)) - 1 for n in lows], dtype=np.uint64)
    padded_bytes = expected.ljust(8 * count, b"\0")
    return masks, np.frombuffer(padded_bytes, dtype="<u8").copy()
