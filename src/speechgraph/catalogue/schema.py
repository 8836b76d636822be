"""The SQLModel schema of the catalogue. Every table and column lives here.

A new database gets this schema whole; a database written by an earlier release is brought
here by the numbered steps in `migrations.py` (one per schema version).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class Paper(SQLModel, table=True):
    """A paper: an arXiv paper keyed by its id without version, or a citation stub."""

    id: str = Field(primary_key=True)  # "2006.11477", "cs/0112017"; stubs: "s2:<paperId>"
    version: int | None = None
    title: str
    abstract: str | None = None  # from arXiv only; never written by us
    note: str | None = None  # our own short note, labelled as a note wherever shown
    published: date | None = None
    updated: date | None = None
    year: int | None = Field(default=None, index=True)
    primary_category: str | None = None
    doi: str | None = Field(default=None, index=True)  # lowercased
    journal_ref: str | None = None
    comment: str | None = None
    aliases: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    builds_on: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    compares_with: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    topic: str | None = None
    source: str = "snapshot"  # "arxiv" | "snapshot" | "citation-stub"
    is_stub: bool = Field(default=False, index=True)
    citation_count: int | None = None
    fetched_at: datetime | None = None
    # The catalogue version of the write that last changed the paper: derived data (keyword and
    # vector indexes) catches up on the papers changed since the version it was built for.
    changed_in: int = Field(default=0, index=True)
    # A digest of the arXiv metadata last stored (title, authors, abstract, dates, ...): a bulk
    # import skips a record with the same digest without touching the row.
    record_hash: str | None = None


class PaperOrigin(SQLModel, table=True):
    """Where a paper's metadata came from: "snapshot", "arxiv", "import", "harvest" (any number).
    Whether a reading list mentions it is read from its mentions, never stored here."""

    paper_id: str = Field(foreign_key="paper.id", primary_key=True, ondelete="CASCADE")
    origin: str = Field(primary_key=True, index=True)


class Author(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class PaperAuthor(SQLModel, table=True):
    """Authorship in order: `position` 0 is the first author."""

    paper_id: str = Field(foreign_key="paper.id", primary_key=True, ondelete="CASCADE")
    position: int = Field(primary_key=True)
    author_id: int = Field(foreign_key="author.id", index=True)


class PaperCategory(SQLModel, table=True):
    """arXiv categories in order: `position` 0 is the primary category."""

    paper_id: str = Field(foreign_key="paper.id", primary_key=True, ondelete="CASCADE")
    position: int = Field(primary_key=True)
    category: str = Field(index=True)


class ReadingList(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    location: str  # the path or URL it was read from ("snapshot" when only the snapshot had it)
    content_hash: str | None = None
    read_at: datetime | None = None


class Mention(SQLModel, table=True):
    """One citation of a paper in a reading list, with its provenance and how it resolved."""

    id: int | None = Field(default=None, primary_key=True)
    # Set by `store.replace_list_entries`; never NULL in the database.
    list_id: int | None = Field(
        default=None, foreign_key="readinglist.id", index=True, ondelete="CASCADE", nullable=False
    )
    paper_id: str | None = Field(default=None, foreign_key="paper.id", index=True)
    section: str
    link_text: str
    line: int
    kind: str  # records.ARXIV | DOI | PUBLISHER | TEXT
    url: str | None = None
    linked_version: int | None = None  # the vN the list linked, if any
    doi: str | None = None
    title: str | None = None  # the title as extracted from a text citation
    year: int | None = None
    reference: str = ""
    resolution: str = "unresolved"  # "link" | "title-search" | "alias" | "snapshot" | "unresolved"
    resolution_score: float | None = None
    resolution_detail: str | None = None


class Resource(SQLModel, table=True):
    """A non-paper link from a list: code, video, blog, model card, image."""

    id: int | None = Field(default=None, primary_key=True)
    list_id: int | None = Field(
        default=None, foreign_key="readinglist.id", index=True, ondelete="CASCADE", nullable=False
    )
    paper_id: str | None = Field(default=None, foreign_key="paper.id", index=True)
    section: str
    url: str
    kind: str
    text: str
    line: int


class Citation(SQLModel, table=True):
    """`citing_id` cites `cited_id`, as reported by `source`."""

    __table_args__ = (UniqueConstraint("citing_id", "cited_id"),)

    id: int | None = Field(default=None, primary_key=True)
    citing_id: str = Field(foreign_key="paper.id", index=True, ondelete="CASCADE")
    cited_id: str = Field(foreign_key="paper.id", index=True, ondelete="CASCADE")
    source: str = "semanticscholar"


class Meta(SQLModel, table=True):
    """Key/value facts about the catalogue: schema version, catalogue version, last refresh."""

    key: str = Field(primary_key=True)
    value: str


class Relation(SQLModel, table=True):
    """`source_id` builds on, compares with or mentions `target_id`, as `origin` says: the
    text of its abstract ("text", `evidence` is the sentence) or our curation ("curation")."""

    __table_args__ = (UniqueConstraint("source_id", "target_id", "kind", "origin"),)

    id: int | None = Field(default=None, primary_key=True)
    source_id: str = Field(foreign_key="paper.id", index=True, ondelete="CASCADE")
    target_id: str = Field(foreign_key="paper.id", index=True, ondelete="CASCADE")
    kind: str  # "builds_on" | "compares_with" | "mentions"
    name: str  # the name of the target the source uses
    evidence: str
    confidence: float
    origin: str = "text"


class PaperName(SQLModel, table=True):
    """A name a paper's method goes by: its title's head, an alias of ours ("alias"), a link
    text of a list ("link text"), or one its abstract introduces ("introduced")."""

    paper_id: str = Field(foreign_key="paper.id", primary_key=True, ondelete="CASCADE")
    text: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    confidence: float = 1.0


class PaperTopic(SQLModel, table=True):
    """The topic and subtopic clusters a paper belongs to (see `TopicLabel`), and where it
    sits on the topic map."""

    paper_id: str = Field(foreign_key="paper.id", primary_key=True, ondelete="CASCADE")
    topic: int = Field(index=True)
    subtopic: int | None = None
    x: float = 0.0
    y: float = 0.0


class TopicLabel(SQLModel, table=True):
    """A cluster's readable label: `level` 0 for topics, 1 for subtopics within `parent`."""

    level: int = Field(primary_key=True)
    id: int = Field(primary_key=True)
    parent: int | None = None
    label: str
    terms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    size: int = 0


IN_CHUNK = 500  # ids per IN (...) list, well under every driver's limit on parameters


def in_chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """`ids`, sorted and without repeats, in slices short enough for one IN (...) list."""
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]
