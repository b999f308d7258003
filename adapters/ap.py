"""The ``ap`` feed format: the AP Elections API's v2 JSON results (``level=ru``).

One Snapshot per race, ``race = Race("CT-7002", "CT President (GOP primary)", test=…)``:
AP repeats a raceID across states, so the id is qualified by the state; ``races = [...]``
in the config matches either form. Units: the state row (AP's own totals, no parent) and
its subunits (counties, towns) under it, ids qualified ("CT/7001"). Parties: the
candidates ("First Last", short name the last name), with AP's calls (winner "X" →
``called = "winner"``, "R" → "runoff"). ``reporting`` = precinctsReporting /
precinctsTotal. The published time is the race's latest ``lastUpdated`` (so a race that did
not change keeps its time), else the body's ``timestamp``, else ``Last-Modified``.

Decisions worth knowing:

- A race without reporting units (AP gives uncontested races so: nothing counted) is left
  out, logged; if that leaves nothing, the error says so.
- Filters: ``races``, ``office`` (officeName or officeID), ``state`` (postal code or
  name), each a string or a list, case ignored; a race must match every filter given.
  All races when none is given. In a full answer, a filter that matches nothing is an error
  that lists what the feed has.
- ``nextrequest`` is returned as :attr:`Page.next_url`; the poller follows it and merges
  (``nightdesk.partial``). ``isTruncated`` asks for the next page at once.
- The key: ``api_key_env`` names the environment variable, sent as ``x-api-key``; without
  it, ``AP_API_KEY`` for URLs on AP's own host (``*.ap.org``), nothing elsewhere.
- 403 and 429 are AP's "over quota": the poller waits 5–10 s, as AP advises.

The entry point in ``pyproject.toml`` names :data:`AP_FORMAT`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import httpx
import msgspec

from adapters.ap_check import check_races
from adapters.ap_races import RaceInfo, Times, race_info, race_snapshot
from adapters.ap_schema import Doc, convert, decode
from adapters.feed_text import refuse_markup
from adapters.feed_time import published_at
from nightdesk.errors import FeedError
from nightdesk.formats import OptionSpec, Page, ParseContext, Quota
from nightdesk.model import Snapshot, printable_text

__all__ = ["AP_FORMAT", "APFormat"]

log = logging.getLogger(__name__)

#: The environment variable read for AP's own host when ``api_key_env`` is not given.
DEFAULT_KEY_ENV = "AP_API_KEY"
KEY_HEADER = "x-api-key"
#: AP's advice for "403: Per-minute quota exceeded": wait 5–10 s and try again.
AP_QUOTA = Quota(statuses=frozenset({403, 429}), wait=(5.0, 10.0))
RESULTS_URL = "https://api.ap.org/v2/elections/{date}?format=json&level=ru"
_SHOWN = 6
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _check_names(value: str | list[Any]) -> str | None:
    items = [value] if isinstance(value, str) else value
    if not items:
        return "give at least one, or leave the key out for all races"
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int) or not str(item).strip():
            return f"{item!r} is not a name or id (a non-empty string)"
    return None


def _check_env(value: str) -> str | None:
    if not _ENV_NAME.fullmatch(value):
        return f"{value!r} is not the name of an environment variable"
    return None


_OPTIONS: Mapping[str, OptionSpec] = MappingProxyType(
    {
        "races": OptionSpec(
            (list,), 'a list of AP race ids, such as ["7582"] or ["CO-7582"]', _check_names
        ),
        "office": OptionSpec(
            (str, list),
            'an office name or id, or a list, such as "President" or ["P", "G"]',
            _check_names,
        ),
        "state": OptionSpec(
            (str, list), 'a state postal code or name, or a list, such as "CT"', _check_names
        ),
        "api_key_env": OptionSpec(
            (str,), "the name of the environment variable holding the AP API key", _check_env
        ),
    }
)


def _wanted(ctx: ParseContext, key: str) -> list[str] | None:
    value = ctx.options.get(key)
    if value is None:
        return None
    items = [value] if isinstance(value, str | int) else list(value)
    return [str(item).strip().casefold() for item in items]


class APFormat:
    """AP Elections API v2 JSON (``level=ru``): one Snapshot per race."""

    name: str = "ap"
    needs_columns: bool = False
    options: Mapping[str, OptionSpec] = _OPTIONS
    quota: Quota = AP_QUOTA

    def __repr__(self) -> str:
        return "AP_FORMAT"

    def env_headers(self, options: Mapping[str, Any], url: str) -> Mapping[str, str]:
        """``x-api-key`` from ``api_key_env``, or from ``AP_API_KEY`` on AP's own host."""
        var = options.get("api_key_env")
        if var is None and _is_ap_host(url):
            var = DEFAULT_KEY_ENV
        return {KEY_HEADER: var} if var else {}

    def parse(self, body: bytes, ctx: ParseContext) -> Page:
        """Bytes → one Snapshot per chosen race, and the URL to ask next for changes."""
        doc = decode(body)
        if doc is None:  # refused by the typed decode: read carefully, to say why
            loaded = _load(body, ctx.source)
            if loaded.get("races") is None and ctx.partial and _next_url(loaded) is not None:
                return Page([], _next_url(loaded))  # nothing changed: only the next link
            doc = _careful(loaded)
        next_url = _next_url(doc)
        races = doc.races or []
        infos = [race_info(race, i) for i, race in enumerate(races)]
        chosen = _choose(infos, ctx)
        fallback = _feed_time(doc.timestamp) or published_at(ctx.headers)
        times = Times()
        snapshots: list[Snapshot] = []
        empty: list[str] = []
        for info in chosen:
            if not info.units:
                empty.append(info.key)
                continue
            snapshots.append(
                race_snapshot(
                    info,
                    source=ctx.source,
                    fetched_at=ctx.fetched_at,
                    published_at=fallback,
                    times=times,
                )
            )
        if empty:
            log.info(
                "source %s: %d race(s) without reporting units left out (uncontested): %s",
                ctx.source,
                len(empty),
                ", ".join(empty[:_SHOWN]),
            )
        if not snapshots and not ctx.partial:
            raise FeedError(_nothing_left(infos, chosen, empty))
        return Page(snapshots, next_url, more=doc.isTruncated is True)


