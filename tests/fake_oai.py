"""A fake arXiv OAI-PMH 2.0 repository for tests: a stdlib HTTP server on 127.0.0.1.

Records are built at test time from the real corpus in ../shared/corpus/speech-arxiv.jsonl.gz
(`load_corpus`), served as `ListRecords` pages in the `arXiv` metadata format, with resumption
tokens, `from`/`until` on the record's date, and sets derived from its categories the way
arXiv names them (`cs`, `eess`, `physics:quant-ph`). Failures are scripted in order:

    with FakeOai(load_corpus(), page_size=50) as server:
        server.fail_next(unavailable(retry_after="1"), truncated_page(), expired_token())
        OaiHarvester(server.url, ...)

Imports only the standard library.
"""

from __future__ import annotations

import gzip
import json
import textwrap
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "speech-arxiv.jsonl.gz"
OAI_PATH = "/oai"
MAX_HANG_SECONDS = 3.0
OAI_NAMESPACE = "http://www.openarchives.org/OAI/2.0/"
ARXIV_NAMESPACE = "http://arxiv.org/OAI/arXiv/"
LICENSE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
# arXiv exposes every physics archive as a subset of `physics`; the other archives are sets.
PHYSICS_ARCHIVES = frozenset(
    {
        "astro-ph",
        "cond-mat",
        "gr-qc",
        "hep-ex",
        "hep-lat",
        "hep-ph",
        "hep-th",
        "math-ph",
        "nucl-ex",
        "nucl-th",
        "physics",
        "quant-ph",
    }
)
_NAME_SUFFIXES = frozenset({"Jr", "Jr.", "Sr", "Sr.", "II", "III", "IV"})


@dataclass(frozen=True)
class CorpusRecord:
    """One paper of the corpus as the fake serves it; `datestamp` is its first-version date."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    abstract: str
    categories: tuple[str, ...]
    datestamp: date

    @property
    def identifier(self) -> str:
        return f"oai:arXiv.org:{self.arxiv_id}"

    @property
    def sets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(set_of(category) for category in self.categories))


def set_of(category: str) -> str:
    archive = category.split(".", 1)[0]
    return f"physics:{archive}" if archive in PHYSICS_ARCHIVES else archive


def load_corpus(path: Path = CORPUS) -> list[CorpusRecord]:
    """The corpus records that have a date and categories (an arXiv record always has both)."""
    records = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            raw = json.loads(line)
            if not raw["published"] or not raw["categories"]:
                continue
            records.append(
                CorpusRecord(
                    arxiv_id=raw["id"],
                    title=raw["title"],
                    authors=tuple(raw["authors"]),
                    abstract=raw["abstract"],
                    categories=tuple(raw["categories"]),
                    datestamp=date.fromisoformat(raw["published"]),
                )
            )
    return records


# --- the XML -------------------------------------------------------------------------------


def split_name(name: str) -> tuple[str, str, str]:
    """(keyname, forenames, suffix) the way arXiv's `arXiv` format splits an author."""
    parts = name.split()
    suffix = parts.pop() if len(parts) > 2 and parts[-1] in _NAME_SUFFIXES else ""
    if not parts:
        return name, "", ""
    return parts[-1], " ".join(parts[:-1]), suffix


def author_xml(name: str) -> str:
    keyname, forenames, suffix = split_name(name)
    parts = [f"<keyname>{escape(keyname)}</keyname>"]
    if forenames:
        parts.append(f"<forenames>{escape(forenames)}</forenames>")
    if suffix:
        parts.append(f"<suffix>{escape(suffix)}</suffix>")
    return f"<author>{''.join(parts)}</author>"


