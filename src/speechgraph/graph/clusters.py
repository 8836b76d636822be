"""Topic clusters over paper embeddings and/or the knowledge graph, labels and a 2-D map.

Takes plain data (ids, texts, a vector matrix, optionally the graph). Candidates from k-means
and agglomerative clustering (k chosen by silhouette, sampled in big catalogues; agglomerative
only up to a few thousand papers) and Louvain communities (by modularity) compete on measured
quality; labels come from class-based TF-IDF over member titles and notes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.decomposition import PCA
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import normalized_mutual_info_score, silhouette_score

from speechgraph.graph.edges import BUILDS_ON, CITES, SIMILAR
from speechgraph.text import RESEARCH_WORDS, STOP_WORDS

log = logging.getLogger(__name__)

SEED = 42
MAX_CLUSTERS = 12
LABEL_TERMS = 4
TOPIC_EDGE_KINDS = (SIMILAR, BUILDS_ON, CITES)  # co_listed is left out: it is the answer key
LOUVAIN_RESOLUTIONS = (0.8, 1.0, 1.3)
# Silhouette costs n x n distances: above this many papers it is measured on a seeded sample
# of this size (the seed catalogue, far smaller, is measured exactly).
SILHOUETTE_SAMPLE = 3000
# Average-linkage agglomerative clustering holds an n x n distance matrix (200 MB at 5K
# papers, 20 GB at 50K): above this many papers only k-means and Louvain compete.
AGGLOMERATIVE_LIMIT = 3000
# Function words and research boilerplate name no topic.
LABEL_STOP_WORDS = STOP_WORDS | RESEARCH_WORDS


@dataclass
class Cluster:
    id: int
    label: str
    terms: list[str]
    members: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "terms": self.terms,
            "members": self.members,
            "size": len(self.members),
        }


@dataclass(frozen=True)
class Candidate:
    """One clustering tried, with its quality (None where not measurable)."""

    method: str
    assignment: tuple[int, ...]
    silhouette: float | None
    modularity: float | None

    @property
    def score(self) -> float:
        measured = [value for value in (self.silhouette, self.modularity) if value is not None]
        return sum(measured) / len(measured) if measured else -1.0

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "clusters": len(set(self.assignment)),
            "silhouette": _rounded(self.silhouette),
            "modularity": _rounded(self.modularity),
            "score": round(self.score, 4),
        }


@dataclass
class ClusterReport:
    clusters: list[Cluster]
    coordinates: dict[str, tuple[float, float]]
    method: str
    silhouette: float | None
    modularity: float | None
    nmi_sections: float | None = None  # agreement with the reading lists' sections
    nmi_topics: float | None = None  # agreement with the curated topic of each paper
    candidates: list[Candidate] = field(default_factory=list)
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "clusters": [cluster.to_json() for cluster in self.clusters],
            "coordinates": {key: [x, y] for key, (x, y) in self.coordinates.items()},
            "method": self.method,
            "quality": {
                "silhouette": _rounded(self.silhouette),
                "modularity": _rounded(self.modularity),
                "nmi_sections": _rounded(self.nmi_sections),
                "nmi_topics": _rounded(self.nmi_topics),
            },
            "candidates": [candidate.to_json() for candidate in self.candidates],
            "message": self.message,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def cluster_papers(
    ids: Sequence[str],
    texts: Sequence[str],
    vectors: np.ndarray | None = None,
    graph: nx.MultiDiGraph | None = None,
    *,
    sections: Mapping[str, str] | None = None,
    topics: Mapping[str, str] | None = None,
    seed: int = SEED,
) -> ClusterReport:
    """Cluster `ids` (with `texts` for labels) by whichever of the embedding and graph
    candidates scores best: the mean of silhouette (cosine, on `vectors`) and modularity (on
    the similar/builds_on/cites graph), whichever of the two can be measured."""
    if len(ids) != len(texts) or (vectors is not None and len(vectors) != len(ids)):
        raise ValueError("ids, texts and vectors must be aligned")
    unit = _unit_rows(vectors) if vectors is not None and len(ids) else None
    topic_graph = _topic_graph(graph, ids) if graph is not None else None
    if topic_graph is not None and topic_graph.number_of_edges() == 0:
        topic_graph = None
    if len(ids) < 3 or (unit is None and topic_graph is None):
        return _single_cluster(ids, texts, unit, topic_graph, seed)
    candidates = _embedding_candidates(unit, topic_graph, ids, seed) if unit is not None else []
    if topic_graph is not None:
        candidates += _graph_candidates(topic_graph, ids, unit, seed)
    chosen = max(candidates, key=lambda candidate: (candidate.score, -len(candidate.method)))
    log.debug("chose %s from %d candidates", chosen.method, len(candidates))
    clusters = _labelled_clusters(ids, texts, chosen.assignment)
    return ClusterReport(
        clusters=clusters,
        coordinates=_coordinates(ids, unit, topic_graph, seed),
        method=chosen.method,
        silhouette=chosen.silhouette,
        modularity=chosen.modularity,
        nmi_sections=_agreement(ids, chosen.assignment, sections),
        nmi_topics=_agreement(ids, chosen.assignment, topics),
        candidates=sorted(candidates, key=lambda candidate: -candidate.score),
    )


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _topic_graph(graph: nx.MultiDiGraph, ids: Sequence[str]) -> nx.Graph:
    """Undirected, weighted by the strongest topical evidence between each pair."""
    members = set(ids)
    topical = nx.Graph()
    topical.add_nodes_from(ids)
    for first, second, data in graph.edges(data=True):
        if data["kind"] in TOPIC_EDGE_KINDS and first in members and second in members:
            weight = max(
                data["confidence"], topical.get_edge_data(first, second, {}).get("weight", 0)
            )
            topical.add_edge(first, second, weight=weight)
    return topical


def _embedding_candidates(
    unit: np.ndarray, topic_graph: nx.Graph | None, ids: Sequence[str], seed: int
) -> list[Candidate]:
    candidates = []
    for k in range(2, min(MAX_CLUSTERS, len(ids) - 1) + 1):
        tried = [
            (f"kmeans k={k}", KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(unit))
        ]
        if len(ids) <= AGGLOMERATIVE_LIMIT:
            average = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average")
            tried.append((f"agglomerative k={k}", average.fit_predict(unit)))
        for method, labels in tried:
            assignment = _canonical(labels)
            candidates.append(
                Candidate(
                    method,
                    assignment,
                    _silhouette(unit, assignment, seed),
                    _modularity(topic_graph, ids, assignment),
                )
            )
    return candidates


def _graph_candidates(
    topic_graph: nx.Graph, ids: Sequence[str], unit: np.ndarray | None, seed: int
) -> list[Candidate]:
    candidates = []
    for resolution in LOUVAIN_RESOLUTIONS:
        communities = nx.community.louvain_communities(
            topic_graph, weight="weight", resolution=resolution, seed=seed
        )
        assignment = _attach_isolated(_from_communities(communities, ids), ids, topic_graph, unit)
        candidates.append(
            Candidate(
                f"louvain resolution={resolution}",
                assignment,
                _silhouette(unit, assignment, seed) if unit is not None else None,
                _modularity(topic_graph, ids, assignment),
            )
        )
    return candidates


def _from_communities(communities: Sequence[set[str]], ids: Sequence[str]) -> tuple[int, ...]:
    community_of = {node: index for index, members in enumerate(communities) for node in members}
    return _canonical([community_of[paper_id] for paper_id in ids])


def _attach_isolated(
    assignment: tuple[int, ...], ids: Sequence[str], topic_graph: nx.Graph, unit: np.ndarray | None
) -> tuple[int, ...]:
    """Papers with no topical edge form singleton communities; join them to the cluster whose
    centroid is nearest, or to one shared "unlinked" cluster when there are no vectors."""
    isolated = [row for row, paper_id in enumerate(ids) if topic_graph.degree(paper_id) == 0]
    if not isolated or len(isolated) == len(ids):
        return assignment
    labels = list(assignment)
    isolated_rows = set(isolated)
    linked = sorted({labels[row] for row in range(len(ids)) if row not in isolated_rows})
    if unit is None:
        for row in isolated:
            labels[row] = -1
        return _canonical(labels)
    centroids = {
        label: unit[[row for row in range(len(ids)) if labels[row] == label]].mean(axis=0)
        for label in linked
    }
    for row in isolated:
        labels[row] = max(linked, key=lambda label: float(unit[row] @ centroids[label]))
    return _canonical(labels)


def _canonical(labels: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    """Relabel clusters 0, 1, ... in order of first appearance: equal partitions compare equal."""
    mapping: dict[int, int] = {}
    return tuple(mapping.setdefault(int(label), len(mapping)) for label in labels)


def _silhouette(unit: np.ndarray, assignment: Sequence[int], seed: int) -> float | None:
    count = len(set(assignment))
    if count < 2 or count >= len(assignment):
        return None
    if len(assignment) <= SILHOUETTE_SAMPLE:
        return float(silhouette_score(unit, list(assignment), metric="cosine"))
    return float(
        silhouette_score(
            unit,
            list(assignment),
            metric="cosine",
            sample_size=SILHOUETTE_SAMPLE,
            random_state=seed,
        )
    )


def _modularity(
    topic_graph: nx.Graph | None, ids: Sequence[str], assignment: Sequence[int]
) -> float | None:
    if topic_graph is None:
        return None
    groups: dict[int, set[str]] = {}
    for paper_id, label in zip(ids, assignment, strict=True):
        groups.setdefault(label, set()).add(paper_id)
    return float(nx.community.modularity(topic_graph, groups.values(), weight="weight"))


def _agreement(
    ids: Sequence[str], assignment: Sequence[int], reference: Mapping[str, str] | None
) -> float | None:
    if not reference:
        return None
    pairs = [
        (reference[i], label) for i, label in zip(ids, assignment, strict=True) if i in reference
    ]
    if len(pairs) < 2:
        return None
    truth, predicted = zip(*pairs, strict=True)
    return float(normalized_mutual_info_score(truth, predicted))


def _single_cluster(
    ids: Sequence[str],
    texts: Sequence[str],
    unit: np.ndarray | None,
    topic_graph: nx.Graph | None,
    seed: int,
) -> ClusterReport:
    message = (
        "too few papers to cluster"
        if len(ids) < 3
        else "no embeddings and no topical links yet: run `speechgraph refresh` to build them"
    )
    clusters = _labelled_clusters(ids, texts, tuple(0 for _ in ids)) if ids else []
    return ClusterReport(
        clusters=clusters,
        coordinates=_coordinates(ids, unit, topic_graph, seed),
        method="none",
        silhouette=None,
        modularity=None,
        message=message,
    )


def _labelled_clusters(
    ids: Sequence[str], texts: Sequence[str], assignment: Sequence[int]
) -> list[Cluster]:
    order = sorted(set(assignment), key=lambda label: (-list(assignment).count(label), label))
    documents = [
        " ".join(text for text, label in zip(texts, assignment, strict=True) if label == cluster)
        for cluster in order
    ]
    terms = distinctive_terms(documents)
    clusters = []
    for position, cluster in enumerate(order):
        members = [
            paper_id for paper_id, label in zip(ids, assignment, strict=True) if label == cluster
        ]
        label = ", ".join(terms[position][:3]) or f"cluster {position}"
        clusters.append(Cluster(position, label, terms[position], members))
    return clusters


def distinctive_terms(documents: Sequence[str], count: int = LABEL_TERMS) -> list[list[str]]:
    """Class-based TF-IDF: per document (one per cluster), the terms frequent in it and rare in
    the others; a word already inside a chosen phrase is skipped, so labels do not repeat."""
    if not any(document.strip() for document in documents):
        return [[] for _ in documents]
    vectorizer = CountVectorizer(
        stop_words=sorted(LABEL_STOP_WORDS),
        ngram_range=(1, 2),
        token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z0-9+\-]*[a-zA-Z0-9+]\b",
        lowercase=True,
    )
    try:
        counts = vectorizer.fit_transform(documents).toarray().astype(np.float64)
    except ValueError:  # every word was a stop word
        return [[] for _ in documents]
    vocabulary = vectorizer.get_feature_names_out()
    frequency = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)
    average_words = counts.sum() / len(documents)
    idf = np.log(1.0 + average_words / np.maximum(counts.sum(axis=0), 1.0))
    scores = frequency * idf
    if len(documents) > 1:
        scores[:, (counts > 0).all(axis=0)] = 0.0  # a term of every cluster tells none apart
    return [
        _top_terms(vocabulary, row, counts_row, count)
        for row, counts_row in zip(scores, counts, strict=True)
    ]


def _top_terms(
    vocabulary: np.ndarray, scores: np.ndarray, counts: np.ndarray, count: int
) -> list[str]:
    chosen: list[str] = []
    for index in np.argsort(-scores, kind="stable"):
        term = str(vocabulary[index])
        if counts[index] < 1 or scores[index] <= 0:
            break
        words = set(term.split())
        if any(words <= set(other.split()) or set(other.split()) <= words for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == count:
            break
    return chosen


def _coordinates(
    ids: Sequence[str], unit: np.ndarray | None, topic_graph: nx.Graph | None, seed: int
) -> dict[str, tuple[float, float]]:
    """2-D positions in [-1, 1]: PCA of the embeddings, else a seeded spring layout of the graph."""
    if not ids:
        return {}
    if unit is not None and len(ids) >= 2:
        points = PCA(n_components=2, random_state=seed).fit_transform(unit)
    elif topic_graph is not None:
        layout = nx.spring_layout(topic_graph, seed=seed)
        points = np.array([layout[paper_id] for paper_id in ids])
    else:
        angles = np.linspace(0, 2 * np.pi, len(ids), endpoint=False)
        points = np.column_stack([np.cos(angles), np.sin(angles)])
    scale = np.abs(points).max() or 1.0
    return {
        paper_id: (round(float(x / scale), 4), round(float(y / scale), 4))
        for paper_id, (x, y) in zip(ids, points, strict=True)
    }
