"""Feed text made safe for the terminal: control characters shown as �, never sent raw.

Rich strips only a few control codes; an escape (``\\x1b``) in a unit or party name would reach
the terminal as a live escape sequence. Names are data, so they are drawn, not obeyed.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every C0/C1 control character (and DEL) replaced by U+FFFD."""
    return _CONTROL.sub("\ufffd", text)
