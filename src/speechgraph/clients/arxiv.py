"""The arXiv API client: batched id look-ups, title search, courtesy delay, retries, versions.

Built on the `arxiv` package and `requests`; imports only `config`, `errors`, `records`,
`pacing` and `sources` (for arXiv id syntax).
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import arxiv
import requests

from speechgraph import __version__
from speechgraph.clients.http import Pacer, backoff_seconds, parse_retry_after
from speechgraph.config import Settings
from speechgraph.errors import ArxivBadResponse, ArxivUnavailable
from speechgraph.ids import parse_arxiv_id
from speechgraph.records import PaperRecord, TitleMatch
from speechgraph.text import normalize_title, title_similarity

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://export.arxiv.org/api/query"
MAX_BATCH_SIZE = 100  # arXiv asks for id_list look-ups of at most 100 ids per request
TITLE_MATCH_THRESHOLD = 0.90
YEAR_TOLERANCE = 1  # an arXiv version may precede (or follow) the venue year by one year
YEAR_MISMATCH_PENALTY = 0.25  # large enough that a year mismatch can never pass the threshold
MAX_RETRY_AFTER = 300.0  # a longer Retry-After means "come back later", not "wait here"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_AFTER_STATUSES = frozenset({429, 503})
_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_ATOM_ENTRY = "{http://www.w3.org/2005/Atom}entry"
_ATOM_ID = "{http://www.w3.org/2005/Atom}id"
_ATOM_SUMMARY = "{http://www.w3.org/2005/Atom}summary"
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,  # the connection dropped mid-body
)
_HINT = "check your connection or try again later; use --offline to build from the snapshot"


@dataclass
class FetchResult:
    """Records keyed by arXiv id without version, and the ids arXiv returned nothing for."""

    records: dict[str, PaperRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class _MalformedFeed(Exception):
    """Raised inside the session when a 200 response is not an Atom feed."""


class _ArxivSession(requests.Session):
    """A session that owns the timeout, the User-Agent, the courtesy delay and the last response.

    The `arxiv` package calls `session.get(url, headers={"user-agent": ...})` with no timeout,
    sleeps only between its own pages, and its `HTTPError` drops the response headers. Doing all
    of it here means every request of one `ArxivClient` (pages, batches, title searches and
    retries) shares one clock, and the retry loop can read `Retry-After` from `last_response`.
    """

    def __init__(self, *, timeout: float, delay_seconds: float, user_agent: str) -> None:
        super().__init__()
        self.timeout = timeout
        self.pacer = Pacer(delay_seconds, name="arXiv courtesy delay")
        self.user_agent = user_agent
        self.last_response: requests.Response | None = None

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["headers"] = {
            key: value
            for key, value in (kwargs.pop("headers", None) or {}).items()
            if str(key).lower() != "user-agent"
        }
        kwargs["headers"]["User-Agent"] = self.user_agent
        kwargs.setdefault("timeout", self.timeout)
        self.last_response = None
        with self.pacer.turn():
            response = super().request(method, url, *args, **kwargs)
        self.last_response = response
        if response.status_code == requests.codes.ok:
            _check_atom_feed(response.content)
        return response


def _check_atom_feed(content: bytes) -> None:
    """Raise `_MalformedFeed` unless `content` is a well-formed Atom feed; log error entries.

    The `arxiv` package parses leniently (lxml `recover=True`), so a truncated feed would
    silently lose entries and their ids would look missing. A strict parse catches it.
    """
    try:
        root = ET.fromstring(content)
    except ET.ParseError as error:
        raise _MalformedFeed(f"not XML ({error})") from None
    if root.tag != _ATOM_FEED:
        raise _MalformedFeed(f"not an Atom feed (root element {root.tag!r})")
    for entry in root.iter(_ATOM_ENTRY):
        entry_id = entry.findtext(_ATOM_ID) or ""
        if "/api/errors" in entry_id:
            # arXiv answers a malformed id with a single "Error" entry instead of results.
            logger.warning("arXiv reported an error: %s", entry.findtext(_ATOM_SUMMARY, "").strip())


def result_to_record(result: arxiv.Result) -> PaperRecord | None:
    """Convert one `arxiv.Result`; None for arXiv's "Error" pseudo-entries and unknown ids."""
    if "/api/errors" in result.entry_id:
        return None
    parsed = parse_arxiv_id(result.get_short_id())
    if parsed is None:
        logger.warning("ignoring arXiv entry with an unrecognised id: %s", result.entry_id)
        return None
    arxiv_id, version = parsed
    categories = list(dict.fromkeys(result.categories))
    primary = result.primary_category or (categories[0] if categories else None)
    if primary:
        categories = [primary, *(category for category in categories if category != primary)]
    return PaperRecord(
        arxiv_id=arxiv_id,
        version=version,
        title=_collapse(result.title),
        authors=[author.name.strip() for author in result.authors],
        published=result.published.date() if result.published else None,
        updated=result.updated.date() if result.updated else None,
        categories=categories,
        primary_category=primary,
        abstract=_collapse(result.summary) or None,
        # arXiv sometimes lists several DOIs separated by spaces; the first is the paper's own.
        doi=result.doi.split()[0].lower() if result.doi and result.doi.strip() else None,
        journal_ref=_collapse(result.journal_ref) or None,
        comment=_collapse(result.comment) or None,
        source="arxiv",
    )


