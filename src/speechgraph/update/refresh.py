"""One refresh, end to end: read lists → resolve papers → fetch → store (one transaction) → index.

Progress goes through a callback `progress(stage, done, total)`; the outcome is a
`RefreshReport`, whose `to_json` is the `refresh --json` contract.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from speechgraph.catalogue.queries import StoredPaper, stored_papers, title_search_resolutions
from speechgraph.catalogue.snapshot import Snapshot, SnapshotPaper, load_snapshot
from speechgraph.catalogue.store import Store, open_catalogue
from speechgraph.catalogue.writes import Writer
from speechgraph.clients.arxiv import FetchResult
from speechgraph.clients.citations import CitationResult
from speechgraph.config import Settings
from speechgraph.errors import ConfigError, ReadingListError, SpeechgraphError, WriteFailure
from speechgraph.knowledge.resolve import Resolver, TitleSearcher, unresolved_entry
from speechgraph.lists.registry import (
    ListSource,
    LoadedList,
    load_lists,
    load_sources,
    source_from_argument,
)
from speechgraph.records import ARXIV, PaperRecord, ParsedList, ResolvedList
from speechgraph.update.lock import DEFAULT_WAIT, Announce, busy_timeout, writer_lock

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
TOPICS_IN_REFRESH = 3000  # indexes up to this size are clustered again by a refresh


class MetadataSource(TitleSearcher, Protocol):
    """What a refresh needs of the arXiv client (`clients.arxiv.ArxivClient`)."""

    def fetch_by_ids(
        self, arxiv_ids: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> FetchResult: ...


class CitationSource(Protocol):
    """What a refresh needs of the citation client (`clients.citations.CitationClient`)."""

    def fetch_citations(
        self, arxiv_ids: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> CitationResult: ...


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


@dataclass
class RefreshReport:
    """What one refresh did; `to_json` is the `refresh --json` contract."""

    mode: str
    lists: list[dict[str, Any]] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    unresolved: list[dict[str, Any]] = field(default_factory=list)
    resolved: dict[str, int] = field(default_factory=dict)
    citations: dict[str, Any] = field(default_factory=dict)
    index: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.new)} new, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
            f"{len(self.failed)} failed, {len(self.unresolved)} unresolved references "
            f"({self.mode}, {self.seconds:.1f} s)"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "counts": {
                "new": len(self.new),
                "updated": len(self.updated),
                "unchanged": len(self.unchanged),
                "failed": len(self.failed),
                "unresolved": len(self.unresolved),
            },
            "lists": self.lists,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "unresolved": self.unresolved,
            "resolved": self.resolved,
            "citations": self.citations,
            "index": self.index,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 2),
        }

    def listed_papers(self) -> list[str]:
        """The papers the lists bring that are in the catalogue: written now or before."""
        return list(dict.fromkeys([*self.new, *self.updated, *self.unchanged]))

    def exit_code(self) -> int:
        """0 when every linked arXiv paper is in the catalogue, 3 when some could not be
        catalogued (unresolved text citations and other links never count)."""
        return 3 if self.failed else 0

    def add_list(self, loaded: LoadedList, resolved: ResolvedList) -> None:
        """Count one stored list: its summary row, its resolutions and what did not resolve."""
        for mention, resolution in resolved.mentions:
            if resolution.paper_id is None:
                self.unresolved.append(unresolved_entry(resolved.name, mention))
            else:
                self.resolved[resolution.method] = self.resolved.get(resolution.method, 0) + 1
        self.lists.append(
            {
                "name": resolved.name,
                "location": loaded.source.location,
                "origin": loaded.origin,
                "mentions": len(resolved.mentions),
                "papers": len({found.paper_id for _, found in resolved.mentions if found.paper_id}),
                "warning": loaded.warning,
            }
        )


def refresh_catalogue(
    settings: Settings,
    *,
    offline: bool,
    full: bool = False,
    extra_lists: Sequence[str] = (),
    list_name: str | None = None,
    citations: bool = True,
    update_index: bool = True,
    progress: Progress | None = None,
    arxiv_client: MetadataSource | None = None,
    citation_client: CitationSource | None = None,
    snapshot: Snapshot | None = None,
    wait: float = DEFAULT_WAIT,
    announce: Announce | None = None,
) -> RefreshReport:
    """Bring the catalogue up to date with the lists. All catalogue writes are one transaction:
    any error before the commit leaves the previous catalogue exactly as it was.

    Holds the writer lock throughout (`update.lock`): while another writer holds it, says so
    through `announce` and waits up to `wait` seconds (WriterBusy after that); WriteFailure
    when the data directory cannot be written."""
    started = time.monotonic()
    with writer_lock(settings, wait=wait, announce=announce):
        show = progress or _no_progress
        report = RefreshReport(mode="offline" if offline else "online")
        if snapshot is None and (offline or settings.snapshot_file.exists()):
            snapshot = load_snapshot(settings.snapshot_file)
        if list_name is not None and len(extra_lists) != 1:
            raise ConfigError("--name names one list: give exactly one --list with it")
        extra = [source_from_argument(argument, list_name) for argument in extra_lists]
        lists = load_lists(
            load_sources(settings),
            extra,
            offline=offline,
            timeout=settings.http_timeout,
            max_list_mb=settings.max_list_mb,
            fallback=_snapshot_fallback(snapshot),
        )
        store = open_catalogue(settings, busy_timeout=busy_timeout(wait))
        try:
            existing = stored_papers(store)
            resolver = Resolver(
                snapshot,
                [(paper.id, paper.title, paper.aliases) for paper in existing.values()],
                title_search_resolutions(store),
                curated=settings.curation,
            )
            if offline:
                records = _records_from_snapshot(resolver, lists, existing, report)
            else:
                records = _records_from_arxiv(
                    settings, resolver, lists, existing, report, full=full, client=arxiv_client,
                    progress=show,
                )  # fmt: skip
            citation_result = None
            if citations and not offline:
                citation_result = _fetch_citations(
                    settings, records, existing, report, client=citation_client, progress=show
                )
            with store.writing() as writer:
                _write_catalogue(writer, lists, records, resolver, snapshot, existing, report, show)
                if citation_result is not None:
                    _write_citations(writer, citation_result, report)
                writer.bump_catalogue_version()
                report.seconds = time.monotonic() - started
                writer.record_refresh(report.mode, report.to_json()["counts"])
            if update_index:
                _update_index(settings, store, report, show, report.listed_papers())
        finally:
            store.dispose()
        report.seconds = time.monotonic() - started
        return report


def _snapshot_fallback(
    snapshot: Snapshot | None,
) -> Callable[[ListSource, ReadingListError], LoadedList | None]:
    """A configured list that cannot be read is rebuilt from the snapshot's record of it."""

    def fallback(source: ListSource, error: ReadingListError) -> LoadedList | None:
        recorded = snapshot.lists.get(source.name) if snapshot else None
        if recorded is None:
            return None
        parsed = ParsedList(source.name, list(recorded.mentions), list(recorded.resources), [])
        return LoadedList(source, parsed, "snapshot", None, warning=str(error))

    return fallback


