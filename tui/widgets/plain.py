"""Feed text made safe for the terminal: control characters shown as �, never sent raw.

Rich strips only a few control codes; an escape (``\\x1b``) in a unit or party name would reach
the terminal as a live escape sequence. Names are data, so they are drawn, not obeyed. The rule
is the engine's (``nightdesk.model``), applied here to strings that reach the screen without
passing through a Snapshot.
"""

from __future__ import annotations

from nightdesk.model import printable_text as printable

__all__ = ["printable"]
