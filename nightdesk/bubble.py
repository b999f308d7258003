"""Seats on the bubble: every unit's last seat, closest first, and what flipping them does.

The desk's question on the night: which seats could still change hands, and what would the
national count be if the closest few did?
"""

from __future__ import annotations

import pandas as pd

from nightdesk.results import RaceResult

COLUMNS = ["unit", "name", "holder", "challenger", "votes_needed", "holder_can_lose"]


def seats_on_the_bubble(result: RaceResult) -> pd.DataFrame:
    """Contested last seats, fewest votes needed first (ties: the smaller holder margin)."""
    m = result.allocation.margins
    contested = m[m["challenger"].notna() & m["votes_needed"].notna()]
    names = result.snapshot.units["name"].reindex(contested.index).astype(str)
    out = pd.DataFrame(
        {
            "unit": contested.index.astype(str),
            "name": names.to_numpy(),
            "holder": contested["holder"].astype(str).to_numpy(),
            "challenger": contested["challenger"].astype(str).to_numpy(),
            "votes_needed": contested["votes_needed"].to_numpy(),
            "holder_can_lose": contested["holder_can_lose"].to_numpy(),
        },
        columns=COLUMNS,
    )
    return out.sort_values(
        ["votes_needed", "holder_can_lose", "unit"], kind="stable", na_position="last"
    ).reset_index(drop=True)


def if_closest_flipped(result: RaceResult, n: int) -> pd.Series:
    """National seats if the ``n`` closest last seats went from holder to challenger."""
    totals = result.allocation.totals().copy()
    flips = seats_on_the_bubble(result).head(max(n, 0))
    lost = flips["holder"].value_counts()
    gained = flips["challenger"].value_counts()
    totals = totals.sub(lost.reindex(totals.index, fill_value=0), fill_value=0)
    totals = totals.add(gained.reindex(totals.index, fill_value=0), fill_value=0)
    return totals.astype("int64")
