"""nightdesk: the engine of a terminal monitor for election night.

The engine knows nothing of terminals or of particular feed formats: formats arrive as
plugins (entry points in the group ``nightdesk.formats``), screens subscribe to its states.
"""

import logging

from nightdesk.errors import ConfigError, FeedError, NightdeskError
from nightdesk.model import UNIT_FIGURES, Party, Snapshot

__version__ = "0.1.0"

# A library logs only where its application says: never onto a terminal a TUI is drawing.
logging.getLogger("nightdesk").addHandler(logging.NullHandler())

__all__ = [
    "UNIT_FIGURES",
    "ConfigError",
    "FeedError",
    "NightdeskError",
    "Party",
    "Snapshot",
    "__version__",
]
