"""Every read of the catalogue, as plain data: paper views, cards for search hits, mentions,
citations, counters, filters. Each function takes the `Store` and opens its own session.

Search, knowledge, graph, views, the CLI and the UI read the catalogue through here only.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import bindparam, literal, null, or_, union_all
from sqlalchemy import text as sql_text
from sqlmodel import Session, col, func, select

from speechgraph.catalogue import schema as models
from speechgraph.catalogue.schema import (
    Author,
    Citation,
    Paper,
    PaperAuthor,
    PaperCategory,
    PaperName,
    PaperOrigin,
    PaperTopic,
    ReadingList,
    TopicLabel,
    in_chunks,
)
from speechgraph.catalogue.status import status_counts
from speechgraph.catalogue.store import Store
from speechgraph.catalogue.writes import ORIGINS, get_meta
from speechgraph.errors import CatalogueEmpty, PaperNotFound, SearchInputError
from speechgraph.records import (
    Mention,
    MentionView,
    PaperView,
    Relation,
    Resolution,
    ResourceView,
    StoredName,
    submission_date,
)

T = TypeVar("T")

EMPTY_CATALOGUE = "the catalogue is empty: run `speechgraph refresh --offline` first"


# --- papers ------------------------------------------------------------------------------------


def load_papers(
    store: Store, ids: Iterable[str] | None = None, *, include_stubs: bool = False
) -> list[PaperView]:
    """Papers as views, oldest first (then by id); a handful of queries whatever the count."""
    with store.reading() as session:
        return papers_in_session(session, ids, include_stubs=include_stubs, curated=store.curated)


def papers_in_session(
    session: Session,
    ids: Iterable[str] | None = None,
    *,
    include_stubs: bool = False,
    curated: bool = True,
) -> list[PaperView]:
    """`load_papers` inside a session the caller holds (the snapshot writer reads in one).
    Without `curated`, our notes, aliases, curated lists and topics are left out."""
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
    origins = _origins_by_paper(session, paper_ids)
    views = [
        _view(
            paper, authors[paper.id], categories[paper.id], mentions[paper.id], resources[paper.id]
        )
        for paper in papers
    ]
    for view in views:
        view.data_origins = origins[view.id]
        if not curated:
            _without_curation(view)
    return sorted(views, key=lambda view: (view.published or date.max, view.id))


def iter_papers(
    store: Store, *, changed_since: int | None = None, chunk_size: int = 5000
) -> Iterator[list[PaperView]]:
    """Catalogue papers (no stubs) in chunks of views, by id: all of them, or those changed by
    a write after catalogue version `changed_since`. Memory stays at one chunk."""
    last = ""
    while True:
        with store.reading() as session:
            query = select(Paper.id).where(Paper.is_stub == False, col(Paper.id) > last)  # noqa: E712
            if changed_since is not None:
                query = query.where(col(Paper.changed_in) > changed_since)
            ids = session.exec(query.order_by(col(Paper.id)).limit(chunk_size)).all()
            if not ids:
                return
            chunk = papers_in_session(session, ids, curated=store.curated)
        yield sorted(chunk, key=lambda view: view.id)
        last = ids[-1]


def paper_count(store: Store) -> int:
    """How many catalogue papers there are (no citation stubs)."""
    with store.reading() as session:
        query = select(func.count()).select_from(Paper).where(Paper.is_stub == False)  # noqa: E712
        return int(session.exec(query).one())


def paper_ids(store: Store) -> set[str]:
    """The ids of every catalogue paper (no citation stubs)."""
    with store.reading() as session:
        return set(session.exec(select(Paper.id).where(Paper.is_stub == False)).all())  # noqa: E712


def get_paper(store: Store, paper_id: str) -> PaperView:
    """One paper by catalogue id. Raises PaperNotFound naming the id and how to look it up."""
    found = load_papers(store, [paper_id])
    if not found:
        raise PaperNotFound(
            f"{paper_id} is not in the catalogue: run `speechgraph list` to see its papers "
            "or `speechgraph search` to find one"
        )
    return found[0]


def has_papers(store: Store) -> bool:
    with store.reading() as session:
        return session.exec(select(Paper.id).limit(1)).first() is not None


def require_papers(store: Store) -> None:
    """Raise CatalogueEmpty when there are no papers yet."""
    if not has_papers(store):
        raise CatalogueEmpty(EMPTY_CATALOGUE)


def paper_names(store: Store) -> list[tuple[str, str, list[str]]]:
    """(id, title, aliases) of every paper, citation stubs included: what names resolve over."""
    with store.reading() as session:
        rows = session.exec(select(Paper.id, Paper.title, Paper.aliases)).all()
    return [
        (paper_id, title, list(aliases or []) if store.curated else [])
        for paper_id, title, aliases in rows
    ]


@dataclass(frozen=True)
class StoredPaper:
    """What a refresh needs to know about a paper it may fetch again."""

    id: str
    title: str
    aliases: list[str]
    source: str
    fetched_at: datetime | None


def stored_papers(store: Store) -> dict[str, StoredPaper]:
    """Every catalogue paper (not citation stubs), by id."""
    with store.reading() as session:
        columns = (Paper.id, Paper.title, Paper.aliases, Paper.source, Paper.fetched_at)
        query = select(*columns).where(Paper.is_stub == False)  # type: ignore[call-overload]  # noqa: E712
        rows = session.exec(query).all()
    return {
        paper_id: StoredPaper(
            paper_id, title, list(aliases or []) if store.curated else [], source, fetched_at
        )
        for paper_id, title, aliases, source, fetched_at in rows
    }


# --- cards: the few fields a search hit shows ---------------------------------------------------


@dataclass
class PaperCard:
    id: str
    title: str
    year: int | None
    has_abstract: bool
    has_note: bool
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def paper_cards(store: Store, ids: Sequence[str]) -> dict[str, PaperCard]:
    """Title, year, authors and categories of `ids` in one round trip, no ORM objects.

    The hot path of every search, so it skips `load_papers` (mentions, resources) on purpose and
    runs one UNION statement built once (building a select costs more than running it here).
    """
    if not ids:
        return {}
    with store.engine.connect() as connection:
        rows = connection.execute(_card_statement(), {"ids": list(ids)}).all()
    cards: dict[str, PaperCard] = {}
    for paper_id, kind, _position, text_value, year, has_abstract, has_note in rows:
        if kind == 0:
            noted = bool(has_note) and store.curated
            cards[paper_id] = PaperCard(paper_id, text_value, year, bool(has_abstract), noted)
        elif paper_id in cards:
            (cards[paper_id].authors if kind == 1 else cards[paper_id].categories).append(
                text_value
            )
    return cards


@cache
def _card_statement() -> Any:
    ids: Any = bindparam("ids", expanding=True)
    none = null()
    papers = select(  # type: ignore[call-overload]
        Paper.id,
        literal(0).label("kind"),
        literal(0).label("position"),
        Paper.title,
        Paper.year,
        col(Paper.abstract).is_not(None),
        col(Paper.note).is_not(None),
    ).where(col(Paper.id).in_(ids))
    author_columns = (PaperAuthor.paper_id, literal(1), PaperAuthor.position, Author.name)
    authors = (
        select(*author_columns, none, none, none)  # type: ignore[call-overload]
        .join(Author)
        .where(col(PaperAuthor.paper_id).in_(ids))
    )
    categories = select(  # type: ignore[call-overload]
        PaperCategory.paper_id,
        literal(2),
        PaperCategory.position,
        PaperCategory.category,
        none,
        none,
        none,
    ).where(col(PaperCategory.paper_id).in_(ids))
    return union_all(papers, authors, categories).order_by(sql_text("kind"), sql_text("position"))


# --- filters ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    year_from: int | None = None
    year_to: int | None = None
    category: str | None = None
    list_name: str | None = None
    section: str | None = None
    listed_only: bool = False  # the lists' scope: papers some reading list mentions

    def is_empty(self) -> bool:
        return not self.listed_only and all(
            value is None for name, value in vars(self).items() if name != "listed_only"
        )


def ids_matching(store: Store, filters: Filters) -> set[str] | None:
    """Ids passing `filters`, or None when there are none. Unknown values raise SearchInputError."""
    if filters.is_empty():
        return None
    if (
        filters.year_from is not None
        and filters.year_to is not None
        and filters.year_from > filters.year_to
    ):
        raise SearchInputError(
            f"--year-from {filters.year_from} is after --year-to {filters.year_to}"
        )
    # One statement: the category, list and listed filters are subqueries, so a narrow filter
    # reads only its papers (a 740K field is never listed whole to be intersected). The stub
    # test is an expression, not a column: without statistics SQLite would take the is_stub
    # index for a selective one and read every paper.
    conditions: list[Any] = [func.coalesce(Paper.is_stub, False) == False]  # noqa: E712
    if filters.year_from is not None:
        conditions.append(col(Paper.year) >= filters.year_from)
    if filters.year_to is not None:
        conditions.append(col(Paper.year) <= filters.year_to)
    with store.reading() as session:
        if filters.category is not None:
            chosen = _categories_named(session, filters.category)
            in_category = select(PaperCategory.paper_id).where(
                col(PaperCategory.category).in_(chosen)
            )
            conditions.append(col(Paper.id).in_(in_category))
        if filters.list_name is not None:
            conditions.append(col(Paper.id).in_(_list_members(session, filters.list_name)))
        if filters.listed_only:
            mentioned = select(models.Mention.paper_id).where(
                col(models.Mention.paper_id).is_not(None)
            )
            conditions.append(col(Paper.id).in_(mentioned))
        query = select(Paper.id).where(*conditions)  # type: ignore[call-overload]
        ids = set(session.connection().execute(query).scalars())
        if filters.section is not None:
            ids &= _ids_in_section(session, filters.section)
    return ids


def _categories_named(session: Session, category: str) -> list[str]:
    """The stored categories `category` names: itself, or an archive's (`eess` -> eess.*)."""
    known = sorted(session.exec(select(PaperCategory.category).distinct()).all())
    wanted = category.strip().lower()
    chosen = [c for c in known if c.lower() == wanted or c.lower().startswith(wanted + ".")]
    if not chosen:
        raise SearchInputError(
            f"unknown category {category!r}: choose one of {', '.join(known) or '(none yet)'}"
        )
    return chosen


