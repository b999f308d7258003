"""Names other sources use for the same units and parties (``[aliases]``), so sources can
be compared unit by unit and party by party."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nightdesk.config_reader import Reader


@dataclass(frozen=True)
class Aliases:
    """Alias → the canonical name (the first source's id), for units and for parties."""

    units: Mapping[str, str] = field(default_factory=dict)
    parties: Mapping[str, str] = field(default_factory=dict)


def read_aliases(reader: Reader, data: Mapping[str, Any]) -> Aliases:
    """``[aliases.units]`` / ``[aliases.parties]``: canonical = ["other name", …]."""
    t: tuple[Any, ...] = ("aliases",)
    reader.table(data, t, ["units", "parties"])
    found: dict[str, dict[str, str]] = {}
    for kind in ("units", "parties"):
        table = reader.get(data, t, kind, (dict,), "a table of name = [other names]", {})
        mapping: dict[str, str] = {}
        for canonical, others in table.items():
            names = [others] if isinstance(others, str) else others
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise reader.error(
                    (*t, kind), canonical, "expected a name or a list of names (strings)"
                )
            for name in names:
                if name in mapping and mapping[name] != canonical:
                    raise reader.error(
                        (*t, kind),
                        canonical,
                        f"{name!r} is already an alias of {mapping[name]!r}",
                    )
                mapping[name] = canonical
        found[kind] = mapping
    return Aliases(units=found["units"], parties=found["parties"])
