"""The arXiv API client: batched id look-ups, title search, versions, under the HTTP policy.

Built on the `arxiv` package with a `PolicySession` (`clients.http`) in place of its own
session; imports only `config`, `errors`, `records`, `ids`, `text` and `clients.http`.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import arxiv
import requests

from speechgraph import __version__
from speechgraph.clients.http import (
    MAX_RETRY_AFTER,
    HttpFailure,
    HttpPolicy,
    PolicySession,
    RetriesExhausted,
    RetryAfterTooLong,
    attempts_phrase,
    retry_bad_payloads,
)
from speechgraph.config import Settings
from speechgraph.errors import ArxivBadResponse, ArxivUnavailable
from speechgraph.ids import parse_arxiv_id
from speechgraph.records import PaperRecord, TitleMatch
from speechgraph.text import normalize_title, title_similarity

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://export.arxiv.org/api/query"
MAX_BATCH_SIZE = 100  # arXiv asks for id_list look-ups of at most 100 ids per request
TITLE_MATCH_THRESHOLD = 0.90
YEAR_TOLERANCE = 1  # an arXiv version may precede (or follow) the venue year by one year
YEAR_MISMATCH_PENALTY = 0.25  # large enough that a year mismatch can never pass the threshold
# The range of the `arxiv` package whose `Client._session` this module replaces (pyproject.toml).
TESTED_ARXIV_RANGE = "arxiv>=4.0.2,<4.1"
_ATOM_FEED = "{http://www.w3.org/2005/Atom}feed"
_ATOM_ENTRY = "{http://www.w3.org/2005/Atom}entry"
_ATOM_ID = "{http://www.w3.org/2005/Atom}id"
_ATOM_SUMMARY = "{http://www.w3.org/2005/Atom}summary"
_HINT = "check your connection or try again later; use --offline to build from the snapshot"


@dataclass
class FetchResult:
    """Records keyed by arXiv id without version, and the ids arXiv returned nothing for."""

    records: dict[str, PaperRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


class _MalformedFeed(Exception):
    """Raised inside the session when a 200 response is not an Atom feed."""


class _ArxivSession(PolicySession):
    """The policy session, plus what the `arxiv` package needs undone or checked.

    The package sends its own User-Agent on every call; ours (with the contact address) wins.
    Its feed parser is lenient, so a 200 that is not a well-formed Atom feed is refused here.
    """

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["headers"] = {
            key: value
            for key, value in (kwargs.pop("headers", None) or {}).items()
            if str(key).lower() != "user-agent"
        }
        response = super().request(method, url, *args, **kwargs)
        if response.status_code == requests.codes.ok:
            _check_atom_feed(response.content)
        return response


def _install_session(client: arxiv.Client, session: requests.Session) -> None:
    """Make `client` send every request through `session`: the one place that does so.

    `arxiv.Client` builds its own `requests.Session` in `_session` and offers no public way to
    replace it or to set a timeout. test_arxiv_client checks that the attribute is still there.
    """
    if not isinstance(getattr(client, "_session", None), requests.Session):
        raise ArxivUnavailable(
            f"the installed arxiv package {arxiv.__version__} keeps no session in "
            f"Client._session; install {TESTED_ARXIV_RANGE} as pyproject.toml pins it"
        )
    client._session = session


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
            log.warning("arXiv reported an error: %s", entry.findtext(_ATOM_SUMMARY, "").strip())


def result_to_record(result: arxiv.Result) -> PaperRecord | None:
    """Convert one `arxiv.Result`; None for arXiv's "Error" pseudo-entries and unknown ids."""
    if "/api/errors" in result.entry_id:
        return None
    parsed = parse_arxiv_id(result.get_short_id())
    if parsed is None:
        log.warning("ignoring arXiv entry with an unrecognised id: %s", result.entry_id)
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
        max_retry_after: float = MAX_RETRY_AFTER,
    ) -> None:
        self.base_url = base_url
        self.batch_size = max(1, min(batch_size, MAX_BATCH_SIZE))
        self.policy = HttpPolicy(
            timeout=timeout,
            max_retries=max(0, max_retries),
            backoff_base=backoff_base,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            delay=delay_seconds,
            user_agent=_user_agent(contact_email),
            name="arXiv API",
        )
        self._session = _ArxivSession(self.policy)
        # Pacing and retries follow the policy in the session, so the package does neither.
        self._client = arxiv.Client(page_size=self.batch_size, delay_seconds=0.0, num_retries=0)
        self._client.query_url_format = base_url + "?{}"
        _install_session(self._client, self._session)

    @property
    def max_retries(self) -> int:
        return self.policy.max_retries

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
            log.info("arXiv: %d of %d ids fetched", min(start + len(batch), total), total)
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
            log.debug("title candidate %s scored %.3f: %s", record.arxiv_id, score, record.title)
            if score >= TITLE_MATCH_THRESHOLD and (best is None or score > best.score):
                best = TitleMatch(record=record, score=score)
        return best

    def _valid_ids(self, arxiv_ids: Iterable[str]) -> tuple[list[str], FetchResult]:
        wanted: dict[str, None] = {}
        result = FetchResult()
        for raw in arxiv_ids:
            parsed = parse_arxiv_id(raw)
            if parsed is None:
                log.warning("not an arXiv id, not fetched: %r", raw)
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
                log.debug("arXiv returned an id not asked for: %s", record.arxiv_id)
        return found

    def _run(self, search: arxiv.Search) -> list[PaperRecord]:
        """Run one search under the HTTP policy; its failures become ArxivUnavailable."""
        self._client.page_size = min(search.max_results or self.batch_size, self.batch_size)
        try:
            return retry_bad_payloads(lambda: self._run_once(search), self.policy)
        except RetryAfterTooLong as error:
            raise ArxivUnavailable(
                f"arXiv API at {self.base_url} asked to wait {error.seconds:.0f} s "
                f"(HTTP {error.status}); try again later or use --offline"
            ) from None
        except RetriesExhausted as error:
            raise ArxivUnavailable(
                f"arXiv API at {self.base_url} failed after {attempts_phrase(error.attempts)} "
                f"(last: {error.reason}); {_HINT}"
            ) from None
        except HttpFailure as error:
            raise ArxivUnavailable(
                f"arXiv API at {self.base_url} cannot be asked ({error.reason}); "
                "check SPEECHGRAPH_ARXIV_URL"
            ) from None
        except arxiv.HTTPError as error:
            raise ArxivUnavailable(
                f"arXiv API at {self.base_url} refused the request with HTTP "
                f"{error.status}; check SPEECHGRAPH_ARXIV_URL or try again later"
            ) from None
        except _MalformedFeed as error:
            raise ArxivBadResponse(
                f"arXiv API at {self.base_url} sent a malformed feed: {error}; try again later"
            ) from None

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
            log.debug("arXiv sent an empty follow-up page; keeping %d results", len(records))
        return records


def _match_score(title: str, year: int | None, record: PaperRecord) -> float:
    score = title_similarity(title, record.title)
    if year is not None and (record.year is None or abs(record.year - year) > YEAR_TOLERANCE):
        score = max(0.0, score - YEAR_MISMATCH_PENALTY)
    return score


def _collapse(text: str | None) -> str:
    return " ".join(text.split()) if text else ""


def _user_agent(contact_email: str | None) -> str:
    agent = f"speechgraph/{__version__} (arxiv.py/{arxiv.__version__}"
    return f"{agent}; mailto:{contact_email})" if contact_email else f"{agent})"