def _is_ap_host(url: str) -> bool:
    try:
        host = httpx.URL(url).host.lower()
    except (httpx.InvalidURL, ValueError, TypeError):
        return False
    return host == "ap.org" or host.endswith(".ap.org")


def _careful(doc: dict[str, Any]) -> Doc:
    """A body the typed decode refused, read with the standard library: the FeedError that
    says what is wrong and where, or the document when nightdesk can read it after all."""
    races = doc.get("races")
    if races is None:
        raise FeedError(_not_results(doc))
    if not isinstance(races, list):
        raise FeedError(f'"races" must be an array, not {type(races).__name__}')
    check_races(races)
    try:
        return convert(doc)
    except msgspec.ValidationError as exc:
        raise FeedError(f"not AP results as nightdesk reads them: {exc}") from None


def _next_url(doc: Doc | dict[str, Any]) -> str | None:
    url = doc.get("nextrequest") if isinstance(doc, dict) else doc.nextrequest
    return url if isinstance(url, str) and url.strip() else None


def _load(body: bytes, source: str) -> dict[str, Any]:
    """The decoded JSON object, or a FeedError that says what is wrong and where."""
    if not body or body.isspace():
        raise FeedError("empty response")
    try:
        doc = json.loads(body)
    except UnicodeDecodeError as exc:
        raise FeedError(
            f"the feed is not valid UTF-8 JSON ({exc.reason} at byte {exc.start})"
        ) from None
    except json.JSONDecodeError as exc:
        head = body[:4096].decode("utf-8", "replace")
        refuse_markup(head, expected="JSON", source=source)
        where = f"line {exc.lineno}, column {exc.colno}: {exc.msg}"
        if exc.pos >= len(exc.doc.rstrip()):
            raise FeedError(
                f"the JSON stops before its end ({where}); the feed is truncated"
            ) from None
        raise FeedError(f"not valid JSON ({where})") from None
    except RecursionError:
        raise FeedError("the JSON nests too deeply to be AP results") from None
    if not isinstance(doc, dict):
        raise FeedError(
            f'expected a JSON object with a "races" array (AP Elections API v2 results), '
            f"got {_kind(doc)}"
        )
    return doc


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _not_results(doc: dict[str, Any]) -> str:
    """Why a JSON object without races is not results, and which URL would be."""
    if isinstance(doc.get("elections"), list):
        dates = [
            e["electionDate"]
            for e in doc["elections"]
            if isinstance(e, dict) and isinstance(e.get("electionDate"), str)
        ]
        example = RESULTS_URL.format(date=dates[-1] if dates else "YYYY-MM-DD")
        listed = f" (dates listed: {', '.join(dates[-_SHOWN:])})" if dates else ""
        return printable_text(
            "this is AP's list of elections, not results: point url at one election's "
            f"results, such as {example}{listed}"
        )
    if "reports" in doc:
        return "this is AP's list of reports, not results: point url at /v2/elections/DATE"
    keys = ", ".join(printable_text(str(k)) for k in list(doc)[:_SHOWN]) or "none"
    return f'no "races" array: not AP Elections API results (its keys: {keys})'


