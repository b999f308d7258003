"""The part of AP's v2 results JSON that nightdesk reads, as typed records.

msgspec decodes the body straight into these (C speed, unknown keys skipped, types and
ranges checked as it goes): about three times faster than ``json.loads`` and far faster
than walking the dicts in Python. A body these types refuse is not necessarily wrong for
nightdesk's purpose: :mod:`adapters.ap_check` reads it again with the standard library and
says exactly what is wrong, or :func:`convert` accepts it from there.

Ids and names are ``str | int`` because AP writes some ids as numbers and nightdesk reads
either (never booleans, which msgspec keeps apart from integers).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from nightdesk.model import MAX_COUNT

__all__ = ["Candidate", "Doc", "RaceRecord", "Unit", "convert", "decode"]

Id = str | int | None
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)] | None
Precincts = Annotated[int, msgspec.Meta(ge=0)] | None
Percent = Annotated[float, msgspec.Meta(ge=0, le=100)] | None


# gc=False: decoded JSON holds no reference cycles, and untracked records spare the
# collector a pass over thousands of them per poll.
class Candidate(msgspec.Struct, gc=False):
    candidateID: Id = None
    polID: Id = None
    first: Id = None
    last: Id = None
    voteCount: Count = None
    winner: Any = None  # "X" winner, "R" runoff; anything else: not called


class Unit(msgspec.Struct, gc=False):
    statePostal: Id = None
    stateName: Id = None
    level: str | None = None
    reportingunitName: Id = None
    reportingunitID: Id = None
    fipsCode: Id = None
    precinctsReporting: Precincts = None
    precinctsTotal: Precincts = None
    precinctsReportingPct: Percent = None
    lastUpdated: Any = None  # a time when it is a string; ignored otherwise
    candidates: list[Candidate] = []


class RaceRecord(msgspec.Struct, gc=False):
    raceID: Id = None
    statePostal: Id = None
    officeName: Id = None
    officeID: Id = None
    seatName: Id = None
    party: Id = None
    raceType: Id = None
    test: Any = None  # test data only when it is exactly true
    lastUpdated: Id = None
    reportingUnits: list[Unit] | None = None


class Doc(msgspec.Struct, gc=False):
    races: list[RaceRecord] | None = None
    nextrequest: Any = None
    timestamp: Any = None
    isTruncated: Any = None


_DECODER = msgspec.json.Decoder(Doc)


def decode(body: bytes) -> Doc | None:
    """The results document, or None when these types refuse the body (bad JSON, another
    shape, a value out of range): the careful reader then says why."""
    try:
        doc = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
    return doc if doc.races is not None else None


def convert(doc: dict[str, Any]) -> Doc:
    """A document the careful reader has checked, as records.

    Raises:
        msgspec.ValidationError: a value these types refuse that the careful checks let
            through (its message names the path).
    """
    return msgspec.convert(doc, Doc)
