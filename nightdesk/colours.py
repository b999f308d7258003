"""Party colours from the config (``[colours]``): the form is checked when the config loads;
the terminal layer decides how a colour is drawn (or not, under NO_COLOR)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nightdesk.config_reader import Reader

#: "#1f4e9c", "#f00", "rgb(31, 78, 156)" or a colour name such as "red" / "dark_orange".
_COLOUR = re.compile(
    r"#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)|[a-z_]+\d*"
)


def read_colours(reader: Reader, data: Mapping[str, Any]) -> dict[str, str]:
    """party id or name = "colour"."""
    out: dict[str, str] = {}
    for party, value in data.items():
        if not isinstance(value, str) or not _COLOUR.fullmatch(value.strip()):
            raise reader.error(
                ("colours",),
                party,
                f'expected a colour such as "red", "#1f4e9c" or "rgb(31, 78, 156)", got {value!r}',
            )
        out[party] = value.strip()
    return out
