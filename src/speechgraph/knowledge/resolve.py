"""Resolving mentions to catalogue papers: arXiv links, recorded resolutions, names, title search.

Imports `records`, `models`, `snapshot`, `store` and the arXiv client's title helpers. A text
citation resolves only on a confident match; every resolution records its method and score.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.snapshot import Snapshot, reference_key
from speechgraph.catalogue.store import Store
from speechgraph.clients.arxiv import TITLE_MATCH_THRESHOLD
from speechgraph.records import ARXIV, Mention, PaperRecord
from speechgraph.text import normalize_title, title_similarity

if TYPE_CHECKING:
    from speechgraph.lists.registry import LoadedList
    from speechgraph.update.refresh import RefreshReport

log = logging.getLogger(__name__)

MIN_SEARCH_WORDS = 3  # shorter "titles" (i-vector, Whisper) are names, not searchable titles


@dataclass(frozen=True)
class Match:
    paper_id: str
    method: str  # "link" | "facts" | "alias" | "title" | "title-search" | ...
    score: float | None = None
    detail: str | None = None


class Resolver:
    """Resolves the mentions of one refresh against the papers it knows."""

    def __init__(
        self, snapshot: Snapshot | None, existing: dict[str, models.Paper], store: Store
    ) -> None:
        self.snapshot = snapshot
        self.searched: dict[str, Match] = {}
        self.previous = _previous_searches(store)
        self.names: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        for paper in existing.values():
            self.learn(paper.id, paper.title, paper.aliases or [])
        if snapshot is not None:
            for paper_id, entry in snapshot.papers.items():
                self.learn(paper_id, entry.record.title, entry.aliases)

    def learn(self, paper_id: str, title: str, aliases: Iterable[str]) -> None:
        """Remember a paper's title and names for matching text citations."""
        self.titles[paper_id] = title
        names = [title, *aliases]
        if ":" in title:
            names.append(title.split(":", 1)[0])
        for name in names:
            key = normalize_title(name)
            if key:
                self.names.setdefault(key, paper_id)

    def snapshot_resolved_ids(self, lists: Sequence[LoadedList]) -> list[str]:
        """Papers that the snapshot resolved the lists' text citations to (they must be fetched)."""
        found = []
        for loaded in lists:
            for mention in loaded.parsed.mentions:
                match = self._recorded(loaded.source.name, mention)
                if match is not None and not _is_linked(mention):
                    found.append(match.paper_id)
        return found

    def search_titles(
        self,
        lists: Sequence[LoadedList],
        records: dict[str, PaperRecord],
        client: Any,
        report: RefreshReport,
        progress: Callable[[str, int, int], None],
    ) -> None:
        """Online: look up on arXiv, by title, the text citations nothing else resolves."""
        for record in records.values():
            self.learn(record.arxiv_id, record.title, [])
        pending = {
            reference_key(mention): mention
            for loaded in lists
            for mention in loaded.parsed.mentions
            if self._needs_search(loaded.source.name, mention)
        }
        for done, (key, mention) in enumerate(pending.items(), start=1):
            title = mention.title or ""
            found = client.search_title(title, mention.year)
            progress("titles", done, len(pending))
            if found is None:
                continue
            records.setdefault(found.record.arxiv_id, found.record)
            self.learn(found.record.arxiv_id, found.record.title, [])
            self.searched[key] = Match(
                found.record.arxiv_id,
                "title-search",
                round(found.score, 3),
                f"arXiv title search matched {found.record.title!r}",
            )

    def _needs_search(self, list_name: str, mention: Mention) -> bool:
        if _is_linked(mention) or not mention.title:
            return False
        if len(mention.title.split()) < MIN_SEARCH_WORDS:
            return False
        return self._recorded(list_name, mention) is None and self._by_name(mention) is None

    def resolve(self, list_name: str, mention: Mention, known: set[str]) -> Match | None:
        """The paper a mention points to, if it can be told with confidence."""
        if mention.kind == ARXIV and mention.arxiv_id:
            return Match(mention.arxiv_id, "link") if mention.arxiv_id in known else None
        for match in (
            self._recorded(list_name, mention),
            self.searched.get(reference_key(mention)),
            self.previous.get(reference_key(mention)),
            self._by_name(mention),
        ):
            if match is not None and match.paper_id in known:
                return match
        return None

    def _recorded(self, list_name: str, mention: Mention) -> Match | None:
        if self.snapshot is None:
            return None
        recorded = self.snapshot.resolution_for(list_name, mention)
        if recorded is None:
            return None
        return Match(recorded.paper_id, recorded.method, recorded.score, recorded.detail)

    def _by_name(self, mention: Mention) -> Match | None:
        """A citation whose title is a known paper's title or well-known name."""
        candidates = [mention.title, mention.link_text if mention.kind != ARXIV else None]
        for candidate in filter(None, candidates):
            key = normalize_title(candidate)
            if key in self.names:
                return Match(self.names[key], "alias", 1.0, f"names {candidate!r}")
        if mention.title and len(mention.title.split()) >= MIN_SEARCH_WORDS:
            best = max(
                (
                    (title_similarity(mention.title, title), pid)
                    for pid, title in self.titles.items()
                ),
                default=(0.0, ""),
            )
            if best[0] >= TITLE_MATCH_THRESHOLD:
                return Match(best[1], "title", round(best[0], 3), "same title as a catalogue paper")
        return None

    def list_rows(
        self, loaded: LoadedList, known: set[str], report: RefreshReport
    ) -> tuple[list[models.Mention], list[models.Resource]]:
        """Database rows for one list's mentions and resources, each mention resolved."""
        mentions: list[models.Mention] = []
        resources: list[models.Resource] = []
        for mention in loaded.parsed.mentions:
            match = self.resolve(loaded.source.name, mention, known)
            mentions.append(_mention_row(mention, match))
            if match is None:
                report.unresolved.append(_unresolved_entry(loaded.source.name, mention))
            else:
                report.resolved[match.method] = report.resolved.get(match.method, 0) + 1
            paper_id = match.paper_id if match else None
            resources.extend(_resource_row(resource, paper_id) for resource in mention.resources)
        resources.extend(_resource_row(resource, None) for resource in loaded.parsed.resources)
        return mentions, resources


