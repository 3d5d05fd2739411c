"""A local HTTP server for model downloads: Range requests, and a connection cut on demand."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Served:
    """What the server offers and what it was asked."""

    files: dict[str, tuple[bytes, str]]  # path -> (body, content type)
    cut_after: int | None = None  # the next full download stops after this many bytes
    ranges: list[str | None] = field(default_factory=list)
    url: str = ""


def _handler(served: Served) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet test output
            pass

        def do_GET(self) -> None:
            found = served.files.get(self.path)
            if found is None:
                self.send_error(404)
                return
            body, kind = found
            asked = self.headers.get("Range")
            served.ranges.append(asked)
            start = 0
            match = re.fullmatch(r"bytes=(\d+)-", asked or "")
            if match:
                start = int(match.group(1))
                if start >= len(body):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            part = body[start:]
            if served.cut_after is not None and start == 0:
                part, served.cut_after = part[: served.cut_after], None
                self.wfile.write(part)
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(part)

    return Handler


@contextmanager
def model_server(files: dict[str, tuple[bytes, str]]) -> Iterator[Served]:
    """Serve `files` on a free loopback port for the duration of the block."""
    served = Served(files)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
