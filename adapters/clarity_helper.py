"""A helper process that runs the defusedxml pass beside the fast reader.

Why: on a large body that pass is most of a Clarity parse (~25 of ~40 ms for Georgia's
4 MB ``detail.xml``) and holds the GIL throughout. Run in a second process while this one
reads the same bytes with NumPy, the parse ends when the slower of the two does, and this
process's other threads (the screen's) are not starved meanwhile. The CPU spent is the
same; on one CPU there is nothing to gain, so the helper is not used there.

Nothing read from a body is returned before the pass accepted it: :meth:`CheckHelper.beside`
returns the reader's result only after the helper's verdict, and a refusal is raised as
the same :class:`~nightdesk.errors.FeedError` the pass gives in this process. Whatever goes
wrong with the helper (it cannot start, dies, answers garbage, or is slow) costs only time:
the pass then runs here, as it does without a helper.

The body reaches the helper through a shared file both processes map (a memfd on Linux),
so it is copied once (~0.3 ms for 4 MB) rather than pushed through a pipe (~7 ms). A
request (the body's length) and a verdict (kind and message) go over the helper's
stdin and stdout. ``NIGHTDESK_XML_HELPER=0`` turns the helper off.

``python -m adapters.clarity_helper FD`` is the helper's side (:func:`serve`).
"""

from __future__ import annotations

import atexit
import logging
import mmap
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from adapters.clarity_check import check_document
from nightdesk.errors import FeedError

