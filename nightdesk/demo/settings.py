"""The config `nightdesk demo` watches: the official count (the same as ``examples/demo.toml``,
on any port), the opposition's parallel tally and its seat claim, so that ``c`` (compare) has
the seed story to show: 68–55 against a claimed 63."""

from __future__ import annotations

from nightdesk import config

DEMO_TOML = """\
[election]
name = "National Assembly 2013, Cambodia"
timezone = "Asia/Phnom_Penh"
seats_method = "dhondt"
threshold = 0.0
simulated = true

[[sources]]
name = "demo"
url = "{url}/results.csv"
format = "csv"
interval = 2

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
registered = "registered"
ballots_cast = "ballots_cast"
reporting = "reporting"

# The opposition's parallel tally (invented for the demo) and its seat claim (CNRP 63).
# Short names: the party pane heads each source's seats column with five characters.
[[sources]]
name = "tally"
url = "{url}/tally.csv"
format = "csv"
interval = 2

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"

[[sources]]
name = "claim"
url = "{url}/claim.csv"
format = "claim"
interval = 30

[aliases.units]                # the tally spells one province its own way
"Kampong Cham" = ["Kompong Cham"]
"""


def demo_toml(base_url: str, interval: float | None = None) -> str:
    """The demo's config text for a feed served at ``base_url``."""
    text = DEMO_TOML.format(url=base_url.rstrip("/"))
    if interval is not None:
        text = text.replace("interval = 2\n", f"interval = {interval}\n")
    return text


def demo_config(base_url: str, interval: float | None = None) -> config.Config:
    """The demo's config for a feed served at ``base_url`` (e.g. ``http://127.0.0.1:8765``)."""
    return config.parse(demo_toml(base_url, interval))
