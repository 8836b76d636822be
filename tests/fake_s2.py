"""A fake Semantic Scholar Graph API on 127.0.0.1 for tests: the paper batch endpoint only.

Serves `POST /graph/v1/paper/batch` from a dict of known papers keyed by arXiv id, answering
`null` for unknown ids, filtering fields like the real service, and recording every request.
Failures are scripted with `fail_next(...)`: each queued failure answers one request.

    with FakeS2(load_papers()) as server:
        server.fail_next(too_many_requests(retry_after="1"), server_error(503))
        client = CitationClient(server.base_url, ...)
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

DATA_DIR = Path(__file__).parent / "data" / "s2"
BATCH_PATH = "/graph/v1/paper/batch"
MAX_IDS = 500
MAX_HANG_SECONDS = 3.0


@dataclass(frozen=True)
class Failure:
    """One scripted bad answer. Build with the helpers below rather than directly."""

    kind: str  # "status" | "truncated" | "short_read" | "hang" | "wrong_length"
    status: int = 500
    retry_after: str | None = None
    body: str = ""
    seconds: float = 0.0


def too_many_requests(retry_after: str | None = "1") -> Failure:
    """HTTP 429 with an optional Retry-After header (seconds or an HTTP-date)."""
    return Failure("status", 429, retry_after, '{"message": "Too Many Requests"}')


def server_error(status: int = 500) -> Failure:
    """An HTTP 5xx answer."""
    return Failure("status", status, None, '{"message": "Internal Server Error"}')


def status_error(status: int, body: str = '{"error": "Bad request"}') -> Failure:
    """Any status with a JSON body, e.g. 400 or 404."""
    return Failure("status", status, None, body)


def truncated_body() -> Failure:
    """Status 200 and a consistent Content-Length, but the JSON is cut in half."""
    return Failure("truncated")


def short_read() -> Failure:
    """Status 200 announcing the full Content-Length, then the connection closes early."""
    return Failure("short_read")


def hang(seconds: float = 1.0) -> Failure:
    """Say nothing for `seconds` (at most 3), then answer normally if the client still listens."""
    return Failure("hang", seconds=min(seconds, MAX_HANG_SECONDS))


def wrong_length() -> Failure:
    """A valid JSON array with one entry fewer (or more) than ids were asked for."""
    return Failure("wrong_length")


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake saw: lower-cased header names, the ids sent, and the arrival time."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    ids: list[str] | None
    arrived_at: float  # time.monotonic()


def load_papers(path: Path = DATA_DIR / "papers.json") -> dict[str, dict[str, Any]]:
    """The fixture papers, keyed by arXiv id."""
    papers: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return papers


def synthetic_papers(arxiv_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Small made-up papers for the given ids, for tests that need many of them."""
    return {arxiv_id: _synthetic_paper(arxiv_id) for arxiv_id in arxiv_ids}


def _synthetic_paper(arxiv_id: str) -> dict[str, Any]:
    digest = hashlib.sha1(arxiv_id.encode("utf-8")).hexdigest()
    return {
        "paperId": digest,
        "externalIds": {"ArXiv": arxiv_id, "CorpusId": int(digest[:7], 16)},
        "title": f"Synthetic speech paper {arxiv_id}",
        "year": 2000 + int(arxiv_id[:2]),
        "citationCount": int(digest[:3], 16),
        "referenceCount": 0,
        "references": [],
    }


