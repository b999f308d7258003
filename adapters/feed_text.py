"""Response bytes to text, with errors that say where the bytes went wrong."""

from __future__ import annotations

import codecs
import re

from nightdesk.errors import FeedError

# A tag, a declaration (<!DOCTYPE, <!--) or a processing instruction (<?xml) at the start.
_MARKUP_START = re.compile(r"[\ufeff\s]*<([A-Za-z!?/])")
_MARKUP_LOOKS_WITHIN = 65_536
_TITLE = re.compile(r"<title[^>]*>([^<]{1,200})</title", re.IGNORECASE)
_TITLE_LOOKS_WITHIN = 4_096
_TITLE_SHOWN = 60


#: The advice when a body does not decode and nothing better can be said.
ENCODING_HINT = "if the source uses another encoding, set encoding for it"


def decode_text(
    body: bytes,
    *,
    encoding: str,
    source: str,
    hint: str = ENCODING_HINT,
) -> str:
    """Decode a whole body; a UTF-8 byte-order mark is accepted and dropped.

    Nothing is guessed: a body that is not in the configured encoding is an error, because
    a wrong guess turns names into other names silently. The error names the byte offset
    and line (to find it with a hex viewer or an editor) and, when a UTF-8 feed reads as
    Windows-1252 (a superset of Latin-1's letters, what spreadsheets export), says to set
    ``encoding = "cp1252"``.

    Raises:
        FeedError: the body is empty, the encoding is unknown, or a byte does not decode.
    """
    if not body:
        raise FeedError("empty response", source=source)
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        raise FeedError(
            f"unknown encoding {encoding!r}; expected a codec name such as 'utf-8' or 'cp1252'",
            source=source,
        ) from None
    if codec == "utf-8":
        codec = "utf-8-sig"
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        line = body.count(b"\n", 0, exc.start) + 1
        shown = f" (line {line}, byte 0x{bad[0]:02x})" if bad else f" (line {line})"
        if hint == ENCODING_HINT and codec == "utf-8-sig" and _reads_as(body, "cp1252"):
            hint = (
                'it reads as Windows-1252/Latin-1: set encoding = "cp1252" for this source '
                "if that is what it sends"
            )
        raise FeedError(
            f"the feed is not valid {encoding} at byte offset {exc.start}{shown}; {hint}",
            source=source,
        ) from None
    if not text or text.isspace():  # as `not text.strip()`, without copying the body
        raise FeedError("empty response (only whitespace)", source=source)
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _reads_as(body: bytes, codec: str) -> bool:
    """Whether the body decodes in ``codec`` to text without control characters (binary
    garbage decodes in Windows-1252 too, but is not text)."""
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        return False
    return _CONTROL.search(text) is None


def refuse_markup(
    text: str, *, expected: str, source: str, data_may_start_with_tag: bool = False
) -> None:
    """Refuse a body that is an HTML or XML page rather than the ``expected`` format.

    A results URL that answers with an error page, a login page or a captive portal is
    common on election night; saying so beats a puzzling parse error further on.

    Args:
        text: the decoded body.
        expected: the format's name as people say it ("CSV", "JSON").
        source: the configured source name, for the error.
        data_may_start_with_tag: the format itself could start with something like a tag
            (a CSV header ``<unit>,CPP``); then a tag counts as markup only if the body
            also closes one (``</`` or ``/>``) in its first 64 KB.

    Raises:
        FeedError: the body starts (after spaces and a byte-order mark) with a declaration
            (``<!DOCTYPE``, ``<!--``), a processing instruction (``<?xml``) or a tag.
    """
    start = _MARKUP_START.match(text)
    if start is None:
        return
    if data_may_start_with_tag and start[1] not in "!?/":
        head = text[:_MARKUP_LOOKS_WITHIN]
        if "</" not in head and "/>" not in head:
            return
    title = _TITLE.search(text, 0, _TITLE_LOOKS_WITHIN)
    named = ""
    if title is not None:
        words = " ".join(title[1].split())
        if len(words) > _TITLE_SHOWN:
            words = words[:_TITLE_SHOWN] + "…"
        named = f"; its title is {words!r}" if words else ""
    raise FeedError(
        f"the feed looks like HTML or XML, not {expected} (an error page or a login page?){named}",
        source=source,
    )
