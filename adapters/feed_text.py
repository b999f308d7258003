"""Response bytes to text, with errors that say where the bytes went wrong."""

from __future__ import annotations

import codecs

from nightdesk.errors import FeedError


def decode_text(
    body: bytes,
    *,
    encoding: str,
    source: str,
    hint: str = "if the source uses another encoding, set encoding for it",
) -> str:
    """Decode a whole body; a UTF-8 byte-order mark is accepted and dropped.

    Raises:
        FeedError: the body is empty, the encoding is unknown, or a byte does not decode
            (the message gives its offset so a person can find it with a hex viewer).
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
        shown = f" (byte 0x{bad[0]:02x})" if bad else ""
        raise FeedError(
            f"the feed is not valid {encoding} at byte offset {exc.start}{shown}; {hint}",
            source=source,
        ) from None
    if not text.strip():
        raise FeedError("empty response (only whitespace)", source=source)
    return text
