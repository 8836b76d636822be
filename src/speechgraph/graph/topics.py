"""Topics from the data: every paper's topic cluster, labelled by its distinctive words.

A small catalogue is clustered by `clusters.cluster_papers` (embeddings and graph compete on
measured quality; `cluster_catalogue`). A large field gets two levels (`cluster_field`):
mini-batch k-means over the paper vectors, then k-means inside each topic, labels from a
sample of member titles (class-based TF-IDF), and 2-D map coordinates (PCA fitted on a sample).
Memory stays at the vectors themselves; nothing is quadratic.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.decomposition import PCA

from speechgraph.catalogue.queries import meta_value, topic_labels, topic_map
from speechgraph.catalogue.store import Store
from speechgraph.graph.build import REINDEX, Embeddings, Knowledge, no_vector_yet
from speechgraph.graph.clusters import (
    SEED,
    Cluster,
    ClusterReport,
    cluster_papers,
    distinctive_terms,
)

log = logging.getLogger(__name__)

MAX_TOPICS = 60
MAX_SUBTOPICS = 12
LABEL_SAMPLE = 400  # member titles per cluster read for its label
MAP_SAMPLE = 50_000  # vectors the map's projection is fitted on
REPORT = "topics_report"  # meta key: how the stored topics were made (method, quality, message)


@dataclass
class TopicLabel:
    level: int  # 0 topic, 1 subtopic
    id: int
    parent: int | None
    label: str
    terms: list[str]
    size: int


@dataclass
class FieldTopics:
    """Each paper's topic and subtopic (row-aligned with `ids`), labels, map coordinates."""

    ids: list[str]
    topic: np.ndarray
    subtopic: np.ndarray
    coordinates: np.ndarray
    labels: list[TopicLabel] = field(default_factory=list)


def topic_count(size: int, cap: int) -> int:
    """About √(n/2) clusters, at least 2 and at most `cap`."""
    return max(2, min(cap, round(math.sqrt(size / 2))))


def cluster_field(
    ids: Sequence[str],
    vectors: np.ndarray,
    titles: Callable[[Sequence[str]], Mapping[str, str]],
    *,
    seed: int = SEED,
) -> FieldTopics:
    """Two levels of topics for `ids` (rows of `vectors`); `titles(ids)` gives the titles
    labels are read from (asked for a sample of each cluster only)."""
    unit = _unit(vectors)
    coarse = MiniBatchKMeans(
        n_clusters=topic_count(len(ids), MAX_TOPICS),
        random_state=seed,
        batch_size=4096,
        n_init=3,
    ).fit_predict(unit)
    fine = np.full(len(ids), -1, dtype=np.int64)
    for topic in np.unique(coarse):
        rows = np.flatnonzero(coarse == topic)
        # Subtopic ids are unique across topics: topic * MAX_SUBTOPICS + the local cluster.
        first = int(topic) * MAX_SUBTOPICS
        if len(rows) >= 20:
            count = topic_count(len(rows), MAX_SUBTOPICS)
            model = KMeans(n_clusters=count, random_state=seed, n_init=1, max_iter=50)
            fine[rows] = first + model.fit_predict(unit[rows])
        else:
            fine[rows] = first
    topics = FieldTopics(list(ids), coarse.astype(np.int64), fine, _map(unit, seed))
    topics.labels = _labels(topics, titles, seed)
    return topics


def _unit(vectors: np.ndarray) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def _map(unit: np.ndarray, seed: int) -> np.ndarray:
    """2-D positions in [-1, 1]: PCA fitted on a sample, applied to all."""
    if len(unit) < 2:
        return np.zeros((len(unit), 2), dtype=np.float32)
    sample = np.random.default_rng(seed).choice(len(unit), min(len(unit), MAP_SAMPLE), False)
    projection = PCA(n_components=2, random_state=seed).fit(unit[sample])
    points = np.vstack(
        [projection.transform(unit[start : start + 65536]) for start in range(0, len(unit), 65536)]
    )
    scale = float(np.abs(points).max()) or 1.0
    return (points / scale).astype(np.float32)


def _labels(
    topics: FieldTopics, titles: Callable[[Sequence[str]], Mapping[str, str]], seed: int
) -> list[TopicLabel]:
    rng = np.random.default_rng(seed)
    labels = _label_level(topics, topics.topic, None, titles, rng)
    for topic in np.unique(topics.topic):
        inside = topics.topic == topic
        labels += _label_level(
            topics, np.where(inside, topics.subtopic, -1), int(topic), titles, rng
        )
    return labels


def _label_level(
    topics: FieldTopics,
    assignment: np.ndarray,
    parent: int | None,
    titles: Callable[[Sequence[str]], Mapping[str, str]],
    rng: np.random.Generator,
) -> list[TopicLabel]:
    """Labels of the clusters in `assignment` (rows at -1 are outside), each read from a
    sample of its member titles against the other clusters of the same level."""
    clusters = [int(value) for value in np.unique(assignment) if value >= 0]
    samples = []
    for cluster in clusters:
        rows = np.flatnonzero(assignment == cluster)
        chosen = rng.choice(rows, min(len(rows), LABEL_SAMPLE), replace=False)
        samples.append([topics.ids[row] for row in chosen])
    found = titles([paper_id for sample in samples for paper_id in sample])
    documents = [" ".join(found.get(paper_id, "") for paper_id in sample) for sample in samples]
    terms = distinctive_terms(documents)
    level = 0 if parent is None else 1
    return [
        TopicLabel(
            level,
            cluster,
            parent,
            ", ".join(terms[position][:3]) or f"topic {cluster}",
            terms[position],
            int((assignment == cluster).sum()),
        )
        for position, cluster in enumerate(clusters)
    ]


