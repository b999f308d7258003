"""The feed's own timestamp, from what the server said about the body."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A response header by name, whatever case the mapping uses (HTTP names are caseless)."""
    if name in headers:
        return headers[name]
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def published_at(headers: Mapping[str, str]) -> datetime | None:
    """When the server says the body last changed (``Last-Modified``), if it says so.

    A missing or unreadable date is not an error: it is metadata, and the counts are still
    good. A date without a zone (``-0000``) is taken as UTC, as RFC 5322 means it.
    """
    value = header(headers, "last-modified")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
