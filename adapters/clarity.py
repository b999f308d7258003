"""The ``clarity`` feed format: Scytl/Clarity Election Night Reporting ``detail.xml``.

A body is the ``detail.xml`` itself or the ``detail.zip`` that wraps it (told apart by the
zip's magic bytes). County-level files (a state's site: Choice > VoteType > County) and
precinct-level files (a county's site: … > Precinct) read the same way: one Snapshot per
contest, ``race = Race(contest key, contest text)``, the counties or precincts as units
(ids are their names, unique in a Clarity file; all top-level: the file's ``Region`` is the
whole), the choices as parties (ids their keys; ``party`` is a choice's short label only
where no other choice in the contest shares it — in a primary all are "REP").

- ``votes`` sums each unit's vote types; ``vote_types`` keeps the split under the file's
  own names ("Election Day", "Absentee by Mail", …). A choice whose ``totalVotes`` differs
  from its units is logged, not refused (the units are the detail the desk reads).
- ``reporting`` is precincts reported / participating per unit, from the contest's
  ``ParticipatingCounties`` (else the election-wide turnout block). Precinct files give no
  per-precinct reporting, so it is left unknown. Turnout's voter and ballot counts are not
  used (they are election-wide, and broken in Georgia's files).
- The published time is the ``<Timestamp>`` read with its US zone (``EDT``…); without a
  zone nightdesk knows, the server's ``Last-Modified`` is used instead, never a guess.
- ``contests = [...]`` chooses contests by key or by text (case and runs of spaces ignored);
  all contests when it is left out. A name that matches nothing is an error naming the
  closest contests. ``max_unzipped_bytes`` caps the unzipped ``detail.xml`` (zip bombs).
- Parsing: :mod:`adapters.clarity_zip` → :mod:`adapters.clarity_xml` (defusedxml, then the
  fast or the careful reader) → :mod:`adapters.clarity_cubes` (NumPy) →
  :mod:`adapters.clarity_tables` (one Snapshot per contest).

The entry point in ``pyproject.toml`` names :data:`CLARITY_FORMAT`.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping, Sequence
from itertools import chain
from types import MappingProxyType
from typing import Any

import numpy as np

from adapters.clarity_cubes import Segments, all_cubes, segment_sums, vote_numbers
from adapters.clarity_document import Contest, Document
from adapters.clarity_tables import contest_snapshots, disagreements
from adapters.clarity_time import clarity_time
from adapters.clarity_xml import read_document
from adapters.clarity_zip import MAX_UNZIPPED_BYTES, is_zip, unzip_detail
from adapters.feed_time import published_at
from nightdesk.errors import FeedError
from nightdesk.formats import OptionSpec, ParseContext
from nightdesk.model import MAX_COUNT, Snapshot, has_control, printable_text

__all__ = ["CLARITY_FORMAT", "ClarityFormat"]

log = logging.getLogger(__name__)

_SHOWN = 5


def _check_contests(value: list[Any]) -> str | None:
    if not value:
        return "name at least one contest, or leave contests out to watch them all"
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
            return f"{item!r} is not a contest key or name (a non-empty string)"
    return None


def _check_cap(value: int) -> str | None:
    if isinstance(value, bool) or value <= 0:
        return f"expected a size in bytes > 0, got {value!r}"
    return None


_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "contests": OptionSpec(
            (list,), 'a list of contest keys or names, such as ["10", "Governor"]', _check_contests
        ),
        "max_unzipped_bytes": OptionSpec(
            (int,), "the largest detail.xml to unzip, in bytes", _check_cap
        ),
    }
)


def _norm(text: str) -> str:
    """Contest text as compared: case and runs of spaces do not count (web pages collapse
    the double spaces Clarity files carry, and people copy names from web pages)."""
    return " ".join(text.split()).casefold()


def _wanted(items: Sequence[str] | None) -> Callable[[str, str], bool]:
    if items is None:
        return lambda key, text: True
    keys = set(items)
    texts = {_norm(i) for i in items}
    return lambda key, text: key in keys or _norm(text) in texts


def _contest_items(ctx: ParseContext) -> list[str] | None:
    value = ctx.options.get("contests")
    if value is None:
        return None
    problem = "contests must be a list" if not isinstance(value, list) else _check_contests(value)
    if problem:
        raise FeedError(f"option contests: {problem}")
    return [str(v).strip() for v in value]


def _check_found(items: list[str], contests: list[Contest]) -> None:
    """Every configured contest must exist; a miss names the closest contests."""
    keys = {c.key for c in contests}
    texts = {_norm(c.text) for c in contests}
    missing = [i for i in items if i not in keys and _norm(i) not in texts]
    if not missing:
        return
    item = missing[0]
    by_norm = {_norm(c.text): c.text for c in contests}
    close = difflib.get_close_matches(_norm(item), list(by_norm), n=_SHOWN, cutoff=0.6)
    if close:
        hint = "close names: " + ", ".join(repr(by_norm[n]) for n in close)
    else:
        shown = ", ".join(f"{c.key} {c.text!r}" for c in contests[:_SHOWN])
        hint = f"the feed's contests are {shown}" + (
            f" … ({len(contests)} in all)" if len(contests) > _SHOWN else ""
        )
    more = f" (and {len(missing) - 1} more not found)" if len(missing) > 1 else ""
    raise FeedError(
        f"option contests: no contest has the key or name {printable_text(item)!r}{more}; "
        f"{printable_text(hint)}"
    )


def _check_keys(contests: list[Contest]) -> None:
    seen: set[str] = set()
    for c in contests:
        if c.key in seen:
            where = f" (line {c.line})" if c.line else ""
            raise FeedError(
                f"contest key {printable_text(c.key)!r} appears twice{where}; "
                "each contest needs its own key"
            )
        seen.add(c.key)


class ClarityFormat:
    """Clarity ENR ``detail.xml`` / ``detail.zip``: one Snapshot per contest."""

    name: str = "clarity"
    needs_columns: bool = False
    options: Mapping[str, OptionSpec] = _OPTIONS

    def __repr__(self) -> str:
        return "CLARITY_FORMAT"

    def parse(self, body: bytes, ctx: ParseContext) -> list[Snapshot]:
        """Bytes → one Snapshot per chosen contest; raises FeedError saying what is wrong."""
        if not body or body.isspace():
            raise FeedError("empty response", source=ctx.source)
        items = _contest_items(ctx)
        if is_zip(body):
            cap = ctx.options.get("max_unzipped_bytes", MAX_UNZIPPED_BYTES)
            body = unzip_detail(body, cap=cap)
        doc = read_document(body, _wanted(items))
        if not doc.contests:
            raise FeedError("the Clarity file lists no contests")
        _check_keys(doc.contests)
        if items is not None:
            _check_found(items, doc.contests)
        return snapshots(doc, ctx)


def snapshots(doc: Document, ctx: ParseContext) -> list[Snapshot]:
    """The chosen contests' Snapshots from a document read by :func:`read_document`."""
    chosen = [c for c in doc.contests if c.selected]
    numbers = vote_numbers(doc)  # converted once (the careful reader leaves texts)
    # Taken apart once for the cubes, sums and checks (the fast reader made them so).
    segments = doc.segments if doc.segments is not None else Segments.of(chosen)
    cubes = all_cubes(doc, chosen, numbers, segments)
    # Checked once for the whole document; per contest only when they may fail.
    large = bool(numbers.sum(dtype=np.float64) > MAX_COUNT)
    control = _has_control(doc, chosen, cubes.names)
    if not large:
        sums, cells = segment_sums(numbers, chosen, segments)
        _report_disagreements(chosen, sums, cells, ctx.source, segments)
    published = clarity_time(doc.texts.get("Timestamp")) or published_at(ctx.headers)
    return contest_snapshots(
        chosen,
        cubes,
        doc=doc,
        source=ctx.source,
        fetched_at=ctx.fetched_at,
        published_at=published,
        large=large,
        control=control,
    )


def _has_control(doc: Document, chosen: list[Contest], names: Sequence[str]) -> bool:
    """Whether a unit name (``names``: every distinct one the cells carry, and those the
    contests' reporting lists), a choice key or the region holds a control character."""
    reporting: set[str] = set().union(*(contest.reporting for contest in chosen))
    return has_control(
        "".join(names)
        + "".join(reporting)
        + "".join([c.key for c in chain.from_iterable(contest.choices for contest in chosen)])
        + (doc.texts.get("Region") or "")
    )


def _report_disagreements(
    chosen: list[Contest],
    sums: np.ndarray,
    cells: np.ndarray,
    source: str,
    segments: Segments,
) -> None:
    """One log line per poll for the contests whose stated totals differ from their units."""
    found = disagreements(chosen, sums, cells, segments)
    if found:
        log.warning(
            "source %s: %d clarity contest(s) disagree with themselves; the units' votes are "
            "used. %s%s",
            source,
            len(found),
            found[0],
            f" (and {len(found) - 1} more)" if len(found) > 1 else "",
        )


CLARITY_FORMAT = ClarityFormat()
