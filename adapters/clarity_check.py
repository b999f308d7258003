"""The safety pass every Clarity body gets before anything read from it is used.

The document is untrusted. Every body is first parsed whole by defusedxml's expat parser
with document types forbidden: a DTD is how entity expansion (billion laughs) and external
entities (``SYSTEM "file:///etc/passwd"``) get in, and Clarity files never carry one.
defusedxml's refusing handlers stay in place; the pass installs no element handlers (only
a check of the root element), so it costs what expat alone does (a parser with no handlers
at all, namespaces on or off, fed whole or in 16-64 KB pieces: the same to within noise).

Kept apart from the readers, importing only defusedxml and :mod:`nightdesk.errors`, so that
:mod:`adapters.clarity_helper`'s process runs it without loading NumPy or pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ExternalReferenceForbidden as ExternalForbidden
from defusedxml.ElementTree import DefusedXMLParser

from nightdesk.errors import FeedError

__all__ = ["ROOT", "check_document", "parse_defused"]

#: The root element of every Clarity detail file.
ROOT = "ElectionResult"


def check_document(body: bytes | memoryview) -> None:
    """Parse the whole body with defusedxml, collecting nothing: refuse what is unsafe,
    not well-formed, or not rooted at ``<ElectionResult>``."""
    root = _RootCheck()

    def configure(expat: Any) -> None:
        expat.StartElementHandler = root.handler
        root.expat = expat
        # No callbacks for text: expat skips it (an undefined entity is still an error).
        expat.DefaultHandlerExpand = None
        expat.CharacterDataHandler = None

    parse_defused(body, configure)
    if not root.seen:
        raise FeedError("the feed has no XML elements; expected a Clarity detail.xml")


def parse_defused(body: bytes | memoryview, configure: Callable[[Any], None]) -> None:
    """Run defusedxml's parser (DTDs forbidden) over ``body``; every refusal or syntax
    error becomes a FeedError a person can act on."""
    parser = DefusedXMLParser(target=_NoTree(), forbid_dtd=True)
    expat = parser.parser
    refuse_doctype = expat.StartDoctypeDeclHandler
    expat.StartDoctypeDeclHandler = lambda name, *rest: _doctype(name, rest, refuse_doctype)
    configure(expat)
    try:
        # The whole body as the final piece: feed() then close() give expat two pieces,
        # measured ~1 ms slower on a 4 MB file (of ~25).
        expat.Parse(body, True)
    except ExpatError as exc:
        reason = str(exc).split(":")[0]
        raise FeedError(
            f"the feed is not valid XML: {reason} (line {exc.lineno}, column {exc.offset + 1}); "
            "expected a Clarity detail.xml"
        ) from None
    except EntitiesForbidden as exc:
        raise FeedError(
            f"the feed's XML declares entities ({_clip(exc.name)!r}), which nightdesk refuses "
            "(a possible XML bomb)"
        ) from None
    except ExternalForbidden as exc:
        raise FeedError(
            f"the feed's XML refers to an external entity ({_clip(exc.sysid)!r}), which nightdesk "
            "refuses (it could read local files)"
        ) from None
    except DTDForbidden as exc:
        raise FeedError(
            f"the feed's XML declares a document type (<!DOCTYPE {_clip(exc.name)}>), which "
            "nightdesk refuses: a DTD can declare entities (a possible XML bomb) or read "
            "local files, and Clarity files have none"
        ) from None
    except DefusedXmlException as exc:  # any other refusal defusedxml adds
        raise FeedError(f"the feed's XML was refused as unsafe ({_clip(str(exc))})") from None
    except KeyError as exc:
        where = f"line {expat.CurrentLineNumber}, column {expat.CurrentColumnNumber + 1}"
        raise FeedError(
            f"an element lacks its {_clip(str(exc.args[0]))!r} attribute ({where}); "
            "expected a Clarity detail.xml"
        ) from None
    except LookupError as exc:  # an encoding Python lacks (after KeyError, a LookupError)
        raise FeedError(
            f"the feed's XML declares an encoding Python does not know ({_clip(str(exc))}); "
            "expected a Clarity detail.xml"
        ) from None


def _clip(text: str | None, most: int = 80) -> str | None:
    """A name from the feed, shortened for a message: a hostile feed can make it any
    length, and a status line (or the helper's verdict) has room for a few words."""
    if text is None or len(text) <= most:
        return text
    return f"{text[: most - 1]}…"


def _doctype(name: str, rest: tuple[Any, ...], refuse: Callable[..., None]) -> None:
    """Say so when the body is an HTML page (an error or login page); refuse any DTD."""
    if name and name.lower() == "html":
        raise FeedError(_HTML_PAGE)
    refuse(name, *rest)


_HTML_PAGE = (
    "the feed is an HTML page, not a Clarity detail.xml (an error page or a login page? "
    "check the URL)"
)


def _check_root(tag: str) -> None:
    if tag == ROOT:
        return
    if tag.lower() == "html":
        raise FeedError(_HTML_PAGE)
    raise FeedError(
        f"the XML's root element is <{_clip(tag)}>, not <{ROOT}>; expected a Clarity detail.xml"
    )


class _NoTree:
    """A parser target that builds nothing (the handlers collect instead)."""

    def close(self) -> None:
        return None


class _RootCheck:
    """The safety pass's only element handler: checks the root, then removes itself."""

    def __init__(self) -> None:
        self.seen = False
        self.expat: Any = None
        # Kept here: expat holds the handler only while it is installed.
        self.handler = self.start

    def start(self, tag: str, attrs: Any) -> None:
        _check_root(tag)
        self.seen = True
        self.expat.StartElementHandler = None