__all__ = ["CHECKS", "ENV", "MIN_BYTES", "CheckHelper", "serve"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The environment variable that turns the helper off ("0", "off", "no", "false").
ENV = "NIGHTDESK_XML_HELPER"
#: Bodies smaller than this are checked here: the exchange would cost more than it saves.
MIN_BYTES = 256 * 1024
#: Bodies larger than this are checked here: the shared file would double their memory.
MAX_BYTES = 1 << 30
#: After this many helpers failed (would not start, died, garbled, too slow), checks stay
#: in this process for the rest of its life.
GIVE_UP_AFTER = 3

_READY = b"nightdesk clarity helper 1\n"
_REQUEST = struct.Struct("<Q")  # the body's length in the shared file
_VERDICT = struct.Struct("<BI")  # kind, length of the message that follows
_OK, _REFUSED, _FAILED = 0, 1, 2
_MAX_MESSAGE = 64 * 1024
_ROOT = Path(__file__).resolve().parent.parent


class _Trouble(Exception):
    """The helper did not answer as it should."""


def _seconds_for(size: int) -> float:
    """How long a verdict may take: generous (expat reads ~150 MB/s here), so that only a
    stopped or stuck helper runs out of time."""
    return 5.0 + size / 20e6


def _wanted() -> bool:
    if os.environ.get(ENV, "").strip().lower() in {"0", "off", "no", "false"}:
        return False
    if os.name != "posix" or not sys.executable:
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return cpus >= 2


class CheckHelper:
    """One helper process (started on first use) and the shared file it reads bodies from.

    Used by one thread at a time: a parse that finds it busy runs the pass itself.
    """

    def __init__(
        self,
        argv: Sequence[str] | None = None,
        *,
        min_bytes: int = MIN_BYTES,
        enabled: bool | None = None,
        seconds_for: Callable[[int], float] = _seconds_for,
    ) -> None:
        self.argv = list(argv) if argv is not None else [sys.executable, "-m", __name__]
        self.min_bytes = min_bytes
        self.enabled = _wanted() if enabled is None else enabled
        self.seconds_for = seconds_for
        #: Bodies the helper gave its verdict on; and the times it failed.
        self.checked = 0
        self.failures = 0
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._proc: subprocess.Popen[bytes] | None = None
        self._poll: select.poll | None = None
        self._ready = False
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._closed = False
        self._exit_hook = False

    def beside(self, body: bytes, work: Callable[[], T]) -> T:
        """``work()``'s result, once the defusedxml pass has accepted ``body``.

        The pass runs in the helper while ``work`` runs here, or here first when the
        helper is off, busy, not ready or broken. A refusal is raised instead of whatever
        ``work`` returned or raised (it read bytes that were not yet checked).
        """
        if not self._send(body):
            check_document(body)
            return work()
        try:
            try:
                result = work()
            except BaseException:
                self._verdict(body)
                raise
            self._verdict(body)
            return result
        finally:
            self._lock.release()

    def ready(self, timeout_s: float = 5.0) -> bool:
        """Start the helper if there is none and wait until it is ready (or
        ``timeout_s`` passed): so the first large body need not be checked here."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            if not self._usable(self.min_bytes):
                return False
            try:
                while not self._is_ready():
                    if self._proc is None or time.monotonic() >= deadline:
                        return False
                    self._readable(min(0.05, max(0.0, deadline - time.monotonic())))
            except (OSError, _Trouble) as exc:
                self._broken(f"it did not start ({exc})")
                return False
        return True

    def close(self) -> None:
        """Stop the helper (it exits when its stdin closes) and free the shared file."""
        with self._lock:
            self._closed = True
            self._stop()
            if self._map is not None:
                self._map.close()
                self._map = None
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    # -- this process's side ------------------------------------------------------------

    def _usable(self, size: int) -> bool:
        return (
            self.enabled
            and not self._closed
            and self.min_bytes <= size <= MAX_BYTES
            and self.failures < GIVE_UP_AFTER
            and os.getpid() == self._pid  # a forked child must not talk to our helper
        )

    def _send(self, body: bytes) -> bool:
        """Put the body where the helper reads it and ask for a verdict; False (and the
        lock not held) when the pass must run here."""
        if not self._usable(len(body)) or not self._lock.acquire(blocking=False):
            return False
        try:
            if self._is_ready():
                self._share(body)
                assert self._proc is not None and self._proc.stdin is not None
                os.write(self._proc.stdin.fileno(), _REQUEST.pack(len(body)))
                return True
        except (OSError, ValueError, _Trouble) as exc:
            self._broken(f"could not send it a body ({exc})")
        self._lock.release()
        return False

    def _is_ready(self) -> bool:
        """Whether the helper has said it is ready; starts one when there is none (that
        body is checked here: a parse never waits for a helper to start)."""
        if self._proc is None:
            self._start()
            return False
        if self._proc.poll() is not None:
            raise _Trouble(f"it exited with status {self._proc.returncode}")
        if not self._ready:
            if not self._readable(0):
                return False
            if self._read_exact(len(_READY), time.monotonic() + 1.0) != _READY:
                raise _Trouble("it did not introduce itself")
            self._ready = True
        return True

    def _start(self) -> None:
        try:
            if self._fd < 0:
                self._fd = _shared_file()
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(_ROOT), env.get("PYTHONPATH", "")) if p
            )
            self._proc = subprocess.Popen(
                [*self.argv, str(self._fd)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # never a traceback on the user's terminal
                pass_fds=(self._fd,),
                start_new_session=True,  # no Ctrl-C, Ctrl-Z or hang-up from the terminal
                env=env,
            )
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self._broken(f"could not start ({exc})")
            return
        assert self._proc.stdout is not None
        self._poll = select.poll()
        self._poll.register(self._proc.stdout.fileno(), select.POLLIN)
        self._ready = False
        if not self._exit_hook:
            atexit.register(self.close)
            self._exit_hook = True

    def _share(self, body: bytes) -> None:
        size = len(body)
        if self._map is None or len(self._map) < size:
            grown = max(size, 2 * len(self._map) if self._map is not None else 0)
            if self._map is not None:
                self._map.close()
                self._map = None
            os.ftruncate(self._fd, grown)
            self._map = mmap.mmap(self._fd, grown)
        self._map[:size] = body

    def _verdict(self, body: bytes) -> None:
        """The helper's verdict: return (accepted) or raise its FeedError; when the
        helper cannot give one, the pass runs here."""
        deadline = time.monotonic() + self.seconds_for(len(body))
        try:
            kind, length = _VERDICT.unpack(self._read_exact(_VERDICT.size, deadline))
            if kind not in (_OK, _REFUSED, _FAILED) or length > _MAX_MESSAGE:
                raise _Trouble(f"it answered garbage (kind {kind}, length {length})")
            message = self._read_exact(length, deadline).decode("utf-8", "replace")
        except (OSError, _Trouble) as exc:
            self._broken(f"no verdict ({exc})")
            check_document(body)
            return
        if kind == _FAILED:
            # The pass itself broke (not the helper): here it raises what it raised there.
            log.debug("clarity helper: the check failed there (%s); checking here", message)
            check_document(body)
            return
        self.checked += 1
        if kind == _REFUSED:
            raise FeedError(message)

    def _readable(self, timeout_s: float) -> bool:
        assert self._poll is not None
        return bool(self._poll.poll(max(0, int(timeout_s * 1000))))

    def _read_exact(self, size: int, deadline: float) -> bytes:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        data = bytearray()
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Trouble("it did not answer in time")
            if not self._readable(left):
                continue
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise _Trouble("it closed its pipe")
            data += chunk
        return bytes(data)

    def _broken(self, reason: str) -> None:
        self.failures += 1
        final = self.failures >= GIVE_UP_AFTER
        log.log(
            logging.WARNING if final else logging.INFO,
            "clarity helper process: %s; the XML check runs in this process%s",
            reason,
            " from now on" if final else "",
        )
        self._stop()

    def _stop(self) -> None:
        proc, self._proc, self._poll, self._ready = self._proc, None, None, False
        if proc is None:
            return
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
        try:
            proc.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _shared_file() -> int:
    """A file both processes map: a memfd where there is one (memory only), else an
    unlinked temporary file."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("nightdesk-clarity", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as handle:
        return os.dup(handle.fileno())


#: The process's helper, used by :func:`adapters.clarity_xml.read_document`.
CHECKS = CheckHelper()


# -- the helper's side ---------------------------------------------------------------------


def serve(shared_fd: int, requests: int = 0, verdicts: int = 1) -> int:
    """Answer requests until ``requests`` closes: check the first N bytes of the shared
    file, write the verdict."""
    _write_all(verdicts, _READY)
    shared: mmap.mmap | None = None
    while True:
        head = _read_all(requests, _REQUEST.size)
        if head is None:
            return 0
        (size,) = _REQUEST.unpack(head)
        if shared is None or len(shared) < size:
            if shared is not None:
                shared.close()
            shared = mmap.mmap(shared_fd, 0, prot=mmap.PROT_READ)
        _write_all(verdicts, _answer(shared, size))


def _answer(shared: mmap.mmap, size: int) -> bytes:
    kind, message = _OK, ""
    try:
        if size > len(shared):
            raise ValueError(f"asked for {size} bytes of {len(shared)}")
        with memoryview(shared) as whole, whole[:size] as body:
            check_document(body)
    except FeedError as exc:
        kind, message = _REFUSED, exc.reason
    except Exception as exc:  # the pass broke: this process says so, and goes on
        kind, message = _FAILED, f"{type(exc).__name__}: {exc}"
    data = message.encode("utf-8", "replace")[:_MAX_MESSAGE]
    return _VERDICT.pack(kind, len(data)) + data


def _read_all(fd: int, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
