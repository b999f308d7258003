"""Feed formats, found by name through entry points so the engine never imports adapters.

A format is any object with a ``name``, the extra ``[[sources]]`` keys it accepts
(``options``), whether it needs a ``[sources.columns]`` mapping, and a pure ``parse``.
Third parties add one by declaring an entry point in the group ``nightdesk.formats``.

Optional, for APIs that need them (the poller and fetcher look for them with ``getattr``,
so a format without them works as before):

- ``parse`` may return a :class:`Page` instead of snapshots: the snapshots plus the URL to
  ask next for what changed (AP's ``nextrequest``). The poller then follows it and merges
  each answer, which holds only what changed, into the state it holds (``ctx.partial``).
- ``env_headers(options, url)``: request headers whose values come from environment
  variables (header → variable), like ``headers_env`` but decided by the format (AP's key).
- ``quota``: a :class:`Quota`, how the API says "too many requests" and how long it advises
  waiting (instead of the usual exponential backoff).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Literal, Protocol, runtime_checkable

from nightdesk import hierarchy
from nightdesk.errors import ConfigError, FeedError
from nightdesk.model import UNIT_COLUMNS, Snapshot

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "nightdesk.formats"

#: The optional unit columns a table may map: the model's unit columns, one list for both.
OPTIONAL_COLUMNS: tuple[str, ...] = UNIT_COLUMNS


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a table is which (``[sources.columns]``).

    Long tables set ``party`` and ``votes``; wide tables set ``parties`` to a list of
    column names, or ``"*"`` for every column not mapped to something else.
    """

    unit: str
    party: str | None = None
    votes: str | None = None
    parties: tuple[str, ...] | Literal["*"] | None = None
    optional: Mapping[str, str] = field(default_factory=dict)
    #: Columns naming each row's race (``race = ["office", "district"]``): a Snapshot per race.
    race: tuple[str, ...] = ()
    #: ``parent = ["state", "county"]``, outermost first: unit ids become paths
    #: ("GA/Fulton/1B"). The one-column form stays ``optional["parent"]``.
    parent_path: tuple[str, ...] = ()
    #: Votes by how they were cast, (name, column) pairs; ``votes`` is then the total's
    #: column, or ``None`` when the total is their sum.
    vote_types: tuple[tuple[str, str], ...] = ()

    @property
    def is_wide(self) -> bool:
        return self.parties is not None

    def mapped(self) -> dict[str, str]:
        """Role → column name for every mapped column except wide party columns."""
        roles = {"unit": self.unit}
        if self.party:
            roles["party"] = self.party
        if self.votes:
            roles["votes"] = self.votes
        roles.update(self.optional)
        return roles


@dataclass(frozen=True)
class ParseContext:
    """What a parser may know besides the bytes: which source, when, and how it is mapped."""

    source: str
    fetched_at: datetime
    columns: ColumnMap | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The body answers a followed next URL (:attr:`Page.next_url`): it holds only what
    #: changed, so a race or filter match missing from it is not an error.
    partial: bool = False


@dataclass(frozen=True)
class Page:
    """What a parse found besides its snapshots: where to ask next for what changed.

    ``next_url``: a URL whose answer holds only the races that changed since this body
    (AP's ``nextrequest``); ``None`` when the feed gives none. ``more``: the server said it
    holds more changes than it sent (AP's ``isTruncated``): ask ``next_url`` at once.
    """

    snapshots: Sequence[Snapshot]
    next_url: str | None = None
    more: bool = False


@dataclass(frozen=True)
class Quota:
    """How an API says "over quota" and how long it advises waiting before the next try.

    The poller waits a random time in ``wait`` (seconds) after such an answer, instead of
    its exponential backoff; a ``Retry-After`` the server sends is still a floor.
    """

    statuses: frozenset[int] = frozenset({429})
    wait: tuple[float, float] = (5.0, 10.0)


@dataclass(frozen=True)
class OptionSpec:
    """One extra key a format accepts in its ``[[sources]]`` table.

    ``check`` (optional) returns a reason when a value of the right type is still unusable,
    so the config loader can refuse it at start instead of every poll failing later.
    """

    types: tuple[type, ...]
    expected: str
    check: Callable[[Any], str | None] | None = None


@runtime_checkable
class Format(Protocol):
    """A feed format plugin."""

    name: str
    needs_columns: bool
    options: Mapping[str, OptionSpec]

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot | Sequence[Snapshot] | Page:
        """Turn one response body into snapshots (one per race). Pure; raises FeedError."""
        ...


@cache
def available() -> dict[str, Any]:
    """Installed formats by name (entry points, not yet loaded)."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


@cache
def load(name: str) -> Format:
    """The format called ``name``; :class:`ConfigError` if none is installed."""
    eps = available()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConfigError(f"unknown format {name!r}; installed formats: {known}", key="format")
    fmt = eps[name].load()
    if not isinstance(fmt, Format):
        raise ConfigError(f"format plugin {name!r} does not provide parse()", key="format")
    return fmt


def parse(fmt: Format, body: bytes, ctx: ParseContext) -> list[Snapshot]:
    """Run a parser and always return a list, naming the source in any error."""
    # Units within units: complete the tree once here, so every consumer (compare, store,
    # screens) sees the same snapshot.
    return [hierarchy.rollup(s) for s in read(fmt, body, ctx).snapshots]


def read(fmt: Format, body: bytes, ctx: ParseContext) -> Page:
    """Run a parser and return its :class:`Page`, naming the source in any error.

    The snapshots are as the feed gives them, before :func:`hierarchy.rollup`: a partial
    answer is merged into the held state first, and the merged tree completed after.
    """
    try:
        result = fmt.parse(body, ctx)
    except FeedError as exc:
        raise exc.for_source(ctx.source) from exc
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError, RecursionError) as exc:
        # An input the parser did not anticipate (or a parser bug): the user sees a feed
        # error, never a crash; the traceback goes to the log for whoever maintains it.
        log.warning("format %s failed on source %s", fmt.name, ctx.source, exc_info=True)
        raise FeedError(f"could not read the feed as {fmt.name}: {exc}", source=ctx.source) from exc
    if isinstance(result, Page):
        return Page(list(result.snapshots), result.next_url, result.more)
    return Page([result] if isinstance(result, Snapshot) else list(result))


def env_headers(fmt: Format, options: Mapping[str, Any], url: str) -> Mapping[str, str]:
    """The format's own secret headers for a source (header → environment variable)."""
    method = getattr(fmt, "env_headers", None)
    return dict(method(options, url)) if callable(method) else {}


def quota(fmt: Format) -> Quota | None:
    """How the format's API says "over quota", if it says."""
    found = getattr(fmt, "quota", None)
    return found if isinstance(found, Quota) else None