def _is_linked(mention: Mention) -> bool:
    return mention.kind == ARXIV and bool(mention.arxiv_id)


def _previous_searches(store: Store) -> dict[str, Match]:
    """Title-search resolutions stored by earlier refreshes, so reruns do not search again."""
    with store.reading() as session:
        rows = session.exec(
            select(models.Mention).where(
                models.Mention.resolution == "title-search",
                col(models.Mention.paper_id).is_not(None),
            )
        ).all()
    return {
        _row_key(row): Match(
            row.paper_id, row.resolution, row.resolution_score, row.resolution_detail
        )
        for row in rows
        if row.paper_id is not None
    }


def _row_key(row: models.Mention) -> str:
    mention = Mention(
        list_name="",
        section=row.section,
        link_text=row.link_text,
        line=row.line,
        kind=row.kind,
        title=row.title,
        reference=row.reference,
    )
    return reference_key(mention)


def _mention_row(mention: Mention, match: Match | None) -> models.Mention:
    return models.Mention(
        paper_id=match.paper_id if match else None,
        section=mention.section,
        link_text=mention.link_text,
        line=mention.line,
        kind=mention.kind,
        url=mention.url,
        linked_version=mention.version,
        doi=mention.doi,
        title=mention.title,
        year=mention.year,
        reference=mention.reference,
        resolution=match.method if match else "unresolved",
        resolution_score=match.score if match else None,
        resolution_detail=match.detail if match else _unresolved_reason(mention),
    )


def _resource_row(resource: Any, paper_id: str | None) -> models.Resource:
    return models.Resource(
        paper_id=paper_id,
        section=resource.section,
        url=resource.url,
        kind=resource.kind,
        text=resource.text,
        line=resource.line,
    )


def _unresolved_reason(mention: Mention) -> str:
    if _is_linked(mention):
        return f"arXiv id {mention.arxiv_id} could not be fetched"
    if not mention.title:
        return "no title could be read from the citation"
    if len(mention.title.split()) < MIN_SEARCH_WORDS:
        return "a name, not a title, and no catalogue paper goes by it"
    return "no confident arXiv match by title"


def _unresolved_entry(list_name: str, mention: Mention) -> dict[str, Any]:
    return {
        "list": list_name,
        "section": mention.section,
        "line": mention.line,
        "kind": mention.kind,
        "reference": mention.reference or mention.link_text,
        "url": mention.url,
        "reason": _unresolved_reason(mention),
    }
