"""Snapshots as changed cells, and back: what the history store writes and reads.

A stored snapshot is the cells that differ from the previous stored snapshot of the same
source and race, so storage grows with what changed, not with the number of polls. Every
cell is keyed by (kind, unit, item) where units and parties are small integer *codes*
(positions in the stream's :class:`Names`, first-seen order), so a batch is a few NumPy
arrays and both the diff and the rebuild are whole-table operations.

Rules that make the rebuild exact:

- a unit or party that (re)appears gets all its cells written, so a unit that vanished and
  came back never resurrects stale values;
- the unit order and the party order are written whenever they change (they also say which
  units and parties exist);
- ``<NA>`` is a cell with its null flag set; reporting (``Float64``) is kept as the bits of
  its float64, so every value comes back identical.

A party's race call (``called``) is one more party label cell, so a new call writes one
cell. Batches written before the parties table had ``called`` say how many party columns
they knew (:attr:`Batch.party_columns`); a party they introduced has no call (``<NA>``)
until a call is written. Vote types (``Snapshot.vote_types``) are not cells: the store keeps
the body they came from.
"""

from __future__ import annotations

import json
import struct
import weakref
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from nightdesk.model import (
    PARTY_COLUMNS,
    UNIT_FIGURES,
    UNIT_LABELS,
    Race,
    Snapshot,
    strings,
    typed_frame,
)

#: Cell kinds. Numeric cells: VOTE (unit, party), FIGURE (unit, figure). Text cells:
#: UNIT_LABEL (unit, name/parent), PARTY_LABEL (party — in the unit field —, an item of
#: PARTY_COLUMNS: name/short/colour/called).
VOTE, FIGURE, UNIT_LABEL, PARTY_LABEL = 0, 1, 2, 3
#: Figure items are positions in UNIT_FIGURES; reporting is the only float.
REPORTING = UNIT_FIGURES.index("reporting")
_COUNT_ITEMS = [i for i in range(len(UNIT_FIGURES)) if i != REPORTING]

_MAGIC = b"NDC1"
#: Party columns of the batches written before ``called`` (their header does not say).
_FIRST_PARTY_COLUMNS = 3
#: Label keys: (code, item, kind) packed in one integer; items are below this.
_LABEL_ITEMS = max(len(UNIT_LABELS), len(PARTY_COLUMNS))
#: Batches are small except the first of a stream; level 1 is several times faster than the
#: default for a few percent more bytes (see benchmarks/store.py).
_LEVEL = 1


@dataclass(frozen=True, eq=False)
class Names:
    """Every unit and party id a stream has named, in first-seen order: position = code."""

    units: pd.Index
    parties: pd.Index

    @classmethod
    def empty(cls) -> Names:
        return cls(pd.Index([], dtype=object), pd.Index([], dtype=object))

    def extend(self, units: list[str], parties: list[str]) -> Names:
        if not units and not parties:
            return self
        return Names(
            self.units.append(pd.Index(units, dtype=object)) if units else self.units,
            self.parties.append(pd.Index(parties, dtype=object)) if parties else self.parties,
        )


def _codes(known: pd.Index, labels: pd.Index) -> tuple[np.ndarray, list[str]]:
    """Codes of ``labels`` in ``known``; labels not yet known get the next codes."""
    if len(known) == 0:
        return np.arange(len(labels), dtype=np.int64), [str(x) for x in labels]
    codes = known.get_indexer(labels).astype(np.int64)
    new = codes < 0
    if not new.any():
        return codes, []
    codes[new] = len(known) + np.arange(int(new.sum()))
    return codes, [str(x) for x in labels[new]]


_I64 = np.dtype("<i8")
_I32 = np.dtype("<i4")
_U8 = np.dtype("u1")