class FakeS2:
    """Context manager running the fake on 127.0.0.1 with a free port."""

    def __init__(self, papers: dict[str, dict[str, Any]] | None = None) -> None:
        self.papers = papers if papers is not None else load_papers()
        self.requests: list[RecordedRequest] = []
        self._failures: deque[Failure] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/graph/v1"

    @property
    def batch_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == BATCH_PATH]

    def fail_next(self, *failures: Failure) -> None:
        """Queue failures; each answers one request, in order, before normal service resumes."""
        with self._lock:
            self._failures.extend(failures)

    def __enter__(self) -> FakeS2:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()  # wakes hanging handlers so they give up quickly
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def record(self, request: RecordedRequest) -> Failure | None:
        """Store `request` and pop the next scripted failure, if any."""
        with self._lock:
            self.requests.append(request)
            return self._failures.popleft() if self._failures else None

    def sleep(self, seconds: float) -> None:
        self._stopping.wait(min(seconds, MAX_HANG_SECONDS))

    def answer(self, ids: list[str], fields: list[str]) -> list[dict[str, Any] | None]:
        """The batch response: one entry per id, None for ids not known."""
        return [self._lookup(raw_id, fields) for raw_id in ids]

    def _lookup(self, raw_id: str, fields: list[str]) -> dict[str, Any] | None:
        prefix, _, value = raw_id.partition(":")
        if prefix.upper() != "ARXIV" or value not in self.papers:
            return None
        return select_fields(self.papers[value], fields)


def select_fields(paper: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """Keep `paperId` and the requested fields, as the real service does."""
    top = [name for name in fields if "." not in name]
    nested = [name.split(".", 1)[1] for name in fields if name.startswith("references.")]
    selected: dict[str, Any] = {"paperId": paper.get("paperId")}
    for name in top:
        selected[name] = copy.deepcopy(paper.get(name))
    if nested or "references" in top:
        keep = ["paperId", *(nested or ["title"])]
        references = paper.get("references")
        selected["references"] = (
            None
            if references is None
            else [{key: copy.deepcopy(ref.get(key)) for key in keep} for ref in references]
        )
    return selected


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeS2

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up mid-answer are expected here; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.fake.record(self._recorded(None))
        self._send_json(404, {"error": "Not found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        ids = _ids_from(body)
        fake = self.server.fake
        failure = fake.record(self._recorded(ids))
        url = urlsplit(self.path)
        if url.path != BATCH_PATH:
            self._send_json(404, {"error": "Not found"})
            return
        if ids is None:
            self._send_json(400, {"error": "Unacceptable request body: expected {'ids': [...]}"})
            return
        if len(ids) > MAX_IDS:
            self._send_json(400, {"error": f"Cannot process more than {MAX_IDS} ids"})
            return
        fields = (parse_qs(url.query).get("fields") or ["title"])[0].split(",")
        if failure is not None:
            self._fail(failure, ids, fields)
            return
        self._send_json(200, fake.answer(ids, fields))

    def _recorded(self, ids: list[str] | None) -> RecordedRequest:
        url = urlsplit(self.path)
        return RecordedRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query),
            headers={name.lower(): value for name, value in self.headers.items()},
            ids=ids,
            arrived_at=time.monotonic(),
        )

    def _fail(self, failure: Failure, ids: list[str], fields: list[str]) -> None:
        fake = self.server.fake
        if failure.kind == "status":
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            self._send_raw(failure.status, failure.body.encode("utf-8"), headers)
        elif failure.kind == "truncated":
            body = json.dumps(fake.answer(ids, fields)).encode("utf-8")
            self._send_raw(200, body[: max(1, len(body) // 2)])
        elif failure.kind == "short_read":
            body = json.dumps(fake.answer(ids, fields)).encode("utf-8")
            self._send_raw(200, body[: max(1, len(body) // 2)], length=len(body))
        elif failure.kind == "hang":
            fake.sleep(failure.seconds)
            self._send_json(200, fake.answer(ids, fields))
        elif failure.kind == "wrong_length":
            entries = fake.answer(ids, fields)
            self._send_json(200, entries[:-1] if len(entries) > 1 else [*entries, None])
        else:
            raise ValueError(f"unknown failure kind {failure.kind!r}")

    def _send_json(self, status: int, payload: object) -> None:
        self._send_raw(status, json.dumps(payload).encode("utf-8"))

    def _send_raw(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            pass  # the client gave up (timeout) before we answered
        self.close_connection = True


def _ids_from(body: bytes) -> list[str] | None:
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        return None
    ids = payload.get("ids") if isinstance(payload, dict) else None
    if not isinstance(ids, list) or not all(isinstance(item, str) for item in ids):
        return None
    return ids
