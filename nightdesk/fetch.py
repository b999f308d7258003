"""Getting a feed's bytes: HTTP through one shared httpx client, or a local file.

Fetching is I/O only; nothing here parses. Conditional requests make an unchanged feed cost
one round trip and nothing downstream.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import os
import re
import socket
import ssl
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from nightdesk import formats
from nightdesk.config import SourceConfig
from nightdesk.errors import ConfigError, FetchError
from nightdesk.partial import origin

USER_AGENT = "nightdesk (election-night results monitor)"


@dataclass(frozen=True)
class Validators:
    """What the last good response said about itself, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Response:
    """One fetch: the body (empty when not modified) and what came with it."""

    body: bytes
    status: int
    fetched_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    not_modified: bool = False

    @property
    def validators(self) -> Validators:
        return Validators(self.headers.get("etag"), self.headers.get("last-modified"))


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from an HTTP ``Retry-After`` (delta-seconds or an HTTP date); None if absent
    or not understood (a bad header must not stop the backoff working)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def new_client(verify: Path | None = None) -> httpx.AsyncClient:
    """A client for every source that trusts the same CAs (connection pooling, one place for
    defaults); ``verify``: a CA bundle to trust instead of the system's. The standard proxy
    variables (``HTTPS_PROXY``, ``NO_PROXY``…) apply, as httpx reads them."""
    return httpx.AsyncClient(
        headers={"user-agent": USER_AGENT},
        follow_redirects=True,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        verify=ssl.create_default_context(cafile=str(verify)) if verify else True,
    )


class StatusError(FetchError):
    """The server answered with an HTTP error status (``status``): 4xx or 5xx."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        source: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        super().__init__(message, source=source, retry_after=retry_after)


#: What an HTTP header value may hold (visible ASCII, inner spaces and tabs).
_HEADER_VALUE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?")


def _secret(source: SourceConfig, var: str, what: str) -> str:
    """A value from the environment; the error names the variable, never a value.

    Spaces and line ends around it are dropped (a key pasted from a file keeps its newline);
    a value that still cannot be a header is refused here, because the HTTP library's own
    error would quote it.
    """
    value = os.environ.get(var)
    if value is None:
        raise FetchError(f"environment variable {var} (for {what}) is not set", source=source.name)
    value = value.strip()
    if not _HEADER_VALUE.fullmatch(value):
        raise FetchError(
            f"environment variable {var} (for {what}) is empty or holds characters a header "
            "cannot carry (control characters or non-ASCII)",
            source=source.name,
        )
    return value


def _env_headers(source: SourceConfig) -> dict[str, str]:
    """Header → environment variable: the source's ``headers_env``, and the secret headers its
    format asks for (AP's key), which ``headers_env`` may override."""
    wanted = dict(source.headers_env)
    try:
        fmt = formats.load(source.format)
    except ConfigError:
        return wanted
    given = {h.lower() for h in wanted}
    for header, var in formats.env_headers(fmt, source.options, source.url).items():
        if header.lower() not in given:
            wanted[header] = var
    return wanted


def _auth_headers(source: SourceConfig) -> dict[str, str]:
    headers = {
        header: _secret(source, var, f"header {header!r}")
        for header, var in _env_headers(source).items()
    }
    if source.bearer_env:
        headers["authorization"] = "Bearer " + _secret(source, source.bearer_env, "the token")
    if source.basic_auth_env:
        user_var, password_var = source.basic_auth_env
        user = _secret(source, user_var, "the user name")
        password = _secret(source, password_var, "the password")
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        headers["authorization"] = f"Basic {token}"
    return headers


#: Chunks read between two turns given to the event loop (httpx reads up to 64 KiB a chunk).
YIELD_EVERY = 16


async def fetch(
    client: httpx.AsyncClient, source: SourceConfig, validators: Validators | None = None
) -> Response:
    """Fetch a source once; :class:`FetchError` with a one-line reason on any failure."""
    if source.is_http:
        return await _fetch_http(client, source, validators or Validators())
    return await asyncio.to_thread(_read_file, source, validators or Validators())


async def _fetch_http(
    client: httpx.AsyncClient, source: SourceConfig, validators: Validators
) -> Response:
    headers = _auth_headers(source)
    secrets = [v for v in headers.values() if len(v) >= 4]
    try:
        return await _get(client, source, validators, headers)
    except FetchError as exc:
        # Belt and braces: no message may quote a secret, whatever a library put in it.
        if any(secret in exc.reason for secret in secrets):
            exc.reason = _scrub(exc.reason, secrets)
            exc.args = (exc.describe(),)
        raise


def _scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


@contextlib.asynccontextmanager
async def _stream(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    timeout: httpx.Timeout,
    secret: Collection[str],
) -> AsyncIterator[httpx.Response]:
    """``client.stream("GET", …)``; with secret headers, redirects are followed here so that
    a redirect to another origin does not carry them (httpx drops only ``Authorization``)."""
    if not secret or not client.follow_redirects:
        async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
            yield response
        return
    home = origin(httpx.URL(url))
    request = client.build_request("GET", url, headers=headers, timeout=timeout)
    for _ in range(client.max_redirects + 1):
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            following = response.next_request
            if following is None:
                yield response
                return
        finally:
            await response.aclose()
        if origin(following.url) != home:
            for name in secret:
                following.headers.pop(name, None)
        request = following
    raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=request)


