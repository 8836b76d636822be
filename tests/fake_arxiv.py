"""A fake arXiv API for tests: a stdlib HTTP server on 127.0.0.1 serving real-format Atom feeds.

Build feeds from `PaperRecord`s with `atom_feed`, serve papers with `FakeArxiv` (or the
`fake_arxiv_server()` context manager), script failures with `FakeArxiv.enqueue(...)` and
assert on `FakeArxiv.requests`. Imports only the standard library and `speechgraph.records`.
"""

from __future__ import annotations

import re
import textwrap
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from speechgraph.records import PaperRecord

API_PATH = "/api/query"
MAX_HANG_SECONDS = 3.0  # a scripted hang never lasts longer, so the suite stays fast
ARXIV_NAMESPACE = "http://arxiv.org/schemas/atom"
_NEW_STYLE_ID = re.compile(r"^\d{2}(0[1-9]|1[0-2])\.\d{4,5}(v\d+)?$")
_OLD_STYLE_ID = re.compile(r"^[a-z][a-z\-]*(\.[A-Za-z\-]{2,})?/\d{7}(v\d+)?$")
_QUERY_TERM = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))')


# --- Atom feeds -------------------------------------------------------------------------------


def atom_feed(
    records: Sequence[PaperRecord],
    *,
    total_results: int | None = None,
    start_index: int = 0,
    items_per_page: int | None = None,
    query: str = "",
) -> bytes:
    """An arXiv API response holding `records`, in the layout export.arxiv.org uses."""
    entries = "".join(atom_entry(record) for record in records)
    return _feed(
        entries,
        total_results=len(records) if total_results is None else total_results,
        start_index=start_index,
        items_per_page=len(records) if items_per_page is None else items_per_page,
        query=query,
    )


def atom_entry(record: PaperRecord) -> str:
    """One `<entry>` for `record`; the id carries `record.version` (v1 when unset)."""
    versioned = f"{record.arxiv_id}v{record.version or 1}"
    published = record.published or date(2000, 1, 1)
    updated = record.updated or published
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{versioned}</id>",
        f"    <updated>{updated.isoformat()}T17:59:46Z</updated>",
        f"    <published>{published.isoformat()}T09:30:00Z</published>",
        f"    <title>{_wrap(record.title)}</title>",
        f"    <summary>  {_wrap(record.abstract or '')}\n</summary>",
        *(
            f"    <author>\n      <name>{escape(name)}</name>\n    </author>"
            for name in record.authors
        ),
    ]
    if record.doi:
        doi_url = quoteattr("http://dx.doi.org/" + record.doi)
        lines.append(f"    <arxiv:doi>{escape(record.doi)}</arxiv:doi>")
        lines.append(f'    <link title="doi" href={doi_url} rel="related"/>')
    if record.comment:
        lines.append(f"    <arxiv:comment>{_wrap(record.comment)}</arxiv:comment>")
    if record.journal_ref:
        lines.append(f"    <arxiv:journal_ref>{escape(record.journal_ref)}</arxiv:journal_ref>")
    lines.append(
        f'    <link href="http://arxiv.org/abs/{versioned}" rel="alternate" type="text/html"/>'
    )
    lines.append(
        f'    <link title="pdf" href="http://arxiv.org/pdf/{versioned}" rel="related"'
        ' type="application/pdf"/>'
    )
    categories = record.categories or ([record.primary_category] if record.primary_category else [])
    primary = record.primary_category or (categories[0] if categories else "cs.CL")
    lines.append(f'    <arxiv:primary_category term="{primary}" scheme="{ARXIV_NAMESPACE}"/>')
    lines.extend(f'    <category term="{term}" scheme="{ARXIV_NAMESPACE}"/>' for term in categories)
    lines.append("  </entry>\n")
    return "\n".join(lines)


def error_feed(bad_id: str) -> bytes:
    """What arXiv answers for a malformed id in `id_list`: one entry titled "Error"."""
    error_id = f"http://arxiv.org/api/errors#incorrect_id_format_for_{bad_id}"
    entry = (
        "  <entry>\n"
        f"    <id>{escape(error_id)}</id>\n"
        "    <title>Error</title>\n"
        f"    <summary>incorrect id format for {escape(bad_id)}</summary>\n"
        "    <updated>2024-01-01T00:00:00-05:00</updated>\n"
        f'    <link href={quoteattr(error_id)} rel="alternate" type="text/html"/>\n'
        "    <author>\n      <name>arXiv api core</name>\n    </author>\n"
        "  </entry>\n"
    )
    return _feed(entry, total_results=1, start_index=0, items_per_page=1, query=f"id_list={bad_id}")


def _feed(
    entries: str, *, total_results: int, start_index: int, items_per_page: int, query: str
) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom"'
        ' xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
        f" xmlns:arxiv={quoteattr(ARXIV_NAMESPACE)}>\n"
        f'  <link href={quoteattr("http://arxiv.org/api/query?" + query)} rel="self"'
        ' type="application/atom+xml"/>\n'
        f'  <title type="html">ArXiv Query: {escape(query)}</title>\n'
        "  <id>http://arxiv.org/api/fake</id>\n"
        "  <updated>2024-01-01T00:00:00-05:00</updated>\n"
        f"  <opensearch:totalResults>{total_results}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start_index}</opensearch:startIndex>\n"
        f"  <opensearch:itemsPerPage>{items_per_page}</opensearch:itemsPerPage>\n"
    )
    return (head + entries + "</feed>\n").encode("utf-8")


def _wrap(text: str) -> str:
    # arXiv hard-wraps long titles and abstracts at spaces, with a two-space indent.
    lines = textwrap.wrap(escape(text), width=60, break_long_words=False, break_on_hyphens=False)
    return "\n  ".join(lines)


