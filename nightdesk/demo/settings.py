"""The config `nightdesk demo` watches: the same as ``examples/demo.toml``, on any port."""

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
