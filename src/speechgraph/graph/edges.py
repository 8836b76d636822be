"""The knowledge graph: papers as nodes, typed edges with evidence and a confidence.

Takes plain data (paper views, citation pairs, similarity triples) and returns a networkx
MultiDiGraph; never opens the database and never touches FAISS. Reading plans and paths over
the graph live in `plans.py`.

Every edge points from the later (dependent) paper to the earlier one it relies on:
`cites` citing -> cited; `builds_on`, `compares_with` and `mentions` the paper whose text (or
our curation) says so -> the paper it names; `similar` later -> earlier; `co_listed` listed later
-> listed earlier in the same section (curricular order); `shares_author` later -> earlier.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from itertools import combinations
from typing import Any

import networkx as nx

from speechgraph.knowledge.names import title_name
from speechgraph.knowledge.relations import submitted_before
from speechgraph.records import PaperView, Relation

log = logging.getLogger(__name__)

CITES = "cites"
BUILDS_ON = "builds_on"
COMPARES_WITH = "compares_with"
MENTIONS = "mentions"
SIMILAR = "similar"
CO_LISTED = "co_listed"
SHARES_AUTHOR = "shares_author"
EDGE_KINDS = (CITES, BUILDS_ON, COMPARES_WITH, MENTIONS, SIMILAR, CO_LISTED, SHARES_AUTHOR)

# Confidence by kind, in the order prerequisite evidence ranks: cites > builds_on (and
# compares_with, from the texts' own confidence) > similar-and-earlier > curricular order >
# shared author.
CITES_CONFIDENCE = 0.9
SIMILAR_SCALE = 0.6  # confidence = 0.6 * cosine, so similarity never outranks a named method
CO_LISTED_CONFIDENCE = 0.25
SHARES_AUTHOR_CONFIDENCE = 0.2
UNKNOWN_AUTHORS = {"?", "", "et al.", "others"}
SIMILAR_NEIGHBOURS = 5  # similar edges per paper: its k nearest in meaning ...
SIMILAR_THRESHOLD = 0.45  # ... that reach this cosine


def time_key(node: dict[str, Any]) -> tuple[int, int] | None:
    """(year, month) of a node, month 0 when only the year is known, None when undated."""
    published = node.get("published")
    if isinstance(published, date):
        return (published.year, published.month)
    year = node.get("year")
    return (int(year), 0) if year else None


def compare_time(graph: nx.MultiDiGraph, first: str, second: str) -> int | None:
    """-1 or 1 as paper `first` was submitted before or after `second`, 0 for a tie (never a
    prerequisite either way), None when the data cannot tell. Full dates decide where both
    are known, and two new-style arXiv ids of the same month are in submission order
    (`knowledge.relations.submitted_before`)."""
    first_when, second_when = _when(graph.nodes[first]), _when(graph.nodes[second])
    before = submitted_before(first, first_when, second, second_when)
    if before:
        return -1
    after = submitted_before(second, second_when, first, first_when)
    if after:
        return 1
    return 0 if before is False and after is False else None


def _when(node: dict[str, Any]) -> date | str | None:
    """The node's submission date, else its publication date, else its year."""
    for key in ("when", "published"):
        if node.get(key):
            return node[key]
    return str(node["year"]) if node.get("year") else None


def build_graph(
    papers: Sequence[PaperView],
    citations: Iterable[tuple[str, str]],
    similar_pairs: Iterable[tuple[str, str, float]] = (),
    relations: Iterable[Relation] = (),
    topics: Mapping[str, int] | None = None,
) -> nx.MultiDiGraph:
    """The graph over `papers`. Citations or pairs naming papers outside `papers`, self-pairs
    and repeats are ignored; cycles in the citation data are kept as they are (queries are
    bounded, so they cannot loop)."""
    graph = nx.MultiDiGraph()
    for paper in papers:
        graph.add_node(paper.id, **_node_attributes(paper, (topics or {}).get(paper.id)))
    _add_citations(graph, citations)
    _add_relations(graph, relations)
    _add_similar(graph, similar_pairs)
    _add_co_listed(graph, papers)
    _add_shared_authors(graph, papers)
    log.debug("graph: %d papers, %d edges", graph.number_of_nodes(), graph.number_of_edges())
    return graph


def _node_attributes(paper: PaperView, topic: int | None) -> dict[str, Any]:
    return {
        "id": paper.id,
        "title": paper.title,
        "year": paper.year,
        "published": paper.published,
        "when": paper.submitted,
        "aliases": list(paper.aliases),
        "topic": topic,
        "sections": [f"{list_name} > {section}" for list_name, section in paper.sections],
        "is_stub": paper.is_stub,
    }


def add_edge(
    graph: nx.MultiDiGraph, later: str, earlier: str, kind: str, evidence: str, confidence: float
) -> None:
    """Add or strengthen the one edge of `kind` between two papers (the stronger evidence stays)."""
    if later == earlier or later not in graph or earlier not in graph:
        return
    existing = graph.get_edge_data(later, earlier, key=kind)
    if existing is not None and existing["confidence"] >= confidence:
        return
    graph.add_edge(
        later, earlier, key=kind, kind=kind, evidence=evidence, confidence=round(confidence, 4)
    )


