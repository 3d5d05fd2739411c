"""The server stops cleanly while a client is closing its socket (a tab shut as it stops)."""

from __future__ import annotations

import asyncio
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from meatlizard.api.websocket_protocol import WebSocketProtocol
from tests.helpers import until


async def held(ws: WebSocket) -> None:
    await ws.accept()
    await ws.receive()


async def test_shutdown_just_after_the_clients_close_frame() -> None:
    """uvicorn's shutdown reaches a socket between the client's close frame and its end.

    The close frame is handed to the server's protocol and the shutdown follows in the same
    step, as when uvicorn stops in the one loop turn before the closed transport is gone.
    """
    config = uvicorn.Config(Starlette(routes=[WebSocketRoute("/ws", held)]), lifespan="off")
    config.load()
    state = ServerState()
    server_end, client_end = socket.socketpair()
    protocol = WebSocketProtocol(config=config, server_state=state, app_state={})
    loop = asyncio.get_running_loop()
    await loop.connect_accepted_socket(lambda: protocol, server_end)
    client = ClientProtocol(parse_uri("ws://test/ws"))
    client.send_request(client.connect())
    client_end.setblocking(False)
    await loop.sock_sendall(client_end, b"".join(client.data_to_send()))
    client.receive_data(await asyncio.wait_for(loop.sock_recv(client_end, 65536), 10))
    assert client.events_received()[0].status_code == 101  # accepted: the socket is open
    assert protocol.handshake_complete

    client.send_close()
    protocol.data_received(b"".join(client.data_to_send()))
    protocol.shutdown()  # must not raise websockets' InvalidState ("connection is closing")

    await until(lambda: not state.connections, "the connection to end", within=10.0)
    client_end.close()
