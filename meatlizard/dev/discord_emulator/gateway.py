"""The Gateway: WebSocket sessions with HELLO/IDENTIFY/READY, heartbeats, RESUME and dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from dataclasses import dataclass, field
from enum import IntFlag
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from meatlizard.dev.discord_emulator.heartbeat import SESSION_TIMED_OUT, HeartbeatWatchdog
from meatlizard.dev.discord_emulator.models import Application, iso_now

if TYPE_CHECKING:
    from meatlizard.dev.discord_emulator.state import State

log = logging.getLogger(__name__)

# Opcodes (topics/opcodes-and-status-codes#gateway).
DISPATCH, HEARTBEAT, IDENTIFY, RESUME, REQUEST_MEMBERS = 0, 1, 2, 6, 8
RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 7, 9, 10, 11
CLIENT_OPS = {HEARTBEAT, IDENTIFY, 3, 4, RESUME, REQUEST_MEMBERS}
# Close codes.
UNKNOWN_OPCODE, DECODE_ERROR, NOT_AUTHENTICATED, AUTH_FAILED = 4001, 4002, 4003, 4004
ALREADY_AUTHENTICATED, INVALID_API_VERSION, DISALLOWED_INTENTS = 4005, 4012, 4014
REPLAY_LIMIT = 1000


class Intent(IntFlag):
    """Gateway intents (topics/gateway#list-of-intents) that the emulator filters on."""

    GUILDS = 1 << 0
    GUILD_MEMBERS = 1 << 1
    GUILD_PRESENCES = 1 << 8
    GUILD_MESSAGES = 1 << 9
    DIRECT_MESSAGES = 1 << 12
    MESSAGE_CONTENT = 1 << 15


PRIVILEGED = Intent.GUILD_MEMBERS | Intent.GUILD_PRESENCES | Intent.MESSAGE_CONTENT


@dataclass
class Connection:
    """One WebSocket: frames leave in order through a queue drained by a writer task."""

    socket: web.WebSocketResponse
    compressor: Any = None
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    watchdog: HeartbeatWatchdog | None = None

    async def write(self) -> None:
        """Send queued frames until told to stop or the socket closes."""
        while (frame := await self.queue.get()) is not None:
            if self.socket.closed:
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                if self.compressor is None:
                    await self.socket.send_str(frame)
                else:
                    data = self.compressor.compress(frame.encode())
                    await self.socket.send_bytes(data + self.compressor.flush(zlib.Z_SYNC_FLUSH))


@dataclass
class Session:
    """A gateway session: survives its connection so that RESUME can replay missed events."""

    id: str
    app: Application
    intents: int
    seq: int = 0
    replay: deque[tuple[int, str]] = field(default_factory=lambda: deque(maxlen=REPLAY_LIMIT))
    connection: Connection | None = None

    def dispatch(self, event: str, data: Any) -> None:
        """Number the event, keep it for replay and send it if connected."""
        self.seq += 1
        frame = json.dumps({"op": DISPATCH, "s": self.seq, "t": event, "d": data})
        self.replay.append((self.seq, frame))
        if self.connection is not None:
            self.connection.queue.put_nowait(frame)


class Gateway:
    """Accepts bot connections and routes events to the sessions entitled to them."""

    def __init__(self, state: State, *, heartbeat_interval_ms: int = 41_250) -> None:
        self.state = state
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[str, Session] = {}
        self.honour_compression = False
        self.identifies = 0
        self.resumes = 0
        self.timeouts = 0  # connections closed for missing heartbeats

    def live_sessions(self, app: Application) -> list[Session]:
        """Return the app's sessions (connected or waiting to resume)."""
        return [s for s in self.sessions.values() if s.app is app]

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one gateway WebSocket connection."""
        socket = web.WebSocketResponse(max_msg_size=4096 * 1024)
        await socket.prepare(request)
        if request.query.get("v", "10") not in ("9", "10"):
            await socket.close(code=INVALID_API_VERSION, message=b"Invalid API version")
            return socket
        if request.query.get("encoding", "json") != "json":
            await socket.close(code=DECODE_ERROR, message=b"Only encoding=json is supported")
            return socket
        compress = request.query.get("compress") == "zlib-stream" and self.honour_compression
        conn = Connection(socket, zlib.compressobj() if compress else None)
        writer = asyncio.create_task(conn.write())
        session: Session | None = None
        try:
            self._send(conn, HELLO, {"heartbeat_interval": self.heartbeat_interval_ms})
            interval_s = self.heartbeat_interval_ms / 1000
            conn.watchdog = HeartbeatWatchdog(interval_s, lambda: self._time_out(conn))
            async for message in socket:
                if message.type is not WSMsgType.TEXT:
                    break
                session = await self._receive(conn, session, message.data)
        finally:
            if conn.watchdog is not None:
                conn.watchdog.stop()
            if session is not None and session.connection is conn:
                session.connection = None
            conn.queue.put_nowait(None)
            await writer
            self.state.notify()
        return socket

    async def _receive(
        self, conn: Connection, session: Session | None, text: str
    ) -> Session | None:
        try:
            payload = json.loads(text)
            op, data = payload["op"], payload.get("d")
        except (ValueError, KeyError, TypeError):
            await conn.socket.close(code=DECODE_ERROR, message=b"Decode error")
            return session
        if op not in CLIENT_OPS:
            await conn.socket.close(code=UNKNOWN_OPCODE, message=b"Unknown opcode")
        elif op == HEARTBEAT:
            if conn.watchdog is None or conn.watchdog.beat():
                self._send(conn, HEARTBEAT_ACK, None)
        elif op in (IDENTIFY, RESUME) and session is not None:
            await conn.socket.close(code=ALREADY_AUTHENTICATED, message=b"Already authenticated")
        elif op == IDENTIFY:
            return await self._identify(conn, data or {})
        elif op == RESUME:
            return await self._resume(conn, data or {})
        elif session is None:
            await conn.socket.close(code=NOT_AUTHENTICATED, message=b"Not authenticated")
        elif op == REQUEST_MEMBERS:
            self._send_member_chunk(session, data or {})
        return session

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> Session | None:
        app = self.state.tokens.get(str(data.get("token", "")).removeprefix("Bot "))
        if app is None:
            await conn.socket.close(code=AUTH_FAILED, message=b"Authentication failed")
            return None
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED & ~app.privileged_intents:
            await conn.socket.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s)")
            return None
        self.identifies += 1
        session = Session(secrets.token_hex(16), app, intents, connection=conn)
        self.sessions[session.id] = session
        guilds = self.state.guilds_of(app.bot.id)
        session.dispatch(
            "READY",
            {
                "v": 10,
                "user": app.bot.payload(),
                "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
                "session_id": session.id,
                "resume_gateway_url": self.state.gateway_url,
                "shard": data.get("shard", [0, 1]),
                "application": {"id": str(app.id), "flags": 0},
                "private_channels": [],
                "presences": [],
                "relationships": [],
                "user_settings": {},
                "geo_ordered_rtc_regions": [],
                "guild_join_requests": [],
            },
        )
        if intents & Intent.GUILDS:
            for guild in guilds:
                joined = guild.members[app.bot.id].joined_at
                session.dispatch("GUILD_CREATE", guild.create_payload(joined or iso_now()))
        self.state.notify()
        return session

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> Session | None:
        session = self.sessions.get(str(data.get("session_id")))
        token = str(data.get("token", "")).removeprefix("Bot ")
        seq = data.get("seq") or 0
        if session is None or session.app.token != token or not self._can_replay(session, seq):
            self._send(conn, INVALID_SESSION, False)
            return None
        self.resumes += 1
        if session.connection is not None:
            await session.connection.socket.close(code=4000, message=b"Session resumed elsewhere")
        for number, frame in session.replay:
            if number > seq:
                conn.queue.put_nowait(frame)
        session.connection = conn
        session.dispatch("RESUMED", {"_trace": ["meatlizard-discord-emulator"]})
        self.state.notify()
        return session

    async def _time_out(self, conn: Connection) -> None:
        """Close a connection that missed its heartbeat; its session stays resumable."""
        if conn.socket.closed:
            return
        self.timeouts += 1
        await conn.socket.close(code=SESSION_TIMED_OUT, message=b"Session timed out")
        self.state.notify()

    @staticmethod
    def _can_replay(session: Session, seq: int) -> bool:
        oldest = session.replay[0][0] if session.replay else session.seq + 1
        return seq <= session.seq and seq + 1 >= oldest

    def _send_member_chunk(self, session: Session, data: dict[str, Any]) -> None:
        guild = self.state.guilds.get(int(data.get("guild_id", 0)))
        if guild is None or session.app.bot.id not in guild.members:
            return
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in guild.members.values()],
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    @staticmethod
    def _send(conn: Connection, op: int, data: Any) -> None:
        conn.queue.put_nowait(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    # --- control, used by the emulator's test API ---

    async def drop(self, app: Application, code: int = 4000) -> int:
        """Close the app's connections (the sessions stay resumable); return how many."""
        closed = 0
        for session in self.live_sessions(app):
            if session.connection is not None:
                conn, session.connection = session.connection, None
                await conn.socket.close(code=code, message=b"Dropped by the emulator")
                closed += 1
        return closed

    def request_reconnect(self, app: Application) -> None:
        """Send op 7 RECONNECT: the client should reconnect and resume."""
        for session in self.live_sessions(app):
            if session.connection is not None:
                self._send(session.connection, RECONNECT, None)

    def invalidate(self, app: Application, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION and, unless resumable, forget the sessions."""
        for session in self.live_sessions(app):
            if session.connection is not None:
                self._send(session.connection, INVALID_SESSION, resumable)
            if not resumable:
                self.sessions.pop(session.id, None)

    async def close(self) -> None:
        """Close every connection."""
        for session in list(self.sessions.values()):
            if session.connection is not None:
                await session.connection.socket.close(code=1001, message=b"Going away")
