"""The errors nightdesk reports to people: each says where, what, and what was expected."""

from __future__ import annotations

from pathlib import Path


class NightdeskError(Exception):
    """Base of every error nightdesk expects and explains; anything else is a bug."""


class FeedError(NightdeskError):
    """A feed could not be fetched or read; the last good snapshot stays in force.

    Carries the source name and, where known, the row and column at fault so that the
    message points a person at the exact cell.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = message
        self.source = source
        self.row = row
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        return self.describe(with_source=True)

    def describe(self, *, with_source: bool = True) -> str:
        """The message, optionally without the source (where the source is already named)."""
        where = []
        if self.source and with_source:
            where.append(f"source {self.source!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason

    def for_source(self, source: str) -> FeedError:
        """The same error, naming the source (parsers may not know it)."""
        if self.source == source:
            return self
        return FeedError(self.reason, source=source, row=self.row, column=self.column)


class FetchError(FeedError):
    """The feed's bytes could not be had: network, HTTP status, file system, size cap.

    ``retry_after``: seconds the server asked us to wait (HTTP ``Retry-After``), if it did.
    """

    def __init__(
        self, message: str, *, source: str | None = None, retry_after: float | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, source=source)


class ConfigError(NightdeskError):
    """A config file is unusable; names the file, the key, the line where known."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        key: str | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = message
        self.path = Path(path) if path is not None else None
        self.key = key
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        where = str(self.path) if self.path else "config"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            where += f": {self.key}"
        return f"{where}: {self.reason}"


class StoreError(NightdeskError):
    """The history store cannot be opened, read or written; the message is one line that
    names the file (not a nightdesk store, written by a newer nightdesk, damaged, locked…)."""
