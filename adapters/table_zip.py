"""Zip archives from feeds: opened with limits, and a zip of CSV files read as one table.

A zip is untrusted like any body: its members' declared sizes are added up and capped
before anything is inflated (Python's zipfile never inflates a member beyond its declared
size, so the declared total bounds the work), and so is the number of members.
County-by-county result archives name their columns alike but may order them differently:
the members' tables are joined by column name.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from fnmatch import fnmatchcase

import numpy as np
import pandas as pd

from adapters.csv_table import read_csv_table
from adapters.feed_text import decode_text, refuse_markup
from adapters.table_values import TextTable
from nightdesk.errors import FeedError

#: A zip's first bytes (a local file header, or the end record of an empty archive).
ZIP_MAGIC: tuple[bytes, ...] = (b"PK\x03\x04", b"PK\x05\x06")
#: The most a zip's members may inflate to, all together.
MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 20_000
_SHOWN_MEMBERS = 10


def is_zip(body: bytes) -> bool:
    return body.startswith(ZIP_MAGIC)


def member_list(names: list[str]) -> str:
    """A few member names, for messages."""
    shown = ", ".join(map(repr, names[:_SHOWN_MEMBERS])) or "nothing"
    more = len(names) - _SHOWN_MEMBERS
    return f"{shown} and {more} more" if more > 0 else shown


def open_zip(body: bytes, *, source: str, what: str) -> zipfile.ZipFile:
    """The archive, its size and member count checked before anything is inflated.

    Raises:
        FeedError: not a readable zip (truncated?), too many members, members that would
            inflate beyond :data:`MAX_UNZIPPED_BYTES`, or encrypted members.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise FeedError(
            f"the {what} is not a readable zip archive ({exc}); truncated?", source=source
        ) from None
    if len(infos) > MAX_MEMBERS:
        raise FeedError(
            f"the {what} holds {len(infos):,} files; at most {MAX_MEMBERS:,} are read",
            source=source,
        )
    total = sum(info.file_size for info in infos)
    if total > MAX_UNZIPPED_BYTES:
        raise FeedError(
            f"the {what} would inflate to {total:,} bytes, more than the "
            f"{MAX_UNZIPPED_BYTES:,} allowed (a zip bomb, or far too big a feed)",
            source=source,
        )
    locked = [info.filename for info in infos if info.flag_bits & 0x1]
    if locked:
        raise FeedError(
            f"the {what} has password-protected files ({member_list(locked)})", source=source
        )
    return archive


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, source: str) -> bytes:
    """One member's bytes; a damaged member is a FeedError naming it."""
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise FeedError(
            f"{info.filename} in the zip cannot be read: {exc}", source=source
        ) from None


def _is_csv(info: zipfile.ZipInfo) -> bool:
    name = info.filename
    base = name.rsplit("/", 1)[-1]
    return (
        not info.is_dir()
        and base.lower().endswith(".csv")
        and not base.startswith("._")
        and not name.startswith("__MACOSX/")
    )


def read_csv_zip(
    body: bytes,
    *,
    delimiter: str,
    encoding: str,
    members: str | None,
    source: str,
    needed: list[tuple[str, str]],
) -> TextTable:
    """Every ``.csv`` member (those matching the ``members`` pattern, if given) as one
    table, joined by column name; errors name the member and its line.

    ``needed``: (role, column) pairs each member must have.

    Raises:
        FeedError: see :func:`open_zip`; no CSV member; a member that is not good CSV or
            lacks a mapped column.
    """
    archive = open_zip(body, source=source, what="feed")
    with archive:
        infos = [info for info in archive.infolist() if _is_csv(info)]
        if members is not None:
            infos = [info for info in infos if fnmatchcase(info.filename, members)]
        if not infos:
            held = [info.filename for info in archive.infolist() if not info.is_dir()]
            which = f" matching members = {members!r}" if members is not None else ""
            raise FeedError(
                f"the zip holds no .csv file{which}; it holds {member_list(held)}",
                source=source,
            )
        read = [_member_table(archive, info, delimiter, encoding, source) for info in infos]
    # A member with a header and no rows (a county yet to report) adds nothing.
    infos = [info for info, table in zip(infos, read, strict=True) if table is not None]
    tables = [table for table in read if table is not None]
    if not tables:
        raise FeedError(
            "every .csv file in the zip is empty or a header alone (truncated?)", source=source
        )
    for info, table in zip(infos, tables, strict=True):
        present = set(table.frame.columns)
        for role, column in needed:
            if column not in present:
                raise FeedError(
                    f"{info.filename} in the zip has no column {column!r} (mapped as {role}); "
                    f"its columns are: {', '.join(map(str, table.frame.columns))}",
                    source=source,
                    column=column,
                )
    frame = pd.concat([t.frame for t in tables], ignore_index=True, sort=False)
    starts = np.cumsum([0, *(len(t.frame) for t in tables)])
    names = [info.filename for info in infos]
    wheres = [t.where for t in tables]
    return TextTable(frame=frame, source=source, where=_where(starts, names, wheres))


def _where(
    starts: np.ndarray, names: list[str], wheres: list[Callable[[int], str]]
) -> Callable[[int], str]:
    def where(row: int) -> str:
        k = int(np.searchsorted(starts, row, side="right")) - 1
        return f"{names[k]} {wheres[k](row - int(starts[k]))}"

    return where


def _member_table(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, delimiter: str, encoding: str, source: str
) -> TextTable | None:
    """A member's table; ``None`` for a member that is empty or holds a header alone."""
    data = read_member(archive, info, source=source)
    if not data.strip():
        return None
    try:
        text = decode_text(data, encoding=encoding, source=source)
        refuse_markup(text, expected="CSV", source=source, data_may_start_with_tag=True)
        bare = text.strip()
        if "\n" not in bare and "\r" not in bare:
            return None
        return read_csv_table(text, delimiter=delimiter, source=source)
    except FeedError as exc:
        raise FeedError(
            f"{info.filename} in the zip: {exc.reason}", source=source, column=exc.column
        ) from None
