"""Highlighting new pastes in helper processes, so Pygments never holds the server's GIL.

Pygments is pure Python: a 3 KB paste takes milliseconds of CPU to lex (guessing its
language runs every lexer). In a thread of the web process it holds the interpreter lock
that whole time, stalling every other request; in a helper process it runs beside the
server on another core. The helpers are started with `spawn` (never a fork of a process
that holds a model and threads), import only Pygments and this package's text modules, and
are shared by every app in the process; they stop with the server, and on their own if it
is killed. A helper that dies takes the pool with it: pastes are then highlighted in a
thread for `RETRY_SECONDS`, and the next one after that starts a new pool.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from anyio import to_thread

from meatlizard.pastes.highlight import analyse

log = logging.getLogger(__name__)
PARENT_CHECK_SECONDS = 1.0
RETRY_SECONDS = 60.0
_pools: dict[int, ProcessPoolExecutor] = {}
_broken_at = -RETRY_SECONDS  # time.monotonic() of the last pool that broke


def _exit_with(parent: int) -> None:
    """In a helper: leave as soon as the server that started it is gone (even if killed)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="follow-server", daemon=True).start()


def _pool(processes: int) -> ProcessPoolExecutor:
    pool = _pools.get(processes)
    if pool is None:
        pool = _pools[processes] = ProcessPoolExecutor(
            processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with,
            initargs=(os.getpid(),),
        )
    return pool


def close_pools() -> None:
    """Stop the helpers (at shutdown); a later paste starts new ones."""
    while _pools:
        _pools.popitem()[1].shutdown(wait=True, cancel_futures=True)


async def highlight_new(content: str, requested: str | None, processes: int) -> tuple[str, str]:
    """Return the language and highlighted lines of a new plain-text paste, off the loop.

    `processes` helpers share the work (0: a thread of this process instead).
    """
    global _broken_at
    if processes == 0 or time.monotonic() - _broken_at < RETRY_SECONDS:
        return await to_thread.run_sync(analyse, content, requested)
    pool = _pool(processes)
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, analyse, content, requested)
    except BrokenProcessPool:
        log.warning("a highlighting process died; highlighting in a thread for a while")
        _broken_at = time.monotonic()
        if _pools.get(processes) is pool:
            del _pools[processes]
        return await to_thread.run_sync(analyse, content, requested)