def _list_members(session: Session, list_name: str) -> Any:
    """The ids the reading list `list_name` mentions, as a subquery."""
    names = sorted(session.exec(select(ReadingList.name)).all())
    chosen = [name for name in names if name.lower() == list_name.strip().lower()]
    if not chosen:
        raise SearchInputError(
            f"unknown reading list {list_name!r}: choose one of {', '.join(names) or '(none yet)'}"
        )
    return (
        select(models.Mention.paper_id)
        .join(ReadingList)
        .where(ReadingList.name == chosen[0], col(models.Mention.paper_id).is_not(None))
    )


def _ids_in_section(session: Session, section: str) -> set[str]:
    rows = session.exec(select(models.Mention.paper_id, models.Mention.section)).all()
    wanted = section.strip().lower()
    ids = {paper_id for paper_id, name in rows if paper_id and wanted in name.lower()}
    if not ids:
        sections = sorted({name for _, name in rows})
        shown = "; ".join(sections[:12]) + (
            f"; … ({len(sections)} in all)" if len(sections) > 12 else ""
        )
        raise SearchInputError(
            f"no section matches {section!r}: sections include {shown or '(none yet)'}"
        )
    return ids


# --- mentions, lists and citations --------------------------------------------------------------


def list_mentions(store: Store, *, unresolved_only: bool = False) -> list[dict[str, Any]]:
    """Every mention with its list and resolution, for the audit and the catalogue page."""
    query = select(models.Mention, ReadingList.name).join(ReadingList)
    if unresolved_only:
        query = query.where(col(models.Mention.paper_id).is_(None))
    with store.reading() as session:
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