async def _get(
    client: httpx.AsyncClient,
    source: SourceConfig,
    validators: Validators,
    headers: dict[str, str],
) -> Response:
    secret = [h for h in headers if h.lower() != "authorization"]
    if validators.etag:
        headers["if-none-match"] = validators.etag
    if validators.last_modified:
        headers["if-modified-since"] = validators.last_modified
    timeout = httpx.Timeout(source.timeout, connect=min(source.timeout, 5.0))
    where = _display_url(source.url)
    got = _Progress()
    try:
        async with asyncio.timeout(source.timeout):
            async with _stream(client, source.url, headers, timeout, secret) as response:
                got.answered = True
                if response.status_code == 304:
                    return Response(
                        b"", 304, datetime.now(UTC), dict(response.headers), not_modified=True
                    )
                if response.status_code >= 400:
                    wait = retry_after(response.headers.get("retry-after"), datetime.now(UTC))
                    asked = f"; it asks to wait {wait:,.0f} s" if wait is not None else ""
                    raise StatusError(
                        f"HTTP {response.status_code} {response.reason_phrase} from {where}"
                        + asked,
                        status=response.status_code,
                        source=source.name,
                        retry_after=wait,
                    )
                declared = response.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > source.max_bytes:
                    raise _too_big(source, f"(Content-Length {int(declared):,})")
                chunks: list[bytes] = []
                async for chunk in response.aiter_bytes():
                    got.size += len(chunk)
                    if got.size > source.max_bytes:
                        raise _too_big(source, _inflated(response))
                    chunks.append(chunk)
                    if len(chunks) % YIELD_EVERY == 0:
                        # A fast local feed is always readable, so the read loop would never
                        # give the event loop a turn: let the screen breathe every ~1 MB.
                        await asyncio.sleep(0)
                return Response(
                    b"".join(chunks),
                    response.status_code,
                    datetime.now(UTC),
                    dict(response.headers),
                )
    except TimeoutError:
        raise FetchError(
            f"no complete answer from {where} within {source.timeout:g} s{got.so_far()}",
            source=source.name,
        ) from None
    except httpx.TimeoutException:
        raise FetchError(
            f"timed out after {source.timeout:g} s waiting for {where}{got.so_far()}",
            source=source.name,
        ) from None
    except httpx.ConnectError as exc:
        raise FetchError(f"cannot connect to {where}: {_reason(exc)}", source=source.name) from None
    except httpx.TooManyRedirects as exc:
        last = _display_url(str(exc.request.url)) if _has_request(exc) else where
        raise FetchError(
            f"too many redirects from {where} (a redirect loop? the last one pointed to {last})",
            source=source.name,
        ) from None
    except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
        if got.answered:
            what = f"the connection to {where} broke after {got.size:,} bytes of the body"
        else:
            what = f"the connection to {where} broke before an answer"
        raise FetchError(f"{what}: {_reason(exc)}", source=source.name) from None
    except httpx.DecodingError as exc:
        raise FetchError(
            f"the body from {where} could not be decompressed: {_reason(exc)}",
            source=source.name,
        ) from None
    except httpx.HTTPError as exc:
        raise FetchError(
            f"{type(exc).__name__} from {where}: {_reason(exc)}", source=source.name
        ) from None


