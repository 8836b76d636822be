"""One refresh, end to end: read lists → resolve papers → fetch → store (one transaction) → index.

Imports the layers before it (lists, clients, snapshot, store, resolve). Progress goes
through a callback `progress(stage, done, total)`; the outcome is a `RefreshReport`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.snapshot import Snapshot, SnapshotPaper, load_snapshot
from speechgraph.catalogue.store import (
    Store,
    bump_catalogue_version,
    open_db,
    record_refresh,
    replace_citations,
    replace_list_entries,
    upsert_paper,
    upsert_reading_list,
)
from speechgraph.config import Settings
from speechgraph.errors import SpeechgraphError
from speechgraph.knowledge.resolve import Resolver
from speechgraph.lists.registry import LoadedList, load_lists, load_sources, source_from_argument
from speechgraph.records import ARXIV, PaperRecord

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
STALE_AFTER = timedelta(days=30)


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


def refresh_catalogue(
    settings: Settings,
    *,
    offline: bool,
    full: bool = False,
    extra_lists: Sequence[str] = (),
    citations: bool = True,
    update_index: bool = True,
    progress: Progress | None = None,
    arxiv_client: Any = None,
    citation_client: Any = None,
    snapshot: Snapshot | None = None,
) -> RefreshReport:
    """Bring the catalogue up to date with the lists. All catalogue writes are one transaction:
    any error before the commit leaves the previous catalogue exactly as it was."""
    started = time.monotonic()
    show = progress or _no_progress
    report = RefreshReport(mode="offline" if offline else "online")
    if snapshot is None and _snapshot_needed(settings, offline):
        snapshot = load_snapshot(settings.snapshot_file)
    extra = [source_from_argument(argument) for argument in extra_lists]
    lists = load_lists(
        load_sources(settings),
        extra,
        snapshot,
        offline=offline,
        timeout=settings.http_timeout,
        max_list_mb=settings.max_list_mb,
    )
    store = open_db(settings.db_url)
    try:
        with store.reading() as session:
            existing = _existing_papers(session)
        resolver = Resolver(snapshot, existing, store)
        linked_ids = _linked_arxiv_ids(lists)
        records = _collect_records(
            settings,
            resolver,
            linked_ids,
            lists,
            existing,
            report,
            offline=offline,
            full=full,
            client=arxiv_client,
            progress=show,
        )
        citation_result = None
        if citations and not offline:
            citation_result = _fetch_citations(
                settings, records, existing, report, client=citation_client, progress=show
            )
        with store.transaction() as session:
            _write_catalogue(
                session,
                lists,
                records,
                resolver,
                snapshot,
                existing,
                report,
                offline=offline,
                progress=show,
            )
            if citation_result is not None:
                _write_citations(session, citation_result, report)
            bump_catalogue_version(session)
            report.seconds = time.monotonic() - started
            record_refresh(session, report.mode, report.to_json()["counts"])
        if update_index:
            _update_index(settings, store, report, show)
    finally:
        store.dispose()
    report.seconds = time.monotonic() - started
    return report


def _snapshot_needed(settings: Settings, offline: bool) -> bool:
    return offline or settings.snapshot_file.exists()


def _existing_papers(session: Session) -> dict[str, models.Paper]:
    rows = session.exec(select(models.Paper).where(models.Paper.is_stub == False)).all()  # noqa: E712
    return {row.id: row for row in rows}


def _linked_arxiv_ids(lists: Sequence[LoadedList]) -> list[str]:
    ids = [
        mention.arxiv_id
        for loaded in lists
        for mention in loaded.parsed.mentions
        if mention.kind == ARXIV and mention.arxiv_id
    ]
    return list(dict.fromkeys(ids))


def _is_stale(paper: models.Paper | None) -> bool:
    if paper is None or paper.source != "arxiv" or paper.fetched_at is None:
        return True
    fetched = paper.fetched_at.replace(tzinfo=paper.fetched_at.tzinfo or UTC)
    return datetime.now(UTC) - fetched > STALE_AFTER


def _collect_records(
    settings: Settings,
    resolver: Resolver,
    linked_ids: list[str],
    lists: Sequence[LoadedList],
    existing: dict[str, models.Paper],
    report: RefreshReport,
    *,
    offline: bool,
    full: bool,
    client: Any,
    progress: Progress,
) -> dict[str, PaperRecord]:
    """Metadata for every paper the lists link or cite, from the snapshot or from arXiv."""
    wanted = list(dict.fromkeys([*linked_ids, *resolver.snapshot_resolved_ids(lists)]))
    if offline:
        return _records_from_snapshot(resolver.snapshot, wanted, existing, report)
    if client is None:
        from speechgraph.clients.arxiv import ArxivClient

        client = ArxivClient.from_settings(settings)
    to_fetch = [paper_id for paper_id in wanted if full or _is_stale(existing.get(paper_id))]
    report.unchanged.extend(paper_id for paper_id in wanted if paper_id not in to_fetch)
    result = client.fetch_by_ids(to_fetch, progress=lambda d, t: progress("arxiv", d, t))
    for paper_id in result.missing:
        report.failed.append({"id": paper_id, "reason": "arXiv does not know this id"})
    records = dict(result.records)
    resolver.search_titles(lists, records, client, report, progress)
    return records


def _records_from_snapshot(
    snapshot: Snapshot | None,
    wanted: list[str],
    existing: dict[str, models.Paper],
    report: RefreshReport,
) -> dict[str, PaperRecord]:
    records: dict[str, PaperRecord] = {}
    for paper_id in wanted:
        paper = existing.get(paper_id)
        if paper is not None and paper.source == "arxiv":
            report.unchanged.append(paper_id)  # live metadata beats the snapshot's facts
        elif snapshot is not None and paper_id in snapshot.papers:
            records[paper_id] = snapshot.papers[paper_id].record
        else:
            report.failed.append(
                {"id": paper_id, "reason": "not in the offline snapshot: run refresh online"}
            )
    return records


def _fetch_citations(
    settings: Settings,
    records: dict[str, PaperRecord],
    existing: dict[str, models.Paper],
    report: RefreshReport,
    *,
    client: Any,
    progress: Progress,
) -> Any:
    from speechgraph.clients.citations import CitationClient

    client = client or CitationClient.from_settings(settings)
    ids = sorted(set(records) | set(existing))
    try:
        return client.fetch_citations(ids, progress=lambda d, t: progress("citations", d, t))
    except SpeechgraphError as error:
        report.warnings.append(f"citations skipped: {error}")
        report.citations = {"status": "failed", "reason": str(error)}
        return None


def _write_catalogue(
    session: Session,
    lists: Sequence[LoadedList],
    records: dict[str, PaperRecord],
    resolver: Resolver,
    snapshot: Snapshot | None,
    existing: dict[str, models.Paper],
    report: RefreshReport,
    *,
    offline: bool,
    progress: Progress,
) -> None:
    for done, (paper_id, record) in enumerate(records.items(), start=1):
        annotations = snapshot.papers.get(paper_id) if snapshot else None
        status = _paper_status(existing.get(paper_id), record)
        upsert_paper(session, record, **_annotation_kwargs(annotations))
        getattr(report, status).append(paper_id)
        progress("store", done, len(records))
    known_ids = set(records) | set(existing)
    for loaded in lists:
        mention_rows, resource_rows = resolver.list_rows(loaded, known_ids, report)
        reading_list = upsert_reading_list(
            session, loaded.source.name, _location(loaded), loaded.content_hash
        )
        replace_list_entries(session, reading_list, mention_rows, resource_rows)
        report.lists.append(_list_summary(loaded, mention_rows))


def _annotation_kwargs(annotations: SnapshotPaper | None) -> dict[str, Any]:
    if annotations is None:
        return {}
    return {
        "note": annotations.note,
        "aliases": annotations.aliases,
        "topic": annotations.topic,
        "builds_on": annotations.builds_on,
    }


def _paper_status(paper: models.Paper | None, record: PaperRecord) -> str:
    if paper is None:
        return "new"
    same = (
        paper.title == record.title
        and paper.version == record.version
        and (record.abstract is None or paper.abstract == record.abstract)
        and paper.published == record.published
    )
    return "unchanged" if same else "updated"


def _location(loaded: LoadedList) -> str:
    if loaded.origin == "snapshot":
        return f"snapshot (was {loaded.source.location})"
    return loaded.source.location


def _list_summary(loaded: LoadedList, mention_rows: Sequence[models.Mention]) -> dict[str, Any]:
    return {
        "name": loaded.source.name,
        "location": loaded.source.location,
        "origin": loaded.origin,
        "mentions": len(mention_rows),
        "papers": len({row.paper_id for row in mention_rows if row.paper_id}),
        "warning": loaded.warning,
    }


def _write_citations(session: Session, result: Any, report: RefreshReport) -> None:
    stored = 0
    for paper_id, record in result.records.items():
        if session.get(models.Paper, paper_id) is not None:
            stored += replace_citations(session, paper_id, record.references, record.citation_count)
    report.citations = {
        "status": "ok",
        "papers": len(result.records),
        "edges": stored,
        "missing": result.missing,
    }


def _update_index(settings: Settings, store: Store, report: RefreshReport, show: Progress) -> None:
    """Bring the search index up to date; a failure here leaves the catalogue as committed."""
    from speechgraph.search.indexing import sync_index

    try:
        report.index = sync_index(settings, store, progress=show)
    except SpeechgraphError as error:
        report.warnings.append(f"search index not updated: {error}")
