"""The OAI-PMH harvester: arXiv's records for a set and a date range, as plain records.

Uses oaipmh-scythe's response layer (`OAIResponse` maps OAI error codes to its exceptions,
`Header` reads record headers) over an httpx client on `clients.transport`, the HTTP policy for
httpx. Yields `HarvestedRecord`s and writes nothing. Imports only `config`, `errors`,
`records`, `ids`, `clients.http` and `clients.transport` from the project.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import httpx2
from lxml import etree
from oaipmh_scythe.exceptions import BadResumptionToken, NoRecordsMatch, OAIPMHException
from oaipmh_scythe.models import Header
from oaipmh_scythe.response import OAIResponse

from speechgraph import __version__
from speechgraph.clients.http import (
    MAX_RETRY_AFTER,
    BadPayload,
    HttpFailure,
    HttpPolicy,
    RetriesExhausted,
    RetryAfterTooLong,
    attempts_phrase,
    retry_bad_payloads,
)
from speechgraph.clients.transport import PolicyTransport
from speechgraph.config import Settings
from speechgraph.errors import ArxivBadResponse, ArxivUnavailable
from speechgraph.ids import parse_arxiv_id
from speechgraph.records import PaperRecord

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://oaipmh.arxiv.org/oai"
METADATA_PREFIX = "arXiv"  # authors split into keyname/forenames/suffix, all categories
_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
_IDENTIFIER_PREFIX = "oai:arXiv.org:"
_HINT = "try again later; the next harvest starts from the last datestamp stored"

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class HarvestedRecord:
    """One OAI-PMH record: the header's facts, and the paper unless the record is deleted.

    `datestamp` is when arXiv last changed the record (day granularity); the largest one seen
    is where the next incremental harvest starts. `sets` are the header's setSpecs (`cs`,
    `eess`, `physics:quant-ph`). `arxiv_id` has no version; None only for an identifier that
    is not an arXiv id. `record.source` is "harvest".
    """

    identifier: str
    arxiv_id: str | None
    datestamp: date
    deleted: bool
    sets: tuple[str, ...] = ()
    record: PaperRecord | None = None
    license: str | None = None


@dataclass
class _Page:
    records: list[Any]  # lxml <record> elements
    token: str | None
    complete_list_size: int | None


@dataclass
class _Position:
    """The largest datestamp yielded and the identifiers yielded at it.

    A list restarted from that datestamp repeats those records; they are skipped. This relies
    on the repository listing records in datestamp order, as arXiv's does.
    """

    last: date | None = None
    seen: set[str] = field(default_factory=set)

    def is_repeat(self, harvested: HarvestedRecord) -> bool:
        return harvested.datestamp == self.last and harvested.identifier in self.seen

    def note(self, harvested: HarvestedRecord) -> None:
        if self.last is None or harvested.datestamp > self.last:
            self.last = harvested.datestamp
            self.seen = set()
        if harvested.datestamp == self.last:
            self.seen.add(harvested.identifier)


class OaiHarvester:
    """Harvests arXiv's OAI-PMH interface in the `arXiv` metadata format. Not thread-safe.

    Why not `Scythe.list_records`: Scythe parses each page leniently (lxml recover=True)
    before anything else, so a truncated page becomes a shorter one without its resumption
    token and the list ends early, silently (a non-XML body even raises AttributeError);
    an expired token ends the iteration with an exception, losing the position; and its
    retries know no Retry-After cap. So pages are fetched here through the policy transport,
    parsed strictly, and only then handed to Scythe's `OAIResponse` for OAI error codes.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        timeout: float = 30.0,
        delay_seconds: float = 3.0,
        max_retries: int = 4,
        backoff_base: float = 2.0,
        max_backoff: float = 60.0,
        max_retry_after: float = MAX_RETRY_AFTER,
        contact_email: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.policy = HttpPolicy(
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            delay=delay_seconds,
            user_agent=_user_agent(contact_email),
            name="arXiv OAI-PMH",
        )
        self._http = httpx2.Client(
            transport=PolicyTransport(self.policy),
            headers={"Accept": "text/xml, application/xml", "User-Agent": self.policy.user_agent},
            timeout=timeout,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OaiHarvester:
        return cls(
            settings.oai_base_url,
            timeout=settings.http_timeout,
            delay_seconds=settings.arxiv_delay,
            max_retries=settings.max_retries,
            contact_email=settings.contact_email,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OaiHarvester:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def harvest(
        self,
        *,
        set_spec: str | None = None,
        from_date: date | None = None,
        until: date | None = None,
        progress: Progress | None = None,
    ) -> Iterator[HarvestedRecord]:
        """Every record of `set_spec` (all of arXiv when None) changed from `from_date` to
        `until` (inclusive, either open), following resumption tokens.

        No matching record is an empty harvest. An expired or refused resumption token
        restarts the list from the last datestamp seen, skipping records already yielded.
        `progress(records_so_far, complete_list_size_or_None)` is called after each page.
        Raises ArxivUnavailable when the service keeps failing or asks to wait too long, and
        ArxivBadResponse when it refuses the request or keeps sending malformed pages.
        """
        query: dict[str, str] | None = _list_query(set_spec, from_date, until)
        position = _Position()
        restarts = done = 0
        while query is not None:
            try:
                page = self._fetch_page(query)
            except NoRecordsMatch:
                log.info("arXiv OAI-PMH: no records match %s", query)
                return
            except BadResumptionToken:
                restarts += 1
                query = self._restart(query, restarts, position, set_spec, from_date, until)
                continue
            for element in page.records:
                harvested = parse_record(element)
                if harvested is None or position.is_repeat(harvested):
                    continue
                position.note(harvested)
                done += 1
                yield harvested
            if progress is not None:
                progress(done, page.complete_list_size)
            query = {"verb": "ListRecords", "resumptionToken": page.token} if page.token else None

    def _restart(
        self,
        query: dict[str, str],
        restarts: int,
        position: _Position,
        set_spec: str | None,
        from_date: date | None,
        until: date | None,
    ) -> dict[str, str]:
        if restarts > self.policy.max_retries:
            raise ArxivUnavailable(
                f"arXiv OAI-PMH at {self.base_url} refused {restarts} resumption tokens in a "
                f"row; {_HINT}"
            )
        start = position.last or from_date
        log.warning(
            "arXiv OAI-PMH refused resumption token %s (expired?); restarting the list from "
            "%s, skipping the %d records already harvested with that datestamp",
            query.get("resumptionToken"),
            start.isoformat() if start else "the beginning",
            len(position.seen),
        )
        return _list_query(set_spec, start, until)

    def _fetch_page(self, query: dict[str, str]) -> _Page:
        """One ListRecords page, strictly parsed; the policy's failures and OAI errors other
        than noRecordsMatch and badResumptionToken become SpeechgraphErrors."""
        try:
            return retry_bad_payloads(lambda: self._fetch_page_once(query), self.policy)
        except (NoRecordsMatch, BadResumptionToken):
            raise
        except OAIPMHException as error:
            code = type(error).__name__
            raise ArxivBadResponse(
                f"arXiv OAI-PMH at {self.base_url} refused the harvest ({code}: {error}); "
                "check the set name and the dates"
            ) from None
        except RetryAfterTooLong as error:
            raise ArxivUnavailable(
                f"arXiv OAI-PMH at {self.base_url} asked to wait {error.seconds:.0f} s "
                f"(HTTP {error.status}); {_HINT}"
            ) from None
        except RetriesExhausted as error:
            raise ArxivUnavailable(
                f"arXiv OAI-PMH at {self.base_url} failed after "
                f"{attempts_phrase(error.attempts)} (last: {error.reason}); {_HINT}"
            ) from None
        except HttpFailure as error:
            raise ArxivUnavailable(
                f"arXiv OAI-PMH at {self.base_url} cannot be asked ({error.reason}); "
                "check the OAI-PMH base URL setting"
            ) from None
        except httpx2.HTTPStatusError as error:
            raise ArxivUnavailable(
                f"arXiv OAI-PMH at {self.base_url} refused the request with HTTP "
                f"{error.response.status_code}; check the OAI-PMH base URL setting"
            ) from None

    def _fetch_page_once(self, query: dict[str, str]) -> _Page:
        response = self._http.get(self.base_url, params=query)
        try:
            root = etree.fromstring(response.content, parser=_strict_parser())
        except etree.XMLSyntaxError as error:
            response.raise_for_status()  # an error page in HTML is a refusal, not a bad page
            raise BadPayload(self.base_url, f"malformed page ({error})") from None
        OAIResponse(response, params=query).raise_for_oaipmh_error()
        response.raise_for_status()
        listing = root.find(f"{_OAI}ListRecords")
        if listing is None:
            raise BadPayload(self.base_url, "page without a ListRecords element")
        token = listing.find(f"{_OAI}resumptionToken")
        token_text = (token.text or "").strip() if token is not None else ""
        size = token.get("completeListSize", "") if token is not None else ""
        return _Page(
            records=listing.findall(f"{_OAI}record"),
            token=token_text or None,
            complete_list_size=int(size) if size.isdigit() else None,
        )


def parse_record(element: Any) -> HarvestedRecord | None:
    """One `<record>` element; None (logged) when its header or metadata is unusable."""
    header_element = element.find(f"{_OAI}header")
    if header_element is None:
        log.warning("arXiv OAI-PMH: skipping a record without a header")
        return None
    header = Header(header_element)
    datestamp = _date(header.datestamp)
    if not header.identifier or datestamp is None:
        log.warning("arXiv OAI-PMH: skipping record %r without a datestamp", header.identifier)
        return None
    parsed = parse_arxiv_id(header.identifier.removeprefix(_IDENTIFIER_PREFIX))
    harvested = HarvestedRecord(
        identifier=header.identifier,
        arxiv_id=parsed[0] if parsed else None,
        datestamp=datestamp,
        deleted=header.deleted,
        sets=tuple(spec for spec in header.setSpecs if spec),
    )
    if header.deleted:
        return harvested
    metadata = element.find(f"{_OAI}metadata/{_ARXIV}arXiv")
    paper = paper_record(metadata) if metadata is not None else None
    if paper is None:
        log.warning("arXiv OAI-PMH: skipping %s without usable arXiv metadata", header.identifier)
        return None
    license_url = _text(metadata, "license") or None
    return replace(harvested, arxiv_id=paper.arxiv_id, record=paper, license=license_url)


def paper_record(metadata: Any) -> PaperRecord | None:
    """The `<arXiv>` metadata element as a PaperRecord; None when its id is not an arXiv id."""
    parsed = parse_arxiv_id(_text(metadata, "id"))
    if parsed is None:
        return None
    categories = list(dict.fromkeys(_text(metadata, "categories").split()))
    doi = _text(metadata, "doi")
    return PaperRecord(
        arxiv_id=parsed[0],
        version=parsed[1],
        title=_text(metadata, "title"),
        authors=[
            name
            for name in map(_author_name, metadata.iterfind(f"{_ARXIV}authors/{_ARXIV}author"))
            if name
        ],
        published=_date(_text(metadata, "created")),
        updated=_date(_text(metadata, "updated")),
        categories=categories,
        primary_category=categories[0] if categories else None,  # arXiv lists it first
        abstract=_text(metadata, "abstract") or None,
        # arXiv sometimes lists several DOIs separated by spaces; the first is the paper's own.
        doi=doi.split()[0].lower() if doi else None,
        journal_ref=_text(metadata, "journal-ref") or None,
        comment=_text(metadata, "comments") or None,
        source="harvest",
    )


def _author_name(author: Any) -> str:
    parts = (_text(author, "forenames"), _text(author, "keyname"), _text(author, "suffix"))
    return " ".join(part for part in parts if part)


def _text(element: Any, tag: str) -> str:
    return " ".join((element.findtext(f"{_ARXIV}{tag}") or "").split())


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _list_query(set_spec: str | None, start: date | None, until: date | None) -> dict[str, str]:
    query = {"verb": "ListRecords", "metadataPrefix": METADATA_PREFIX}
    if set_spec:
        query["set"] = set_spec
    if start is not None:
        query["from"] = start.isoformat()
    if until is not None:
        query["until"] = until.isoformat()
    return query


def _strict_parser() -> Any:
    return etree.XMLParser(recover=False, resolve_entities=False, no_network=True)


def _user_agent(contact_email: str | None) -> str:
    agent = f"speechgraph/{__version__} (oaipmh-scythe"
    return f"{agent}; mailto:{contact_email})" if contact_email else f"{agent})"
