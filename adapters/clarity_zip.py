"""The ``detail.zip`` that Clarity sites publish around ``detail.xml``: unwrapped with care.

A zip is untrusted input like the XML inside it: a member may claim to be small and
inflate to gigabytes (a zip bomb). The member is read in chunks and refused as soon as it
passes the cap, whatever its header says.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import PurePosixPath

from nightdesk.errors import FeedError

#: The Clarity member's name (Clarity zips hold exactly one ``detail.xml``).
MEMBER = "detail.xml"
#: The largest ``detail.xml`` nightdesk inflates by default. Statewide precinct-level
#: files run to a few hundred MB; past this a member is treated as a zip bomb.
MAX_UNZIPPED_BYTES = 512 * 1024 * 1024
_CHUNK = 1024 * 1024
_SHOWN_MEMBERS = 5


def is_zip(body: bytes) -> bool:
    """Whether the body is a zip archive (by its magic bytes, not by a name or a header)."""
    return body[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def unzip_detail(body: bytes, *, cap: int = MAX_UNZIPPED_BYTES) -> bytes:
    """The bytes of the one ``detail.xml`` inside a zip body.

    Raises:
        FeedError: the archive is damaged or encrypted, holds no ``detail.xml`` or more than
            one, or the member inflates past ``cap`` bytes.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            found = [i for i in infos if PurePosixPath(i.filename).name.lower() == MEMBER]
            if not found:
                names = ", ".join(repr(i.filename) for i in infos[:_SHOWN_MEMBERS]) or "nothing"
                more = (
                    f" and {len(infos) - _SHOWN_MEMBERS} more"
                    if len(infos) > _SHOWN_MEMBERS
                    else ""
                )
                raise FeedError(
                    f"the zip holds no {MEMBER} (it holds {names}{more}); "
                    "expected a Clarity detail.zip"
                )
            if len(found) > 1:
                names = ", ".join(repr(i.filename) for i in found[:_SHOWN_MEMBERS])
                raise FeedError(
                    f"the zip holds {len(found)} files called {MEMBER} ({names}); "
                    "nightdesk cannot tell which to read"
                )
            return _read_capped(archive, found[0], cap)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise FeedError(f"the zip is damaged or truncated ({exc})") from None
    except RuntimeError as exc:  # zipfile: encrypted member without a password
        raise FeedError(f"the zip cannot be read ({exc})") from None
    except NotImplementedError as exc:  # an unsupported compression method
        raise FeedError(f"the zip uses a compression nightdesk cannot read ({exc})") from None


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """The member's bytes, refused past ``cap`` (its declared size first, then as read)."""
    if info.file_size > cap:
        raise _too_big(info, cap, f"it declares {info.file_size:,} bytes")
    parts: list[bytes] = []
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise _too_big(info, cap, "it inflates past that")
            parts.append(chunk)
    return b"".join(parts)


def _too_big(info: zipfile.ZipInfo, cap: int, why: str) -> FeedError:
    return FeedError(
        f"the zip's {info.filename!r} is larger than {cap:,} bytes unzipped ({why}); "
        "refused as a possible zip bomb (max_unzipped_bytes raises the limit)"
    )
