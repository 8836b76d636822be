"""Citation-service client: references and citation counts from the Semantic Scholar batch API.

Plain HTTP under the one policy of `clients.http`, cached on disk. Imports only `config`,
`errors`, `records`, `ids`, `files` and `clients.http` from the project.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import requests

from speechgraph.clients.http import (
    MAX_RETRY_AFTER,
    BadPayload,
    HttpFailure,
    HttpPolicy,
    PolicySession,
    RetriesExhausted,
    RetryAfterTooLong,
    attempts_phrase,
    retry_bad_payloads,
)
from speechgraph.config import Settings
from speechgraph.errors import CitationServiceUnavailable
from speechgraph.files import atomic_write_bytes, warn_once
from speechgraph.ids import parse_arxiv_id
from speechgraph.records import CitationRecord, Reference

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.semanticscholar.org/graph/v1"
FIELDS = (
    "externalIds,title,year,citationCount,referenceCount,"
    "references.externalIds,references.title,references.year,references.paperId"
)
MAX_BATCH_SIZE = 500  # the batch endpoint rejects larger requests with HTTP 400
NEXT_STEP = "try again later, or run refresh with --no-citations"

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)", re.IGNORECASE)

Progress = Callable[[int, int], None]


@dataclass
class CitationResult:
    """What one `fetch_citations` call found.

    `records` is keyed by arXiv id without version; `missing` lists ids the service does not
    know; `from_cache` counts batches answered from the disk cache instead of the network.
    """

    records: dict[str, CitationRecord] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    from_cache: int = 0


class CitationClient:
    """Client for `POST {base_url}/paper/batch`.

    Requests follow the HTTP policy (`clients.http`): at least `delay_seconds` between the end
    of one request and the start of the next, across all calls of one client; 429, 5xx,
    timeouts, dropped connections and malformed bodies retried up to `max_retries` times with
    back-off from `backoff_base` (at most `max_backoff`) or Retry-After up to
    `max_retry_after`. Successful raw responses are cached in `cache_dir`.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
        delay_seconds: float = 1.0,
        max_retries: int = 4,
        backoff_base: float = 2.0,
        max_backoff: float = 60.0,
        batch_size: int = MAX_BATCH_SIZE,
        cache_dir: Path | None = None,
        max_retry_after: float = MAX_RETRY_AFTER,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = HttpPolicy(
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=max(0.0, backoff_base),
            max_backoff=max(0.0, max_backoff),
            max_retry_after=max_retry_after,
            delay=max(0.0, delay_seconds),
            name="Semantic Scholar",
        )
        self.batch_size = max(1, min(batch_size, MAX_BATCH_SIZE))
        self.cache_dir = cache_dir
        self._session = PolicySession(self.policy)
        self._session.headers["Accept"] = "application/json"
        if api_key:
            self._session.headers["x-api-key"] = api_key

    @classmethod
    def from_settings(cls, settings: Settings) -> CitationClient:
        """A client configured from `settings`, caching under `settings.cache_dir / "s2"`."""
        return cls(
            settings.s2_base_url,
            api_key=settings.s2_api_key,
            timeout=settings.http_timeout,
            delay_seconds=settings.s2_delay,
            max_retries=settings.max_retries,
            cache_dir=settings.cache_dir / "s2",
        )

    def __repr__(self) -> str:
        has_key = "x-api-key" in self._session.headers
        return f"CitationClient(base_url={self.base_url!r}, api_key={'set' if has_key else None})"

    def close(self) -> None:
        """Release pooled connections."""
        self._session.close()

    @property
    def delay_seconds(self) -> float:
        """The least time between two requests, in seconds."""
        return self.policy.delay

    @property
    def batch_url(self) -> str:
        return f"{self.base_url}/paper/batch"

    def fetch_citations(
        self, arxiv_ids: Sequence[str], progress: Progress | None = None
    ) -> CitationResult:
        """References and citation counts of `arxiv_ids` (any version or `arXiv:` form).

        Ids are normalised, deduplicated and sorted, then fetched in batches of at most
        `batch_size`. `progress(done, total)` is called after each batch with id counts.
        Raises CitationServiceUnavailable when the service keeps failing, rejects a request,
        or answers with an array that does not match the request.
        """
        ids = sorted({_without_version(raw) for raw in arxiv_ids if raw and raw.strip()})
        result = CitationResult()
        for start in range(0, len(ids), self.batch_size):
            batch = ids[start : start + self.batch_size]
            payload, cached = self._fetch_batch(batch)
            result.from_cache += cached
            for arxiv_id, item in zip(batch, payload, strict=True):
                if item is None:
                    result.missing.append(arxiv_id)
                else:
                    result.records[arxiv_id] = parse_paper(arxiv_id, item)
            if progress is not None:
                progress(start + len(batch), len(ids))
        log.debug(
            "citations: %d found, %d missing, %d batches from cache",
            len(result.records),
            len(result.missing),
            result.from_cache,
        )
        return result

    def _fetch_batch(self, ids: list[str]) -> tuple[list[Any], bool]:
        """The response array for `ids`, from the cache when possible; True when cached."""
        cache_file = self._cache_file(ids)
        cached = _read_cache(cache_file, len(ids)) if cache_file else None
        if cached is not None:
            return cached, True
        payload, raw = self._post_with_retries(ids)
        if cache_file is not None:
            _write_cache(cache_file, raw)
        return payload, False

    def _cache_file(self, ids: list[str]) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(json.dumps([sorted(ids), FIELDS]).encode("utf-8")).hexdigest()
        return self.cache_dir / f"{digest}.json"

    def _post_with_retries(self, ids: list[str]) -> tuple[list[Any], bytes]:
        """The parsed array and raw body for `ids`; the policy's failures become
        CitationServiceUnavailable."""
        try:
            return retry_bad_payloads(lambda: self._post(ids), self.policy)
        except RetryAfterTooLong as error:
            raise CitationServiceUnavailable(
                f"Semantic Scholar at {self.batch_url} asked to wait {error.seconds:.0f} s "
                f"(HTTP {error.status}); {NEXT_STEP}"
            ) from None
        except RetriesExhausted as error:
            raise CitationServiceUnavailable(
                f"Semantic Scholar at {self.batch_url} kept failing ({error.reason}) "
                f"after {attempts_phrase(error.attempts)}; {NEXT_STEP}"
            ) from None
        except HttpFailure as error:
            raise CitationServiceUnavailable(
                f"cannot send a request to Semantic Scholar at {self.batch_url} "
                f"({error.reason}); check SPEECHGRAPH_S2_URL"
            ) from None

    def _post(self, ids: list[str]) -> tuple[list[Any], bytes]:
        """One request (retried inside the session): the parsed array and the raw body.

        Raises BadPayload for a body worth asking for again.
        """
        response = self._session.post(
            self.batch_url,
            params={"fields": FIELDS},
            json={"ids": [f"ARXIV:{arxiv_id}" for arxiv_id in ids]},
        )
        if response.status_code >= 400:
            raise CitationServiceUnavailable(self._rejected_message(response))
        try:
            payload = json.loads(response.content)
        except ValueError:
            raise BadPayload(self.batch_url, "malformed JSON body") from None
        if not isinstance(payload, list):
            raise BadPayload(self.batch_url, "response is not a JSON array")
        if not all(item is None or isinstance(item, dict) for item in payload):
            raise BadPayload(self.batch_url, "response array holds entries that are not papers")
        if len(payload) != len(ids):
            raise CitationServiceUnavailable(
                f"Semantic Scholar at {self.batch_url} answered {len(payload)} entries for "
                f"{len(ids)} ids; {NEXT_STEP}"
            )
        return payload, response.content

    def _rejected_message(self, response: requests.Response) -> str:
        status = response.status_code
        detail = " ".join(response.text.split())[:200]
        if status in (401, 403):
            hint = "the API key was refused; check S2_API_KEY or unset it"
        else:
            hint = "run refresh with --no-citations, and report this if it persists"
        return (
            f"Semantic Scholar at {self.batch_url} rejected the request: "
            f"HTTP {status} {detail}; {hint}"
        )