@dataclass(frozen=True, eq=False)
class Batch:
    """The cells one stored snapshot wrote (and the names and orders it introduced).

    Numeric cells: ``kind`` (VOTE/FIGURE), ``unit``, ``item``, ``value`` (int64; reporting:
    the float64's bits), ``null``. Text cells: ``label_kind`` (UNIT_LABEL/PARTY_LABEL),
    ``label_unit``, ``label_item``, ``labels`` (str or None).
    """

    new_units: list[str]
    new_parties: list[str]
    unit_order: np.ndarray | None
    party_order: np.ndarray | None
    kind: np.ndarray
    unit: np.ndarray
    item: np.ndarray
    value: np.ndarray
    null: np.ndarray
    label_kind: np.ndarray
    label_unit: np.ndarray
    label_item: np.ndarray
    labels: list[str | None]
    #: How many of PARTY_COLUMNS the writer knew (older batches: fewer).
    party_columns: int = len(PARTY_COLUMNS)

    @property
    def cells(self) -> int:
        """Cells written (numeric and text)."""
        return len(self.kind) + len(self.label_kind)

    def encode(self) -> bytes:
        """A compact, compressed form (header JSON, then the arrays' bytes)."""
        header = {
            "new_units": self.new_units,
            "new_parties": self.new_parties,
            "units": None if self.unit_order is None else len(self.unit_order),
            "party_order": None if self.party_order is None else self.party_order.tolist(),
            "n": len(self.kind),
            "labels": self.labels,
            "party_columns": self.party_columns,
        }
        text = json.dumps(header, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        text += b" " * (-len(text) % 8)  # keeps the int64 array aligned
        parts = [_MAGIC, struct.pack("<I", len(text)), text, self.value.astype(_I64).tobytes()]
        if self.unit_order is not None:
            parts.append(self.unit_order.astype(_I32).tobytes())
        parts += [
            self.unit.astype(_I32).tobytes(),
            self.item.astype(_I32).tobytes(),
            self.label_unit.astype(_I32).tobytes(),
            self.kind.astype(_U8).tobytes(),
            self.null.astype(_U8).tobytes(),
            self.label_kind.astype(_U8).tobytes(),
            self.label_item.astype(_U8).tobytes(),
        ]
        return zlib.compress(b"".join(parts), _LEVEL)

    @classmethod
    def decode(cls, data: bytes) -> Batch:
        raw = zlib.decompress(data)
        if raw[:4] != _MAGIC:
            raise ValueError("not a cell batch")
        (size,) = struct.unpack_from("<I", raw, 4)
        header = json.loads(raw[8 : 8 + size])
        at = 8 + size
        n, nl = int(header["n"]), len(header["labels"])

        def take(dtype: np.dtype, count: int) -> np.ndarray:
            nonlocal at
            out = np.frombuffer(raw, dtype=dtype, count=count, offset=at)
            at += count * dtype.itemsize
            return out

        value = take(_I64, n)
        units = header["units"]
        unit_order = None if units is None else take(_I32, units).astype(np.int64)
        unit = take(_I32, n).astype(np.int64)
        item = take(_I32, n).astype(np.int64)
        label_unit = take(_I32, nl).astype(np.int64)
        kind = take(_U8, n)
        null = take(_U8, n).astype(bool)
        label_kind = take(_U8, nl)
        label_item = take(_U8, nl)
        if at != len(raw):
            raise ValueError("cell batch has trailing bytes")
        party_columns = int(header.get("party_columns", _FIRST_PARTY_COLUMNS))
        if not 0 < party_columns <= len(PARTY_COLUMNS):
            raise ValueError(f"cell batch has {party_columns} party columns")
        order = header["party_order"]
        return cls(
            new_units=header["new_units"],
            new_parties=header["new_parties"],
            unit_order=unit_order,
            party_order=None if order is None else np.asarray(order, dtype=np.int64),
            kind=kind,
            unit=unit,
            item=item,
            value=value,
            null=null,
            label_kind=label_kind,
            label_unit=label_unit,
            label_item=label_item,
            labels=header["labels"],
            party_columns=party_columns,
        )


@dataclass(frozen=True, eq=False)
class State:
    """A stream's latest snapshot as the next diff needs it: with the stream's names and the
    codes of its units and parties (in its order)."""

    snapshot: Snapshot
    names: Names
    unit_codes: np.ndarray
    party_codes: np.ndarray


@dataclass(frozen=True, eq=False)
class Diff:
    """What :func:`diff` found: the batch to store and the counts for the timeline."""

    batch: Batch
    state: State  # ``after`` with the stream's names after this batch
    cells_changed: int  # vote cells that differ (as Delta counts them)
    corrections: int  # counts that went down (votes, figures, reporting) + vanished units


# ----------------------------------------------------------------------------- reading tables


def _figures(s: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """All UNIT_FIGURES as int64 (reporting: float64 bits; ``<NA>`` as 0) and the null mask."""
    counts, unknown = s.figure_arrays()
    rep = s.units["reporting"].array
    rep_null = np.asarray(rep.isna(), dtype=bool)
    rep_values = rep.to_numpy(dtype=np.float64, na_value=0.0)
    rep_values = np.where(rep_null, 0.0, rep_values)
    values = np.empty((len(counts), len(UNIT_FIGURES)), dtype=np.int64)
    null = np.empty(values.shape, dtype=bool)
    values[:, _COUNT_ITEMS] = counts
    null[:, _COUNT_ITEMS] = unknown
    values[:, REPORTING] = rep_values.view(np.int64)
    null[:, REPORTING] = rep_null
    return values, null


@dataclass(frozen=True, eq=False)
class _Tables:
    """A snapshot's figures and labels as arrays, made once: a snapshot is the ``after`` of
    one diff and the ``before`` of the next."""

    figures: np.ndarray
    figures_null: np.ndarray
    unit_labels: np.ndarray
    party_labels: np.ndarray


_TABLES: weakref.WeakKeyDictionary[Snapshot, _Tables] = weakref.WeakKeyDictionary()


def _tables(s: Snapshot) -> _Tables:
    tables = _TABLES.get(s)
    if tables is None:
        figures, null = _figures(s)
        tables = _Tables(
            figures, null, _text(s.units, UNIT_LABELS), _text(s.parties, PARTY_COLUMNS)
        )
        _TABLES[s] = tables
    return tables


def _text(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Text columns as one object array (rows × columns), ``None`` for ``<NA>``."""
    out = np.empty((len(frame), len(columns)), dtype=object)
    for j, col in enumerate(columns):
        out[:, j] = frame[col].array.to_numpy(dtype=object, na_value=None)
    return out


def _align(
    values: np.ndarray, null: np.ndarray, rows: np.ndarray | None, cols: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """``values``/``null`` re-laid on other rows/columns (``-1``: absent → null); ``None``
    means the same rows (columns)."""
    if rows is None and cols is None:
        return values, null
    r = np.arange(values.shape[0]) if rows is None else rows
    c = np.arange(values.shape[1]) if cols is None else cols
    out = np.zeros((len(r), len(c)), dtype=values.dtype)
    out_null = np.ones((len(r), len(c)), dtype=bool)
    hr, hc = r >= 0, c >= 0
    out[np.ix_(hr, hc)] = values[np.ix_(r[hr], c[hc])]
    out_null[np.ix_(hr, hc)] = null[np.ix_(r[hr], c[hc])]
    return out, out_null


def _differs(av: np.ndarray, an: np.ndarray, bv: np.ndarray, bn: np.ndarray) -> np.ndarray:
    return (an != bn) | (~an & (av != bv))


def _went_down(
    differs: np.ndarray, av: np.ndarray, an: np.ndarray, bv: np.ndarray, bn: np.ndarray
) -> np.ndarray:
    return differs & ~bn & (an | (av < bv))


# ----------------------------------------------------------------------------- diff


def diff(previous: State | None, after: Snapshot) -> Diff:
    """The cells of ``after`` that differ from the stream's previous snapshot (``None``: a
    new stream, every cell).

    Ids the stream has not named yet get new codes. The work is a few comparisons of whole
    arrays, then proportional to the cells that changed.
    """
    before = None if previous is None else previous.snapshot
    names = Names.empty() if previous is None else previous.names
    units, parties = after.votes.index, after.votes.columns
    same_units = same_parties = False
    if before is not None:
        b_units, b_parties = before.votes.index, before.votes.columns
        same_units = b_units is units or b_units.equals(units)
        same_parties = b_parties is parties or b_parties.equals(parties)
    if previous is not None and same_units:
        ucodes, new_units = previous.unit_codes, []
    else:
        ucodes, new_units = _codes(names.units, units)
    if previous is not None and same_parties:
        pcodes, new_parties = previous.party_codes, []
    else:
        pcodes, new_parties = _codes(names.parties, parties)
    names = names.extend(new_units, new_parties)

    av, an = after.vote_arrays()
    a = _tables(after)
    af, afn, a_ulab, a_plab = a.figures, a.figures_null, a.unit_labels, a.party_labels
    n_units, n_parties = len(units), len(parties)
    if before is None:
        rows = np.full(n_units, -1, dtype=np.int64)
        cols = np.full(n_parties, -1, dtype=np.int64)
        vanished_units = 0
        vanished_cols = np.zeros(0, dtype=bool)
        bv, bn = np.zeros((0, 0), np.int64), np.ones((0, 0), bool)
        bf, bfn = np.zeros((0, len(UNIT_FIGURES)), np.int64), np.ones((0, 0), bool)
        b_ulab = np.empty((0, len(UNIT_LABELS)), dtype=object)
        b_plab = np.empty((0, len(PARTY_COLUMNS)), dtype=object)
    else:
        rows = np.arange(n_units) if same_units else b_units.get_indexer(units)
        cols = np.arange(n_parties) if same_parties else b_parties.get_indexer(parties)
        vanished_units = 0 if same_units else len(b_units) - int((rows >= 0).sum())
        vanished_cols = (
            np.zeros(len(b_parties), dtype=bool)
            if same_parties
            else parties.get_indexer(b_parties) < 0
        )
        bv, bn = before.vote_arrays()
        b = _tables(before)
        bf, bfn, b_ulab, b_plab = b.figures, b.figures_null, b.unit_labels, b.party_labels
    fresh_row = rows < 0
    fresh_col = cols < 0

    # Votes.
    r_sel = None if same_units else rows
    c_sel = None if same_parties else cols
    if before is None:
        bv2, bn2 = np.zeros(av.shape, np.int64), np.ones(av.shape, bool)
    else:
        bv2, bn2 = _align(bv, bn, r_sel, c_sel)
    changed = _differs(av, an, bv2, bn2)
    down = _went_down(changed, av, an, bv2, bn2)
    cells_changed = int(changed.sum())
    corrections = int(down.sum())
    if vanished_cols.any():
        # A party gone from units still present: each count it had is withdrawn.
        kept = rows[rows >= 0]
        lost = int((~bn[np.ix_(kept, np.flatnonzero(vanished_cols))]).sum())
        cells_changed += lost
        corrections += lost
    write = changed
    if fresh_row.any() or fresh_col.any():
        write = changed | fresh_row[:, None] | fresh_col[None, :]
    vr, vc = np.nonzero(write)

    # Unit figures.
    if before is None:
        bf2, bfn2 = np.zeros(af.shape, np.int64), np.ones(af.shape, bool)
    else:
        bf2, bfn2 = _align(bf, bfn, r_sel, None)
    fchanged = _differs(af, afn, bf2, bfn2)
    counts_down = _went_down(
        fchanged[:, _COUNT_ITEMS],
        af[:, _COUNT_ITEMS],
        afn[:, _COUNT_ITEMS],
        bf2[:, _COUNT_ITEMS],
        bfn2[:, _COUNT_ITEMS],
    )
    rep_a = af[:, REPORTING].view(np.float64)
    rep_b = bf2[:, REPORTING].view(np.float64)
    rep_down = _went_down(
        fchanged[:, REPORTING], rep_a, afn[:, REPORTING], rep_b, bfn2[:, REPORTING]
    )
    corrections += int(counts_down.sum()) + int(rep_down.sum()) + vanished_units
    if fresh_row.any():
        fchanged = fchanged | fresh_row[:, None]
    fr, fc = np.nonzero(fchanged)

    # Labels (units, then parties).
    if before is None:
        b_ulab2 = np.full(a_ulab.shape, None, dtype=object)
        b_plab2 = np.full(a_plab.shape, None, dtype=object)
    else:
        b_ulab2 = b_ulab if same_units else _take_rows(b_ulab, rows)
        b_plab2 = b_plab if same_parties else _take_rows(b_plab, cols)
    ul = (a_ulab != b_ulab2) | fresh_row[:, None]
    pl = (a_plab != b_plab2) | fresh_col[:, None]
    ur, uc = np.nonzero(ul)
    pr, pc = np.nonzero(pl)

    batch = Batch(
        new_units=new_units,
        new_parties=new_parties,
        unit_order=None if same_units else ucodes,
        party_order=None if same_parties else pcodes,
        kind=np.concatenate(
            [np.full(len(vr), VOTE, dtype=np.uint8), np.full(len(fr), FIGURE, dtype=np.uint8)]
        ),
        unit=np.concatenate([ucodes[vr], ucodes[fr]]),
        item=np.concatenate([pcodes[vc], fc.astype(np.int64)]),
        value=np.concatenate([av[vr, vc], af[fr, fc]]),
        null=np.concatenate([an[vr, vc], afn[fr, fc]]),
        label_kind=np.concatenate(
            [
                np.full(len(ur), UNIT_LABEL, dtype=np.uint8),
                np.full(len(pr), PARTY_LABEL, dtype=np.uint8),
            ]
        ),
        label_unit=np.concatenate([ucodes[ur], pcodes[pr]]),
        label_item=np.concatenate([uc, pc]).astype(np.uint8),
        labels=a_ulab[ur, uc].tolist() + a_plab[pr, pc].tolist(),
    )
    return Diff(
        batch=batch,
        state=State(after, names, ucodes, pcodes),
        cells_changed=cells_changed,
        corrections=corrections,
    )


def _take_rows(table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full((len(rows), table.shape[1]), None, dtype=object)
    have = rows >= 0
    out[have] = table[rows[have]]
    return out


# ----------------------------------------------------------------------------- rebuild


def _last(keys: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each key (later batches win)."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(~pd.Index(keys).duplicated(keep="last"))


def _latest_order(batches: Sequence[Batch], attr: str) -> np.ndarray:
    for b in reversed(batches):
        order = getattr(b, attr)
        if order is not None:
            return order
    raise ValueError("no stored order: the first batch of a stream always has one")


def names_of(batches: Sequence[Batch]) -> Names:
    units = [u for b in batches for u in b.new_units]
    parties = [p for b in batches for p in b.new_parties]
    return Names.empty().extend(units, parties)


def _latest_cells(
    batches: Sequence[Batch], width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(kind, unit, item, value, null) of each numeric cell's last write (``width``: at
    least the stream's party count and the figure count, so keys cannot collide)."""
    kind = np.concatenate([b.kind for b in batches])
    unit = np.concatenate([b.unit for b in batches])
    item = np.concatenate([b.item for b in batches])
    value = np.concatenate([b.value for b in batches])
    null = np.concatenate([b.null for b in batches])
    last = _last(unit * (2 * width) + item * 2 + (kind != VOTE))
    return kind[last], unit[last], item[last], value[last], null[last]


def _latest_labels(
    batches: Sequence[Batch],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(label_kind, label_unit, label_item, texts) of each text cell's last write."""
    lkind = np.concatenate([b.label_kind for b in batches])
    lunit = np.concatenate([b.label_unit for b in batches])
    litem = np.concatenate([b.label_item for b in batches]).astype(np.int64)
    texts = np.empty(len(lkind), dtype=object)
    texts[:] = [t for b in batches for t in b.labels]
    last = _last((lunit * _LABEL_ITEMS + litem) * 2 + (lkind != UNIT_LABEL))
    return lkind[last], lunit[last], litem[last], texts[last]


def compact(batches: Sequence[Batch]) -> Batch:
    """One batch that stands for ``batches``: every name at its code, the latest orders and
    each cell's last write, so ``rebuild([compact(b), *later])`` equals
    ``rebuild([*b, *later])``. A reader that keeps it per stream reads only the batches
    written since (a viewer's cost per commit then follows the change, not the night)."""
    if len(batches) == 1:
        return batches[0]
    names = names_of(batches)
    kind, unit, item, value, null = _latest_cells(
        batches, max(len(names.parties), len(UNIT_FIGURES))
    )
    lkind, lunit, litem, texts = _latest_labels(batches)
    return Batch(
        new_units=[str(u) for u in names.units],
        new_parties=[str(p) for p in names.parties],
        unit_order=_latest_order(batches, "unit_order"),
        party_order=_latest_order(batches, "party_order"),
        kind=kind,
        unit=unit,
        item=item,
        value=value,
        null=null,
        label_kind=lkind,
        label_unit=lunit,
        label_item=litem.astype(np.uint8),
        labels=list(texts),
        party_columns=min(b.party_columns for b in batches),
    )


def _fill(
    shape: tuple[int, int],
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    null: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    grid = np.zeros(shape, dtype=np.int64)
    grid_null = np.ones(shape, dtype=bool)
    written = np.zeros(shape, dtype=bool)
    grid[rows, cols] = values
    grid_null[rows, cols] = null
    written[rows, cols] = True
    return grid, grid_null, written


def rebuild(
    batches: Sequence[Batch],
    *,
    source: str,
    fetched_at: datetime,
    published_at: datetime | None,
    race: Race | None,
) -> State:
    """The snapshot after ``batches`` (a stream's batches, oldest first), with its names."""
    names = names_of(batches)
    uorder = _latest_order(batches, "unit_order")
    porder = _latest_order(batches, "party_order")
    nu, npar, nf = len(names.units), len(names.parties), len(UNIT_FIGURES)
    kind, unit, item, value, null = _latest_cells(batches, max(npar, nf))
    is_vote = kind == VOTE
    v, vn, vw = _fill((nu, npar), unit[is_vote], item[is_vote], value[is_vote], null[is_vote])
    f, fn, fw = _fill((nu, nf), unit[~is_vote], item[~is_vote], value[~is_vote], null[~is_vote])
    v, vn, vw = v[np.ix_(uorder, porder)], vn[np.ix_(uorder, porder)], vw[np.ix_(uorder, porder)]
    f, fn, fw = f[uorder], fn[uorder], fw[uorder]

    lkind, lunit, litem, texts = _latest_labels(batches)
    is_unit = lkind == UNIT_LABEL
    ulab = np.full((nu, len(UNIT_LABELS)), None, dtype=object)
    ulw = np.zeros(ulab.shape, dtype=bool)
    ulab[lunit[is_unit], litem[is_unit]] = texts[is_unit]
    ulw[lunit[is_unit], litem[is_unit]] = True
    plab = np.full((npar, len(PARTY_COLUMNS)), None, dtype=object)
    plw = np.zeros(plab.shape, dtype=bool)
    plab[lunit[~is_unit], litem[~is_unit]] = texts[~is_unit]
    plw[lunit[~is_unit], litem[~is_unit]] = True
    ulab, ulw, plab, plw = ulab[uorder], ulw[uorder], plab[porder], plw[porder]
    # Party columns added since the oldest batch was written may be unwritten: <NA>.
    known = min(b.party_columns for b in batches)
    if not (vw.all() and fw.all() and ulw.all() and plw[:, :known].all()):
        raise ValueError("the stored cells do not cover the snapshot")

    unit_ids = names.units.to_numpy(dtype=object)[uorder]
    party_ids = names.parties.to_numpy(dtype=object)[porder]
    votes = typed_frame(
        [pd.arrays.IntegerArray(v[:, j].copy(), vn[:, j].copy()) for j in range(len(porder))],
        pd.Index(party_ids, dtype=object),
        pd.Index(unit_ids, dtype=object),
    )
    columns: dict[str, object] = {}
    for j, col in enumerate(UNIT_LABELS):
        columns[col] = _strings(ulab[:, j])
    for j, col in enumerate(UNIT_FIGURES):
        if j == REPORTING:
            columns[col] = pd.arrays.FloatingArray(f[:, j].view(np.float64).copy(), fn[:, j].copy())
        else:
            columns[col] = pd.arrays.IntegerArray(f[:, j].copy(), fn[:, j].copy())
    unit_table = pd.DataFrame(columns, index=pd.Index(unit_ids, dtype=object), copy=False)
    party_table = pd.DataFrame(
        {col: _strings(plab[:, j]) for j, col in enumerate(PARTY_COLUMNS)},
        index=pd.Index(party_ids, dtype=object),
        copy=False,
    )
    snapshot = Snapshot.build(
        source=source,
        votes=votes,
        units=unit_table,
        parties=party_table,
        fetched_at=fetched_at,
        published_at=published_at,
        race=race,
    )
    return State(snapshot, names, uorder, porder)


def _strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    out = values.copy()
    out[pd.isna(out)] = pd.NA
    return strings(out)


# ----------------------------------------------------------------------------- history


WITHDRAWN = -1  # a Step kind: the unit vanished


@dataclass(frozen=True, eq=False)
class Step:
    """What one batch changed, as Delta sees it (``position``: the batch's place).

    Parallel arrays, one entry per change: ``kind`` (VOTE, FIGURE, or WITHDRAWN for a unit
    that vanished), ``unit`` and ``item`` codes, before/after values (int64; reporting as
    float bits) with their null flags, and whether it was a correction. ``row`` and
    ``row_null``: the watched unit's votes after the batch, by party code (``None`` when no
    unit is watched); ``row_present``: whether that unit exists after the batch.
    """

    position: int
    kind: np.ndarray
    unit: np.ndarray
    item: np.ndarray
    before: np.ndarray
    before_null: np.ndarray
    after: np.ndarray
    after_null: np.ndarray
    correction: np.ndarray
    row: np.ndarray | None = None
    row_null: np.ndarray | None = None
    row_present: bool = False


def _changes(
    kind: int,
    u: np.ndarray,
    i: np.ndarray,
    bv: np.ndarray,
    bn: np.ndarray,
    value: np.ndarray,
    null: np.ndarray,
    floats: np.ndarray | None = None,
) -> tuple[np.ndarray, ...]:
    """The entries of cells that differ from their previous state."""
    bv = np.where(bn, 0, bv)
    av = np.where(null, 0, value)
    changed = _differs(av, null, bv, bn)
    lower = av < bv
    if floats is not None and floats.any():
        lower = np.where(floats, av.view(np.float64) < bv.view(np.float64), lower)
    down = changed & ~bn & (null | lower)
    return (
        np.full(int(changed.sum()), kind, dtype=np.int64),
        u[changed],
        i[changed],
        bv[changed],
        bn[changed],
        av[changed],
        null[changed],
        down[changed],
    )


def replay(batches: Sequence[Batch], watch: int | None = None) -> Iterator[Step]:
    """Each batch's changes against the state before it, oldest first (the first batch
    yields its cells as new). One vectorised step per batch, not per cell. ``watch``: a unit
    code whose votes each step reports (for a unit's history)."""
    names = names_of(batches)
    nu, npar, nf = len(names.units), len(names.parties), len(UNIT_FIGURES)
    votes = np.zeros((nu, npar), dtype=np.int64)
    votes_null = np.ones((nu, npar), dtype=bool)
    figs = np.zeros((nu, nf), dtype=np.int64)
    figs_null = np.ones((nu, nf), dtype=bool)
    units_in = np.zeros(nu, dtype=bool)
    parties_in = np.zeros(npar, dtype=bool)
    for position, b in enumerate(batches):
        was_units, was_parties = units_in.copy(), parties_in.copy()
        if b.unit_order is not None:
            units_in[:] = False
            units_in[b.unit_order] = True
        if b.party_order is not None:
            parties_in[:] = False
            parties_in[b.party_order] = True
        v = b.kind == VOTE
        vu, vi = b.unit[v], b.item[v]
        fu, fi = b.unit[~v], b.item[~v]
        parts = [
            _changes(
                VOTE,
                vu,
                vi,
                votes[vu, vi],
                ~(was_units[vu] & was_parties[vi]) | votes_null[vu, vi],
                b.value[v],
                b.null[v],
            ),
            _changes(
                FIGURE,
                fu,
                fi,
                figs[fu, fi],
                ~was_units[fu] | figs_null[fu, fi],
                b.value[~v],
                b.null[~v],
                fi == REPORTING,
            ),
        ]
        lost = np.flatnonzero(was_parties & ~parties_in)
        stayed = np.flatnonzero(was_units & units_in)
        if len(lost) and len(stayed):
            r, c = np.nonzero(~votes_null[np.ix_(stayed, lost)])
            n = len(r)
            zeros, ones = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
            parts.append(
                (
                    np.full(n, VOTE, dtype=np.int64),
                    stayed[r],
                    lost[c],
                    votes[stayed[r], lost[c]],
                    ~ones,
                    zeros,
                    ones,
                    ones,
                )
            )
        gone = np.flatnonzero(was_units & ~units_in)
        if len(gone):
            n = len(gone)
            zeros, ones = np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool)
            parts.append(
                (np.full(n, WITHDRAWN, dtype=np.int64), gone, zeros, zeros, ones, zeros, ones, ones)
            )
        votes[vu, vi] = b.value[v]
        votes_null[vu, vi] = b.null[v]
        figs[fu, fi] = b.value[~v]
        figs_null[fu, fi] = b.null[~v]
        cols = [np.concatenate(x) for x in zip(*parts, strict=True)]
        row = row_null = None
        present = False
        if watch is not None:
            row = votes[watch].copy()
            row_null = votes_null[watch] | ~parties_in
            present = bool(units_in[watch])
        yield Step(position, *cols, row=row, row_null=row_null, row_present=present)
