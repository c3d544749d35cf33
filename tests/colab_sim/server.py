"""A loopback HTTP server of data archives that counts what each client asks for.

It stands in for every remote source of the data (OpenSLR, Google Drive, Cloud Storage, an
instructor's mirror): ``AUDIO_COURSE_DATA_URL`` points at it. Every request is recorded (method,
path, bytes sent), so a test can assert that a runtime asked for nothing.
"""

from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Request:
    """One request the server answered: ``method``, ``path``, HTTP ``status``, ``sent`` bytes."""

    method: str
    path: str
    status: int
    sent: int


class ArchiveServer:
    """Serve the files of ``folder`` on ``127.0.0.1`` (a free port) from a background thread.

    Use as a context manager; :attr:`url` is the base URL (ending in ``/``) and :attr:`requests`
    every request answered so far.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(server.folder), **kwargs)

            def send_response(self, code: int, message: str | None = None) -> None:
                self._status = code
                super().send_response(code, message)

            def copyfile(self, source, outputfile) -> None:
                start = source.tell()
                super().copyfile(source, outputfile)
                self._sent = source.tell() - start

            def handle_one_request(self) -> None:
                self._status, self._sent = 0, 0
                super().handle_one_request()
                if self._status:
                    server._record(Request(self.command, self.path, self._status, self._sent))

            def log_message(self, format: str, *args) -> None:  # quiet
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>/``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def snapshot(self) -> int:
        """How many requests have been answered so far (to diff against later)."""
        with self._lock:
            return len(self.requests)

    def since(self, mark: int) -> list[Request]:
        """The requests answered after :meth:`snapshot` returned ``mark``."""
        with self._lock:
            return self.requests[mark:]

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
