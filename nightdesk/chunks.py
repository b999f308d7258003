"""Content-defined chunks of a feed body: a body is stored as chunks kept once each, so the
next poll of an 8 MB feed that moved three numbers stores a few chunks, not another copy."""

from __future__ import annotations

import hashlib

import numpy as np

CHUNK_MIN = 8 * 1024
CHUNK_MAX = 128 * 1024
CHUNK_BITS = 15  # a cut after ~1 in 32 K positions: chunks of ~32-64 KB
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def cuts(body: bytes) -> list[int]:
    """Content-defined chunk ends, so that an edit changes only the chunks around it.

    A position is a candidate cut when the 8 bytes before it hash under a threshold
    (vectorised: one pass per byte offset); chunks are 8–128 KB. Each chunk ends at the first
    strong candidate (~1 in 32 K positions) past the minimum, else at the first weak one
    (8× likelier), else at the maximum: repetitive feeds still cut where their content says.
    """
    n = len(body)
    if n <= 2 * CHUNK_MIN:
        return [n]
    strong = np.uint64(1 << (64 - CHUNK_BITS))
    weak = np.uint64(1 << (64 - CHUNK_BITS + 3))
    hashed = np.empty(n // 8, dtype=np.uint64)
    hit = np.empty(n // 8, dtype=bool)
    found, values = [], []
    for k in range(8):
        words = np.frombuffer(body, dtype="<u8", offset=k, count=(n - k) // 8)
        m = len(words)
        np.multiply(words, _GOLDEN, out=hashed[:m])
        np.less(hashed[:m], weak, out=hit[:m])
        at = np.flatnonzero(hit[:m])
        found.append(at * 8 + (k + 8))
        values.append(hashed[at])
    cand = np.concatenate(found)
    order = np.argsort(cand, kind="stable")
    cand = cand[order]
    primary = cand[np.concatenate(values)[order] < strong]
    cuts: list[int] = []
    last = 0
    while True:
        lo, hi = last + CHUNK_MIN, min(last + CHUNK_MAX, n - CHUNK_MIN)
        if lo > hi:
            break
        i = int(np.searchsorted(primary, lo))
        if i < len(primary) and primary[i] <= hi:
            cut = int(primary[i])
        elif n - last <= CHUNK_MAX:
            break
        else:
            j = int(np.searchsorted(cand, lo))
            cut = int(cand[j]) if j < len(cand) and cand[j] <= hi else last + CHUNK_MAX
        cuts.append(cut)
        last = cut
    cuts.append(n)
    return cuts


def split(body: bytes) -> list[tuple[bytes, memoryview]]:
    """The body's chunks with their SHA-256 digests."""
    view = memoryview(body)
    out = []
    start = 0
    for end in cuts(body):
        piece = view[start:end]
        out.append((hashlib.sha256(piece).digest(), piece))
        start = end
    return out