def _without_version(raw: str) -> str:
    """The arXiv id of `raw` without its version; other strings come back stripped."""
    parsed = parse_arxiv_id(raw)
    return parsed[0] if parsed else raw.strip()


def parse_paper(arxiv_id: str, item: dict[str, Any]) -> CitationRecord:
    """One entry of the batch response as a CitationRecord, references cleaned."""
    own_s2_id = item.get("paperId")
    references = [
        reference
        for reference in (_parse_reference(raw) for raw in item.get("references") or [])
        if reference is not None
        and reference.arxiv_id != arxiv_id
        and (reference.s2_id is None or reference.s2_id != own_s2_id)
    ]
    return CitationRecord(
        arxiv_id=arxiv_id,
        references=_deduplicate(references),
        citation_count=_as_int(item.get("citationCount")),
        reference_count=_as_int(item.get("referenceCount")),
    )


def _parse_reference(raw: object) -> Reference | None:
    """A reference, or None when the service gave nothing to identify it by."""
    if not isinstance(raw, dict):
        return None
    external = raw.get("externalIds") or {}
    arxiv = external.get("ArXiv") if isinstance(external, dict) else None
    doi = external.get("DOI") if isinstance(external, dict) else None
    arxiv_id = _text_or_none(arxiv)
    doi_text = _text_or_none(doi)
    reference = Reference(
        title=_text_or_none(raw.get("title")),
        year=_as_int(raw.get("year")),
        arxiv_id=_without_version(arxiv_id) if arxiv_id else None,
        doi=_normalise_doi(doi_text) if doi_text else None,
        s2_id=_text_or_none(raw.get("paperId")),
    )
    if not (reference.title or reference.arxiv_id or reference.doi or reference.s2_id):
        return None
    return reference


