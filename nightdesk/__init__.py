"""nightdesk: the engine of a terminal monitor for election night.

The engine knows nothing of terminals or of particular feed formats: formats arrive as
plugins (entry points in the group ``nightdesk.formats``), screens subscribe to its states.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from nightdesk.errors import ConfigError, FeedError, NightdeskError

if TYPE_CHECKING:
    from nightdesk.model import UNIT_FIGURES, Party, Snapshot

__version__ = "0.1.0"

# A library logs only where its application says: never onto a terminal a TUI is drawing.
logging.getLogger("nightdesk").addHandler(logging.NullHandler())

#: Re-exported on first use: ``nightdesk.model`` imports pandas (~0.4 s), which
#: ``nightdesk --version``, a usage error or the monitor's first frame must not wait for.
_LAZY = {
    "UNIT_FIGURES": "nightdesk.model",
    "Party": "nightdesk.model",
    "Snapshot": "nightdesk.model",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "UNIT_FIGURES",
    "ConfigError",
    "FeedError",
    "NightdeskError",
    "Party",
    "Snapshot",
    "__version__",
]
