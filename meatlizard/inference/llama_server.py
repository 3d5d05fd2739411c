"""llama.cpp's own server as a managed subprocess: started on a Unix socket of its own,
stopped when the model's keep-alive ends, its crash reported with the last lines it wrote.

It listens on no network port: its socket lies in a fresh directory only our user can open
(no port to find free, so no other process can take it between our choice and its bind), and
every request must also carry a key drawn at each start (passed in its environment, which only
its own user can read, not on its command line, which every user can).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ctypes
import logging
import os
import secrets
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from meatlizard.inference.engine import InferenceError

log = logging.getLogger(__name__)

# Bounds the wait for the model to load (a large model on a slow disk takes a while).
READY_TIMEOUT_SECONDS = 300.0
READY_POLL_SECONDS = 0.05
STOP_TIMEOUT_SECONDS = 10.0
LOG_LINES_KEPT = 20
# Host memory for prompts llama-server keeps when their slot is taken by another chat, so
# that chat's next turn need not read its history again (llama-server's default: 8 GiB).
PROMPT_CACHE_MIB = 512
# A dropped connection is put down to the server's exit if it exits within this long.
EXIT_GRACE_SECONDS = 1.0
# A server that stops answering (hung, stopped, swapped out) is killed, so that the answers
# it holds end with a reason instead of waiting for ever, and the next one starts a new server:
# it is asked /health this often, and killed after this many unanswered asks in a row.
HEALTH_EVERY_SECONDS = 10.0
HEALTH_MISSES = 3
# Each server's socket lies in its own directory under the temporary folder, named after the
# process that started it.
HOME_PREFIX = "meatlizard-llama-"
SOCKET_NAME = "llama.sock"  # llama-server takes a --host ending in .sock for a Unix socket


@dataclass(frozen=True)
class ServerOptions:
    """How to run llama-server for one model."""

    binary: Path
    model_path: Path
    parallel: int
    n_ctx_seq: int
    n_threads: int
    n_gpu_layers: int = 0

    def arguments(self, socket_path: Path) -> list[str]:
        layers = 999 if self.n_gpu_layers < 0 else self.n_gpu_layers
        return [
            str(self.binary),
            "--model", str(self.model_path),
            "--host", str(socket_path),  # a Unix socket, no port
            "--parallel", str(self.parallel),
            "--ctx-size", str(self.n_ctx_seq * self.parallel),
            "--threads", str(self.n_threads),
            "--threads-batch", str(self.n_threads),
            "--n-gpu-layers", str(layers),
            "--no-kv-unified",  # a cache per answer, as the in-process engine keeps
            "--cache-ram", str(PROMPT_CACHE_MIB),
            "--no-webui",
        ]  # fmt: skip


PR_SET_PDEATHSIG = 1


def _end_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Have the kernel kill the server when the process that started it dies, even by
    SIGKILL: an orphaned server would keep the model's memory.

    SIGKILL, not SIGTERM: with nobody left to answer, a graceful exit buys nothing, and
    llama-server's own shutdown can hang (a second SIGTERM during its cleanup calls exit()
    from the signal handler while free() holds the allocator's lock: seen as a deadlock).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def sweep_orphaned_homes() -> None:
    """Remove the socket directories of servers whose starter died without cleaning up
    (killed: its server ended with it, see `_end_with_parent`)."""
    for home in Path(tempfile.gettempdir()).glob(f"{HOME_PREFIX}*-*"):
        starter = home.name.removeprefix(HOME_PREFIX).split("-")[0]
        if not starter.isdigit():
            continue
        try:
            os.kill(int(starter), 0)
        except ProcessLookupError:
            shutil.rmtree(home, ignore_errors=True)
        except OSError:  # alive, or another user's
            continue


def _new_home() -> Path:
    """Sweep the orphaned socket directories, then make this server's (mode 0700)."""
    sweep_orphaned_homes()
    return Path(tempfile.mkdtemp(prefix=f"{HOME_PREFIX}{os.getpid()}-"))