def title_search_resolutions(store: Store) -> list[tuple[Mention, Resolution]]:
    """Mentions an earlier refresh resolved by an arXiv title search, so reruns skip the search."""
    with store.reading() as session:
        rows = session.exec(
            select(models.Mention).where(
                models.Mention.resolution == "title-search",
                col(models.Mention.paper_id).is_not(None),
            )
        ).all()
    return [
        (
            Mention(
                list_name="",
                section=row.section,
                link_text=row.link_text,
                line=row.line,
                kind=row.kind,
                title=row.title,
                reference=row.reference,
            ),
            Resolution(row.paper_id, row.resolution, row.resolution_score, row.resolution_detail),
        )
        for row in rows
    ]


def reading_list_names(store: Store) -> list[str]:
    with store.reading() as session:
        return sorted(session.exec(select(ReadingList.name)).all())


def listings(store: Store, ids: Collection[str]) -> dict[str, list[str]]:
    """id -> ["list > section", ...]: where the reading lists mention each paper."""
    if not ids:
        return {}
    with store.reading() as session:
        rows = session.exec(
            select(models.Mention.paper_id, ReadingList.name, models.Mention.section)
            .join(ReadingList)
            .where(col(models.Mention.paper_id).in_(list(ids)))
            .order_by(col(ReadingList.name), col(models.Mention.line))
        ).all()
    found: dict[str, list[str]] = defaultdict(list)
    for paper_id, list_name, section in rows:
        place = f"{list_name} > {section}" if section else list_name
        if paper_id and place not in found[paper_id]:
            found[paper_id].append(place)
    return dict(found)


