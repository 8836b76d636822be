"""What a reading list is missing: papers of the field that the list's papers build on, compare
with or cite, or that sit among a section's papers in meaning, ranked with their evidence and
the section each would belong to.

Three signals, each from 0 to 1, combined by weight: what the list's texts say about a paper
(relations; how many of its papers build on it, compare with it, mention it), what its papers
cite (where citation data exists), and closeness in meaning (the mean cosine to the paper's
nearest listed papers, from the vector index). No preference for the list's own years: on a
real list it cost the older papers the list lacked more than it gained (bench/missing_bench.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from speechgraph.catalogue.queries import (
    citations_of_papers,
    list_sections,
    load_papers,
    paper_cards,
    relations_of_papers,
)
from speechgraph.catalogue.store import Store
from speechgraph.config import Settings
from speechgraph.errors import IndexOutOfDate
from speechgraph.graph.edges import BUILDS_ON, COMPARES_WITH, MENTIONS
from speechgraph.knowledge.names import title_name
from speechgraph.records import PaperView, Relation
from speechgraph.search.encoder import model_fingerprint
from speechgraph.search.index import load_index

DEFAULT_K = 20
NEIGHBOURS_PER_PAPER = 60  # candidates each listed paper brings by meaning
CLOSEST = 5  # a candidate's closeness: the mean cosine to this many nearest listed papers
RELATION_WEIGHT = {BUILDS_ON: 1.0, COMPARES_WITH: 0.6, MENTIONS: 0.3}
SIGNAL_WEIGHT = {"relations": 0.45, "citations": 0.25, "meaning": 0.6}


@dataclass
class Suggestion:
    id: str
    title: str
    year: int | None
    section: str
    score: float
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "section": self.section,
            "score": round(self.score, 4),
            "evidence": self.evidence,
        }


@dataclass
class ListEvidence:
    """What is known around a list: its papers by section, the relations they state, their
    citations, and each listed paper's nearest papers in meaning (id, cosine)."""

    sections: Mapping[str, str]  # listed paper id -> its section
    relations: Sequence[Relation] = ()
    citations: Sequence[tuple[str, str]] = ()
    neighbours: Mapping[str, Sequence[tuple[str, float]]] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)  # id -> short name for evidence
    # candidate -> its (cosine, listed paper) to the CLOSEST nearest listed papers, best first,
    # measured against every listed paper (else read from `neighbours`)
    closest: Mapping[str, Sequence[tuple[float, str]]] = field(default_factory=dict)


def rank_missing(
    evidence: ListEvidence, k: int = DEFAULT_K
) -> list[tuple[str, float, str, list[str]]]:
    """(candidate id, score, section, evidence lines) of the `k` best candidates outside the
    list, best first."""
    listed = set(evidence.sections)
    related = _relation_signal(evidence, listed)
    cited = _citation_signal(evidence, listed)
    close = _meaning_signal(evidence, listed)
    candidates = set(related) | set(cited) | set(close)
    scored = []
    for candidate in candidates:
        relation_score, relation_lines, relation_section = related.get(candidate, (0.0, [], None))
        citation_score, citation_lines = cited.get(candidate, (0.0, []))
        meaning_score, meaning_lines, meaning_section = close.get(candidate, (0.0, [], None))
        score = (
            SIGNAL_WEIGHT["relations"] * relation_score
            + SIGNAL_WEIGHT["citations"] * citation_score
            + SIGNAL_WEIGHT["meaning"] * meaning_score
        )
        section = relation_section or meaning_section or ""
        scored.append(
            (candidate, score, section, [*relation_lines, *citation_lines, *meaning_lines])
        )
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:k]


def _relation_signal(
    evidence: ListEvidence, listed: set[str]
) -> dict[str, tuple[float, list[str], str | None]]:
    """Papers the list's papers build on, compare with or mention: the share of listed papers
    that do (weighted by kind), saturating at a third of the list."""
    weight: dict[str, float] = defaultdict(float)
    lines: dict[str, list[str]] = defaultdict(list)
    sections: dict[str, list[str]] = defaultdict(list)
    for relation in evidence.relations:
        if relation.source_id not in listed or relation.target_id in listed:
            continue
        weight[relation.target_id] += RELATION_WEIGHT.get(relation.kind, 0.0) * relation.confidence
        verb = relation.kind.replace("_", " ")
        namer = evidence.names.get(relation.source_id, relation.source_id)
        lines[relation.target_id].append(
            f"{namer} {verb} it ({relation.name}): {relation.evidence}"
        )
        sections[relation.target_id].append(evidence.sections[relation.source_id])
    saturation = max(1.0, len(listed) / 3)
    return {
        paper: (
            min(1.0, value / saturation) ** 0.5,
            lines[paper][:3],
            _most_common(sections[paper]),
        )
        for paper, value in weight.items()
    }


def _citation_signal(
    evidence: ListEvidence, listed: set[str]
) -> dict[str, tuple[float, list[str]]]:
    citing: dict[str, set[str]] = defaultdict(set)
    for source, target in evidence.citations:
        if source in listed and target not in listed:
            citing[target].add(source)
    saturation = max(1.0, len(listed) / 4)
    return {
        paper: (min(1.0, len(by) / saturation), [f"cited by {len(by)} of the list's papers"])
        for paper, by in citing.items()
    }


