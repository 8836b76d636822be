"""Read API of the catalogue: papers, mentions and citations as plain views (`records.PaperView`).

Imports `errors`, `models`, `store`. Search, graph, clusters, the CLI and the UI read through here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, col, func, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.schema import (
    Author,
    Citation,
    Paper,
    PaperAuthor,
    PaperCategory,
    ReadingList,
)
from speechgraph.catalogue.store import get_meta
from speechgraph.errors import CatalogueEmpty, PaperNotFound
from speechgraph.lists.links import find_paper_id
from speechgraph.records import MentionView, PaperView, ResourceView

T = TypeVar("T")


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