def citation_pairs(store: Store) -> list[tuple[str, str]]:
    """(citing, cited) pairs, stubs included."""
    with store.reading() as session:
        rows = session.exec(select(Citation.citing_id, Citation.cited_id)).all()
    return [(citing, cited) for citing, cited in rows]


def citations_of(store: Store, paper_id: str) -> tuple[list[str], list[str]]:
    """(the ids `paper_id` cites, the ids that cite it)."""
    with store.reading() as session:
        rows = session.exec(
            select(Citation.citing_id, Citation.cited_id).where(
                or_(col(Citation.citing_id) == paper_id, col(Citation.cited_id) == paper_id)
            )
        ).all()
    cited = [cited_id for citing_id, cited_id in rows if citing_id == paper_id]
    citing = [citing_id for citing_id, cited_id in rows if cited_id == paper_id]
    return cited, citing


# --- names and relations -----------------------------------------------------------------


def stored_names(store: Store) -> list[StoredName]:
    """Every name of every paper (our aliases only with curation)."""
    with store.reading() as session:
        rows = session.exec(
            select(PaperName.paper_id, PaperName.text, PaperName.source, PaperName.confidence)
        ).all()
    return [StoredName(*row) for row in rows if store.curated or row[2] != "alias"]


def relations_of_papers(
    store: Store, ids: Collection[str], *, outgoing: bool = True
) -> list[Relation]:
    """The relations `ids` state (outgoing) or that are stated about them (incoming); our
    curation's only with curation."""
    if not ids:
        return []
    column = models.Relation.source_id if outgoing else models.Relation.target_id
    found: list[Relation] = []
    with store.reading() as session:
        for chunk in in_chunks(ids):
            query = select(models.Relation).where(col(column).in_(chunk))
            if not store.curated:
                query = query.where(models.Relation.origin == "text")
            found += [
                Relation(
                    row.source_id,
                    row.target_id,
                    row.kind,
                    row.name,
                    row.evidence,
                    row.confidence,
                    row.origin,
                )
                for row in session.exec(query).all()
            ]
    return found


def paper_dates(store: Store) -> dict[str, date | str | None]:
    """Each paper's first-submission date: a full date where the data has one, "YYYY-MM" where
    only the month is known (the offline snapshot's facts), for the submission-order rule."""
    with store.reading() as session:
        rows = session.exec(
            select(Paper.id, Paper.published, Paper.source).where(Paper.is_stub == False)  # noqa: E712
        ).all()
    return {paper_id: submission_date(published, source) for paper_id, published, source in rows}


def citations_of_papers(
    store: Store, ids: Collection[str], *, outgoing: bool = True
) -> list[tuple[str, str]]:
    """(citing, cited) pairs with the citing (outgoing) or the cited (incoming) paper in `ids`."""
    if not ids:
        return []
    column = Citation.citing_id if outgoing else Citation.cited_id
    pairs: list[tuple[str, str]] = []
    with store.reading() as session:
        for chunk in in_chunks(ids):
            rows = session.exec(
                select(Citation.citing_id, Citation.cited_id).where(col(column).in_(chunk))
            ).all()
            pairs += [(citing, cited) for citing, cited in rows]
    return pairs


