"""Read API of the catalogue: plain views of papers, mentions and citations, and their JSON form.

Imports `errors`, `models`, `store`. Search, graph, clusters, the CLI and the UI read through here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, col, func, select

from speechgraph import models
from speechgraph.errors import CatalogueEmpty, PaperNotFound
from speechgraph.links import find_paper_id
from speechgraph.models import Author, Citation, Paper, PaperAuthor, PaperCategory, ReadingList
from speechgraph.store import get_meta

T = TypeVar("T")


def summary_label(has_abstract: bool, has_note: bool) -> str:
    """What a paper's summary is: arXiv's "abstract", our "note", or "none"."""
    return "abstract" if has_abstract else ("note" if has_note else "none")


@dataclass(frozen=True)
class MentionView:
    list: str
    section: str
    link_text: str
    line: int
    kind: str
    url: str | None
    reference: str
    resolution: str
    resolution_score: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "list": self.list,
            "section": self.section,
            "link_text": self.link_text,
            "line": self.line,
            "kind": self.kind,
            "url": self.url,
            "resolution": self.resolution,
            "resolution_score": self.resolution_score,
        }


@dataclass(frozen=True)
class ResourceView:
    url: str
    kind: str
    text: str
    list: str
    section: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "kind": self.kind, "text": self.text, "list": self.list}


@dataclass
class PaperView:
    """Everything the catalogue knows about one paper, as plain data."""

    id: str
    title: str
    authors: list[str]
    year: int | None
    published: date | None
    categories: list[str]
    abstract: str | None
    note: str | None
    version: int | None = None
    primary_category: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    aliases: list[str] = field(default_factory=list)
    builds_on: list[str] = field(default_factory=list)
    topic: str | None = None
    source: str = "snapshot"
    is_stub: bool = False
    citation_count: int | None = None
    mentions: list[MentionView] = field(default_factory=list)
    resources: list[ResourceView] = field(default_factory=list)

    @property
    def is_arxiv(self) -> bool:
        return not self.id.startswith("s2:")

    @property
    def abs_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.id}" if self.is_arxiv else None

    @property
    def pdf_url(self) -> str | None:
        return f"https://arxiv.org/pdf/{self.id}" if self.is_arxiv else None

    @property
    def summary(self) -> str:
        """The abstract when arXiv gave one, else our note (callers label which)."""
        return self.abstract or self.note or ""

    @property
    def summary_label(self) -> str:
        return summary_label(bool(self.abstract), bool(self.note))

    @property
    def embedding_text(self) -> str:
        """Title plus abstract, or title plus our note where no abstract is known."""
        return f"{self.title}. {self.summary}".strip()

    @property
    def lists(self) -> list[str]:
        return sorted({mention.list for mention in self.mentions})

    @property
    def sections(self) -> list[tuple[str, str]]:
        return sorted({(mention.list, mention.section) for mention in self.mentions})

    def to_json(self) -> dict[str, Any]:
        """The paper object of the JSON contract; extend, never rename."""
        return {
            "id": self.id,
            "title": self.title,
            "authors": self.authors,
            "year": self.year,
            "categories": self.categories,
            "note": self.note,
            "abstract": self.abstract,
            "mentions": [mention.to_json() for mention in self.mentions],
            "version": self.version,
            "published": self.published.isoformat() if self.published else None,
            "primary_category": self.primary_category,
            "doi": self.doi,
            "aliases": self.aliases,
            "topic": self.topic,
            "source": self.source,
            "is_stub": self.is_stub,
            "citation_count": self.citation_count,
            "url": self.abs_url,
            "pdf_url": self.pdf_url,
            "resources": [resource.to_json() for resource in self.resources],
        }


def load_papers(
    session: Session, ids: Iterable[str] | None = None, *, include_stubs: bool = False
) -> list[PaperView]:
    """Papers as views, oldest first (then by id); a handful of queries whatever the count."""
    query = select(Paper)
    if ids is not None:
        query = query.where(col(Paper.id).in_(list(ids)))
    elif not include_stubs:
        query = query.where(Paper.is_stub == False)  # noqa: E712
    papers = session.exec(query).all()
    paper_ids = [paper.id for paper in papers]
    authors = _authors_by_paper(session, paper_ids)
    categories = _categories_by_paper(session, paper_ids)
    mentions = _mentions_by_paper(session, paper_ids)
    resources = _resources_by_paper(session, paper_ids)
    views = [
        _view(
            paper, authors[paper.id], categories[paper.id], mentions[paper.id], resources[paper.id]
        )
        for paper in papers
    ]
    return sorted(views, key=lambda view: (view.published or date.max, view.id))


def get_paper(session: Session, paper_id: str) -> PaperView:
    """One paper by catalogue id. Raises PaperNotFound naming the id and how to look it up."""
    found = load_papers(session, [paper_id])
    if not found:
        raise PaperNotFound(
            f"{paper_id} is not in the catalogue: run `speechgraph list` to see its papers "
            "or `speechgraph search` to find one"
        )
    return found[0]


def resolve_paper_id(session: Session, raw: str) -> str:
    """The catalogue id `raw` names: an arXiv id in any form, an `s2:` id, or a paper's
    well-known name ("VITS"). Raises PaperNotFound / InvalidPaperId with what to run."""
    rows = session.exec(select(Paper.id, Paper.title, Paper.aliases)).all()
    names = {
        paper_id: [*(aliases or []), title.split(":", 1)[0] if ":" in title else ""]
        for paper_id, title, aliases in rows
    }
    return find_paper_id(raw, names, names)


def require_papers(session: Session) -> None:
    """Raise CatalogueEmpty when there are no papers yet."""
    if session.exec(select(func.count()).select_from(Paper)).one() == 0:
        raise CatalogueEmpty("the catalogue is empty: run `speechgraph refresh --offline` first")


def citation_pairs(session: Session) -> list[tuple[str, str]]:
    """(citing, cited) pairs, stubs included."""
    rows = session.exec(select(Citation.citing_id, Citation.cited_id)).all()
    return [(citing, cited) for citing, cited in rows]


def list_mentions(session: Session, *, unresolved_only: bool = False) -> list[dict[str, Any]]:
    """Every mention with its list and resolution, for the audit and the catalogue page."""
    query = select(models.Mention, ReadingList.name).join(ReadingList)
    if unresolved_only:
        query = query.where(col(models.Mention.paper_id).is_(None))
    rows = session.exec(query.order_by(col(ReadingList.name), col(models.Mention.line))).all()
    return [
        {
            "list": list_name,
            "section": mention.section,
            "line": mention.line,
            "link_text": mention.link_text,
            "kind": mention.kind,
            "url": mention.url,
            "reference": mention.reference,
            "title": mention.title,
            "year": mention.year,
            "paper_id": mention.paper_id,
            "linked_version": mention.linked_version,
            "resolution": mention.resolution,
            "resolution_score": mention.resolution_score,
            "resolution_detail": mention.resolution_detail,
        }
        for mention, list_name in rows
    ]


def reading_list_names(session: Session) -> list[str]:
    return sorted(session.exec(select(ReadingList.name)).all())


def catalogue_version(session: Session) -> int:
    return int(get_meta(session, "catalogue_version") or 0)


def catalogue_stats(session: Session) -> dict[str, Any]:
    """Counts and the last refresh, for `speechgraph list` summaries and the catalogue page."""
    papers = session.exec(
        select(func.count()).select_from(Paper).where(Paper.is_stub == False)  # noqa: E712
    ).one()
    stubs = session.exec(
        select(func.count()).select_from(Paper).where(Paper.is_stub == True)  # noqa: E712
    ).one()
    mentions = session.exec(select(func.count()).select_from(models.Mention)).one()
    unresolved = session.exec(
        select(func.count())
        .select_from(models.Mention)
        .where(col(models.Mention.paper_id).is_(None))
    ).one()
    report = get_meta(session, "last_refresh_report")
    return {
        "papers": papers,
        "citation_stubs": stubs,
        "citations": session.exec(select(func.count()).select_from(Citation)).one(),
        "reading_lists": session.exec(select(func.count()).select_from(ReadingList)).one(),
        "mentions": mentions,
        "unresolved_mentions": unresolved,
        "with_abstract": session.exec(
            select(func.count()).select_from(Paper).where(col(Paper.abstract).is_not(None))
        ).one(),
        "catalogue_version": catalogue_version(session),
        "last_refresh": get_meta(session, "last_refresh"),
        "last_refresh_mode": get_meta(session, "last_refresh_mode"),
        "last_refresh_report": json.loads(report) if report else None,
    }


def _grouped(rows: Iterable[tuple[str | None, T]]) -> dict[str, list[T]]:
    """Rows of (paper id, value) as lists of values by paper id, in row order."""
    grouped: dict[str, list[T]] = defaultdict(list)
    for paper_id, value in rows:
        grouped[paper_id or ""].append(value)
    return grouped


def _authors_by_paper(session: Session, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    return _grouped(
        session.exec(
            select(PaperAuthor.paper_id, Author.name)
            .join(Author)
            .where(col(PaperAuthor.paper_id).in_(paper_ids))
            .order_by(col(PaperAuthor.paper_id), col(PaperAuthor.position))
        ).all()
    )


def _categories_by_paper(session: Session, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    return _grouped(
        session.exec(
            select(PaperCategory.paper_id, PaperCategory.category)
            .where(col(PaperCategory.paper_id).in_(paper_ids))
            .order_by(col(PaperCategory.paper_id), col(PaperCategory.position))
        ).all()
    )


def _mentions_by_paper(session: Session, paper_ids: Sequence[str]) -> dict[str, list[MentionView]]:
    rows = session.exec(
        select(models.Mention, ReadingList.name)
        .join(ReadingList)
        .where(col(models.Mention.paper_id).in_(paper_ids))
        .order_by(col(ReadingList.name), col(models.Mention.line))
    ).all()
    return _grouped(
        (
            mention.paper_id,
            MentionView(
                list=list_name,
                section=mention.section,
                link_text=mention.link_text,
                line=mention.line,
                kind=mention.kind,
                url=mention.url,
                reference=mention.reference,
                resolution=mention.resolution,
                resolution_score=mention.resolution_score,
            ),
        )
        for mention, list_name in rows
    )


def _resources_by_paper(
    session: Session, paper_ids: Sequence[str]
) -> dict[str, list[ResourceView]]:
    rows = session.exec(
        select(models.Resource, ReadingList.name)
        .join(ReadingList)
        .where(col(models.Resource.paper_id).in_(paper_ids))
        .order_by(col(models.Resource.line))
    ).all()
    return _grouped(
        (
            resource.paper_id,
            ResourceView(resource.url, resource.kind, resource.text, list_name, resource.section),
        )
        for resource, list_name in rows
    )


def _view(
    paper: Paper,
    authors: list[str],
    categories: list[str],
    mentions: list[MentionView],
    resources: list[ResourceView],
) -> PaperView:
    return PaperView(
        id=paper.id,
        title=paper.title,
        authors=authors,
        year=paper.year,
        published=paper.published,
        categories=categories,
        abstract=paper.abstract,
        note=paper.note,
        version=paper.version,
        primary_category=paper.primary_category,
        doi=paper.doi,
        journal_ref=paper.journal_ref,
        aliases=list(paper.aliases or []),
        builds_on=list(paper.builds_on or []),
        topic=paper.topic,
        source=paper.source,
        is_stub=paper.is_stub,
        citation_count=paper.citation_count,
        mentions=mentions,
        resources=resources,
    )
