"""One race of one source, assessed: the snapshot, what changed, and the seats it gives."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nightdesk.config import ElectionConfig
from nightdesk.decided import decided_seats, remaining_ballots
from nightdesk.delta import Delta, compare
from nightdesk.model import Snapshot
from nightdesk.seats import Allocation, allocate


@dataclass(frozen=True)
class RaceResult:
    """Everything the screens and reports need about one race at one moment."""

    snapshot: Snapshot
    previous: Snapshot | None
    delta: Delta
    allocation: Allocation
    seats: pd.Series  # Int64 seats per unit as used for the allocation
    #: int64 per unit × party: the seats held now that no uncounted ballots can take away
    #: (``nightdesk.decided``); ``allocation.seats − decided`` are provisional.
    decided: pd.DataFrame

    @property
    def race_key(self) -> str:
        return self.snapshot.race.id if self.snapshot.race else ""


def unit_seats(snapshot: Snapshot, election: ElectionConfig) -> pd.Series:
    """Seats per unit: the feed's figure, else ``[election.seats]`` by unit id, then name."""
    seats = snapshot.units["seats"].copy()
    if election.seats:
        by_id = pd.Series(snapshot.units.index, index=snapshot.units.index).map(election.seats)
        by_name = snapshot.units["name"].map(election.seats)
        seats = seats.fillna(by_id.astype("Int64")).fillna(by_name.astype("Int64"))
    return seats.astype("Int64")


def assess(snapshot: Snapshot, previous: Snapshot | None, election: ElectionConfig) -> RaceResult:
    """Compare with the previous snapshot and allocate seats (CPU work: run off the loop)."""
    seats = unit_seats(snapshot, election)
    national_valid = None
    if election.rules.national_threshold > 0:
        national_valid = int(snapshot.unit_valid().fillna(0).sum())
    valid = snapshot.unit_valid()
    allocation = allocate(
        snapshot.votes,
        seats,
        valid=valid,
        rules=election.rules,
        national_valid=national_valid,
    )
    decided = decided_seats(
        snapshot.votes,
        seats,
        allocation.seats,
        remaining_ballots(snapshot),
        election.rules,
        valid=valid,
        national_valid=national_valid,
    )
    return RaceResult(
        snapshot=snapshot,
        previous=previous,
        delta=compare(previous, snapshot),
        allocation=allocation,
        seats=seats,
        decided=decided,
    )