def _add_citations(graph: nx.MultiDiGraph, citations: Iterable[tuple[str, str]]) -> None:
    for citing, cited in citations:
        add_edge(
            graph, citing, cited, CITES, "cited in Semantic Scholar references", CITES_CONFIDENCE
        )


RELATION_VERBS = {BUILDS_ON: "builds on", COMPARES_WITH: "compares with", MENTIONS: "mentions"}
MENTIONS_SCALE = 0.5  # a bare mention is weaker evidence than the relations the text types


def _add_relations(graph: nx.MultiDiGraph, relations: Iterable[Relation]) -> None:
    """What the papers' texts (or our curation) say they build on, compare with or mention:
    each an edge from the paper to the earlier one, the sentence as evidence."""
    for relation in relations:
        source, target = relation.source_id, relation.target_id
        if source not in graph or target not in graph:
            continue
        if compare_time(graph, target, source) in (0, 1):
            continue  # never on work submitted at the same time or after
        namer = short_name(graph, source)
        verb = RELATION_VERBS[relation.kind]
        evidence = f"{namer} {verb} {relation.name}: {relation.evidence}"
        scale = MENTIONS_SCALE if relation.kind == MENTIONS else 1.0
        add_edge(graph, source, target, relation.kind, evidence, relation.confidence * scale)


def _add_similar(graph: nx.MultiDiGraph, pairs: Iterable[tuple[str, str, float]]) -> None:
    for first, second, cosine in pairs:
        if first not in graph or second not in graph:
            continue
        later, earlier = _later_first(graph, first, second)
        evidence = f"embedding similarity {cosine:.2f}"
        add_edge(
            graph, later, earlier, SIMILAR, evidence, SIMILAR_SCALE * max(0.0, min(1.0, cosine))
        )


def _add_co_listed(graph: nx.MultiDiGraph, papers: Sequence[PaperView]) -> None:
    members: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for paper in papers:
        for mention in paper.mentions:
            seen = members[(mention.list, mention.section)]
            seen[paper.id] = min(seen.get(paper.id, mention.line), mention.line)
    for (list_name, section), lines in members.items():
        ordered = sorted(lines, key=lambda paper_id: lines[paper_id])
        for position, earlier in enumerate(ordered):
            for later in ordered[position + 1 :]:
                first = short_name(graph, earlier)
                evidence = f"both in '{list_name} > {section}', {first} listed first"
                add_edge(graph, later, earlier, CO_LISTED, evidence, CO_LISTED_CONFIDENCE)


def _add_shared_authors(graph: nx.MultiDiGraph, papers: Sequence[PaperView]) -> None:
    by_author: dict[str, list[str]] = defaultdict(list)
    for paper in papers:
        for author in dict.fromkeys(paper.authors):
            if author.strip().lower() not in UNKNOWN_AUTHORS:
                by_author[author].append(paper.id)
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for author, paper_ids in by_author.items():
        for first, second in combinations(sorted(paper_ids), 2):
            shared[(first, second)].append(author)
    for (first, second), authors in shared.items():
        later, earlier = _later_first(graph, first, second)
        shown = ", ".join(authors[:3]) + (
            f" and {len(authors) - 3} more" if len(authors) > 3 else ""
        )
        confidence = min(0.35, SHARES_AUTHOR_CONFIDENCE + 0.05 * (len(authors) - 1))
        add_edge(graph, later, earlier, SHARES_AUTHOR, f"both by {shown}", confidence)


def _later_first(graph: nx.MultiDiGraph, first: str, second: str) -> tuple[str, str]:
    order = compare_time(graph, first, second)
    if order == 1 or (order in (0, None) and first > second):
        return first, second
    return second, first


def short_name(graph: nx.MultiDiGraph, paper_id: str) -> str:
    """How evidence names a paper: its first alias, the name its title starts with, or its id."""
    node = graph.nodes[paper_id]
    aliases = node.get("aliases") or []
    return aliases[0] if aliases else title_name(node["title"]) or paper_id


def similar_pairs(
    ranked: Iterable[tuple[str, Sequence[tuple[str, float]]]],
    *,
    k: int = SIMILAR_NEIGHBOURS,
    threshold: float = SIMILAR_THRESHOLD,
) -> list[tuple[str, str, float]]:
    """Similar pairs from each paper's neighbours (best first, itself left out): its first `k`
    at or above `threshold`, each pair once as (smaller id, larger id, cosine), sorted."""
    pairs: dict[tuple[str, str], float] = {}
    for paper_id, neighbours in ranked:
        for other, score in list(neighbours)[:k]:
            if score >= threshold and other != paper_id:
                first, second = sorted((paper_id, other))
                pairs[(first, second)] = score
    return [(first, second, score) for (first, second), score in sorted(pairs.items())]