class ArxivClient:
    """One polite connection to the arXiv API. Not thread-safe: one clock, one caller."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        delay_seconds: float = 3.0,
        max_retries: int = 4,
        backoff_base: float = 2.0,
        max_backoff: float = 60.0,
        batch_size: int = MAX_BATCH_SIZE,
        contact_email: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.batch_size = max(1, min(batch_size, MAX_BATCH_SIZE))
        self._session = _ArxivSession(
            timeout=timeout, delay_seconds=delay_seconds, user_agent=_user_agent(contact_email)
        )
        # Pacing and retries are ours (in the session and `_run`), so the package does neither.
        self._client = arxiv.Client(page_size=self.batch_size, delay_seconds=0.0, num_retries=0)
        self._client.query_url_format = base_url + "?{}"
        self._client._session = self._session

    @classmethod
    def from_settings(cls, settings: Settings) -> ArxivClient:
        return cls(
            settings.arxiv_base_url,
            timeout=settings.http_timeout,
            delay_seconds=settings.arxiv_delay,
            max_retries=settings.max_retries,
            contact_email=settings.contact_email,
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ArxivClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def fetch_by_ids(
        self, arxiv_ids: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> FetchResult:
        """Fetch the latest version of each id, in batches of at most 100 ids per request.

        Ids may carry a version (`2006.11477v1`); arXiv is asked for the unversioned id, so the
        record holds the newest version. Keys and `missing` use ids without version. Strings that
        are not arXiv ids are reported missing without asking arXiv.
        Raises ArxivUnavailable (after retries) or ArxivBadResponse (not an Atom feed).
        """
        wanted, result = self._valid_ids(arxiv_ids)
        total = len(wanted)
        for start in range(0, total, self.batch_size):
            batch = wanted[start : start + self.batch_size]
            found = self._fetch_batch(batch)
            result.records.update(found)
            result.missing.extend(arxiv_id for arxiv_id in batch if arxiv_id not in found)
            logger.info("arXiv: %d of %d ids fetched", min(start + len(batch), total), total)
            if progress is not None:
                progress(min(start + len(batch), total), total)
        return result

    def search_title(
        self, title: str, year: int | None = None, *, max_results: int = 5
    ) -> TitleMatch | None:
        """Find the arXiv paper with this title; None unless one scores ≥ TITLE_MATCH_THRESHOLD.

        With `year`, a paper first published more than a year away is penalised below the
        threshold. Raises ArxivUnavailable or ArxivBadResponse like `fetch_by_ids`.
        """
        words = normalize_title(title)
        if not words:
            return None
        search = arxiv.Search(query=f'ti:"{words}"', max_results=max(1, max_results))
        best: TitleMatch | None = None
        for record in self._run(search):
            score = _match_score(title, year, record)
            logger.debug("title candidate %s scored %.3f: %s", record.arxiv_id, score, record.title)
            if score >= TITLE_MATCH_THRESHOLD and (best is None or score > best.score):
                best = TitleMatch(record=record, score=score)
        return best

    def _valid_ids(self, arxiv_ids: Iterable[str]) -> tuple[list[str], FetchResult]:
        wanted: dict[str, None] = {}
        result = FetchResult()
        for raw in arxiv_ids:
            parsed = parse_arxiv_id(raw)
            if parsed is None:
                logger.warning("not an arXiv id, not fetched: %r", raw)
                result.missing.append(raw)
            else:
                wanted[parsed[0]] = None
        return list(wanted), result

    def _fetch_batch(self, batch: list[str]) -> dict[str, PaperRecord]:
        search = arxiv.Search(id_list=batch, max_results=len(batch))
        asked = set(batch)
        found: dict[str, PaperRecord] = {}
        for record in self._run(search):
            if record.arxiv_id in asked:
                found[record.arxiv_id] = record
            else:
                logger.debug("arXiv returned an id not asked for: %s", record.arxiv_id)
        return found

    def _run(self, search: arxiv.Search) -> list[PaperRecord]:
        """Run one search with bounded retries; back-off grows as backoff_base * 2**retry."""
        self._client.page_size = min(search.max_results or self.batch_size, self.batch_size)
        attempt = 0
        while True:
            try:
                return self._run_once(search)
            except arxiv.HTTPError as error:
                if error.status not in RETRY_STATUSES:
                    raise ArxivUnavailable(
                        f"arXiv API at {self.base_url} refused the request with HTTP "
                        f"{error.status}; check SPEECHGRAPH_ARXIV_URL or try again later"
                    ) from None
                reason = f"HTTP {error.status}"
            except _TRANSIENT_ERRORS as error:
                reason = _describe(error)
            except _MalformedFeed as error:
                raise ArxivBadResponse(
                    f"arXiv API at {self.base_url} sent a malformed feed: {error}; try again later"
                ) from None
            if attempt == self.max_retries:
                raise ArxivUnavailable(
                    f"arXiv API at {self.base_url} failed {attempt + 1} times "
                    f"(last: {reason}); {_HINT}"
                )
            attempt += 1
            self._sleep_before_retry(attempt, reason, self._retry_after())

    def _run_once(self, search: arxiv.Search) -> list[PaperRecord]:
        records: list[PaperRecord] = []
        results = self._client.results(search)
        try:
            for result in results:
                record = result_to_record(result)
                if record is not None:
                    records.append(record)
        except arxiv.UnexpectedEmptyPageError:
            # An id_list page can announce more results than it holds (unknown ids count);
            # the following empty page just means there is nothing more.
            logger.debug("arXiv sent an empty follow-up page; keeping %d results", len(records))
        return records

    def _retry_after(self) -> float | None:
        """Seconds asked for by the last response's Retry-After (429 and 503 only)."""
        response = self._session.last_response
        if response is None or response.status_code not in RETRY_AFTER_STATUSES:
            return None
        seconds = parse_retry_after(response.headers.get("Retry-After"))
        if seconds is not None and seconds > MAX_RETRY_AFTER:
            raise ArxivUnavailable(
                f"arXiv API at {self.base_url} asked to wait {seconds:.0f} s "
                f"(HTTP {response.status_code}); try again later or use --offline"
            )
        return seconds

    def _sleep_before_retry(self, attempt: int, reason: str, retry_after: float | None) -> None:
        wait = backoff_seconds(attempt - 1, self.backoff_base, self.max_backoff, retry_after)
        logger.warning(
            "arXiv %s; retry %d of %d in %.1f s", reason, attempt, self.max_retries, wait
        )
        time.sleep(wait)


def _match_score(title: str, year: int | None, record: PaperRecord) -> float:
    score = title_similarity(title, record.title)
    if year is not None and (record.year is None or abs(record.year - year) > YEAR_TOLERANCE):
        score = max(0.0, score - YEAR_MISMATCH_PENALTY)
    return score


def _collapse(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _describe(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "timed out"
    return f"connection failed ({type(error).__name__})"


def _user_agent(contact_email: str | None) -> str:
    agent = f"speechgraph/{__version__} (arxiv.py/{arxiv.__version__}"
    return f"{agent}; mailto:{contact_email})" if contact_email else f"{agent})"