def _meaning_signal(
    evidence: ListEvidence, listed: set[str]
) -> dict[str, tuple[float, list[str], str | None]]:
    """Each candidate's mean cosine to its CLOSEST nearest listed papers (measured against every
    listed paper where the index was at hand), and the section most of those are in."""
    near = evidence.closest or _closest_from_neighbours(evidence, listed)
    signal = {}
    for candidate, pairs in near.items():
        if candidate in listed:
            continue
        top = sorted(pairs, reverse=True)[:CLOSEST]
        padded = [cosine for cosine, _ in top] + [0.0] * (CLOSEST - len(top))
        closest = ", ".join(
            f"{evidence.names.get(paper, paper)} {cosine:.2f}" for cosine, paper in top[:3]
        )
        signal[candidate] = (
            float(np.mean(padded)),
            [f"close in meaning to {closest}"],
            _most_common([evidence.sections[paper] for _, paper in top]),
        )
    return signal


def _closest_from_neighbours(
    evidence: ListEvidence, listed: set[str]
) -> dict[str, list[tuple[float, str]]]:
    """Each candidate's (cosine, listed paper) pairs, from the listed papers' neighbours."""
    near: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for paper, found in evidence.neighbours.items():
        if paper not in listed:
            continue
        for other, cosine in found:
            if other not in listed:
                near[other].append((cosine, paper))
    return near


def _most_common(values: Iterable[str]) -> str | None:
    counts: dict[str, int] = defaultdict(int)
    for value in values:
        counts[value] += 1
    return max(counts, key=lambda value: (counts[value], value)) if counts else None


@dataclass
class MissingReport:
    list_name: str
    section: str | None
    suggestions: list[Suggestion]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "section": self.section,
            "suggestions": [suggestion.to_json() for suggestion in self.suggestions],
            "notes": self.notes,
        }


def find_missing(
    settings: Settings, store: Store, list_name: str, *, section: str | None = None,
    k: int = DEFAULT_K,
) -> MissingReport:  # fmt: skip
    """The papers of the field the list `list_name` (or its sections containing `section`)
    most likely lacks. Raises SearchInputError for an unknown list or section."""
    placed = list_sections(store, list_name, section)
    notes: list[str] = []
    ranked = rank_missing(gather_evidence(settings, store, placed, notes), k)
    cards = paper_cards(store, [paper_id for paper_id, *_ in ranked])
    suggestions = [
        Suggestion(paper_id, cards[paper_id].title, cards[paper_id].year, where, score, lines)
        for paper_id, score, where, lines in ranked
        if paper_id in cards
    ]
    return MissingReport(list_name, section, suggestions, notes)


def gather_evidence(
    settings: Settings, store: Store, placed: Mapping[str, str], notes: list[str]
) -> ListEvidence:
    """What is known around the papers `placed` (id -> section): their relations, citations,
    nearest papers in meaning, and the names its evidence uses."""
    index = _vector_index(settings, notes)
    present = _with_vectors(index, list(placed), notes)
    neighbours = _index_neighbours(index, present)
    evidence = ListEvidence(
        sections=placed,
        relations=relations_of_papers(store, placed),
        citations=citations_of_papers(store, placed),
        neighbours=neighbours,
    )
    candidates = {other for found in neighbours.values() for other, _ in found} - set(placed)
    evidence.closest = _closest_listed(index, present, sorted(candidates))
    evidence.names = {paper.id: _short(paper) for paper in load_papers(store, placed)}
    return evidence


def _vector_index(settings: Settings, notes: list[str]) -> Any | None:
    try:
        return load_index(
            settings.index_dir, fingerprint=model_fingerprint(settings.model, settings.cache_dir)
        )
    except IndexOutOfDate as error:
        notes.append(f"no search index, so nothing is suggested by meaning: {error}")
        return None


def _with_vectors(index: Any | None, ids: list[str], notes: list[str]) -> list[str]:
    if index is None:
        return []
    present = [paper_id for paper_id in ids if paper_id in index]
    if len(present) < len(ids):
        notes.append(
            f"{len(ids) - len(present)} of the list's papers have no vector yet: "
            "run `speechgraph index`"
        )
    return present


def _index_neighbours(index: Any | None, present: list[str]) -> dict[str, list[tuple[str, float]]]:
    """The nearest papers in meaning to each listed paper: where candidates come from."""
    if index is None or not present:
        return {}
    found = index.search_many(index.vectors(present), NEIGHBOURS_PER_PAPER + 1)
    return {
        paper_id: [(other, score) for other, score in hits if other != paper_id]
        for paper_id, hits in zip(present, found, strict=True)
    }


def _closest_listed(
    index: Any | None, present: list[str], candidates: list[str]
) -> dict[str, list[tuple[float, str]]]:
    """Each candidate's cosines to its CLOSEST nearest listed papers, measured against every
    listed paper (not only those it is a neighbour of): one matrix product."""
    if index is None or not present or not candidates:
        return {}
    cosines = index.vectors(candidates) @ index.vectors(present).T
    nearest = np.argsort(-cosines, axis=1)[:, :CLOSEST]
    return {
        candidate: [(float(cosines[row, column]), present[column]) for column in nearest[row]]
        for row, candidate in enumerate(candidates)
    }


def _short(paper: PaperView) -> str:
    return paper.aliases[0] if paper.aliases else title_name(paper.title) or paper.id
