"""Party colours for the screen: the config's ``[colours]``, else the feed's, else a stable
palette by the feed's party order (so a party keeps its colour as the votes reorder the lines).

A colour only paints a swatch or a bar; the party's name and numbers always say the same
thing, so NO_COLOR and 16-colour terminals lose nothing. A colour the terminal layer cannot
read (the config checks only its form) falls back to the palette and is logged, never fatal.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pandas as pd
from rich.color import Color as RichColor
from rich.color import ColorParseError as RichColorParseError
from rich.style import Style
from rich.text import Span, Text
from textual.color import Color, ColorParseError

#: Under "nightdesk": the CLI writes that logger to the desk's log file.
log = logging.getLogger("nightdesk.tui.colours")

#: Mid-tone colours, each with a contrast of at least 3:1 (a graphic's minimum) against both
#: the dark (#121212) and light (#E0E0E0) default backgrounds; the first few differ most.
PALETTE: tuple[str, ...] = (
    "#3B6FB6",  # blue
    "#D62828",  # red
    "#A16207",  # amber
    "#15803D",  # green
    "#B5179E",  # magenta
    "#0E7490",  # teal
    "#C2410C",  # orange
    "#7C3AED",  # violet
    "#DB2777",  # pink
    "#6B7280",  # grey
)


def parse(value: str) -> Color | None:
    """A colour in Textual's syntax, or a Rich colour name ("dark_orange", "grey50");
    None when neither reads it."""
    text = value.strip()
    try:
        return Color.parse(text.lower() if not text.startswith("#") else text)
    except ColorParseError:
        pass
    try:
        return Color.from_rich_color(RichColor.parse(text.lower()))
    except RichColorParseError:
        return None


def palette(index: int) -> Color:
    """The default colour of the party in this position of the feed's party order."""
    return Color.parse(PALETTE[index % len(PALETTE)])


def party_colours(parties: pd.DataFrame, configured: Mapping[str, str]) -> dict[str, Color]:
    """Party id → colour, for every party of a snapshot's ``parties`` table.

    The config may name a party by id, name or short name; then the feed's own colour; then
    the palette by position.
    """
    out: dict[str, Color] = {}
    for index, (party, row) in enumerate(parties.iterrows()):
        party = str(party)
        chosen: Color | None = None
        for key in (party, row.get("name"), row.get("short_name")):
            if isinstance(key, str) and key in configured:
                chosen = parse(configured[key])
                if chosen is None:
                    log.warning(
                        "colours.%s: %r is not a colour the terminal knows; using the default",
                        key,
                        configured[key],
                    )
                break
        feed = row.get("colour")
        if chosen is None and isinstance(feed, str) and feed:
            chosen = parse(feed)
            if chosen is None:
                log.warning("party %s: the feed's colour %r is not a colour", party, feed)
        out[party] = chosen if chosen is not None else palette(index)
    return out


def colourless(text: Text) -> Text:
    """The text with its colours taken out and its emphasis kept (bold, reverse, …).

    Under NO_COLOR Textual turns every colour into its grey; a red correction becomes a dark
    grey that barely shows on a dark background. Without its colour it is drawn in the
    text's own colour, and its weight and its marks (▼, "correction") still set it apart.
    """

    def plain(style: str | Style) -> Style:
        return (Style.parse(style) if isinstance(style, str) else style).without_color

    out = text.copy()
    out.style = plain(text.style)
    out.spans = [Span(s.start, s.end, plain(s.style)) for s in text.spans]
    return out
