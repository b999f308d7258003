"""The opposition's parallel tally on the demo night: the official count, seen by the party.

In 2013 the CNRP disputed the official count and claimed 63 seats; no tally of its own per
province was ever published, so this one is **invented** for the demo, to give the compare
screen (``c``) something to find. It follows the official night batch by batch (a party's
observers copy the same polling-station forms) and differs from it:

- in the few provinces of :data:`DIFFERENCES`, by amounts that grow with each province's
  reporting and are exact once it is fully counted: Takeo by the magnitudes the press
  reported for that province's late revision, Kandal by enough to give CNRP the 7th seat it
  was 166 votes short of (so the tally's seats are CPP 67, CNRP 56);
- never in the official data-entry error (a typo in the NEC's figures is not on the
  party's forms), so for ten seconds mid-night the compare screen shows it;
- in one spelling: Kampong Cham is "Kompong Cham" (:data:`SPELLINGS`), which the demo
  config's ``[aliases.units]`` maps back.

The late revision reaches the tally as it reaches the official count. Deterministic: the
night's seed fixes the official count, and the differences are constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd

from nightdesk.demo.definition import OPPOSITION_CLAIM, PROVINCES
from nightdesk.demo.night import PARTY_IDS, PROVINCE_NAMES, TYPO_SIZE, Night

#: The tally's table: one row per province × party; no registered voters or ballots cast.
COLUMNS: tuple[str, ...] = ("province", "party", "votes", "seats", "reporting")


@dataclass(frozen=True)
class Difference:
    """Tally minus official count, for one party in one province, once it is fully counted."""

    province: str  # the official spelling
    party: str
    change: int


#: Where the tally disagrees with the official count at the end of the night.
DIFFERENCES: tuple[Difference, ...] = (
    Difference("Takeo", "CNRP", 890),
    Difference("Takeo", "CPP", -1_694),
    Difference("Kampong Cham", "CNRP", 1_240),
    Difference("Kampong Cham", "CPP", -615),
    Difference("Kandal", "CNRP", 371),  # 166 were enough for a 7th seat
    Difference("Prey Veng", "CNRP", 508),
    Difference("Prey Veng", "CPP", -212),
)

#: The tally's own spellings of official province names.
SPELLINGS: Mapping[str, str] = MappingProxyType({"Kampong Cham": "Kompong Cham"})

#: The seat claim the demo serves at ``/claim.csv`` (``format = "claim"``).
CLAIM_CSV = "party,seats\n" + "".join(f"{p},{n}\n" for p, n in OPPOSITION_CLAIM.items())


def differences() -> np.ndarray:
    """:data:`DIFFERENCES` as a (province, party) array of the final tally − official."""
    out = np.zeros((len(PROVINCE_NAMES), len(PARTY_IDS)), dtype=np.int64)
    for d in DIFFERENCES:
        out[PROVINCE_NAMES.index(d.province), PARTY_IDS.index(d.party)] += d.change
    return out


class Tally:
    """The tally of one :class:`~nightdesk.demo.night.Night`, by the night's versions.

    Precomputed for every version, so :meth:`frame` is one lookup, as the night's is.
    """

    def __init__(self, night: Night) -> None:
        self.night = night
        counts = night.all_counts()
        reported = night.reported()  # (version, province)
        votes = counts + np.rint(differences()[None] * reported[:, :, None]).astype(np.int64)
        # The NEC's typo is not on the party's forms.
        first = night.version_at(night.typo_time)
        fixed = night.version_at(night.typo_fixed_time)
        typo = PROVINCE_NAMES.index(night.typo_province)
        votes[first:fixed, typo, PARTY_IDS.index("CPP")] -= TYPO_SIZE
        self._votes = votes
        self._unreported = reported == 0
        self._reporting = np.round(reported, 4)
        n, n_parties = len(PROVINCE_NAMES), len(PARTY_IDS)
        names = [SPELLINGS.get(p, p) for p in PROVINCE_NAMES]
        self._province_col = np.repeat(np.array(names, dtype=object), n_parties)
        self._party_col = np.tile(np.array(PARTY_IDS, dtype=object), n)
        self._seats_col = np.repeat(np.array([p.seats for p in PROVINCES], np.int64), n_parties)

    def state_at(self, t: float) -> pd.DataFrame:
        """The tally at simulated time ``t`` (votes ``<NA>`` until a province reports)."""
        return self.frame(self.night.version_at(t))

    def final(self) -> pd.DataFrame:
        """The tally at the end of the night."""
        return self.frame(len(self.night.event_times))

    def frame(self, version: int) -> pd.DataFrame:
        n_parties = len(PARTY_IDS)
        unreported = np.repeat(self._unreported[version], n_parties)
        return pd.DataFrame(
            {
                "province": self._province_col,
                "party": self._party_col,
                "votes": pd.arrays.IntegerArray(self._votes[version].ravel().copy(), unreported),
                "seats": self._seats_col,
                "reporting": np.repeat(self._reporting[version], n_parties),
            },
            columns=list(COLUMNS),
        )
