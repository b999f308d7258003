"""Feed formats, found by name through entry points so the engine never imports adapters.

A format is any object with a ``name``, the extra ``[[sources]]`` keys it accepts
(``options``), whether it needs a ``[sources.columns]`` mapping, and a pure ``parse``.
Third parties add one by declaring an entry point in the group ``nightdesk.formats``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Literal, Protocol, runtime_checkable

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

    def parse(self, body: bytes, ctx: ParseContext) -> Snapshot | Sequence[Snapshot]:
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
    try:
        result = fmt.parse(body, ctx)
    except FeedError as exc:
        raise exc.for_source(ctx.source) from exc
    except (ValueError, TypeError, KeyError, IndexError, UnicodeError) as exc:
        # An input the parser did not anticipate (or a parser bug): the user sees a feed
        # error, never a crash; the traceback goes to the log for whoever maintains it.
        log.warning("format %s failed on source %s", fmt.name, ctx.source, exc_info=True)
        raise FeedError(f"could not read the feed as {fmt.name}: {exc}", source=ctx.source) from exc
    return [result] if isinstance(result, Snapshot) else list(result)
