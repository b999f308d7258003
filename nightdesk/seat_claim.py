"""A seat claim: seats a party (or an observer) says it won, with no votes behind them.

On the night in the seed the opposition claimed 63 seats against the official 55. A claim is
read like any source (polled, stored, compared), so it travels as a :class:`Snapshot` whose
votes are all ``<NA>`` — honestly "not reported": a claim gives seats, never votes — and
whose claimed seats ride alongside, per unit when the claim names units and nationally in
any case. Nothing is allocated from a claim; the compare engine reads the seats it claims.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

import numpy as np
import pandas as pd

from nightdesk.model import Snapshot

__all__ = ["ClaimSnapshot", "claim_snapshot", "claimed_seats"]


@dataclass(frozen=True, eq=False)
class ClaimSnapshot(Snapshot):
    """A :class:`Snapshot` of a seat claim.

    Attributes:
        claimed: index unit id, columns party id, ``Int64`` claimed seats; no rows for a
            claim of national totals only, ``<NA>`` where a unit's claim leaves a party out.
        claimed_national: party id → ``Int64`` seats claimed nationally (the units' sums
            when the claim is per unit).
    """

    claimed: pd.DataFrame | None = None
    claimed_national: pd.Series | None = None

    def _claim_tables(self) -> tuple[pd.DataFrame, pd.Series]:
        claimed = self.claimed if self.claimed is not None else pd.DataFrame(dtype="Int64")
        national = (
            self.claimed_national if self.claimed_national is not None else pd.Series(dtype="Int64")
        )
        return claimed, national

    def same_counts(self, other: Snapshot) -> bool:
        """Equal votes and units (none given) are not enough: the claimed seats must match."""
        if self is other:
            return True
        if not isinstance(other, ClaimSnapshot):
            return False
        mine, theirs = self._claim_tables(), other._claim_tables()
        return (
            mine[0].equals(theirs[0]) and mine[1].equals(theirs[1]) and super().same_counts(other)
        )

    @cached_property
    def _content_key(self) -> str:
        h = hashlib.sha256(super()._content_key.encode())
        for frame in self._claim_tables():
            h.update("\x1f".join(map(str, frame.index)).encode() + b"\x1e")
            h.update(frame.to_json().encode())
        return h.hexdigest()


def claim_snapshot(
    *,
    source: str,
    parties: list[str],
    seats: np.ndarray,
    units: list[str] | None,
    fetched_at: datetime,
    published_at: datetime | None = None,
) -> ClaimSnapshot:
    """A checked claim from its rows: ``parties[i]`` claims ``seats[i]`` (in ``units[i]``
    when given, else nationally). A (unit, party) or party given twice is refused by the
    adapter before this; here the tables are built."""
    seats = np.asarray(seats, dtype=np.int64)
    if units is None:
        order = list(dict.fromkeys(parties))
        national = pd.Series(
            pd.array(seats, dtype="Int64"), index=pd.Index(parties, name="party")
        ).reindex(order)
        claimed = pd.DataFrame(
            index=pd.Index([], name="unit", dtype=object), columns=pd.Index(order, name="party")
        ).astype("Int64")
    else:
        long = pd.DataFrame({"unit": units, "party": parties, "seats": seats})
        claimed = long.pivot(index="unit", columns="party", values="seats")
        claimed = claimed.reindex(
            index=list(dict.fromkeys(units)), columns=list(dict.fromkeys(parties))
        ).astype("Int64")
        claimed.index.name, claimed.columns.name = "unit", "party"
        national = claimed.sum(axis=0, min_count=1).astype("Int64")
    votes = pd.DataFrame(index=claimed.index.copy(), columns=claimed.columns.copy()).astype("Int64")
    base = ClaimSnapshot.build(
        source=source, votes=votes, fetched_at=fetched_at, published_at=published_at
    )
    claimed.index = base.votes.index  # printable ids, as the snapshot's
    claimed.columns = base.votes.columns
    national.index = pd.Index(base.votes.columns, name="party")
    return replace(base, claimed=claimed, claimed_national=national)


def claimed_seats(snapshot: Snapshot) -> tuple[pd.DataFrame, pd.Series] | None:
    """A claim's seats (per unit, national), or ``None`` for a snapshot that is not a claim."""
    if not isinstance(snapshot, ClaimSnapshot):
        return None
    return snapshot._claim_tables()
