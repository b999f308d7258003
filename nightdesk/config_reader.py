"""What a config section reader may ask of the config loader: errors that name the file, key
and line, unknown-key checks, and typed gets (so each section lives in its own module)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from nightdesk.errors import ConfigError


class Reader(Protocol):
    def error(self, table: tuple[Any, ...], key: str | None, message: str) -> ConfigError: ...

    def table(
        self, data: Mapping[str, Any], table: tuple[Any, ...], allowed: list[str]
    ) -> None: ...

    def get(
        self,
        data: Mapping[str, Any],
        table: tuple[Any, ...],
        key: str,
        types: tuple[type, ...],
        expected: str,
        default: Any = ...,
    ) -> Any: ...
