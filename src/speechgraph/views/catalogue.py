"""Plain data for the UI's pages: safe text, a paper's links and relations, rows for result
tables and the catalogue's counters. No Streamlit here; `ui/` lays it out. Topics, plans and
paths are in `views.graph`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import networkx as nx

from speechgraph.catalogue.queries import citations_of, listings, load_papers
from speechgraph.catalogue.store import Store
from speechgraph.graph.edges import BUILDS_ON
from speechgraph.records import PaperView
from speechgraph.search.hybrid import MAX_K, Filters, Hit, Searcher

ABSTRACT_LABEL = "Abstract (arXiv)"
NOTE_LABEL = "Note (written by speechgraph, not an abstract)"
NO_SUMMARY_LABEL = "No abstract or note yet"

# Every ASCII character Markdown, Streamlit's extensions (":red[...]", ":emoji:", "$latex$")
# or raw HTML give a meaning to. CommonMark lets any ASCII punctuation be backslash-escaped.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=$:&^])")
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


# --- text ----------------------------------------------------------------------------------


def escape_markdown(text: str | None) -> str:
    """`text` for a Markdown element so that it shows literally: no emphasis, links, HTML,
    headings, lists, LaTeX or Streamlit colour/emoji directives. Whitespace runs collapse."""
    if not text:
        return ""
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL fit for a Markdown link target (spaces, brackets and quotes
    percent-encoded), or None for anything else (javascript:, data:, relative paths)."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(text, safe=_URL_SAFE).replace("(", "%28").replace(")", "%29")


def markdown_link(text: str, url: str | None) -> str:
    """A Markdown link showing `text` literally; just the text when the URL is not http(s)."""
    target = safe_url(url)
    shown = escape_markdown(text) or escape_markdown(url)
    return f"[{shown}]({target})" if target else shown


# --- one paper -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    kind: str


def paper_links(paper: PaperView) -> list[Link]:
    """arXiv abstract page, PDF, DOI, then the code/blog/demo links the reading lists give."""
    links = []
    if paper.abs_url:
        links.append(Link(f"arXiv {paper.id}", paper.abs_url, "arxiv"))
    if paper.pdf_url:
        links.append(Link("PDF", paper.pdf_url, "pdf"))
    if paper.doi:
        links.append(Link(f"DOI {paper.doi}", f"https://doi.org/{paper.doi}", "doi"))
    for resource in paper.resources:
        label = resource.text.strip() or resource.kind
        links.append(Link(f"{label} ({resource.kind}, from {resource.list})", resource.url, "list"))
    seen: set[str] = set()
    unique = []
    for link in links:
        if safe_url(link.url) and link.url not in seen:
            seen.add(link.url)
            unique.append(link)
    return unique


def paper_summary(paper: PaperView) -> tuple[str, str]:
    """(label, text): the arXiv abstract, else our note, each labelled as what it is."""
    if paper.abstract:
        return ABSTRACT_LABEL, paper.abstract
    if paper.note:
        return NOTE_LABEL, paper.note
    return NO_SUMMARY_LABEL, ""


def paper_facts(paper: PaperView) -> list[tuple[str, str]]:
    """(label, value) pairs for the facts panel; values are plain text."""
    version = f" (v{paper.version})" if paper.version else ""
    facts = [
        ("arXiv id" if paper.is_arxiv else "id", f"{paper.id}{version}"),
        ("Authors", ", ".join(paper.authors) or "unknown"),
        ("Year", str(paper.year or "unknown")),
    ]
    if paper.published:
        facts.append(("Published", paper.published.isoformat()))
    if paper.categories:
        facts.append(("Categories", ", ".join(paper.categories)))
    if paper.journal_ref:
        facts.append(("Journal", paper.journal_ref))
    if paper.aliases:
        facts.append(("Known as", ", ".join(paper.aliases)))
    if paper.topic:
        facts.append(("Topic", paper.topic))
    if paper.citation_count is not None:
        facts.append(("Cited by (Semantic Scholar)", str(paper.citation_count)))
    source = {
        "arxiv": "live arXiv metadata",
        "snapshot": "the offline snapshot shipped with speechgraph",
    }.get(paper.source, paper.source)
    facts.append(("Facts from", source))
    return facts


def mention_rows(paper: PaperView) -> list[dict[str, Any]]:
    return [
        {
            "list": mention.list,
            "section": mention.section,
            "line": mention.line,
            "link text": mention.link_text,
            "kind": mention.kind,
            "url": mention.url or "",
            "resolved by": mention.resolution,
        }
        for mention in paper.mentions
    ]


@dataclass(frozen=True)
class Related:
    id: str
    title: str
    year: int | None
    evidence: str
    in_catalogue: bool = True


@dataclass
class Relations:
    cites: list[Related] = field(default_factory=list)
    cited_by: list[Related] = field(default_factory=list)
    builds_on: list[Related] = field(default_factory=list)
    built_on_by: list[Related] = field(default_factory=list)


def paper_relations(store: Store, graph: nx.MultiDiGraph, paper_id: str) -> Relations:
    """Citations both ways (stubs outside the catalogue included) and named-method links
    both ways (from the knowledge graph), newest first."""
    cited, citing = citations_of(store, paper_id)
    papers = {paper.id: paper for paper in load_papers(store, {*cited, *citing})}
    relations = Relations(
        cites=_related(papers, cited, "cited in its references"),
        cited_by=_related(papers, citing, "cites it in its references"),
    )
    if paper_id in graph:
        for _, earlier, data in graph.out_edges(paper_id, data=True):
            if data["kind"] == BUILDS_ON:
                relations.builds_on.append(_graph_related(graph, earlier, data["evidence"]))
        for later, _, data in graph.in_edges(paper_id, data=True):
            if data["kind"] == BUILDS_ON:
                relations.built_on_by.append(_graph_related(graph, later, data["evidence"]))
    for group in vars(relations).values():
        group.sort(key=lambda item: (-(item.year or 0), item.id))
    return relations


def _related(papers: Mapping[str, PaperView], ids: Iterable[str], evidence: str) -> list[Related]:
    found = []
    for paper_id in ids:
        paper = papers.get(paper_id)
        title = paper.title if paper else "(unknown paper)"
        stub = paper is None or paper.is_stub
        found.append(
            Related(paper_id, title, paper.year if paper else None, evidence, in_catalogue=not stub)
        )
    return found


def _graph_related(graph: nx.MultiDiGraph, node: str, evidence: str) -> Related:
    data = graph.nodes[node]
    return Related(node, data["title"], data["year"], evidence)


# --- search --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchRow:
    id: str
    title: str
    authors: str
    year: int | None
    listed: list[str]
    score: float
    why: str


def describe_why(why: Mapping[str, Any]) -> str:
    """One line saying why a hit matched: the keywords it contains and how close in meaning."""
    parts = []
    if why.get("matched_terms"):
        parts.append("keywords: " + ", ".join(why["matched_terms"]))
    if why.get("lexical_rank"):
        parts.append(f"keyword rank {why['lexical_rank']} (BM25 {why.get('bm25') or 0:.2f})")
    if why.get("dense_similarity") is not None:
        rank = f", rank {why['dense_rank']}" if why.get("dense_rank") else ""
        parts.append(f"meaning similarity {why['dense_similarity']:.2f}{rank}")
    source = why.get("summary_source")
    if source in ("abstract", "note"):
        parts.append(f"matched on title and {'arXiv abstract' if source == 'abstract' else 'note'}")
    return "; ".join(parts) or "similar in meaning"


def search_rows(
    searcher: Searcher,
    store: Store,
    query: str,
    *,
    k: int = 10,
    filters: Filters | None = None,
    within: Collection[str] | None = None,
) -> list[SearchRow]:
    """The rows of `search_results`, without its notes."""
    return search_results(searcher, store, query, k=k, filters=filters, within=within)[0]


def search_results(
    searcher: Searcher,
    store: Store,
    query: str,
    *,
    k: int = 10,
    filters: Filters | None = None,
    within: Collection[str] | None = None,
) -> tuple[list[SearchRow], list[str]]:
    """The best `k` hits for `query`, restricted to `within` (e.g. a topic's members) if given,
    and the search's notes (an index behind the catalogue says so).

    `within` filters the best MAX_K hits (search has no id filter yet), so a member ranked
    below MAX_K is missed; the search page says so next to the topic filter.

    Raises SearchInputError (a SpeechgraphError) for an empty query or an unknown filter value.
    """
    if within is None:
        result = searcher.search(query, k, filters=filters)
        hits = result.results
    else:
        wanted = set(within)
        result = searcher.search(query, MAX_K, filters=filters)
        hits = [hit for hit in result.results if hit.id in wanted][:k]
    return hit_rows(store, hits), list(result.notes)


def hit_rows(store: Store, hits: Sequence[Hit]) -> list[SearchRow]:
    places = listings(store, [hit.id for hit in hits])
    return [
        SearchRow(
            id=hit.id,
            title=hit.title,
            authors=_authors(hit.authors),
            year=hit.year,
            listed=places.get(hit.id, []),
            score=hit.score,
            why=describe_why(hit.why),
        )
        for hit in hits
    ]


def _authors(names: Sequence[str], most: int = 4) -> str:
    if len(names) <= most:
        return ", ".join(names) or "authors not known offline"
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


# --- catalogue ---


def stats_rows(stats: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(label, count) for the catalogue page's counters."""
    labels = {
        "papers": "Papers",
        "reading_lists": "Reading lists",
        "mentions": "Mentions",
        "unresolved_mentions": "Unresolved mentions",
        "with_abstract": "With an arXiv abstract",
        "citations": "Citation links",
        "citation_stubs": "Cited papers outside",
    }
    return [(label, int(stats.get(key) or 0)) for key, label in labels.items()]


def describe_last_refresh(stats: Mapping[str, Any]) -> str:
    if not stats.get("last_refresh"):
        return "never refreshed"
    counts = stats.get("last_refresh_report") or {}
    shown = ", ".join(f"{value} {name}" for name, value in counts.items())
    mode = stats.get("last_refresh_mode") or "unknown mode"
    return f"{stats['last_refresh']} ({mode}){': ' + shown if shown else ''}"


def status_rows(view: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(label, count) for the field's counters, from `catalogue_status_view`."""
    labels = {
        "papers": "Papers",
        "listed": "Listed",
        "with_abstract": "With an arXiv abstract",
        "with_vector": "With a vector",
        "lists": "Reading lists",
    }
    return [(label, int(view.get(key) or 0)) for key, label in labels.items()]
