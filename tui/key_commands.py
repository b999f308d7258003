"""Every key of the screen as a command in the palette (Ctrl+P).

Textual's palette lists its own system commands (theme, quit, keys, screenshot), not an app's
Bindings. This provider lists the Bindings active where the palette was opened, with their key
and tooltip, so the Footer, the ``?`` screen and the palette name the same keys. Choosing one
runs its action exactly as the key would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.dom import DOMNode

#: Cursor keys: every screen has them and nobody looks for "Down" in a palette.
MOVES = frozenset({"up", "down", "left", "right", "pageup", "pagedown", "home", "end", "j", "k"})


def _ours(binding: Binding, node: DOMNode) -> bool:
    """Whether nightdesk declared the binding (Textual's own, such as Tab or Ctrl+Q, have
    their place in its system commands). By id, so a remapped key still counts."""
    if not binding.id:
        return False
    for cls in type(node).__mro__:
        if cls.__module__.startswith("tui.") and any(
            isinstance(b, Binding) and b.id == binding.id for b in cls.__dict__.get("BINDINGS", ())
        ):
            return True
    return False


class KeyCommands(Provider):
    """``Sort (s)``, ``Freeze (p)``, … for the screen the palette was opened on."""

    def _commands(self) -> Iterator[tuple[str, str, Callable[[], object]]]:
        """(title, help, callback) per active binding with a description, each action once."""
        seen: set[tuple[int, str]] = set()
        for key, active in self.screen.active_bindings.items():
            binding: Binding = active.binding
            node: DOMNode = active.node
            if key in MOVES or not active.enabled or not _ours(binding, node):
                continue
            if (id(node), binding.action) in seen:
                continue  # one action on several keys (n, Esc): the first key names it
            seen.add((id(node), binding.action))
            shown = self.app.get_key_display(binding)
            title = f"{binding.description} ({shown})"
            yield title, binding.tooltip, partial(self.app.run_action, binding.action, node)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, text=title, help=help_text)

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(Content(title), run, text=title, help=help_text)
