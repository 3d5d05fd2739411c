"""uvicorn's WebSocket protocol, with a shutdown that tolerates a close already under way."""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """Closes each socket at server shutdown, even one whose client is closing it right then.

    uvicorn 0.54's protocol sends its own close frame at shutdown unless it sent one before;
    when the client's close frame has just arrived (a browser tab closed as the server stops)
    the connection is already closing and websockets refuses a second close, so the exception
    broke off uvicorn's shutdown loop and left the other connections open.
    """

    def shutdown(self) -> None:
        try:
            super().shutdown()
        except InvalidState:
            self.transport.close()