# --- a small catalogue -----------------------------------------------------------------


def cluster_catalogue(knowledge: Knowledge, embeddings: Embeddings | None) -> ClusterReport:
    """Topic clusters of the catalogue, over the papers that have vectors when there are any;
    papers without a vector yet then join clusters by their graph links (the message says so).
    """
    papers = knowledge.papers
    if embeddings is not None:
        by_id = {paper.id: paper for paper in papers}
        papers = [by_id[paper_id] for paper_id in embeddings.ids if paper_id in by_id]
    report = cluster_papers(
        [paper.id for paper in papers],
        [f"{paper.title}. {paper.note or paper.abstract or ''}" for paper in papers],
        embeddings.vectors if embeddings is not None else None,
        knowledge.graph,
        sections={
            p.id: f"{p.mentions[0].list} > {p.mentions[0].section}" for p in papers if p.mentions
        },
        topics={paper.id: paper.topic for paper in papers if paper.topic},
    )
    clustered = {paper.id for paper in papers}
    without = [paper.id for paper in knowledge.papers if paper.id not in clustered]
    return _join_by_graph(report, without, knowledge.graph) if without else report


def _join_by_graph(
    report: ClusterReport, ids: Sequence[str], graph: nx.MultiDiGraph
) -> ClusterReport:
    """Add papers that were not clustered (no vector yet) to the cluster they have the
    strongest graph links to (summed confidence, any edge kind), placed on the map at the mean
    of those linked members; papers linked to no member stay out. The report's message says so.
    """
    cluster_of = {member: cluster for cluster in report.clusters for member in cluster.members}
    joined, left_out = 0, 0
    for paper_id in ids:
        if paper_id in cluster_of or paper_id not in graph:
            continue
        strength: dict[int, float] = {}
        linked: dict[int, list[str]] = {}
        for other, weight in _links(graph, paper_id):
            cluster = cluster_of.get(other)
            if cluster is not None:
                strength[cluster.id] = strength.get(cluster.id, 0.0) + weight
                linked.setdefault(cluster.id, []).append(other)
        if not strength:
            left_out += 1
            continue
        best = min(strength, key=lambda cluster_id: (-strength[cluster_id], cluster_id))
        next(c for c in report.clusters if c.id == best).members.append(paper_id)
        points = [report.coordinates[m] for m in linked[best] if m in report.coordinates]
        if points:
            report.coordinates[paper_id] = (
                round(sum(x for x, _ in points) / len(points), 4),
                round(sum(y for _, y in points) / len(points), 4),
            )
        joined += 1
    if joined or left_out:
        told = (
            f"{no_vector_yet(joined + left_out)} (run {REINDEX}): "
            f"{joined} joined the cluster they have most graph links to"
            + (f", {left_out} with no links are in no cluster" if left_out else "")
        )
        report.message = f"{report.message}; {told}" if report.message else told
    return report


def _links(graph: nx.MultiDiGraph, paper_id: str) -> list[tuple[str, float]]:
    out_links = [
        (other, data["confidence"]) for _, other, data in graph.out_edges(paper_id, data=True)
    ]
    in_links = [
        (other, data["confidence"]) for other, _, data in graph.in_edges(paper_id, data=True)
    ]
    return out_links + in_links


# --- stored topics -----------------------------------------------------------------------


def stored_report(store: Store) -> ClusterReport | None:
    """The topics `update.topics` stored (clusters, members, map coordinates, how they were
    made) as a report, read without clustering anything; None when none are stored."""
    labels = [topic for topic in topic_labels(store) if topic.level == 0]
    if not labels:
        return None
    members: dict[int, list[str]] = {topic.id: [] for topic in labels}
    coordinates: dict[str, tuple[float, float]] = {}
    for paper_id, topic, _, x, y in topic_map(store):
        members.setdefault(topic, []).append(paper_id)
        coordinates[paper_id] = (x, y)
    made = json.loads(meta_value(store, REPORT) or "{}")
    quality = made.get("quality", {})
    return ClusterReport(
        [Cluster(topic.id, topic.label, topic.terms, members[topic.id]) for topic in labels],
        coordinates,
        made.get("method", "stored"),
        quality.get("silhouette"),
        quality.get("modularity"),
        quality.get("nmi_sections"),
        quality.get("nmi_topics"),
        message=made.get("message"),
    )


def report_summary(report: ClusterReport) -> str:
    """What `stored_report` reads back besides the clusters: method, quality, message."""
    document = report.to_json()
    return json.dumps({key: document[key] for key in ("method", "quality", "message")})