def section_mates(store: Store, ids: Collection[str]) -> set[str]:
    """The papers listed in the same section of the same list as any of `ids`."""
    if not ids:
        return set()
    with store.reading() as session:
        places = session.exec(
            select(models.Mention.list_id, models.Mention.section)
            .where(col(models.Mention.paper_id).in_(sorted(ids)))
            .distinct()
        ).all()
        mates: set[str] = set()
        for list_id, section in places:
            mates.update(
                paper_id
                for paper_id in session.exec(
                    select(models.Mention.paper_id).where(
                        models.Mention.list_id == list_id, models.Mention.section == section
                    )
                ).all()
                if paper_id
            )
    return mates


def paper_topics(store: Store, ids: Collection[str] | None = None) -> dict[str, int]:
    """The topic cluster of each paper (of `ids`, or all) that clustering has placed."""
    with store.reading() as session:
        query = select(PaperTopic.paper_id, PaperTopic.topic)
        if ids is not None:
            query = query.where(col(PaperTopic.paper_id).in_(sorted(ids)))
        return dict(session.exec(query).all())


@dataclass(frozen=True)
class StoredTopic:
    level: int
    id: int
    parent: int | None
    label: str
    terms: list[str]
    size: int


def topic_labels(store: Store) -> list[StoredTopic]:
    """Every stored topic and subtopic cluster with its label, largest first."""
    with store.reading() as session:
        rows = session.exec(select(TopicLabel)).all()
    topics = [
        StoredTopic(row.level, row.id, row.parent, row.label, list(row.terms), row.size)
        for row in rows
    ]
    return sorted(topics, key=lambda topic: (topic.level, -topic.size, topic.id))


def topic_map(
    store: Store, *, per_topic: int | None = None, ids: Collection[str] | None = None
) -> list[tuple[str, int, int | None, float, float]]:
    """(paper id, topic, subtopic, x, y) of the papers on the topic map: all, those of `ids`,
    or the first `per_topic` of each topic (by id, so the sample is stable)."""
    with store.reading() as session:
        query = select(  # type: ignore[call-overload]
            PaperTopic.paper_id, PaperTopic.topic, PaperTopic.subtopic, PaperTopic.x, PaperTopic.y
        )
        if ids is not None:
            query = query.where(col(PaperTopic.paper_id).in_(sorted(ids)))
        rows = session.exec(query.order_by(col(PaperTopic.topic), col(PaperTopic.paper_id))).all()
    if per_topic is None:
        return list(rows)
    taken: dict[int, int] = defaultdict(int)
    sample = []
    for row in rows:
        if taken[row[1]] < per_topic:
            taken[row[1]] += 1
            sample.append(row)
    return sample


def list_sections(store: Store, list_name: str, section: str | None = None) -> dict[str, str]:
    """The papers a reading list mentions, each with the section it is first listed in; only
    those under sections containing `section` when given. Raises SearchInputError naming the
    known lists or sections."""
    names = reading_list_names(store)
    chosen = next((name for name in names if name.lower() == list_name.strip().lower()), None)
    if chosen is None:
        raise SearchInputError(
            f"unknown reading list {list_name!r}: choose one of {', '.join(names) or '(none yet)'}"
            " or give a list's path or URL"
        )
    with store.reading() as session:
        rows = session.exec(
            select(models.Mention.paper_id, models.Mention.section)
            .join(ReadingList)
            .where(ReadingList.name == chosen, col(models.Mention.paper_id).is_not(None))
            .order_by(col(models.Mention.line))
        ).all()
    placed: dict[str, str] = {}
    for paper_id, place in rows:
        if paper_id and (section is None or section.lower() in place.lower()):
            placed.setdefault(paper_id, place)
    if not placed and section is not None:
        known = sorted({place for _, place in rows})
        raise SearchInputError(
            f"no section of {chosen} contains {section!r}: its sections are {'; '.join(known)}"
        )
    return placed


