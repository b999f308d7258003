"""The TOML config, loaded into typed objects with errors a person can act on.

Every error names the file, the key (dotted, as it would be written), the line where it can
be found, and what was expected. Format-specific keys are checked against the options the
installed format declares, so a plugin's keys get the same care as ours.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from nightdesk import formats
from nightdesk.alert_rules import AlertRules, read_alert_rules
from nightdesk.aliases import Aliases, read_aliases
from nightdesk.colours import read_colours
from nightdesk.errors import ConfigError
from nightdesk.formats import OPTIONAL_COLUMNS, ColumnMap
from nightdesk.model import MAX_SEATS
from nightdesk.seats import METHODS, TIE_RULES, SeatRules

CONFIG_FILENAME = "config.toml"
DEFAULT_INTERVAL = 30.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
#: Keys every [[sources]] table may have; a format adds its own (``Format.options``).
SOURCE_KEYS: tuple[str, ...] = (
    "name",
    "url",
    "format",
    "interval",
    "timeout",
    "max_bytes",
    "headers_env",
    "bearer_env",
    "basic_auth_env",
    "verify",
    "columns",
)


@dataclass(frozen=True)
class ElectionConfig:
    """``[election]``: what is being counted and how seats follow from votes."""

    name: str
    timezone: ZoneInfo
    rules: SeatRules = field(default_factory=SeatRules)
    simulated: bool = False
    seats: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[sources]]`` entry: where a feed is, what format, how often."""

    name: str
    url: str
    format: str
    interval: float = DEFAULT_INTERVAL
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    headers_env: Mapping[str, str] = field(default_factory=dict)
    #: Environment variable holding a bearer token (``Authorization: Bearer …``).
    bearer_env: str | None = None
    #: Environment variables holding the user and password for HTTP basic auth.
    basic_auth_env: tuple[str, str] | None = None
    #: A CA bundle (PEM) to trust for this source's HTTPS, instead of the system's.
    verify: Path | None = None
    columns: ColumnMap | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)

    @property
    def is_http(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    @property
    def path(self) -> Path:
        """The local file, for a source that is not an http(s) URL."""
        p = Path(self.url.removeprefix("file://")).expanduser()
        return p if p.is_absolute() else self.base_dir / p


@dataclass(frozen=True)
class Config:
    """A whole config file."""

    election: ElectionConfig
    sources: tuple[SourceConfig, ...]
    path: Path | None = None
    #: ``[aliases]``: other sources' names for units and parties (the compare screen).
    aliases: Aliases = field(default_factory=Aliases)
    #: ``[alerts]``: what the desk wants to be told about (defaults without the table).
    alerts: AlertRules = field(default_factory=AlertRules)
    #: ``[colours]``: party id or name → colour (Textual colour syntax).
    colours: Mapping[str, str] = field(default_factory=dict)

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


def default_path() -> Path:
    """The user's config file (XDG on Linux, the platform's place elsewhere)."""
    from platformdirs import user_config_path

    return user_config_path("nightdesk") / CONFIG_FILENAME


def load(path: Path | str) -> Config:
    """Read and check a config file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such file", path=path) from None
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"cannot read the file: {exc}", path=path) from None
    return parse(text, path=path)


def parse(text: str, path: Path | str | None = None) -> Config:
    """Check a config given as text; relative source paths are relative to ``path``."""
    p = Path(path) if path is not None else None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+)", str(exc))
        raise ConfigError(
            f"not valid TOML: {exc}", path=p, line=int(m.group(1)) if m else None
        ) from None
    return _Reader(text, p).config(data)


_TABLE_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY_RE = re.compile(r"""^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)\s*=""")


class _Locator:
    """Finds the line of a key in the TOML text (tomllib does not keep positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        # (table path as tuple, line number of each key) in file order.
        self.keys: dict[tuple[Any, ...], dict[str, int]] = {}
        self.tables: dict[tuple[Any, ...], int] = {}
        counts: dict[str, int] = {}
        current: tuple[Any, ...] = ()
        for no, line in enumerate(self.lines, start=1):
            m = _TABLE_RE.match(line)
            if m:
                parts = [x.strip().strip("\"'") for x in m.group(2).split(".")]
                if m.group(1) == "[[":
                    idx = counts.get(parts[0], -1) + 1
                    counts[parts[0]] = idx
                    current = (parts[0], idx, *parts[1:])
                elif parts[0] in counts:  # [sources.columns] belongs to the last [[sources]]
                    current = (parts[0], counts[parts[0]], *parts[1:])
                else:
                    current = tuple(parts)
                self.tables.setdefault(current, no)
                continue
            k = _KEY_RE.match(line)
            if k:
                key = k.group(1).strip("\"'")
                self.keys.setdefault(current, {}).setdefault(key, no)

    def line(self, table: tuple[Any, ...], key: str | None = None) -> int | None:
        if key is not None:
            found = self.keys.get(table, {}).get(key)
            if found is not None:
                return found
        if table in self.tables:  # a missing key: point at its table
            return self.tables[table]
        # Inline tables: `columns = { unit = "x" }` → the parent's key line.
        if len(table) > 1 and not isinstance(table[-1], int):
            return self.line(table[:-1], str(table[-1]))
        return None


def _dotted(table: tuple[Any, ...], key: str | None = None) -> str:
    parts: list[str] = []
    for t in table:
        if isinstance(t, int):
            parts[-1] = f"{parts[-1]}[{t}]"
        else:
            parts.append(t if re.fullmatch(r"[A-Za-z0-9_-]+", t) else f'"{t}"')
    if key is not None:
        parts.append(key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else f'"{key}"')
    return ".".join(parts)


def _kind(value: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(value), type(value).__name__)


class _Reader:
    def __init__(self, text: str, path: Path | None) -> None:
        self.loc = _Locator(text)
        self.path = path
        self.base = path.parent if path is not None else Path.cwd()

    def error(self, table: tuple[Any, ...], key: str | None, message: str) -> ConfigError:
        return ConfigError(
            message, path=self.path, key=_dotted(table, key), line=self.loc.line(table, key)
        )

    def table(self, data: Mapping[str, Any], table: tuple[Any, ...], allowed: list[str]) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise self.error(
                    table, key, f"unknown key{hint} (expected one of: {', '.join(allowed)})"
                )

    def get(
        self,
        data: Mapping[str, Any],
        table: tuple[Any, ...],
        key: str,
        types: tuple[type, ...],
        expected: str,
        default: Any = ...,
    ) -> Any:
        if key not in data:
            if default is ...:
                raise self.error(table, key, f"missing required key: expected {expected}")
            return default
        value = data[key]
        is_bool = isinstance(value, bool) and bool not in types  # TOML true is not a number
        if is_bool or not isinstance(value, types):
            shown = "" if isinstance(value, dict | list) else f" {value!r}"
            raise self.error(table, key, f"expected {expected}, got {_kind(value)}{shown}")
        return value

    def config(self, data: Mapping[str, Any]) -> Config:
        self.table(data, (), ["election", "sources", "aliases", "alerts", "colours"])
        election = self.election(self.get(data, (), "election", (dict,), "an [election] table"))
        raw_sources = self.get(data, (), "sources", (list,), "one or more [[sources]] tables")
        if not raw_sources:
            raise self.error((), "sources", "expected at least one [[sources]] table")
        sources = tuple(self.source(i, s) for i, s in enumerate(raw_sources))
        seen: dict[str, int] = {}
        for i, s in enumerate(sources):
            if s.name in seen:
                raise self.error(
                    ("sources", i),
                    "name",
                    f"source name {s.name!r} is used twice (also by sources[{seen[s.name]}])",
                )
            seen[s.name] = i
        alerts = read_alert_rules(self, self.get(data, (), "alerts", (dict,), "a table", {}))
        for name in alerts.sources:
            if name not in seen:
                raise self.error(
                    ("alerts",),
                    "sources",
                    f"no source is named {name!r} (sources: {', '.join(seen)})",
                )
        return Config(
            election=election,
            sources=sources,
            path=self.path,
            aliases=read_aliases(self, self.get(data, (), "aliases", (dict,), "a table", {})),
            alerts=alerts,
            colours=read_colours(self, self.get(data, (), "colours", (dict,), "a table", {})),
        )

    def election(self, data: Mapping[str, Any]) -> ElectionConfig:
        t: tuple[Any, ...] = ("election",)
        self.table(
            data,
            t,
            [
                "name",
                "timezone",
                "seats_method",
                "threshold",
                "national_threshold",
                "tie",
                "simulated",
                "seats",
            ],
        )
        name = self.get(data, t, "name", (str,), "the election's name as a string")
        tz_name = self.get(data, t, "timezone", (str,), "an IANA time zone such as 'UTC'", "UTC")
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.error(
                t,
                "timezone",
                f"unknown time zone {tz_name!r}: expected an IANA name such as "
                "'Asia/Phnom_Penh' or 'UTC'",
            ) from None
        method = self.get(data, t, "seats_method", (str,), f"one of {', '.join(METHODS)}", "dhondt")
        if method not in METHODS:
            raise self.error(
                t,
                "seats_method",
                f"unknown method {method!r}: expected one of {', '.join(METHODS)}",
            )
        thresholds = {}
        for key in ("threshold", "national_threshold"):
            value = self.get(
                data, t, key, (int, float), "a fraction of valid votes from 0 to 1, e.g. 0.03", 0.0
            )
            if not (0 <= value < 1) or math.isnan(value):
                raise self.error(
                    t, key, f"expected a fraction from 0 up to (not including) 1, got {value!r}"
                )
            thresholds[key] = float(value)
        tie = self.get(data, t, "tie", (str,), f"one of {', '.join(TIE_RULES)}", "more-votes")
        if tie not in TIE_RULES:
            raise self.error(
                t, "tie", f"unknown tie rule {tie!r}: expected one of {', '.join(TIE_RULES)}"
            )
        simulated = self.get(data, t, "simulated", (bool,), "true or false", False)
        seats_raw = self.get(data, t, "seats", (dict,), "a table of unit = seats", {})
        seats: dict[str, int] = {}
        for unit, n in seats_raw.items():
            if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_SEATS:
                raise self.error(
                    (*t, "seats"),
                    unit,
                    f"expected a whole number of seats from 0 to {MAX_SEATS:,}, got {n!r}",
                )
            seats[unit] = n
        return ElectionConfig(
            name=name,
            timezone=tz,
            rules=SeatRules(method=method, tie=tie, **thresholds),  # type: ignore[arg-type]
            simulated=simulated,
            seats=seats,
        )

    def source(self, index: int, data: Any) -> SourceConfig:
        t: tuple[Any, ...] = ("sources", index)
        if not isinstance(data, dict):
            raise self.error(t, None, f"expected a table, got {_kind(data)}")
        if "format" not in data:  # a misspelt `format` is better reported as the typo
            self.table(data, t, list(SOURCE_KEYS))
        fmt_name = self.get(data, t, "format", (str,), "a format name such as 'csv' or 'json'")
        try:
            fmt = formats.load(fmt_name)
        except ConfigError as exc:
            raise self.error(t, "format", exc.reason) from None
        self.table(data, t, [*SOURCE_KEYS, *fmt.options])
        name = self.get(data, t, "name", (str,), "a short name for the source, e.g. 'nec'")
        if not name.strip():
            raise self.error(t, "name", "expected a non-empty name")
        url = self.get(
            data, t, "url", (str,), "an http(s) URL, or a path relative to the config file"
        )
        if not url.strip():
            raise self.error(t, "url", "expected an http(s) URL or a path, got an empty string")
        if url.startswith(("http://", "https://")):
            try:
                if not httpx.URL(url).host:
                    raise ValueError("no host")
            except (httpx.InvalidURL, ValueError) as exc:
                raise self.error(t, "url", f"not a usable URL ({exc}): {url!r}") from None
        if "://" in url and not url.startswith(("http://", "https://", "file://")):
            raise self.error(
                t, "url", f"unsupported URL scheme in {url!r}: expected http(s) or a file path"
            )
        interval = self._positive(data, t, "interval", "a number of seconds > 0", DEFAULT_INTERVAL)
        timeout = self._positive(data, t, "timeout", "a number of seconds > 0", DEFAULT_TIMEOUT)
        max_bytes = self.get(data, t, "max_bytes", (int,), "a size in bytes > 0", DEFAULT_MAX_BYTES)
        if max_bytes <= 0:
            raise self.error(t, "max_bytes", f"expected a size in bytes > 0, got {max_bytes}")
        headers_env = self.get(
            data, t, "headers_env", (dict,), 'a table such as { "x-api-key" = "AP_API_KEY" }', {}
        )
        for header, var in headers_env.items():
            self._env_name((*t, "headers_env"), header, var)
        bearer_env = self.get(data, t, "bearer_env", (str,), "an environment variable's name", None)
        if bearer_env is not None:
            self._env_name(t, "bearer_env", bearer_env)
        basic = self.get(
            data,
            t,
            "basic_auth_env",
            (dict,),
            'a table such as { user = "NEC_USER", password = "NEC_PASSWORD" }',
            None,
        )
        basic_auth_env = None
        if basic is not None:
            where = (*t, "basic_auth_env")
            self.table(basic, where, ["user", "password"])
            for key in ("user", "password"):
                if key not in basic:
                    raise self.error(where, key, "expected the name of an environment variable")
                self._env_name(where, key, basic[key])
            basic_auth_env = (basic["user"], basic["password"])
            if bearer_env is not None:
                raise self.error(
                    t, "basic_auth_env", "expected either bearer_env or this, not both"
                )
        verify = None
        if "verify" in data:
            given = self.get(data, t, "verify", (str,), "the path of a CA bundle (PEM file)")
            verify = Path(given).expanduser()
            verify = verify if verify.is_absolute() else self.base / verify
            if not verify.is_file():
                raise self.error(
                    t, "verify", f"expected a CA bundle (PEM file); {verify} is not one"
                )
        columns = None
        if "columns" in data or fmt.needs_columns:
            raw = self.get(
                data,
                t,
                "columns",
                (dict,),
                "a [sources.columns] table naming the unit column "
                "and the party and votes columns (or parties = [...])",
            )
            columns = self.columns((*t, "columns"), raw)
        options: dict[str, Any] = {}
        for key, spec in fmt.options.items():
            if key in data:
                options[key] = self.get(data, t, key, spec.types, spec.expected)
                problem = spec.check(options[key]) if spec.check else None
                if problem:
                    raise self.error(t, key, f"expected {spec.expected}: {problem}")
        return SourceConfig(
            name=name,
            url=url,
            format=fmt_name,
            interval=float(interval),
            timeout=float(timeout),
            max_bytes=max_bytes,
            headers_env=dict(headers_env),
            bearer_env=bearer_env,
            basic_auth_env=basic_auth_env,
            verify=verify,
            columns=columns,
            options=options,
            base_dir=self.base,
        )

    def _env_name(self, t: tuple[Any, ...], key: str, var: Any) -> None:
        """Secrets come from the environment: the config names the variable, never the value."""
        if not isinstance(var, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
            raise self.error(t, key, f"expected the name of an environment variable, got {var!r}")

    def _positive(
        self, data: Mapping[str, Any], t: tuple[Any, ...], key: str, expected: str, default: float
    ) -> float:
        value = self.get(data, t, key, (int, float), expected, default)
        if not value > 0 or math.isinf(value):
            raise self.error(t, key, f"expected {expected}, got {value!r}")
        return float(value)

    def columns(self, t: tuple[Any, ...], data: Mapping[str, Any]) -> ColumnMap:
        """``[sources.columns]``. Besides unit, party/votes or parties and the unit figures:

        - ``race = "office"`` or ``["office", "district"]``: a race per distinct value(s);
          the source's ``races = [...]`` (a format option) picks some by name.
        - ``parent = "county"``: the parent's id; ``parent = ["state", "county"]``: the path
          above the unit, outermost first (unit ids become "GA/Fulton/1B").
        - ``votes = [...]`` (vote-type columns) or ``{ "Election Day" = "column", ... }``:
          the votes are their sum and the split is kept; ``votes = "total"`` with
          ``vote_types = [...]`` or ``{...}``: the feed's total, checked against the split.
        """
        allowed = ["unit", "party", "votes", "parties", "race", "vote_types", *OPTIONAL_COLUMNS]
        self.table(data, t, allowed)
        col = "a column name as a string"
        unit = self.get(data, t, "unit", (str,), "the name of the column holding the unit id")
        party = self.get(data, t, "party", (str,), col, None)
        votes_raw = self.get(data, t, "votes", (str, list, dict), VOTES_EXPECTED, None)
        votes: str | None = votes_raw if isinstance(votes_raw, str) else None
        vote_types = (
            self._vote_types(t, "votes", votes_raw) if isinstance(votes_raw, list | dict) else ()
        )
        if "vote_types" in data:
            types_raw = self.get(data, t, "vote_types", (list, dict), VOTE_TYPES_EXPECTED)
            if votes_raw is None or vote_types:
                raise self.error(
                    t,
                    "vote_types",
                    "vote_types goes with votes = the column of the total; without a total "
                    'column, list the vote types as votes = ["election_day", ...] instead',
                )
            vote_types = self._vote_types(t, "vote_types", types_raw)
            if votes in {column for _, column in vote_types}:
                raise self.error(
                    t, "vote_types", f"{votes!r} is the total (votes) and cannot be a vote type"
                )
        parties_raw = self.get(
            data, t, "parties", (list, str), 'a list of party columns, or "*"', None
        )
        parties: tuple[str, ...] | str | None = None
        if parties_raw is not None:
            if isinstance(parties_raw, str):
                if parties_raw != "*":
                    raise self.error(
                        t, "parties", f'expected a list of column names or "*", got {parties_raw!r}'
                    )
                parties = "*"
            else:
                if not parties_raw or not all(isinstance(x, str) for x in parties_raw):
                    raise self.error(
                        t, "parties", "expected a non-empty list of column names (strings)"
                    )
                if len(set(parties_raw)) != len(parties_raw):
                    raise self.error(t, "parties", "a party column is listed twice")
                parties = tuple(parties_raw)
            if party is not None or votes_raw is not None:
                raise self.error(
                    t,
                    "parties",
                    "a table is either long (party and votes) or wide (parties), not both",
                )
        elif party is None or votes_raw is None:
            missing = "party" if party is None else "votes"
            raise self.error(
                t,
                missing,
                "missing required key: a long table needs both party and votes columns "
                "(or give parties = [...] for a wide table)",
            )
        race = self._column_names(
            data, t, "race", "a column name, or a list of them (the race is their values joined)"
        )
        parent_path: tuple[str, ...] = ()
        if isinstance(data.get("parent"), list):
            parent_path = self._column_names(
                data, t, "parent", "a column name, or a list of them outermost first"
            )
        for key, names in (("parent", parent_path), ("race", race)):
            if unit in names or (party is not None and party in names):
                used = unit if unit in names else party
                raise self.error(t, key, f"{used!r} is the unit or party column; it cannot be here")
        optional = {
            k: self.get(data, t, k, (str,), col)
            for k in OPTIONAL_COLUMNS
            if k in data and not (k == "parent" and parent_path)
        }
        return ColumnMap(
            unit=unit,
            party=party,
            votes=votes,
            parties=parties,
            optional=optional,  # type: ignore[arg-type]
            race=race,
            parent_path=parent_path,
            vote_types=vote_types,
        )

    def _column_names(
        self, data: Mapping[str, Any], t: tuple[Any, ...], key: str, expected: str
    ) -> tuple[str, ...]:
        """A column name or a list of them, as a tuple (empty when the key is absent)."""
        value = self.get(data, t, key, (str, list), expected, None)
        if value is None:
            return ()
        names = [value] if isinstance(value, str) else value
        if not names or not all(isinstance(x, str) and x.strip() for x in names):
            raise self.error(t, key, f"expected {expected}: non-empty column names")
        if len(set(names)) != len(names):
            raise self.error(t, key, "a column is listed twice")
        return tuple(names)

    def _vote_types(
        self, t: tuple[Any, ...], key: str, value: list[Any] | dict[str, Any]
    ) -> tuple[tuple[str, str], ...]:
        """Vote-type columns as (name, column) pairs: a list (names made from the columns')
        or a table of name = column."""
        if isinstance(value, list):
            if not value or not all(isinstance(x, str) and x.strip() for x in value):
                raise self.error(t, key, "expected a non-empty list of column names (strings)")
            pairs = [(vote_type_name(x), x) for x in value]
        else:
            if not value:
                raise self.error(t, key, "expected at least one vote type = column")
            for name, column in value.items():
                if not isinstance(column, str) or not column.strip() or not name.strip():
                    raise self.error(
                        (*t, key), name, f"expected a column name as a string, got {column!r}"
                    )
            pairs = [(name.strip(), column) for name, column in value.items()]
        columns = [column for _, column in pairs]
        if len(set(columns)) != len(columns):
            raise self.error(t, key, "a vote-type column is listed twice")
        names = [name for name, _ in pairs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise self.error(
                t,
                key,
                f"two columns make the vote type name {twice[0]!r}; name them with a table: "
                f'{key} = {{ "Election Day" = "column", ... }}',
            )
        return tuple(pairs)


#: What ``votes`` in ``[sources.columns]`` may be.
VOTES_EXPECTED = (
    "the column of the votes, or the vote-type columns whose sum is the votes: a list of "
    'column names or a table such as { "Election Day" = "election_day_votes" }'
)
VOTE_TYPES_EXPECTED = (
    'a list of vote-type columns, or a table such as { "Election Day" = "election_day_votes" }'
)
_SMALL_WORDS = frozenset({"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "the", "to"})


def vote_type_name(column: str) -> str:
    """A vote type's name from its column's: "absentee_by_mail_votes" → "Absentee by Mail"."""
    words = [w for w in re.split(r"[\s_\-]+", column.strip()) if w]
    if len(words) > 1 and words[-1].lower() in ("votes", "vote"):
        words = words[:-1]
    named = [
        w
        if w.isupper() and len(w) > 1
        else (w.lower() if k and w.lower() in _SMALL_WORDS else w.capitalize())
        for k, w in enumerate(words)
    ]
    return " ".join(named) or column
