"""Keeping the topics (every paper's topic cluster, its label and its place on the map) in step
with the vector index: clustered again when the vectors changed, stored for the plan filter,
the `clusters` command and the topic map.
"""

from __future__ import annotations

import json
from typing import Any

from speechgraph.catalogue.queries import meta_value, paper_count, paper_titles
from speechgraph.catalogue.store import Store
from speechgraph.config import Settings
from speechgraph.errors import IndexOutOfDate
from speechgraph.graph.build import REINDEX, Embeddings, index_neighbours, load_knowledge
from speechgraph.graph.clusters import AGGLOMERATIVE_LIMIT, ClusterReport
from speechgraph.graph.topics import (
    REPORT,
    cluster_catalogue,
    cluster_field,
    report_summary,
    stored_report,
)
from speechgraph.search.encoder import model_fingerprint
from speechgraph.search.index import Manifest, load_index, read_manifest

STAMP = "topics_of"


def sync_topics(settings: Settings, store: Store, *, force: bool = False) -> dict[str, Any]:
    """Cluster the papers that have vectors when the vector index changed since the topics
    were made; counts of what it did."""
    try:
        index = load_index(
            settings.index_dir, fingerprint=model_fingerprint(settings.model, settings.cache_dir)
        )
    except IndexOutOfDate:
        return {"status": "no vectors", "papers": 0, "topics": 0}
    manifest = index.manifest
    stamp = _stamp(manifest)
    if meta_value(store, STAMP) == stamp and not force:
        return {"status": "up-to-date", "papers": manifest.count, "topics": None}
    ids = sorted(manifest.ids)  # the topics of a catalogue, whatever order its index holds
    if len(ids) <= AGGLOMERATIVE_LIMIT:
        assignments, labels, made = _small(settings, store, ids, index)
    else:
        assignments, labels, made = _large(store, ids, index)
    with store.writing() as writer:
        writer.replace_topics(assignments, labels)
        writer.set_meta(REPORT, made)
        writer.set_meta(STAMP, stamp)
    topics = sum(1 for label in labels if label[0] == 0)
    return {"status": "updated", "papers": len(assignments), "topics": topics}


def topics_report(settings: Settings, store: Store) -> ClusterReport | None:
    """The catalogue's topic clusters for `clusters` and the topic map: the stored ones when
    they reflect the current vector index; otherwise a small catalogue is clustered afresh (None:
    the caller clusters), and a large one's stored topics come with a note to run the index."""
    stored = stored_report(store)
    manifest = read_manifest(settings.index_dir)
    current = manifest is not None and meta_value(store, STAMP) == _stamp(manifest)
    if stored is None or current:
        return stored
    if paper_count(store) <= AGGLOMERATIVE_LIMIT:
        return None
    stale = f"the topics are older than the search index: run {REINDEX} to cluster again"
    stored.message = f"{stored.message}; {stale}" if stored.message else stale
    return stored


def _stamp(manifest: Manifest) -> str:
    return f"{manifest.fingerprint}|{manifest.built_at}|{manifest.count}|{manifest.ids[-1:]}"


def _small(settings: Settings, store: Store, ids: list[str], index: Any) -> tuple[list, list, str]:
    """A small catalogue: the clustering `clusters` shows (embeddings and graph compete)."""
    knowledge = load_knowledge(store, index_neighbours(settings, store))
    report = cluster_catalogue(knowledge, Embeddings(ids, index.vectors(ids)))
    assignments = [
        (member, cluster.id, None, *report.coordinates.get(member, (0.0, 0.0)))
        for cluster in report.clusters
        for member in cluster.members
    ]
    labels = [
        (0, cluster.id, None, cluster.label, cluster.terms, len(cluster.members))
        for cluster in report.clusters
    ]
    return assignments, labels, report_summary(report)


def _large(store: Store, ids: list[str], index: Any) -> tuple[list, list, str]:
    """A large field: two levels of clusters over the vectors."""
    field = cluster_field(ids, index.vectors(ids), lambda chosen: paper_titles(store, chosen))
    assignments = [
        (paper_id, int(topic), int(subtopic), float(x), float(y))
        for paper_id, topic, subtopic, (x, y) in zip(
            field.ids, field.topic, field.subtopic, field.coordinates, strict=True
        )
    ]
    labels = [
        (label.level, label.id, label.parent, label.label, label.terms, label.size)
        for label in field.labels
    ]
    subtopics = sum(1 for label in field.labels if label.level == 1)
    made: dict[str, Any] = {
        "method": f"two-level mini-batch k-means ({subtopics} subtopics)",
        "quality": {},
        "message": None,
    }
    return assignments, labels, json.dumps(made)
