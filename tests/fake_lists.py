"""A fake web server for reading-list downloads: a stdlib HTTP server on 127.0.0.1.

Serves `GET /lists/NAME` from a dict of file bodies (the tests read the real seed lists from
../shared/seeds at run time), records every request, and answers scripted failures in order:

    with FakeListServer({"awesome.md": text}) as server:
        server.fail_next(status(503), hang(1.0))
        _download_list(server.url("awesome.md"), timeout=0.3, policy=...)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

LISTS_PATH = "/lists/"
MAX_HANG_SECONDS = 3.0


@dataclass(frozen=True)
class Failure:
    """One scripted answer; build with the helpers below."""

    kind: str  # "status" | "hang" | "cut" | "endless"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    total_bytes: int = 0


def status(code: int, retry_after: str | None = None) -> Failure:
    """An error status with a short text body, and Retry-After when given."""
    return Failure("status", code, {"Retry-After": retry_after} if retry_after else {})


def hang(seconds: float) -> Failure:
    """Say nothing for `seconds` (at most 3), then answer normally if the client still listens."""
    return Failure("hang", seconds=min(seconds, MAX_HANG_SECONDS))


def cut_body() -> Failure:
    """Status 200 announcing the whole Content-Length, then half the body and a closed socket."""
    return Failure("cut")


def endless_body(total_bytes: int) -> Failure:
    """Status 200, no Content-Length, and `total_bytes` of list-like text in chunks."""
    return Failure("endless", total_bytes=total_bytes)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    arrived_at: float  # time.monotonic()


class FakeListServer:
    """Context manager running the fake on 127.0.0.1 with a free port."""

    def __init__(self, lists: dict[str, bytes]) -> None:
        self.lists = lists
        self.requests: list[RecordedRequest] = []
        self.bytes_sent = 0  # by endless bodies, counted as written
        self._failures: deque[Failure] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{LISTS_PATH}{name}"

    def fail_next(self, *failures: Failure) -> None:
        with self._lock:
            self._failures.extend(failures)

    def __enter__(self) -> FakeListServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def record(self, request: RecordedRequest) -> Failure | None:
        with self._lock:
            self.requests.append(request)
            return self._failures.popleft() if self._failures else None

    def count_sent(self, size: int) -> None:
        with self._lock:
            self.bytes_sent += size


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeListServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up mid-answer are expected here


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        fake = self.server.fake
        failure = fake.record(
            RecordedRequest(self.path, dict(self.headers.items()), time.monotonic())
        )
        name = self.path.removeprefix(LISTS_PATH)
        body = fake.lists.get(name) if self.path.startswith(LISTS_PATH) else None
        if failure is not None and failure.kind == "hang":
            fake._stopping.wait(failure.seconds)
        if failure is not None and failure.kind == "status":
            self._send(failure.status, f"HTTP {failure.status}\n".encode(), failure.headers)
        elif body is None:
            self._send(404, b"not found\n")
        elif failure is not None and failure.kind == "cut":
            self._send(200, body[: len(body) // 2], length=len(body))
        elif failure is not None and failure.kind == "endless":
            self._send_endless(body, failure.total_bytes)
        else:
            self._send(200, body)

    def _send(
        self,
        code: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        try:
            self.send_response(code)
            self.send_header("Content-Type", "text/markdown; charset=utf-8")
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True

    def _send_endless(self, body: bytes, total_bytes: int) -> None:
        """The list repeated to `total_bytes`, closing the connection to end it (HTTP/1.0 style)."""
        self.protocol_version = "HTTP/1.0"
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/markdown; charset=utf-8")
            self.end_headers()
            sent = 0
            while sent < total_bytes:
                self.wfile.write(body)
                self.server.fake.count_sent(len(body))
                sent += len(body)
        except OSError:
            pass
        self.close_connection = True
