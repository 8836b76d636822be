"""Plain data for the UI's topic and reading-path pages: topic clusters and their map, plan
and path rows, and the node/edge lists for drawing plans and paths.

`views.catalogue` holds the text, paper and search helpers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from speechgraph.graph.clusters import ClusterReport
from speechgraph.graph.edges import short_name
from speechgraph.graph.missing import MissingReport
from speechgraph.graph.plans import Evidence, PathResult, Plan, because
from speechgraph.knowledge.names import title_name

# --- topics --------------------------------------------------------------------------------


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
            "relation": step.relation.replace("_", " "),
            "confidence": round(step.confidence, 2),
            "because": because(step.evidence),
        }
        for number, step in enumerate(plan.steps, start=1)
    ]


def missing_rows(report: MissingReport) -> list[dict[str, Any]]:
    """One row per suggestion: rank, id, title, year, the section it would join, score, and
    its strongest evidence."""
    return [
        {
            "rank": number,
            "id": suggestion.id,
            "title": suggestion.title,
            "year": suggestion.year,
            "section": suggestion.section,
            "score": round(suggestion.score, 3),
            "evidence": " / ".join(suggestion.evidence[:2]),
        }
        for number, suggestion in enumerate(report.suggestions, start=1)
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
