"""One race of one source, assessed: the snapshot, what changed, and the seats it gives.

A poll usually moves a few cells of a large table, so :func:`assess` can start from the
previous poll's result (``prior``) and recompute seats, margins and decided seats only for
the units whose inputs changed; the rest are copied. Every unit's result depends only on its
own row and on two national vectors (the parties over the national threshold, and those
sure to stay over it), so the copy is exact: the incremental result equals the full one.
The feed checks (``nightdesk.checks``) cost less than the comparison that would find what
to copy, so both paths run them on the whole snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from nightdesk.checks import Findings, findings
from nightdesk.config import ElectionConfig
from nightdesk.decided import (
    decided_array,
    national_sure,
    remaining_ballots,
    uncounted,
)
from nightdesk.delta import Delta, compare
from nightdesk.model import Snapshot
from nightdesk.seats import (
    Allocation,
    AllocationArrays,
    SeatRules,
    allocate_arrays,
    allocation_tables,
    check_inputs,
    check_rules,
    national_eligible,
)


@dataclass(frozen=True)
class EngineInputs:
    """What a result was computed from, as arrays by unit: the next poll compares its own
    inputs with these to find the units that changed. Read-only."""

    rules: SeatRules
    units: pd.Index
    parties: pd.Index
    votes: np.ndarray  # int64, <NA> as 0 (the snapshot's own array)
    seats: np.ndarray  # int64
    valid: np.ndarray  # int64, the threshold's base
    known: np.ndarray  # bool: uncounted ballots known
    remaining: np.ndarray  # int64, 0 where unknown
    national: np.ndarray  # bool per party: over the national threshold
    national_sure: np.ndarray | None  # bool per party: sure to stay over it
    allocation: AllocationArrays | None = None  # the results, shared with the tables
    decided: np.ndarray | None = None  # int64


@dataclass(frozen=True)
class RaceResult:
    """Everything the screens and reports need about one race at one moment.

    The tables are read-only: they share memory with ``inputs``, which the next poll reads.
    """

    snapshot: Snapshot
    previous: Snapshot | None
    delta: Delta
    allocation: Allocation
    seats: pd.Series  # Int64 seats per unit as used for the allocation
    #: int64 per unit × party: the seats held now that no uncounted ballots can take away
    #: (``nightdesk.decided``); ``allocation.seats − decided`` are provisional.
    decided: pd.DataFrame
    #: What the feed says that cannot all be true (``nightdesk.checks``): flagged on screen,
    #: never hidden.
    findings: Findings
    #: For the next poll's incremental assess; never refers to an older result, so keeping
    #: the latest result keeps no history.
    inputs: EngineInputs | None = field(default=None, repr=False, compare=False)

    @property
    def race_key(self) -> str:
        return self.snapshot.race.id if self.snapshot.race else ""


def unit_seats(snapshot: Snapshot, election: ElectionConfig) -> pd.Series:
    """Seats per unit: the feed's figure, else ``[election.seats]`` by unit id, then name."""
    seats = snapshot.units["seats"].copy()
    if not election.seats and seats.dtype == "Int64":  # astype would only copy again
        return seats
    by_id = pd.Series(snapshot.units.index, index=snapshot.units.index).map(election.seats)
    by_name = snapshot.units["name"].map(election.seats)
    seats = seats.fillna(by_id.astype("Int64")).fillna(by_name.astype("Int64"))
    return seats.astype("Int64")