def _feed_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    when = Times().parse(value)
    return when.astimezone(UTC) if when is not None else None


def _matches(
    info: RaceInfo, races: list[str] | None, offices: list[str] | None, states: list[str] | None
) -> bool:
    if races is not None and not (info.race_id.casefold() in races or info.key.casefold() in races):
        return False
    if offices is not None and not any(
        v is not None and v.casefold() in offices for v in (info.office, info.office_id)
    ):
        return False
    return states is None or any(
        v is not None and v.casefold() in states for v in (info.state, info.state_name)
    )


def _choose(infos: list[RaceInfo], ctx: ParseContext) -> list[RaceInfo]:
    """The races the config watches; in a full answer, a filter matching nothing is an error."""
    races, offices, states = (_wanted(ctx, k) for k in ("races", "office", "state"))
    if races is None and offices is None and states is None:
        chosen = infos
    else:
        chosen = [i for i in infos if _matches(i, races, offices, states)]
    seen: set[str] = set()
    for info in infos:
        if info.key in seen:
            raise FeedError(f"race {info.key} appears twice in the feed")
        seen.add(info.key)
    if ctx.partial or not infos:
        return chosen
    if races is not None:
        found = {i.race_id.casefold() for i in chosen} | {i.key.casefold() for i in chosen}
        absent = [r for r in races if r not in found]
        if absent:
            raise FeedError(
                f"race {', '.join(map(repr, absent))} is not in the feed ({_offer(infos)})"
            )
    if not chosen:
        raise FeedError(f"no race matches the config's filters ({_offer(infos)})")
    return chosen


def _offer(infos: list[RaceInfo]) -> str:
    """What the feed has, briefly: for an error about filters."""
    offices = sorted({i.office or i.office_id or "?" for i in infos})
    states = sorted({i.state or "?" for i in infos})
    some = ", ".join(f"{i.key} {i.name}" for i in infos[:3])
    return printable_text(
        f"{len(infos)} races; offices: {', '.join(offices[:_SHOWN])}"
        + ("…" if len(offices) > _SHOWN else "")
        + f"; states: {', '.join(states[:_SHOWN])}"
        + ("…" if len(states) > _SHOWN else "")
        + f"; e.g. {some}"
    )


def _nothing_left(infos: list[RaceInfo], chosen: list[RaceInfo], empty: list[str]) -> str:
    if not infos:
        return (
            "the feed lists no races (AP answers so when the URL's filters — statePostal, "
            "officeID, raceID — match none)"
        )
    return (
        f"the {len(chosen)} race(s) chosen have no reporting units (AP gives none for an "
        f"uncontested race), so nothing is counted: {', '.join(empty[:_SHOWN])}"
    )


AP_FORMAT = APFormat()
