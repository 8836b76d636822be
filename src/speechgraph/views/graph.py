"""Plain data for the UI's topic and reading-path pages: topic clusters and their map, plan
and path rows, and the node/edge lists for drawing plans and paths.

`views.catalogue` holds the text, paper and search helpers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from speechgraph.graph.build import REINDEX, Embeddings, Knowledge, no_vector_yet
from speechgraph.graph.clusters import ClusterReport, cluster_papers
from speechgraph.graph.edges import short_name
from speechgraph.graph.plans import Evidence, PathResult, Plan, because
from speechgraph.knowledge.names import title_name

# --- topics --------------------------------------------------------------------------------


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


def describe_clustering(report: ClusterReport) -> str:
    quality = report.to_json()["quality"]
    figures = ", ".join(f"{name} {value}" for name, value in quality.items() if value is not None)
    found = f"{len(report.clusters)} clusters found by {report.method}"
    return f"{found}; {figures}" if figures else found


# --- plans and paths -----------------------------------------------------------------------


def plan_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "step": number,
            "id": step.id,
            "title": step.title,
            "year": step.year,
            "confidence": round(step.confidence, 2),
            "because": because(step.evidence),
        }
        for number, step in enumerate(plan.steps, start=1)
    ]


def path_rows(path: PathResult) -> list[dict[str, Any]]:
    return [
        {
            "step": number,
            "id": step.id,
            "title": step.title,
            "year": step.year,
            "link": step.via.kind if step.via else "start",
            "evidence": step.via.evidence if step.via else "the paper the path starts from",
            "confidence": round(step.via.confidence, 2) if step.via else 1.0,
        }
        for number, step in enumerate(path.steps, start=1)
    ]


@dataclass
class Drawing:
    """Nodes (id, label, title, year, x, y, role) and edges (source, target, kind, evidence,
    confidence), each edge pointing from the paper to read first to the one that relies on it."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)


def plan_drawing(plan: Plan, graph: nx.MultiDiGraph) -> Drawing:
    """Layered: the target on the right, each prerequisite one column further left per link
    back, a column's papers in reading order top to bottom; edges are the evidence."""
    columns: dict[int, list[str]] = defaultdict(list)
    for step in plan.steps:
        columns[len(step.evidence)].append(step.id)
    columns[0] = [plan.target]
    drawing = Drawing()
    for hops, members in sorted(columns.items()):
        for row, node in enumerate(members):
            data = graph.nodes[node] if node in graph else {}
            drawing.nodes.append(
                {
                    "id": node,
                    "label": _node_label(graph, node, data.get("title"), data.get("year")),
                    "title": data.get("title", node),
                    "year": data.get("year"),
                    "x": float(-hops),
                    "y": (len(members) - 1) / 2 - row,
                    "role": "target" if node == plan.target else "read first",
                }
            )
    seen = set()
    for step in plan.steps:
        for edge in step.evidence:
            key = (edge.source, edge.target, edge.kind)
            if key not in seen:
                seen.add(key)
                drawing.edges.append(_drawn_edge(edge))
    return drawing


def path_drawing(path: PathResult, graph: nx.MultiDiGraph | None = None) -> Drawing:
    """One row, oldest on the left; labels use the papers' aliases when `graph` is given."""
    drawing = Drawing()
    last = len(path.steps) - 1
    for position, step in enumerate(path.steps):
        role = "start" if position == 0 else ("end" if position == last else "via")
        drawing.nodes.append(
            {
                "id": step.id,
                "label": _node_label(graph, step.id, step.title, step.year),
                "title": step.title,
                "year": step.year,
                "x": float(position),
                "y": 0.0,
                "role": role,
            }
        )
        if step.via is not None:
            previous = path.steps[position - 1].id
            drawing.edges.append(
                {
                    "source": previous,
                    "target": step.id,
                    "kind": step.via.kind,
                    "evidence": step.via.evidence,
                    "confidence": step.via.confidence,
                }
            )
    return drawing


def _node_label(
    graph: nx.MultiDiGraph | None, paper_id: str, title: str | None, year: int | None
) -> str:
    """A node's short label: the paper's alias or the name its title starts with, and its year;
    the arXiv id when it has no such name."""
    if graph is not None and paper_id in graph:
        name = short_name(graph, paper_id)
    else:
        name = title_name(title or "") or paper_id
    return f"{name} ({year})" if year else name


def _drawn_edge(edge: Evidence) -> dict[str, Any]:
    # Evidence says "source relies on target"; drawn in reading order: target first.
    return {
        "source": edge.target,
        "target": edge.source,
        "kind": edge.kind,
        "evidence": edge.evidence,
        "confidence": edge.confidence,
    }