def record_xml(record: CorpusRecord, *, deleted: bool = False) -> str:
    """One `<record>`; a deleted one has a header with status="deleted" and no metadata."""
    set_specs = "".join(f"<setSpec>{spec}</setSpec>" for spec in record.sets)
    status = ' status="deleted"' if deleted else ""
    header = (
        f"<header{status}><identifier>{record.identifier}</identifier>"
        f"<datestamp>{record.datestamp.isoformat()}</datestamp>{set_specs}</header>"
    )
    if deleted:
        return f"<record>{header}</record>\n"
    metadata = (
        f'<arXiv xmlns="{ARXIV_NAMESPACE}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{ARXIV_NAMESPACE} http://arxiv.org/OAI/arXiv.xsd">'
        f"<id>{record.arxiv_id}</id><created>{record.datestamp.isoformat()}</created>"
        f"<authors>{''.join(author_xml(name) for name in record.authors)}</authors>"
        f"<title>{_wrapped(record.title)}</title>"
        f"<categories>{' '.join(record.categories)}</categories>"
        f"<license>{LICENSE}</license>"
        f"<abstract>  {_wrapped(record.abstract)}\n</abstract></arXiv>"
    )
    return f"<record>{header}<metadata>{metadata}</metadata></record>\n"


def oai_document(request: Mapping[str, str], body: str) -> bytes:
    """An OAI-PMH response around `body` (a verb element or an `<error>`)."""
    attributes = "".join(f' {key}="{escape(value)}"' for key, value in request.items())
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NAMESPACE}" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{OAI_NAMESPACE} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">\n'
        f"<responseDate>{now}</responseDate>\n"
        f"<request{attributes}>http://export.arxiv.org/oai2</request>\n"
        f"{body}</OAI-PMH>\n"
    ).encode()


def error_xml(code: str, message: str) -> str:
    return f'<error code="{code}">{escape(message)}</error>\n'


def _wrapped(text: str) -> str:
    # arXiv's records wrap titles and abstracts over lines, as its Atom feeds do.
    lines = textwrap.wrap(
        escape(" ".join(text.split())), width=70, break_long_words=False, break_on_hyphens=False
    )
    return "\n  ".join(lines)


# --- scripted failures ---------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One scripted answer; build with the helpers below."""

    kind: str  # "status" | "truncated" | "expired" | "hang" | "error"
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    code: str = ""  # the OAI-PMH error code of an "error"


def unavailable(retry_after: str | None = "1", status: int = 503) -> Failure:
    """arXiv's flow control: 503 (or another status) with Retry-After."""
    return Failure("status", status, {"Retry-After": retry_after} if retry_after else {})


def truncated_page() -> Failure:
    """The page that would have been served, cut in half, with a matching Content-Length."""
    return Failure("truncated")


def expired_token() -> Failure:
    """The next request carrying a resumption token gets badResumptionToken."""
    return Failure("expired")


def oai_error(code: str) -> Failure:
    """An OAI-PMH error document with this code (e.g. badArgument), status 200."""
    return Failure("error", code=code)


def hang(seconds: float) -> Failure:
    return Failure("hang", seconds=min(seconds, MAX_HANG_SECONDS))


@dataclass(frozen=True)
class RecordedRequest:
    query: dict[str, str]
    headers: dict[str, str]
    arrived_at: float  # time.monotonic()


# --- the server ----------------------------------------------------------------------------