def _wanted_ids(resolver: Resolver, lists: Sequence[LoadedList]) -> list[str]:
    """Every paper the lists link to, then those the snapshot resolved their citations to."""
    linked = [
        mention.arxiv_id
        for loaded in lists
        for mention in loaded.parsed.mentions
        if mention.kind == ARXIV and mention.arxiv_id
    ]
    return list(dict.fromkeys([*linked, *resolver.cited_ids(lists)]))


def _needs_fetch(paper: StoredPaper | None, full: bool) -> bool:
    """Whether arXiv is asked for a paper: one the catalogue lacks, or knows only from the
    offline snapshot (or every one, with --full). Metadata imported, harvested or fetched
    earlier is taken as it is."""
    return full or paper is None or paper.source == "snapshot"


def _records_from_arxiv(
    settings: Settings,
    resolver: Resolver,
    lists: Sequence[LoadedList],
    existing: dict[str, StoredPaper],
    report: RefreshReport,
    *,
    full: bool,
    client: MetadataSource | None,
    progress: Progress,
) -> dict[str, PaperRecord]:
    """Metadata from arXiv for every paper the lists link or cite that is new or stale."""
    if client is None:
        from speechgraph.clients.arxiv import ArxivClient

        client = ArxivClient.from_settings(settings)
    wanted = _wanted_ids(resolver, lists)
    to_fetch = [paper_id for paper_id in wanted if _needs_fetch(existing.get(paper_id), full)]
    report.unchanged.extend(paper_id for paper_id in wanted if paper_id not in to_fetch)
    result = client.fetch_by_ids(to_fetch, progress=lambda d, t: progress("arxiv", d, t))
    for paper_id in result.missing:
        report.failed.append({"id": paper_id, "reason": "arXiv does not know this id"})
    records = dict(result.records)
    resolver.search_titles(lists, records, client, progress)
    return records


