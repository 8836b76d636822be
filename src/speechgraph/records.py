"""Plain records passed between the parsers, the clients and the store.

Nothing here touches the database or the network; every other module may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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
