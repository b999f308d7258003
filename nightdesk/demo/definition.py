"""The facts of Cambodia's 2013 National Assembly election that the demo is shaped on.

Everything here is public record, written as the project's own data; the shared reference folder
(``SOURCES.md``) records where each fact comes from:

- Seats per province and the CPP/CNRP split (123 = 68 + 55): the CPP's release the day after the
  vote, as tabulated by New Mandala ("Cambodia's inverted mandala"); the National Election
  Committee's preliminary results of 12 August 2013 gave the same split, and VOA's
  ``VOANews/cambodia-election`` data agrees in every province.
- National votes (CPP 3,235,969; CNRP 2,946,176): NEC official preliminary results released
  12 August 2013, as reported by the Cambodia Daily and the Wikipedia infobox.
- Registered voters (9,675,453): the Wikipedia infobox.
- Changes between the early and the official preliminary count (Takeo CNRP +890 / CPP +1,694;
  Kratie CPP +1,532 / CNRP +297; Kandal CNRP "fewer than 500"): press reports.
- Kandal's margin for a 7th CNRP seat: 166 votes on the 12 August figures (Cambodia Daily
  analysis), "just under 900" on the earlier figures (Phnom Penh Post analysis).
- The opposition's seat claim: the CNRP said the day after the vote that it had won 63
  of the 123 seats (the seed story in ``design.md``: "68–55 vs 63 for the opposition"; the
  shared reference folder has no row for it). It named its own figure only; CPP's 60 is
  arithmetic, not a claim, so the demo's claim names CNRP alone.

Not public anywhere: votes per party per province, registered voters per province, the six
small parties' votes and any opposition tally per province. The demo simulates those (see
:mod:`nightdesk.demo.night` and :mod:`nightdesk.demo.tally`) and says so wherever it shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from nightdesk.model import Party

ELECTION_NAME = "Cambodia National Assembly 2013 (simulated night)"
ELECTION_DATE = date(2013, 7, 28)
TIMEZONE = "Asia/Phnom_Penh"
SEATS_METHOD = "dhondt"


@dataclass(frozen=True)
class Province:
    """A provincial constituency with its real seats and the real 2013 seat split."""

    name: str
    seats: int
    cpp_seats: int
    cnrp_seats: int


@dataclass(frozen=True)
class Revision:
    """A reported change between the early and the official preliminary count."""

    province: str
    party: str
    change: int


#: The 24 constituencies, spelled and ordered as in the shared ``seats_by_province.csv``.
PROVINCES: tuple[Province, ...] = (
    Province("Banteay Meanchey", 6, 4, 2),
    Province("Battambang", 8, 5, 3),
    Province("Kampong Cham", 18, 8, 10),
    Province("Kampong Chhnang", 4, 2, 2),
    Province("Kampong Speu", 6, 3, 3),
    Province("Kampong Thom", 6, 3, 3),
    Province("Kampot", 6, 3, 3),
    Province("Kandal", 11, 5, 6),
    Province("Koh Kong", 1, 1, 0),
    Province("Kratie", 3, 2, 1),
    Province("Mondul Kiri", 1, 1, 0),
    Province("Phnom Penh", 12, 5, 7),
    Province("Preah Vihear", 1, 1, 0),
    Province("Prey Veng", 11, 5, 6),
    Province("Pursat", 4, 3, 1),
    Province("Ratanak Kiri", 1, 1, 0),
    Province("Siem Reap", 6, 4, 2),
    Province("Preah Sihanouk", 1, 1, 0),
    Province("Stung Treng", 1, 1, 0),
    Province("Svay Rieng", 5, 3, 2),
    Province("Takeo", 8, 4, 4),
    Province("Kep", 1, 1, 0),
    Province("Pailin", 1, 1, 0),
    Province("Oddar Meanchey", 1, 1, 0),
)

#: The eight parties that stood, the two seat winners first; colours are the demo's defaults.
PARTIES: tuple[Party, ...] = (
    Party("CPP", "Cambodian People's Party", "CPP", "#1f4e9c"),
    Party("CNRP", "Cambodia National Rescue Party", "CNRP", "#f28c28"),
    Party("FUNCINPEC", "FUNCINPEC", "FUNCINPEC", "#c0392b"),
    Party("LDP", "League for Democracy Party", "LDP", "#2e8b57"),
    Party("KAP", "Khmer Anti-Poverty Party", "KAP", "#8e44ad"),
    Party("KEDP", "Khmer Economic Development Party", "KEDP", "#8b5a2b"),
    Party("CNP", "Cambodian Nationality Party", "CNP", "#17a2b8"),
    Party("RDP", "Republican Democratic Party", "RDP", "#d45d9b"),
)

TOTAL_SEATS = 123

#: NEC official preliminary results, released 12 August 2013.
NATIONAL_VOTES: Mapping[str, int] = MappingProxyType({"CPP": 3_235_969, "CNRP": 2_946_176})
NATIONAL_SEATS: Mapping[str, int] = MappingProxyType({"CPP": 68, "CNRP": 55})
REGISTERED_VOTERS = 9_675_453
#: Turnout as reported (ballots over registered voters), for calibrating the simulation.
TURNOUT = 0.685

#: The press-reported changes from the early to the official preliminary count.
REVISIONS: tuple[Revision, ...] = (
    Revision("Takeo", "CNRP", 890),
    Revision("Takeo", "CPP", 1_694),
    Revision("Kratie", "CPP", 1_532),
    Revision("Kratie", "CNRP", 297),
)
#: Kandal's CNRP revision was reported only as "fewer than 500 votes".
KANDAL_CNRP_REVISION_BELOW = 500
#: Extra votes CNRP needed for a 7th Kandal seat on the NEC's 12 August figures.
KANDAL_MARGIN_FINAL = 166
#: ... and on the earlier figures: "just under 900".
KANDAL_MARGIN_EARLY_BELOW = 900

#: The seats the CNRP claimed against the official 55 (the demo serves it as a seat claim).
OPPOSITION_CLAIM: Mapping[str, int] = MappingProxyType({"CNRP": 63})