# --- canned responses -------------------------------------------------------------------------


@dataclass(frozen=True)
class CannedResponse:
    """One scripted answer. `body=None` with status 200 answers the query from the papers."""

    status: int = 200
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering, capped at MAX_HANG_SECONDS


def status_response(status: int, headers: Mapping[str, str] | None = None) -> CannedResponse:
    """An error status, e.g. `status_response(429, {"Retry-After": "1"})`."""
    return CannedResponse(status=status, body=f"HTTP {status}\n".encode(), headers=headers or {})


def hang(seconds: float) -> CannedResponse:
    """Answer normally, but only after `seconds` (capped): longer than a client timeout."""
    return CannedResponse(delay=min(seconds, MAX_HANG_SECONDS))


def empty_feed() -> CannedResponse:
    """A valid Atom feed with zero entries."""
    return CannedResponse(body=atom_feed([]))


def malformed_feed(body: bytes | None = None) -> CannedResponse:
    """Garbage or truncated XML with status 200 (default: a feed cut off mid-entry)."""
    truncated = atom_feed([PaperRecord(arxiv_id="1111.11111", title="Cut Off", authors=["A"])])
    return CannedResponse(body=truncated[: len(truncated) // 2] if body is None else body)


def feed_response(records: Sequence[PaperRecord]) -> CannedResponse:
    """Exactly these records, whatever was asked."""
    return CannedResponse(body=atom_feed(records))


# --- the server -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """A request the fake received; `time` is `time.monotonic()` on arrival."""

    path: str
    query: dict[str, str]
    time: float
    headers: dict[str, str]

    @property
    def id_list(self) -> list[str]:
        raw = self.query.get("id_list", "")
        return [part.strip() for part in raw.split(",") if part.strip()]

    @property
    def search_query(self) -> str:
        return self.query.get("search_query", "")


class FakeArxiv:
    """The fake API. Use as a context manager, or `start()`/`stop()`. `url` is the base URL."""

    def __init__(self, papers: Iterable[PaperRecord] = ()) -> None:
        self.papers: dict[str, PaperRecord] = {}
        self.add(*papers)
        self._queue: deque[CannedResponse] = deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def add(self, *records: PaperRecord) -> None:
        """Serve these papers (keyed by id without version; the record's version is served)."""
        for record in records:
            self.papers[record.arxiv_id] = record

    def enqueue(self, *responses: CannedResponse) -> None:
        """Answer the next requests with these, in order; afterwards answer normally again."""
        with self._lock:
            self._queue.extend(responses)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeArxiv is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}{API_PATH}"

    def start(self) -> FakeArxiv:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        # A short poll interval keeps `shutdown()` (and so every test teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes handlers in a scripted hang
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: RecordedRequest) -> CannedResponse | None:
        with self._lock:
            self._requests.append(request)
            return self._queue.popleft() if self._queue else None

    def answer(self, query: Mapping[str, str]) -> bytes:
        """The feed arXiv would send for these query parameters."""
        ids = [part.strip() for part in query.get("id_list", "").split(",") if part.strip()]
        for arxiv_id in ids:
            if not (_NEW_STYLE_ID.match(arxiv_id) or _OLD_STYLE_ID.match(arxiv_id)):
                return error_feed(arxiv_id)
        if ids:
            # A well-formed unknown id is simply absent; the newest held version is served.
            known = [self.papers[_unversioned(i)] for i in ids if _unversioned(i) in self.papers]
        else:
            known = list(self.papers.values())
        search_query = query.get("search_query", "")
        if search_query:
            known = [record for record in known if _matches(record, search_query)]
        elif not ids:
            known = []
        start = int(query.get("start", "0") or 0)
        max_results = int(query.get("max_results", "10") or 10)
        page = known[start : start + max_results]
        raw_query = "&".join(f"{key}={value}" for key, value in query.items())
        return atom_feed(
            page,
            total_results=len(known),
            start_index=start,
            items_per_page=max_results,
            query=raw_query,
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeArxiv


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        canned = fake._record(
            RecordedRequest(parts.path, query, time.monotonic(), dict(self.headers.items()))
        )
        if canned is not None and canned.delay > 0:
            fake._stopping.wait(min(canned.delay, MAX_HANG_SECONDS))
        if parts.path != API_PATH:
            self._send(404, b"not found\n", {})
        elif canned is None or (canned.body is None and canned.status == 200):
            self._send(200, fake.answer(query), {})
        else:
            self._send(canned.status, canned.body or b"", canned.headers)

    def _send(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        try:
            self.send_response(status)
            content_type = "application/atom+xml; charset=utf-8" if status == 200 else "text/plain"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a scripted hang outlasted its timeout)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean; assertions use FakeArxiv.requests


@contextmanager
def fake_arxiv_server(papers: Iterable[PaperRecord] = ()) -> Iterator[FakeArxiv]:
    """A started `FakeArxiv` serving `papers`, shut down on exit."""
    with FakeArxiv(papers) as fake:
        yield fake


def _unversioned(arxiv_id: str) -> str:
    return re.sub(r"v\d+$", "", arxiv_id)


def _words(text: str) -> set[str]:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return set(re.findall(r"[a-z0-9]+", plain.lower()))


def _matches(record: PaperRecord, search_query: str) -> bool:
    """Every `field:"words"` term matches when all its words occur in that field (AND)."""
    fields = {
        "ti": record.title,
        "abs": record.abstract or "",
        "au": " ".join(record.authors),
        "all": f"{record.title} {record.abstract or ''} {' '.join(record.authors)}",
    }
    terms = _QUERY_TERM.findall(search_query)
    if not terms:
        return False
    for name, phrase, word in terms:
        if not _words(phrase or word) <= _words(fields.get(name, "")):
            return False
    return True