class FakeOai:
    """The fake repository; `url` is its base URL. Use as a context manager."""

    def __init__(self, records: Iterable[CorpusRecord], *, page_size: int = 100) -> None:
        self.records = sorted(records, key=lambda record: (record.datestamp, record.arxiv_id))
        self.page_size = page_size
        self.deleted: set[str] = set()  # arXiv ids served as deleted records
        self.requests: list[RecordedRequest] = []
        self._failures: deque[Failure] = deque()
        self._tokens: dict[str, tuple[list[CorpusRecord], int]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{OAI_PATH}"

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next requests with these, in order (an expired token waits for a token)."""
        with self._lock:
            self._failures.extend(failures)

    def matching(
        self, set_spec: str | None = None, start: date | None = None, end: date | None = None
    ) -> list[CorpusRecord]:
        """The records a ListRecords with these arguments holds, in the order served."""
        return [
            record
            for record in self.records
            if (start is None or record.datestamp >= start)
            and (end is None or record.datestamp <= end)
            and (set_spec is None or _in_set(record, set_spec))
        ]

    def __enter__(self) -> FakeOai:
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

    def answer(
        self, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[bytes, Failure | None]:
        """The document for `query`, and the failure that shapes how it is sent, if any."""
        with self._lock:
            self.requests.append(RecordedRequest(query, headers, time.monotonic()))
            failure = self._next_failure(query)
            if failure is not None and failure.kind == "expired":
                self._tokens.pop(query.get("resumptionToken", ""), None)
                failure = None
            if failure is not None and failure.kind == "error":
                return oai_document(query, error_xml(failure.code, "scripted error")), None
            return self._document(query), failure

    def _next_failure(self, query: dict[str, str]) -> Failure | None:
        if not self._failures:
            return None
        if self._failures[0].kind == "expired" and "resumptionToken" not in query:
            return None
        return self._failures.popleft()

    def _document(self, query: dict[str, str]) -> bytes:
        verb = query.get("verb", "")
        if verb == "Identify":
            return oai_document(query, _identify(self.records))
        if verb != "ListRecords":
            return oai_document({}, error_xml("badVerb", f"illegal verb {verb!r}"))
        if "resumptionToken" in query:
            return self._resume(query)
        if query.get("metadataPrefix") != "arXiv":
            return oai_document(query, error_xml("cannotDisseminateFormat", "arXiv only"))
        try:
            start, end = (_date_or_none(query.get(name)) for name in ("from", "until"))
        except ValueError:
            return oai_document(query, error_xml("badArgument", "dates are YYYY-MM-DD"))
        listed = self.matching(query.get("set"), start, end)
        if not listed:
            return oai_document(query, error_xml("noRecordsMatch", "no records match"))
        return self._page(query, listed, 0)

    def _resume(self, query: dict[str, str]) -> bytes:
        token = query["resumptionToken"]
        if token not in self._tokens or len(query) != 2:
            return oai_document(query, error_xml("badResumptionToken", f"{token} is not valid"))
        listed, cursor = self._tokens[token]
        return self._page(query, listed, cursor)

    def _page(self, query: dict[str, str], listed: list[CorpusRecord], cursor: int) -> bytes:
        page = listed[cursor : cursor + self.page_size]
        body = "".join(
            record_xml(record, deleted=record.arxiv_id in self.deleted) for record in page
        )
        after = cursor + len(page)
        size = f'completeListSize="{len(listed)}" cursor="{cursor}"'
        if after < len(listed):
            token = f"{len(self._tokens) + 1:06d}|{after}"
            self._tokens[token] = (listed, after)
            body += f"<resumptionToken {size}>{token}</resumptionToken>\n"
        elif cursor > 0:
            body += f"<resumptionToken {size}/>\n"  # the last page of a resumed list
        return oai_document(query, f"<ListRecords>\n{body}</ListRecords>\n")


def _in_set(record: CorpusRecord, set_spec: str) -> bool:
    return any(spec == set_spec or spec.startswith(set_spec + ":") for spec in record.sets)


def _date_or_none(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _identify(records: list[CorpusRecord]) -> str:
    earliest = records[0].datestamp.isoformat() if records else "2007-05-23"
    return (
        "<Identify><repositoryName>Fake arXiv</repositoryName>"
        "<baseURL>http://export.arxiv.org/oai2</baseURL>"
        "<protocolVersion>2.0</protocolVersion><adminEmail>help@example.org</adminEmail>"
        f"<earliestDatestamp>{earliest}</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DD</granularity>"
        "</Identify>\n"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOai

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out mid-answer are expected here


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        if parts.path != OAI_PATH:
            self._send(404, b"not found\n")
            return
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        headers = {name.lower(): value for name, value in self.headers.items()}
        document, failure = self.server.fake.answer(query, headers)
        if failure is None:
            self._send(200, document)
        elif failure.kind == "hang":
            self.server.fake._stopping.wait(failure.seconds)
            self._send(200, document)
        elif failure.kind == "truncated":
            self._send(200, document[: len(document) // 2])
        else:
            self._send(failure.status, f"HTTP {failure.status}\n".encode(), failure.headers)

    def _send(self, status: int, body: bytes, headers: Mapping[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            kind = "text/xml; charset=utf-8" if status == 200 else "text/plain"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass
        self.close_connection = True
