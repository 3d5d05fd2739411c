"""Highlighting new pastes in helper processes, so Pygments never holds the server's GIL.

Pygments is pure Python: a 3 KB paste takes milliseconds of CPU to lex (guessing its
language runs every lexer). In a thread of the web process it holds the interpreter lock
that whole time, stalling every other request; in a helper process it runs beside the
server on another core. The helpers are started with `spawn` (never a fork of a process
that holds a model and threads), import only Pygments and this package's text modules, and
are shared by every app on the event loop; they stop with the server, and on their own if
it is killed (their socket to it closes).

Each helper talks to the event loop over a socket pair, one length-prefixed pickle per
request and per answer, answered in order. The loop reads the answers itself: unlike
`ProcessPoolExecutor` (a manager thread and a queue-feeder thread, each woken per call)
no thread of the server takes part. A helper that dies takes the pool with it: pastes are
then highlighted in a thread for `RETRY_SECONDS`, and the next one after that starts a new
pool.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
import time
from typing import Any, cast

from anyio import to_thread

from meatlizard.pastes.highlight import analyse

log = logging.getLogger(__name__)
RETRY_SECONDS = 60.0
STOP_SECONDS = 5.0  # a helper still busy this long after its socket closed is killed
FRAME = struct.Struct("!I")  # the byte length of the pickle that follows
PROTOCOL = pickle.HIGHEST_PROTOCOL
_pools: dict[tuple[asyncio.AbstractEventLoop, int], asyncio.Task[HelperPool]] = {}
_broken_at = -RETRY_SECONDS  # time.monotonic() of the last pool that broke


class HelperDied(Exception):
    """A highlighting helper went away before answering."""


def _frame(value: object) -> bytes:
    body = pickle.dumps(value, PROTOCOL)
    return FRAME.pack(len(body)) + body


def serve(sock: socket.socket) -> None:
    """In a helper: answer requests in order until the server's end of the socket closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    with sock, sock.makefile("rb") as incoming:
        try:
            while header := incoming.read(FRAME.size):
                content, requested = pickle.loads(incoming.read(FRAME.unpack(header)[0]))
                try:
                    answer = _frame((True, analyse(content, requested)))
                except Exception as exc:  # told to the request that caused it
                    try:
                        answer = _frame((False, exc))
                    except Exception:
                        answer = _frame((False, RuntimeError(repr(exc))))
                sock.sendall(answer)
        except OSError:  # the server went away mid-answer
            return


class Helper(asyncio.Protocol):
    """The server's end of one helper: sends requests, resolves their futures in order."""

    def __init__(self, process: multiprocessing.process.BaseProcess, sock: socket.socket):
        self.process = process
        self.sock = sock
        self.waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.alive = True
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        while len(buffer) >= FRAME.size:
            end = FRAME.size + FRAME.unpack_from(buffer)[0]
            if len(buffer) < end:
                return
            ok, value = pickle.loads(buffer[FRAME.size : end])
            del buffer[:end]
            future = self.waiting.popleft()
            if future.done():  # its request was cancelled
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(HelperDied("a highlighting process died"))

    def ask(self, content: str, requested: str | None) -> asyncio.Future[Any]:
        """Send one request; the future gets its answer (or the error it raised)."""
        if not self.alive or self.transport is None or self.transport.is_closing():
            raise HelperDied("a highlighting process died")
        future = asyncio.get_running_loop().create_future()
        self.waiting.append(future)
        self.transport.write(_frame((content, requested)))
        return future

    def stop(self, *, kill: bool = False) -> None:
        """Close the socket now (the helper reads its end and leaves) and reap the process.

        `kill` does not wait for the helper to finish what it is drawing (a broken pool).
        """
        self.alive = False
        with contextlib.suppress(OSError):  # already closed with its transport
            self.sock.shutdown(socket.SHUT_RDWR)  # at once, even if the loop is gone
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(RuntimeError):  # its loop is closed: shutdown was enough
                self.transport.abort()
        self.process.join(0 if kill else STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class HelperPool:
    """Helpers started for one event loop; each request goes to the least busy one."""

    def __init__(self, helpers: list[Helper]) -> None:
        self.helpers = helpers

    def ask(self, content: str, requested: str | None) -> asyncio.Future[Any]:
        helper = min(self.helpers, key=lambda each: len(each.waiting))
        return helper.ask(content, requested)

    def stop(self, *, kill: bool = False) -> None:
        for helper in self.helpers:
            helper.stop(kill=kill)


def _same(helper: Helper) -> Helper:
    return helper


async def _start(processes: int) -> HelperPool:
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    helpers: list[Helper] = []
    try:
        for _ in range(processes):
            ours, theirs = socket.socketpair()
            process = context.Process(target=serve, args=(theirs,), name="paste-highlighter")
            process.daemon = True
            process.start()
            theirs.close()  # the helper holds its own copy now
            helper = Helper(process, ours)
            helpers.append(helper)
            await loop.create_connection(functools.partial(_same, helper), sock=ours)
    except BaseException:
        for helper in helpers:
            helper.stop()
        raise
    return HelperPool(helpers)


async def _pool(processes: int) -> HelperPool:
    key = (asyncio.get_running_loop(), processes)
    starting = _pools.get(key)
    if starting is None:
        starting = _pools[key] = asyncio.get_running_loop().create_task(_start(processes))
    return await starting


def _drop(key: tuple[asyncio.AbstractEventLoop, int], *, kill: bool = False) -> None:
    starting = _pools.pop(key, None)
    if starting is None:
        return
    if starting.done() and not starting.cancelled() and starting.exception() is None:
        starting.result().stop(kill=kill)
    else:
        starting.cancel()  # still starting: _start stops what it began


def helper_pids() -> list[int]:
    """Return the process ids of the running helpers (of every event loop)."""
    return [
        helper.process.pid or 0
        for starting in _pools.values()
        if starting.done() and not starting.cancelled() and starting.exception() is None
        for helper in starting.result().helpers
    ]


def close_pools() -> None:
    """Stop the helpers (at shutdown); a later paste starts new ones."""
    for key in list(_pools):
        _drop(key)


async def highlight_new(content: str, requested: str | None, processes: int) -> tuple[str, str]:
    """Return the language and highlighted lines of a new plain-text paste, off the loop.

    `processes` helpers share the work (0: a thread of this process instead).
    """
    global _broken_at
    if processes == 0 or time.monotonic() - _broken_at < RETRY_SECONDS:
        return await to_thread.run_sync(analyse, content, requested)
    try:
        pool = await _pool(processes)
        answer: tuple[str, str] = await pool.ask(content, requested)
        return answer
    except (HelperDied, OSError):
        log.warning("a highlighting process died; highlighting in a thread for a while")
        _broken_at = time.monotonic()
        _drop((asyncio.get_running_loop(), processes), kill=True)
        return await to_thread.run_sync(analyse, content, requested)