def _deduplicate(references: list[Reference]) -> list[Reference]:
    """Merge references naming the same paper (by S2 id, arXiv id, DOI, or title and year)."""
    kept: list[Reference] = []
    position: dict[str, int] = {}
    for reference in references:
        keys = _identity_keys(reference)
        index = next((position[key] for key in keys if key in position), None)
        if index is None:
            index = len(kept)
            kept.append(reference)
        else:
            kept[index] = _merge(kept[index], reference)
        for key in _identity_keys(kept[index]):
            position.setdefault(key, index)
    return kept


def _identity_keys(reference: Reference) -> list[str]:
    ids = {"s2": reference.s2_id, "arxiv": reference.arxiv_id, "doi": reference.doi}
    keys = [f"{kind}:{value}" for kind, value in ids.items() if value]
    if not keys and reference.title:
        keys.append(f"title:{reference.title.casefold()}:{reference.year}")
    return keys


def _merge(first: Reference, second: Reference) -> Reference:
    """`first`, with fields it lacks filled in from `second`."""
    return replace(
        first,
        title=first.title or second.title,
        year=first.year if first.year is not None else second.year,
        arxiv_id=first.arxiv_id or second.arxiv_id,
        doi=first.doi or second.doi,
        s2_id=first.s2_id or second.s2_id,
    )


def _normalise_doi(raw: str) -> str | None:
    return _DOI_PREFIX.sub("", raw.strip()).lower() or None


def _text_or_none(value: object) -> str | None:
    """`value` with whitespace collapsed, or None when it is not a non-empty string."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_cache(path: Path, expected_length: int) -> list[Any] | None:
    """The cached response array, or None when absent, unreadable or not the right shape."""
    try:
        payload = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable citation cache file %s: %s", path, exc)
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != expected_length
        or not all(item is None or isinstance(item, dict) for item in payload)
    ):
        log.warning("ignoring citation cache file %s: not the expected array", path)
        return None
    return payload


def _write_cache(path: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(path, data)
    except OSError as exc:
        # The cache only saves requests; a read-only data directory must not stop a refresh.
        warn_once(log, "citation-cache", "citations are not cached in %s: %s", path.parent, exc)
