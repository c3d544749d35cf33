"""A loopback HTTP server for download tests: serves bytes, honours ``Range``, fails on demand.

Used by ``tests/test_download.py`` and reusable by any test that needs data "from the internet"
(e.g. the Colab simulation): ``with loopback_server() as server: url = server.serve("/x", body)``.
It records every request (path and ``Range`` header), can cut the next responses short
(``state.cuts``, ``state.cut_at``), ignore ``Range`` (``state.ignore_range``) or answer a given
status (``state.status[path] = 503``). :func:`silent_server` accepts connections and never answers.
"""

from __future__ import annotations

import http.server
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)  # path -> forced HTTP status
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    cut_at: int = 0  # bytes of the body actually sent when cutting
    cuts: int = 0  # how many of the next responses to cut short
    ignore_range: bool = False


class RangeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        state: ServerState = self.server.state  # type: ignore[attr-defined]
        range_header = self.headers.get("Range")
        state.requests.append((self.path, range_header))
        body = state.files.get(self.path)
        if self.path in state.status or body is None:
            self.send_error(state.status.get(self.path, 404))
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if match and not state.ignore_range:
            start = int(match.group(1))
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        payload = body[start:]
        self.send_header("Content-Type", state.content_types.get(self.path, "application/gzip"))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if state.cuts > 0:
            state.cuts -= 1
            payload = payload[: state.cut_at]
            self.close_connection = True
        self.wfile.write(payload)


@dataclass
class Server:
    state: ServerState
    base: str  # http://127.0.0.1:PORT

    def serve(self, path: str, body: bytes, content_type: str = "application/gzip") -> str:
        """Serve ``body`` at ``path``; return its URL."""
        self.state.files[path] = body
        self.state.content_types[path] = content_type
        return self.base + path

    def ranges(self) -> list[str | None]:
        """The ``Range`` header of every request so far (None when absent)."""
        return [r for _, r in self.state.requests]


@contextmanager
def loopback_server() -> Iterator[Server]:
    """A threaded HTTP server on 127.0.0.1 (a free port), stopped on exit."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    httpd.state = ServerState()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield Server(httpd.state, f"http://127.0.0.1:{httpd.server_address[1]}")  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@contextmanager
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT`` of a socket that accepts connections but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)  # the kernel completes the handshake; nobody ever reads or writes
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def closed_port_url() -> str:
    """``http://127.0.0.1:PORT/x.tar.gz`` where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/x.tar.gz"
