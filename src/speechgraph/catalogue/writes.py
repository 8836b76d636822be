"""Every write to the catalogue, through a `Writer` bound to one transaction (`Store.writing()`).

Takes plain records (`records.PaperRecord`, `ResolvedList`, `Reference`) and turns them into rows;
callers never see the schema.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlmodel import Session, col, delete, select, update

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.facts import ORIGINS
from speechgraph.catalogue.removal import (
    ListRemoval,
    brought_by_field,
    cited_stubs,
    mentioned_elsewhere,
    uncited,
)
from speechgraph.catalogue.schema import (
    Author,
    Citation,
    Meta,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperName,
    PaperOrigin,
    PaperTopic,
    TopicLabel,
    in_chunks,
)
from speechgraph.records import (
    Mention,
    PaperRecord,
    Reference,
    Relation,
    Resolution,
    ResolvedList,
    Resource,
    StoredName,
)

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


def get_meta(session: Session, key: str) -> str | None:
    row = session.get(Meta, key)
    return row.value if row else None


def set_meta(session: Session, key: str, value: str) -> None:
    row = session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value
        session.add(row)


def stub_id(reference: Reference) -> str | None:
    """The id a cited paper gets in the catalogue: its arXiv id, else its citation-service id."""
    if reference.arxiv_id:
        return reference.arxiv_id
    if reference.s2_id:
        return f"s2:{reference.s2_id}"
    return None


class Writer:
    """Writes of one transaction; `Store.writing()` commits them together or not at all.

    Every write is one catalogue version: the papers it changes record it (`changed_in`), and
    it becomes the catalogue's version when anything changed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.version = int(get_meta(session, "catalogue_version") or 0) + 1
        self.changed = False

    # --- papers -------------------------------------------------------------------------------

    def upsert_paper(
        self,
        record: PaperRecord,
        *,
        note: str | None = None,
        aliases: Sequence[str] | None = None,
        topic: str | None = None,
        builds_on: Sequence[str] | None = None,
        compares_with: Sequence[str] | None = None,
    ) -> str:
        """Insert or update a paper; returns NEW, UPDATED or UNCHANGED (title, version,
        abstract and date compared). Our note, aliases and topic are kept when not given, and a
        snapshot record never overwrites an abstract that a live fetch stored."""
        session = self.session
        paper = session.get(Paper, record.arxiv_id)
        status = NEW if paper is None else _change_status(paper, record)
        paper = paper or Paper(id=record.arxiv_id, title=record.title)
        paper.title = record.title
        paper.version = record.version
        paper.published = record.published
        paper.updated = record.updated
        paper.year = record.year
        paper.primary_category = record.primary_category or next(iter(record.categories), None)
        paper.doi = record.doi.lower() if record.doi else paper.doi
        paper.journal_ref = record.journal_ref
        paper.comment = record.comment
        if record.abstract is not None or record.source == "arxiv":
            paper.abstract = record.abstract
        if paper.source != "arxiv" or record.source == "arxiv":
            paper.source = record.source
        paper.is_stub = False
        paper.fetched_at = datetime.now(UTC)
        if note is not None:
            paper.note = note
        if aliases is not None:
            paper.aliases = list(aliases)
        if builds_on is not None:
            paper.builds_on = list(builds_on)
        if compares_with is not None:
            paper.compares_with = list(compares_with)
        if topic is not None:
            paper.topic = topic
        paper.changed_in = self.version
        session.add(paper)
        session.flush()
        self._replace_authors(paper.id, record.authors)
        self._replace_categories(paper.id, record.categories)
        self.add_origin(paper.id, record.source)
        self.changed = True
        return status

    def add_origin(self, paper_id: str, origin: str) -> None:
        if origin in ORIGINS and self.session.get(PaperOrigin, (paper_id, origin)) is None:
            self.session.add(PaperOrigin(paper_id=paper_id, origin=origin))

    def _replace_authors(self, paper_id: str, names: Sequence[str]) -> None:
        session = self.session
        session.exec(delete(PaperAuthor).where(col(PaperAuthor.paper_id) == paper_id))
        for position, name in enumerate(names):
            author = session.exec(select(Author).where(Author.name == name)).first()
            if author is None:
                author = Author(name=name)
                session.add(author)
                session.flush()
            session.add(
                PaperAuthor(paper_id=paper_id, position=position, author_id=cast(int, author.id))
            )

    def _replace_categories(self, paper_id: str, categories: Sequence[str]) -> None:
        session = self.session
        session.exec(delete(PaperCategory).where(col(PaperCategory.paper_id) == paper_id))
        for position, category in enumerate(dict.fromkeys(categories)):
            session.add(PaperCategory(paper_id=paper_id, position=position, category=category))

    # --- reading lists ------------------------------------------------------------------------

    def replace_list(self, resolved: ResolvedList) -> None:
        """Make the list's mentions and resources exactly these (an idempotent replace)."""
        session = self.session
        reading_list = session.exec(
            select(models.ReadingList).where(models.ReadingList.name == resolved.name)
        ).first() or models.ReadingList(name=resolved.name, location=resolved.location)
        reading_list.location = resolved.location
        reading_list.content_hash = resolved.content_hash
        reading_list.read_at = datetime.now(UTC)
        session.add(reading_list)
        session.flush()
        before = session.exec(
            select(models.Mention.paper_id).where(col(models.Mention.list_id) == reading_list.id)
        ).all()
        after = [resolution.paper_id for _, resolution in resolved.mentions]
        self._mark_changed({paper_id for paper_id in [*before, *after] if paper_id})
        session.exec(delete(models.Mention).where(col(models.Mention.list_id) == reading_list.id))
        session.exec(delete(models.Resource).where(col(models.Resource.list_id) == reading_list.id))
        for mention, resolution in resolved.mentions:
            session.add(_mention_row(reading_list.id, mention, resolution))
        for resource, paper_id in resolved.resources:
            session.add(_resource_row(reading_list.id, resource, paper_id))
        session.flush()
        self.changed = True

    def _mark_changed(self, paper_ids: set[str]) -> None:
        """Papers whose listing changed: derived data (their keyword names) catches up."""
        for chunk in in_chunks(paper_ids):
            self.session.exec(
                update(Paper).where(col(Paper.id).in_(chunk)).values(changed_in=self.version)
            )

    # --- names and relations read from the texts ---------------------------------------------

    def replace_names(self, paper_id: str, names: Sequence[StoredName]) -> None:
        """Make `paper_id`'s names exactly `names` (derived data: no catalogue version)."""
        session = self.session
        session.exec(delete(PaperName).where(col(PaperName.paper_id) == paper_id))
        for name in {(name.text, name.source): name for name in names}.values():
            session.add(
                PaperName(
                    paper_id=paper_id,
                    text=name.text,
                    source=name.source,
                    confidence=name.confidence,
                )
            )

    def replace_relations(self, paper_id: str, relations: Sequence[Relation]) -> None:
        """Make the relations `paper_id` states exactly `relations` (derived data)."""
        session = self.session
        session.exec(delete(models.Relation).where(col(models.Relation.source_id) == paper_id))
        for relation in relations:
            session.add(
                models.Relation(
                    source_id=relation.source_id,
                    target_id=relation.target_id,
                    kind=relation.kind,
                    name=relation.name,
                    evidence=relation.evidence,
                    confidence=relation.confidence,
                    origin=relation.origin,
                )
            )

    def replace_topics(
        self,
        assignments: Sequence[tuple[str, int, int | None, float, float]],
        labels: Sequence[tuple[int, int, int | None, str, list[str], int]],
    ) -> None:
        """Make the topics exactly these: (paper id, topic, subtopic, x, y) per paper and
        (level, id, parent, label, terms, size) per cluster (derived data)."""
        connection = self.session.connection()
        connection.execute(delete(PaperTopic))
        connection.execute(delete(TopicLabel))
        rows = [
            {"paper_id": paper_id, "topic": topic, "subtopic": subtopic, "x": x, "y": y}
            for paper_id, topic, subtopic, x, y in assignments
        ]
        for start in range(0, len(rows), 10_000):
            connection.execute(
                PaperTopic.__table__.insert(),  # type: ignore[attr-defined]
                rows[start : start + 10_000],
            )
        if labels:
            connection.execute(
                TopicLabel.__table__.insert(),  # type: ignore[attr-defined]
                [
                    {"level": level, "id": number, "parent": parent, "label": label,
                     "terms": terms, "size": size}
                    for level, number, parent, label, terms, size in labels
                ],
            )  # fmt: skip

    # --- citations ----------------------------------------------------------------------------

    def ensure_stub(self, reference: Reference) -> str | None:
        """The catalogue id of a cited paper, adding a stub when it is not in the catalogue."""
        paper_id = stub_id(reference)
        if paper_id is None:
            return None
        if self.session.get(Paper, paper_id) is None:
            self.session.add(
                Paper(
                    id=paper_id,
                    title=reference.title or "(untitled reference)",
                    year=reference.year,
                    doi=reference.doi.lower() if reference.doi else None,
                    source="citation-stub",
                    is_stub=True,
                )
            )
            self.session.flush()
        return paper_id

    def replace_citations(
        self, citing_id: str, references: Sequence[Reference], citation_count: int | None
    ) -> int:
        """Make `citing_id`'s outgoing citations exactly `references`; returns how many were
        stored. Nothing happens for a paper the catalogue does not hold."""
        session = self.session
        paper = session.get(Paper, citing_id)
        if paper is None:
            return 0
        session.exec(delete(Citation).where(col(Citation.citing_id) == citing_id))
        cited: set[str] = set()
        for reference in references:
            cited_id = self.ensure_stub(reference)
            if cited_id and cited_id != citing_id and cited_id not in cited:
                cited.add(cited_id)
                session.add(Citation(citing_id=citing_id, cited_id=cited_id))
        if citation_count is not None:
            paper.citation_count = citation_count
            session.add(paper)
        session.flush()
        self.changed = True
        return len(cited)

    def remove_papers(self, paper_ids: Collection[str]) -> int:
        """Delete papers (their authorship, categories, origins, mentions' links and citations
        go with them); derived data drops them at its next sync. Returns how many there were."""
        session = self.session
        removed = 0
        for paper_id in sorted(paper_ids):
            paper = session.get(Paper, paper_id)
            if paper is None:
                continue
            session.exec(
                update(models.Mention)
                .where(col(models.Mention.paper_id) == paper_id)
                .values(paper_id=None, resolution="unresolved", resolution_detail="paper removed")
            )
            session.exec(
                update(models.Resource)
                .where(col(models.Resource.paper_id) == paper_id)
                .values(paper_id=None)
            )
            session.exec(delete(Citation).where(col(Citation.citing_id) == paper_id))
            session.exec(delete(Citation).where(col(Citation.cited_id) == paper_id))
            session.delete(paper)
            removed += 1
        if removed:
            session.flush()
            set_meta(session, "last_removal", str(self.version))
            self.changed = True
        return removed

    def remove_list(self, name: str) -> ListRemoval | None:
        """Delete the reading list `name` with its mentions and resources, and the papers only
        it brought: no other list mentions them and no import or harvest brought them (their
        citation stubs go with them). None when the catalogue has no such list."""
        session = self.session
        reading_list = session.exec(
            select(models.ReadingList).where(models.ReadingList.name == name)
        ).first()
        if reading_list is None:
            return None
        linked = session.exec(
            select(models.Mention.paper_id).where(col(models.Mention.list_id) == reading_list.id)
        ).all()
        mentioned = {paper_id for paper_id in linked if paper_id}
        kept = mentioned_elsewhere(session, reading_list.id, mentioned) | brought_by_field(
            session, mentioned
        )
        self._mark_changed(mentioned)  # their link texts leave the keyword index
        session.exec(delete(models.Mention).where(col(models.Mention.list_id) == reading_list.id))
        session.exec(delete(models.Resource).where(col(models.Resource.list_id) == reading_list.id))
        session.delete(reading_list)
        session.flush()
        orphans = sorted(mentioned - kept)
        cited = cited_stubs(session, orphans)
        self.remove_papers(orphans)
        removed_stubs = self.remove_papers(uncited(session, cited))
        self.changed = True
        return ListRemoval(name, len(linked), orphans, removed_stubs)

    # --- bookkeeping --------------------------------------------------------------------------

    def bump_catalogue_version(self) -> int:
        """Make this write the catalogue's version: derived data (index, graph) keyed on the
        version goes stale. `Store.writing()` does it for every write that changed something."""
        set_meta(self.session, "catalogue_version", str(self.version))
        self.changed = True
        return self.version

    def set_meta(self, key: str, value: str) -> None:
        """A fact about the catalogue (last import, last harvest, …); not a change of papers."""
        set_meta(self.session, key, value)

    def remember_import(self, key: str, counts: dict[str, int]) -> None:
        """Record a file imported whole (see `queries.imported_files`)."""
        done = json.loads(get_meta(self.session, "imported_files") or "{}")
        done[key] = counts
        set_meta(self.session, "imported_files", json.dumps(done, sort_keys=True))

    def record_refresh(self, mode: str, counts: dict[str, object]) -> None:
        set_meta(self.session, "last_refresh", datetime.now(UTC).isoformat(timespec="seconds"))
        set_meta(self.session, "last_refresh_mode", mode)
        set_meta(self.session, "last_refresh_report", json.dumps(counts, sort_keys=True))


def _change_status(paper: Paper, record: PaperRecord) -> str:
    same = (
        paper.title == record.title
        and paper.version == record.version
        and (record.abstract is None or paper.abstract == record.abstract)
        and paper.published == record.published
    )
    return UNCHANGED if same else UPDATED


def _mention_row(list_id: int | None, mention: Mention, resolution: Resolution) -> models.Mention:
    return models.Mention(
        list_id=list_id,
        paper_id=resolution.paper_id,
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
        resolution=resolution.method,
        resolution_score=resolution.score,
        resolution_detail=resolution.detail,
    )


def _resource_row(list_id: int | None, resource: Resource, paper_id: str | None) -> models.Resource:
    return models.Resource(
        list_id=list_id,
        paper_id=paper_id,
        section=resource.section,
        url=resource.url,
        kind=resource.kind,
        text=resource.text,
        line=resource.line,
    )