@dataclass
class _Progress:
    """How far a fetch got, for an error that says so."""

    answered: bool = False
    size: int = 0  # bytes of the (decoded) body so far

    def so_far(self) -> str:
        if not self.answered:
            return " (no answer at all)"
        return f" ({self.size:,} bytes of the body had arrived)"


def _inflated(response: httpx.Response) -> str | None:
    coding = response.headers.get("content-encoding", "").strip().lower()
    if coding and coding != "identity":
        return f"once decompressed ({coding})"
    return None


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when the error carries none
    except RuntimeError:
        return False
    return True


def _read_file(source: SourceConfig, validators: Validators) -> Response:
    path = source.path
    try:
        stat = path.stat()
        tag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
        headers = {
            "etag": tag,
            "last-modified": datetime.fromtimestamp(stat.st_mtime, UTC).strftime(
                "%a, %d %b %Y %H:%M:%S GMT"
            ),
        }
        if validators.etag == tag:
            return Response(b"", 304, datetime.now(UTC), headers, not_modified=True)
        if stat.st_size > source.max_bytes:
            raise _too_big(source)
        with path.open("rb") as fh:
            body = fh.read(source.max_bytes + 1)
        if len(body) > source.max_bytes:
            raise _too_big(source)
    except FileNotFoundError:
        raise FetchError(f"no such file: {path}", source=source.name) from None
    except IsADirectoryError:
        raise FetchError(f"{path} is a directory, not a feed file", source=source.name) from None
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}", source=source.name) from None
    return Response(body, 200, datetime.now(UTC), headers)


def _too_big(source: SourceConfig, detail: str | None = None) -> FetchError:
    said = f" {detail}" if detail else ""
    return FetchError(
        f"response larger than max_bytes = {source.max_bytes:,} bytes{said}; refused",
        source=source.name,
    )


def _display_url(url: str) -> str:
    """The URL without credentials or query string (which may carry keys)."""
    u = httpx.URL(url)
    return str(u.copy_with(username=None, password=None, query=None))


#: Operating-system errors as a person says them (found anywhere in an exception's chain).
_OS_REASONS = {
    errno.ECONNREFUSED: "connection refused (nothing listens there: is the server down?)",
    errno.ECONNRESET: "connection reset by the server",
    errno.ECONNABORTED: "connection aborted",
    errno.EPIPE: "the server closed the connection",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "the connection timed out",
}


def _os_reason(exc: BaseException) -> str | None:
    """What the operating system said, from the first errno in the chain of causes."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "the host name does not resolve (DNS)"
        number = getattr(current, "errno", None)
        if isinstance(current, OSError) and number in _OS_REASONS:
            return _OS_REASONS[number]
        current = current.__cause__ or current.__context__
    return None


def _reason(exc: BaseException) -> str:
    found = _os_reason(exc)
    if found is not None:
        return found
    text = str(exc) or type(exc).__name__
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "All connection attempts failed" in text:
        return "nothing answers there (connection refused or host unreachable)"
    return text.splitlines()[0][:200]