def assess(
    snapshot: Snapshot,
    previous: Snapshot | None,
    election: ElectionConfig,
    prior: RaceResult | None = None,
) -> RaceResult:
    """Compare with the previous snapshot and allocate seats (CPU work: run off the loop).

    ``prior``: the previous poll's result of this race, if any. Only the units whose
    inputs differ from it (votes, seats, valid votes, uncounted ballots, new units) are
    computed; a change of rules or parties, or of who is over the national threshold,
    computes everything. The result is the same either way.
    """
    rules = election.rules
    check_rules(rules)
    units, parties = snapshot.votes.index, snapshot.votes.columns
    seats = unit_seats(snapshot, election)
    v, _ = snapshot.vote_arrays()
    s = seats.array.to_numpy(dtype=np.int64, na_value=0)
    check_inputs(v, s, units)
    val = snapshot.unit_valid().array.to_numpy(dtype=np.int64, na_value=0)
    known, r = uncounted(remaining_ballots(snapshot))
    # National figures count the top level only: a county's votes are also its state's.
    top = snapshot.top_level()
    flat = bool(top.all())
    vt = v if flat else v[top]
    national_valid = (
        int((val if flat else val[top]).sum()) if rules.national_threshold > 0 else None
    )
    national = national_eligible(vt, rules, national_valid)
    if flat:
        nat_sure = national_sure(v, known, r, rules, national_valid)
    else:
        nat_sure = national_sure(vt, known[top], r[top], rules, national_valid)
    new = EngineInputs(rules, units, parties, v, s, val, known, r, national, nat_sure)
    # Whether the units are the same as before, found once (a comparison of every id).
    same_units = previous is not None and _same_index(previous.votes.index, units)
    old = prior.inputs if prior is not None else None
    if old is None or old.rules != rules or not old.parties.equals(parties) or not len(old.units):
        arrays = allocate_arrays(v, s, val, national, rules)
        decided = decided_array(v, s, arrays.won, known, r, val, rules, nat_sure)
    else:
        known_same = previous is not None and old.units is previous.votes.index
        arrays, decided = _update(new, old, same_units if known_same else None)
    arrays, decided = arrays.frozen(), _read_only(decided)
    return RaceResult(
        snapshot=snapshot,
        previous=previous,
        delta=compare(previous, snapshot, same_units=same_units if previous is not None else None),
        allocation=allocation_tables(arrays, units, parties, share=True),
        seats=seats,
        decided=pd.DataFrame(decided, index=units, columns=parties, copy=False),
        findings=findings(snapshot),
        inputs=replace(new, allocation=arrays, decided=decided),
    )


def _update(
    new: EngineInputs, old: EngineInputs, same_units: bool | None
) -> tuple[AllocationArrays, np.ndarray]:
    """Allocation and decided seats of ``new``, copying the units unchanged since ``old``
    (same rules and parties; ``old`` has units and its results). ``same_units``: whether
    both have the same units in the same order, if known."""
    assert old.allocation is not None and old.decided is not None
    if same_units is None:
        same_units = _same_index(old.units, new.units)
    if same_units:  # the usual poll: compare in place, copy whole arrays
        dirty = _differ(new, old, slice(None))
        copied, decided = old.allocation.copy(), old.decided.copy()
        pos: np.ndarray | slice = slice(None)
    else:  # units added, removed or moved: line the old rows up with the new ones
        at = old.units.get_indexer(new.units)
        pos = np.where(at < 0, 0, at)
        dirty = _differ(new, old, pos) | (at < 0)
        copied, decided = old.allocation.take(pos), np.take(old.decided, pos, axis=0)
    v, s, val, known, r, rules = (
        new.votes,
        new.seats,
        new.valid,
        new.known,
        new.remaining,
        new.rules,
    )
    if np.array_equal(new.national, old.national):
        arrays, again = copied, dirty
        rows = np.flatnonzero(dirty)
        if len(rows):
            arrays.put(rows, allocate_arrays(v[rows], s[rows], val[rows], new.national, rules))
    else:  # who is over the national threshold moved: every unit can change
        arrays = allocate_arrays(v, s, val, new.national, rules)
        again = dirty | (arrays.won != copied.won).any(axis=1)
    if not _same(new.national_sure, old.national_sure):
        return arrays, decided_array(v, s, arrays.won, known, r, val, rules, new.national_sure)
    rows = np.flatnonzero(again)
    if len(rows):
        decided[rows] = decided_array(
            v[rows],
            s[rows],
            arrays.won[rows],
            known[rows],
            r[rows],
            val[rows],
            rules,
            new.national_sure,
        )
    return arrays, decided


def _differ(new: EngineInputs, old: EngineInputs, pos: np.ndarray | slice) -> np.ndarray:
    """Per new unit: whether any input differs from the old unit at ``pos``."""
    dirty = (
        (new.seats != old.seats[pos])
        | (new.valid != old.valid[pos])
        | (new.known != old.known[pos])
        | (new.remaining != old.remaining[pos])
    )
    n_parties = new.votes.shape[1]
    if n_parties:
        # Few cells change: find them in the flat arrays (faster than any(axis=1)).
        cells = np.flatnonzero(new.votes.ravel() != old.votes[pos].ravel())
        dirty[cells // n_parties] = True
    return dirty


def _same_index(a: pd.Index, b: pd.Index) -> bool:
    return a is b or a.equals(b)


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _read_only(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a