class LlamaServer:
    """One running llama-server; `start()` returns once the model answers."""

    def __init__(self, options: ServerOptions, alias: str) -> None:
        self.options = options
        self.alias = alias
        self.key = secrets.token_urlsafe(24)
        self._home: Path | None = None  # the private directory that holds its socket
        self._process: asyncio.subprocess.Process | None = None
        self._lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES_KEPT)
        self._reader: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self.system_info = ""  # llama.cpp's line naming the backends it was built with

    @property
    def socket_path(self) -> Path | None:
        return self._home / SOCKET_NAME if self._home is not None else None

    def client(self, timeout: httpx.Timeout | float, connections: int = 2) -> httpx.AsyncClient:
        """Return an HTTP client that speaks to this server over its socket, with its key."""
        transport = httpx.AsyncHTTPTransport(
            uds=str(self.socket_path), limits=httpx.Limits(max_connections=connections)
        )
        return httpx.AsyncClient(
            transport=transport,
            base_url="http://llama-server",
            headers={"Authorization": f"Bearer {self.key}"},
            timeout=timeout,
        )

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def last_words(self) -> str:
        """Return what the server wrote last (its reason when it failed)."""
        return " | ".join(self._lines) or "no output"

    def exit_reason(self) -> str:
        code = self._process.returncode if self._process is not None else None
        return f"llama-server exited with code {code}: {self.last_words()}"

    async def failure(self, error: Exception) -> str:
        """Say why a request failed: the server's exit when it is ending, else the error."""
        if self._process is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._process.wait()), EXIT_GRACE_SECONDS)
        if self.running:
            return f"llama-server: {error!r}"
        if self._reader is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._reader), EXIT_GRACE_SECONDS)
        return self.exit_reason()

    async def start(self) -> None:
        """Run the server and wait until its model is loaded; InferenceError if it is not."""
        self._home = await asyncio.to_thread(_new_home)
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.options.arguments(self._home / SOCKET_NAME),
                env={**os.environ, "LLAMA_API_KEY": self.key},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                # Started from the event loop's thread, which lives as long as the process.
                preexec_fn=_end_with_parent if sys.platform == "linux" else None,
                # Its own process group: a terminal's Ctrl-C reaches us, and we stop it once,
                # rather than both signalling it at the same time.
                start_new_session=True,
            )
        except OSError as exc:
            self._remove_home()
            raise InferenceError(f"cannot run {self.options.binary}: {exc}") from exc
        self._reader = asyncio.create_task(self._keep_output())
        try:
            await asyncio.wait_for(self._until_ready(), READY_TIMEOUT_SECONDS)
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, TimeoutError):
                raise InferenceError(
                    f"llama-server did not load the model within {READY_TIMEOUT_SECONDS:.0f} s: "
                    f"{self.last_words()}"
                ) from exc
            raise
        self._watchdog = asyncio.create_task(self._watch())
        log.info("llama-server for %s on %s (pid %s)", self.alias, self.socket_path, self.pid)

    async def _keep_output(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        async for raw in self._process.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line.startswith("system_info:"):
                self.system_info = line
            if line:
                self._lines.append(line)
                log.debug("llama-server %s: %s", self.alias, line)

    async def _healthy(self, client: httpx.AsyncClient) -> bool:
        """Say whether the server answers /health with its model loaded (503 while loading)."""
        try:
            return (await client.get("/health")).status_code == 200
        except httpx.TransportError:
            return False

    async def _until_ready(self) -> None:
        async with self.client(timeout=5.0) as client:
            while True:
                if not self.running:
                    assert self._reader is not None
                    await self._reader  # everything it wrote is read: its reason is in there
                    raise InferenceError(self.exit_reason())
                if await self._healthy(client):
                    return
                await asyncio.sleep(READY_POLL_SECONDS)

    async def _watch(self) -> None:
        """Kill the server once it has left HEALTH_MISSES asks for /health unanswered."""
        misses = 0
        async with self.client(timeout=HEALTH_EVERY_SECONDS) as client:
            while self.running:
                await asyncio.sleep(HEALTH_EVERY_SECONDS)
                misses = 0 if await self._healthy(client) else misses + 1
                if misses >= HEALTH_MISSES and self._process is not None:
                    silent = HEALTH_MISSES * HEALTH_EVERY_SECONDS
                    self._lines.append(f"killed: it did not answer for {silent:g} s")
                    log.error("llama-server for %s stopped answering; killed", self.alias)
                    with contextlib.suppress(ProcessLookupError):
                        self._process.kill()
                    return

    async def stop(self) -> None:
        """End the server (politely first) and wait for it."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        process = self._process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_SECONDS)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader
        self._remove_home()

    def _remove_home(self) -> None:
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None
