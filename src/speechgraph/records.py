"""Plain records passed between the parsers, the clients, the store and its readers
(`PaperView` is how every layer after the store sees a paper).

Nothing here touches the database or the network; every other module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

# Kinds of a mention: what the reading list pointed at.
ARXIV = "arxiv"  # an arXiv link in any form
DOI = "doi"  # a doi.org link or a bare DOI
PUBLISHER = (
    "publisher"  # IEEE, ACL Anthology, CVF, PMLR, ISCA, MIT Press, MDPI, thesis servers, PDFs
)
TEXT = "text"  # a citation written out in prose, no paper link


@dataclass(frozen=True)
class Resource:
    """A non-paper link (code, video, blog, demo, model card) found near a paper or section."""

    url: str
    kind: str  # "code" | "video" | "blog" | "model" | "dataset" | "demo" | "image" | "other"
    text: str
    section: str
    line: int


@dataclass
class Mention:
    """One place where a reading list cites a paper.

    `section` is the heading path joined with " > " (headings cleaned of emoji and markup).
    For arXiv mentions `arxiv_id` is the id without version and `version` the `vN` suffix if any.
    For text citations `title` holds the title extracted from the prose; `reference` always
    holds the citation as written (the link text or the bullet text, markup stripped).
    """

    list_name: str
    section: str
    link_text: str
    line: int
    kind: str
    url: str | None = None
    arxiv_id: str | None = None
    version: int | None = None
    doi: str | None = None
    title: str | None = None
    year: int | None = None
    reference: str = ""
    resources: list[Resource] = field(default_factory=list)


@dataclass
class ParsedList:
    """Everything found in one reading list."""

    name: str
    mentions: list[Mention]
    resources: list[Resource]  # section-level resources not attached to a paper mention
    sections: list[str]


@dataclass
class PaperRecord:
    """Metadata of one arXiv paper, from the arXiv API or from the offline snapshot."""

    arxiv_id: str  # without version, e.g. "2006.11477" or "cs/0112017"
    title: str
    authors: list[str]
    published: date | None = None
    updated: date | None = None
    version: int | None = None
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    abstract: str | None = None
    doi: str | None = None
    journal_ref: str | None = None
    comment: str | None = None
    source: str = "arxiv"  # "arxiv" (live API) or "snapshot"

    @property
    def year(self) -> int | None:
        return self.published.year if self.published else None


@dataclass(frozen=True)
class Resolution:
    """How a mention resolved: to `paper_id` by `method` ("link", "alias", "title",
    "title-search", a recorded method, …), or to nothing ("unresolved", `detail` says why)."""

    paper_id: str | None
    method: str
    score: float | None = None
    detail: str | None = None

    @property
    def is_resolved(self) -> bool:
        return self.paper_id is not None


def unresolved(reason: str) -> Resolution:
    return Resolution(None, "unresolved", None, reason)


@dataclass
class ResolvedList:
    """One reading list ready to store: each mention with its resolution, each resource with
    the paper it belongs to (None for section-level resources)."""

    name: str
    location: str
    content_hash: str | None
    mentions: list[tuple[Mention, Resolution]]
    resources: list[tuple[Resource, str | None]]


@dataclass(frozen=True)
class TitleMatch:
    """A text citation resolved to arXiv by title search; `score` in [0, 1]."""

    record: PaperRecord
    score: float


@dataclass(frozen=True)
class Reference:
    """A paper cited by a catalogue paper, as the citation service reports it."""

    title: str | None
    year: int | None = None
    arxiv_id: str | None = None
    doi: str | None = None
    s2_id: str | None = None


@dataclass
class CitationRecord:
    """References and citation count of one catalogue paper."""

    arxiv_id: str
    references: list[Reference]
    citation_count: int | None = None
    reference_count: int | None = None


@dataclass(frozen=True)
class StoredName:
    """A name a paper's method goes by, as the catalogue keeps it."""

    paper_id: str
    text: str
    source: str  # "alias" | "title" | "link text" | "introduced"
    confidence: float = 1.0


@dataclass(frozen=True)
class Relation:
    """`source_id` builds on, compares with or mentions `target_id`: the name it uses, the
    sentence (or our note) that says so, a confidence, and whether the paper's own text states
    it ("text") or our curation does ("curation")."""

    source_id: str
    target_id: str
    kind: str
    name: str
    evidence: str
    confidence: float
    origin: str


def submission_date(published: date | None, source: str) -> date | str | None:
    """When a paper was first submitted, as precisely as known: the date, or "YYYY-MM" for the
    offline snapshot's facts, which know the month only (their day is a placeholder)."""
    if published is None:
        return None
    return f"{published:%Y-%m}" if source == "snapshot" else published


# --- read views of the catalogue (built by `catalogue`, read by everything after it) ---


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
    compares_with: list[str] = field(default_factory=list)
    topic: str | None = None
    source: str = "snapshot"
    data_origins: list[str] = field(default_factory=list)  # snapshot, arxiv, import, harvest
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
    def submitted(self) -> date | str | None:
        return submission_date(self.published, self.source)

    @property
    def listed(self) -> bool:
        """Whether a reading list mentions the paper."""
        return bool(self.mentions)

    @property
    def origins(self) -> list[str]:
        """Where the paper came from: "list" when a reading list mentions it, then where its
        metadata came from."""
        return (["list"] if self.listed else []) + self.data_origins

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
            "origins": self.origins,
            "listed": self.listed,
        }