def _records_from_snapshot(
    resolver: Resolver,
    lists: Sequence[LoadedList],
    existing: dict[str, StoredPaper],
    report: RefreshReport,
) -> dict[str, PaperRecord]:
    snapshot = resolver.snapshot
    records: dict[str, PaperRecord] = {}
    for paper_id in _wanted_ids(resolver, lists):
        paper = existing.get(paper_id)
        if paper is not None and paper.source != "snapshot":
            report.unchanged.append(paper_id)  # imported or live metadata beats the snapshot
        elif snapshot is not None and paper_id in snapshot.papers:
            records[paper_id] = snapshot.papers[paper_id].record
        else:
            report.failed.append(
                {
                    "id": paper_id,
                    "reason": "not in the catalogue nor the offline snapshot: run refresh "
                    "online, or import arXiv metadata that holds it",
                }
            )
    return records


def _fetch_citations(
    settings: Settings,
    records: dict[str, PaperRecord],
    existing: dict[str, StoredPaper],
    report: RefreshReport,
    *,
    client: CitationSource | None,
    progress: Progress,
) -> CitationResult | None:
    if client is None:
        from speechgraph.clients.citations import CitationClient

        client = CitationClient.from_settings(settings)
    ids = sorted(set(records) | set(existing))
    try:
        return client.fetch_citations(ids, progress=lambda d, t: progress("citations", d, t))
    except SpeechgraphError as error:
        report.warnings.append(f"citations skipped: {error}")
        report.citations = {"status": "failed", "reason": str(error)}
        return None


def _write_catalogue(
    writer: Writer,
    lists: Sequence[LoadedList],
    records: dict[str, PaperRecord],
    resolver: Resolver,
    snapshot: Snapshot | None,
    existing: dict[str, StoredPaper],
    report: RefreshReport,
    progress: Progress,
) -> None:
    for done, (paper_id, record) in enumerate(records.items(), start=1):
        annotations = snapshot.papers.get(paper_id) if snapshot else None
        status = writer.upsert_paper(record, **_annotation_kwargs(annotations))
        getattr(report, status).append(paper_id)
        progress("store", done, len(records))
    known_ids = set(records) | set(existing)
    for loaded in lists:
        resolved = resolver.resolve_list(loaded, _location(loaded), known_ids)
        writer.replace_list(resolved)
        report.add_list(loaded, resolved)


def _annotation_kwargs(annotations: SnapshotPaper | None) -> dict[str, Any]:
    if annotations is None:
        return {}
    return {
        "note": annotations.note,
        "aliases": annotations.aliases,
        "topic": annotations.topic,
        "builds_on": annotations.builds_on,
        "compares_with": annotations.compares_with,
    }


def _location(loaded: LoadedList) -> str:
    if loaded.origin == "snapshot":
        return f"snapshot (was {loaded.source.location})"
    return loaded.source.location


def _write_citations(writer: Writer, result: CitationResult, report: RefreshReport) -> None:
    stored = sum(
        writer.replace_citations(paper_id, record.references, record.citation_count)
        for paper_id, record in result.records.items()
    )
    report.citations = {
        "status": "ok",
        "papers": len(result.records),
        "edges": stored,
        "missing": result.missing,
    }


def _update_index(
    settings: Settings, store: Store, report: RefreshReport, show: Progress, listed: list[str]
) -> None:
    """Bring the keyword index up to date and embed the lists' papers that lack a current
    vector: those this refresh wrote, and those an interrupted refresh stored but never
    embedded (papers imported or harvested for the field alone wait for `speechgraph index`).
    A failure here leaves the catalogue as committed."""
    from speechgraph.search.indexing import sync_index
    from speechgraph.update.derive import sync_knowledge
    from speechgraph.update.topics import sync_topics

    try:
        report.index = sync_index(settings, store, progress=show, only=listed)
        report.index["knowledge"] = sync_knowledge(settings, show)
        if report.index["papers"] <= TOPICS_IN_REFRESH:  # a large field's wait for `index`
            report.index["topics"] = sync_topics(settings, store)
    except WriteFailure:
        raise  # the catalogue is committed; the message says how to bring the index up
    except SpeechgraphError as error:
        report.warnings.append(f"search index not updated: {error}")