def paper_titles(store: Store, ids: Collection[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    with store.reading() as session:
        for chunk in in_chunks(ids):
            found.update(
                session.exec(select(Paper.id, Paper.title).where(col(Paper.id).in_(chunk))).all()
            )
    return found


# --- counters -----------------------------------------------------------------------------------


def catalogue_version(store: Store) -> int:
    with store.reading() as session:
        return int(get_meta(session, "catalogue_version") or 0)


def meta_value(store: Store, key: str) -> str | None:
    """A fact the catalogue keeps about itself (`last_harvest`, `last_import`, …)."""
    with store.reading() as session:
        return get_meta(session, key)


def imported_files(store: Store) -> dict[str, dict[str, int]]:
    """Files imported whole before (a key naming the file as it was on disk and the filter ->
    the counts of that import)."""
    with store.reading() as session:
        return dict(json.loads(get_meta(session, "imported_files") or "{}"))


def last_removal(store: Store) -> int:
    """The catalogue version of the last write that removed papers (0: none ever did)."""
    with store.reading() as session:
        return int(get_meta(session, "last_removal") or 0)


def catalogue_stats(store: Store) -> dict[str, Any]:
    """Counts and the last refresh, for `speechgraph list` summaries and the catalogue page."""
    with store.reading() as session:

        def count(query: Any) -> int:
            return int(session.exec(query).one())

        report = get_meta(session, "last_refresh_report")
        return {
            "papers": count(
                select(func.count()).select_from(Paper).where(Paper.is_stub == False)  # noqa: E712
            ),
            "citation_stubs": count(
                select(func.count()).select_from(Paper).where(Paper.is_stub == True)  # noqa: E712
            ),
            "citations": count(select(func.count()).select_from(Citation)),
            "reading_lists": count(select(func.count()).select_from(ReadingList)),
            "mentions": count(select(func.count()).select_from(models.Mention)),
            "unresolved_mentions": count(
                select(func.count())
                .select_from(models.Mention)
                .where(col(models.Mention.paper_id).is_(None))
            ),
            "with_abstract": count(
                select(func.count()).select_from(Paper).where(col(Paper.abstract).is_not(None))
            ),
            "catalogue_version": int(get_meta(session, "catalogue_version") or 0),
            "last_refresh": get_meta(session, "last_refresh"),
            "last_refresh_mode": get_meta(session, "last_refresh_mode"),
            "last_refresh_report": json.loads(report) if report else None,
        }


def catalogue_status(store: Store) -> dict[str, Any]:
    """Where the catalogue stands, in a few counting statements (`status.status_counts`):
    papers, listed papers, papers with an abstract, papers by origin, reading lists, the last
    import and harvest."""
    connection = store.engine.raw_connection()
    try:
        return status_counts(connection)
    finally:
        connection.close()


def listed_among(store: Store, ids: Collection[str]) -> set[str]:
    """Which of `ids` some reading list mentions."""
    if not ids:
        return set()
    with store.reading() as session:
        rows = session.exec(
            select(models.Mention.paper_id).where(col(models.Mention.paper_id).in_(list(ids)))
        ).all()
    return {paper_id for paper_id in rows if paper_id}


def listed_ids(store: Store) -> set[str]:
    """The papers some reading list mentions: the lists' scope."""
    with store.reading() as session:
        rows = session.exec(
            select(models.Mention.paper_id)
            .where(col(models.Mention.paper_id).is_not(None))
            .distinct()
        ).all()
    return {paper_id for paper_id in rows if paper_id}


# --- building views -----------------------------------------------------------------------------


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


def _origins_by_paper(session: Session, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    rows = session.exec(
        select(PaperOrigin.paper_id, PaperOrigin.origin).where(
            col(PaperOrigin.paper_id).in_(paper_ids)
        )
    ).all()
    order = {origin: position for position, origin in enumerate(ORIGINS)}
    grouped = _grouped(rows)
    return defaultdict(
        list, {key: sorted(found, key=order.__getitem__) for key, found in grouped.items()}
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


def _without_curation(view: PaperView) -> None:
    view.note = None
    view.aliases = []
    view.builds_on = []
    view.compares_with = []
    view.topic = None


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
        compares_with=list(paper.compares_with or []),
        topic=paper.topic,
        source=paper.source,
        is_stub=paper.is_stub,
        citation_count=paper.citation_count,
        mentions=mentions,
        resources=resources,
    )
