"""Reading plans (prerequisites of a paper) and time-consistent paths between two papers.

Works on the graph `edges.build_graph` returns, with catalogue ids (names are resolved before,
by `knowledge.names`). Both queries are bounded (a fixed number of relaxation rounds, Dijkstra on
a finite graph), so cycles in the citation data cannot make them loop.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx

from speechgraph.errors import PaperNotFound
from speechgraph.graph.edges import (
    BUILDS_ON,
    CITES,
    CO_LISTED,
    COMPARES_WITH,
    MENTIONS,
    SHARES_AUTHOR,
    SIMILAR,
    compare_time,
    time_key,
)

DEFAULT_DEPTH = 3
MAX_DEPTH = 8
DEFAULT_MIN_CONFIDENCE = 0.2
DEFAULT_MAX_STEPS = 25
PREREQUISITE_KINDS = (CITES, BUILDS_ON, COMPARES_WITH, SIMILAR, CO_LISTED)
STRONG_KINDS = (CITES, BUILDS_ON)  # the evidence a chain of prerequisites may continue on
FIRST_ONLY_KINDS = (COMPARES_WITH, SIMILAR, CO_LISTED)  # only as the first link from the target
WEAK_KINDS = (SIMILAR, CO_LISTED)  # ... and only towards the target's own topic
PATH_KINDS = (*PREREQUISITE_KINDS, MENTIONS)  # what a path may move along, forward in time
UNDIRECTED_KINDS = (SIMILAR, CO_LISTED, SHARES_AUTHOR)
# A plan reads what the target builds on (or cites) first, then what it compares with, then
# what is near it by meaning or by the lists' order; each step says which.
READING_GROUPS = {CITES: 0, BUILDS_ON: 0, COMPARES_WITH: 1, SIMILAR: 2, CO_LISTED: 2}


@dataclass(frozen=True)
class Evidence:
    """One edge of the graph as a reason: `source` relies on `target` because of `evidence`."""

    source: str
    target: str
    kind: str
    evidence: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "kind": self.kind,
            "evidence": self.evidence,
            "confidence": self.confidence,
        }


def because(chain: Sequence[Evidence]) -> str:
    """A chain of evidence as one line: "<first reason>; then <next reason>"."""
    return "; then ".join(edge.evidence for edge in chain)


@dataclass
class PlanStep:
    id: str
    title: str
    year: int | None
    confidence: float
    evidence: list[Evidence]  # the chain from the target back to this paper

    @property
    def relation(self) -> str:
        """How the target relates to this chain: builds_on, cites, compares_with, similar…"""
        return self.evidence[0].kind if self.evidence else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "year": self.year,
            "confidence": round(self.confidence, 4),
            "evidence": [edge.to_json() for edge in self.evidence],
            "relation": self.relation,
        }


@dataclass
class Plan:
    """What to read before `target`, in reading order; `message` explains an empty or cut plan."""

    target: str
    title: str
    depth: int
    steps: list[PlanStep] = field(default_factory=list)
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "title": self.title,
            "depth": self.depth,
            "plan": [step.to_json() for step in self.steps],
            "message": self.message,
        }


@dataclass
class PathStep:
    id: str
    title: str
    year: int | None
    via: Evidence | None  # None for the first paper of the path

    def to_json(self) -> dict[str, Any]:
        if self.via is None:
            via = {"kind": "start", "evidence": "the paper the path starts from", "confidence": 1.0}
        else:
            via = {
                "kind": self.via.kind,
                "evidence": self.via.evidence,
                "confidence": self.via.confidence,
            }
        return {"id": self.id, "title": self.title, "year": self.year, "via": via}


@dataclass
class PathResult:
    """A path from `source` to `target`; when `found` is false, `alternative` is the nearest
    thing there is (a path to the closest reachable paper, or the reverse direction)."""

    source: str
    target: str
    found: bool
    steps: list[PathStep] = field(default_factory=list)
    message: str | None = None
    alternative: PathResult | None = None

    @property
    def confidence(self) -> float:
        return math.prod(step.via.confidence for step in self.steps if step.via is not None)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "found": self.found,
            "path": [step.to_json() for step in self.steps],
            "confidence": round(self.confidence, 4) if self.steps else 0.0,
            "message": self.message,
            "alternative": self.alternative.to_json() if self.alternative else None,
        }


def require_node(graph: nx.MultiDiGraph, paper_id: str) -> str:
    """`paper_id` when the graph holds it (resolve names first with `knowledge.names`).

    Raises PaperNotFound naming the id and how to find one."""
    if paper_id not in graph:
        raise PaperNotFound(
            f"{paper_id} is not in the catalogue: run `speechgraph list` to see its papers "
            "or `speechgraph search` to find one"
        )
    return paper_id


def _step_allowed(graph: nx.MultiDiGraph, dependent: str, dependency: str, kind: str) -> bool:
    """Whether `dependency` may be read before `dependent` on this evidence: only when it was
    submitted before (a tie never is); where the data cannot tell, on a citation alone."""
    order = compare_time(graph, dependency, dependent)
    if order is None:
        return kind == CITES
    return order == -1


def _prerequisite_edges(graph: nx.MultiDiGraph, paper_id: str) -> Iterable[Evidence]:
    for _, dependency, data in graph.out_edges(paper_id, data=True):
        kind = data["kind"]
        if kind in PREREQUISITE_KINDS and _step_allowed(graph, paper_id, dependency, kind):
            yield Evidence(paper_id, dependency, kind, data["evidence"], data["confidence"])


def prerequisites(
    graph: nx.MultiDiGraph,
    target_id: str,
    depth: int = DEFAULT_DEPTH,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> Plan:
    """The catalogue papers to read before `target_id`, each dependency before its dependents
    (older first at ties), each with its strongest chain of evidence within `depth` hops.

    Raises PaperNotFound for an id the catalogue does not know.
    """
    target = require_node(graph, target_id)
    title = graph.nodes[target]["title"]
    if depth <= 0:
        return Plan(
            target, title, 0, message="depth 0 asks for no prerequisites: use --depth 1 or more"
        )
    message = None
    if depth > MAX_DEPTH:
        message = f"depth {depth} was reduced to {MAX_DEPTH}, the most a plan looks back"
        depth = MAX_DEPTH
    best = _strongest_chains(graph, target, depth, min_confidence)
    chosen = sorted(best, key=lambda node: (-best[node][0], _time_order(graph, node)))[:max_steps]
    group_of = {node: READING_GROUPS[best[node][1][0].kind] for node in chosen}
    steps = [
        PlanStep(node, graph.nodes[node]["title"], graph.nodes[node]["year"], *best[node])
        for node in _reading_order(graph, chosen, group_of)
    ]
    if not steps:
        message = f"no earlier catalogue paper is linked to {target} within {depth} steps"
    elif len(best) > max_steps:
        message = f"showing the {max_steps} strongest of {len(best)} prerequisites"
    return Plan(target, title, depth, steps, message)


def _strongest_chains(
    graph: nx.MultiDiGraph, target: str, depth: int, min_confidence: float
) -> dict[str, tuple[float, list[Evidence]]]:
    """Best product of confidences per reachable paper using at most `depth` edges (a bounded
    Bellman-Ford: one round per hop, re-expanding only papers whose chain improved). Compares
    with, similarity and list order may only start a chain; cites and builds_on continue it;
    a chain that starts with similarity or list order must end on a paper of the target's topic
    cluster (where both have one): a vocoder is no prerequisite of a speaker-verification paper
    because the two are near in embedding space. Nothing submitted after the target (or with
    it) is a prerequisite."""
    best: dict[str, tuple[float, list[Evidence]]] = {}
    frontier: dict[str, tuple[float, list[Evidence]]] = {target: (1.0, [])}
    for _ in range(depth):
        improved: dict[str, tuple[float, list[Evidence]]] = {}
        for node, (confidence, chain) in frontier.items():
            for edge in _prerequisite_edges(graph, node):
                if chain and edge.kind in FIRST_ONLY_KINDS:
                    continue  # the baseline of a baseline, or a similar paper's, is drift
                candidate = confidence * edge.confidence
                dependency = edge.target
                if dependency == target or candidate < min_confidence:
                    continue
                if compare_time(graph, dependency, target) != -1:
                    continue
                starts_weak = (chain[0] if chain else edge).kind in WEAK_KINDS
                if starts_weak and not _same_topic(graph, dependency, target):
                    continue
                if candidate > best.get(dependency, (0.0, []))[0]:
                    best[dependency] = improved[dependency] = (candidate, [*chain, edge])
        if not improved:
            break
        frontier = improved
    return best


def _same_topic(graph: nx.MultiDiGraph, first: str, second: str) -> bool:
    """True unless both papers have a topic and the topics differ."""
    topics = (graph.nodes[first].get("topic"), graph.nodes[second].get("topic"))
    return None in topics or topics[0] == topics[1]


def _reading_order(
    graph: nx.MultiDiGraph, chosen: list[str], group_of: dict[str, int] | None = None
) -> list[str]:
    """Topological order of the chosen papers on every allowed prerequisite edge among them,
    dependencies first; at ties, the lower reading group (`group_of`: builds on, compares
    with, near) first, then the older; cycles lose their weakest edge."""
    order = nx.DiGraph()
    order.add_nodes_from(chosen)
    members = set(chosen)
    for node in chosen:
        for edge in _prerequisite_edges(graph, node):
            if edge.target in members:
                weight = max(
                    edge.confidence, order.get_edge_data(edge.target, node, {}).get("w", 0)
                )
                order.add_edge(edge.target, node, w=weight)
    while not nx.is_directed_acyclic_graph(order):
        cycle = nx.find_cycle(order)
        weakest = min(cycle, key=lambda pair: order.edges[pair[0], pair[1]]["w"])
        order.remove_edge(weakest[0], weakest[1])
    groups = group_of or {}
    return list(
        nx.lexicographical_topological_sort(
            order, key=lambda node: (groups.get(node, 0), *_time_order(graph, node))
        )
    )


def _time_order(graph: nx.MultiDiGraph, node: str) -> tuple[int, int, str]:
    key = time_key(graph.nodes[node]) or (9999, 99)
    return (key[0], key[1], node)


def _forward_view(graph: nx.MultiDiGraph) -> nx.DiGraph:
    """Edges that move forward in time (earlier -> later), strongest evidence per pair."""
    forward = nx.DiGraph()
    forward.add_nodes_from(graph.nodes)
    for later, earlier, data in graph.edges(data=True):
        kind = data["kind"]
        evidence = Evidence(later, earlier, kind, data["evidence"], data["confidence"])
        if kind in PATH_KINDS and _step_allowed(graph, later, earlier, kind):
            _keep_stronger(forward, earlier, later, evidence)
        elif kind in UNDIRECTED_KINDS:
            order = compare_time(graph, earlier, later)
            if order == -1:
                _keep_stronger(forward, earlier, later, evidence)
            elif order == 1:  # curricular order can run against publication order
                _keep_stronger(forward, later, earlier, evidence)
    return forward


def _keep_stronger(forward: nx.DiGraph, start: str, end: str, evidence: Evidence) -> None:
    current = forward.get_edge_data(start, end)
    if current is None or current["evidence"].confidence < evidence.confidence:
        forward.add_edge(start, end, evidence=evidence, weight=-math.log(evidence.confidence))


def find_path(graph: nx.MultiDiGraph, source_id: str, target_id: str) -> PathResult:
    """The most confident path from an older paper to a newer one, each hop forward in time.

    When there is none, `alternative` holds the path to the reachable paper closest to the
    target, or the path in the other direction. Raises PaperNotFound.
    """
    source = require_node(graph, source_id)
    target = require_node(graph, target_id)
    if source == target:
        return PathResult(
            source,
            target,
            True,
            [_path_step(graph, source, None)],
            message="both ids name the same paper: there is nothing in between",
        )
    forward = _forward_view(graph)
    if compare_time(graph, source, target) == 1:
        return _newer_source(graph, forward, source, target)
    result = _shortest(graph, forward, source, target)
    if result.found:
        return result
    result.alternative = _nearest_alternative(graph, forward, source, target)
    return result


def _newer_source(
    graph: nx.MultiDiGraph, forward: nx.DiGraph, source: str, target: str
) -> PathResult:
    reverse = _shortest(graph, forward, target, source)
    offer = (
        "the path the other way is offered" if reverse.found else "nor is there one the other way"
    )
    message = f"{source} is newer than {target}: no path moves forward in time from it; {offer}"
    return PathResult(
        source, target, False, message=message, alternative=reverse if reverse.found else None
    )


def _shortest(graph: nx.MultiDiGraph, forward: nx.DiGraph, source: str, target: str) -> PathResult:
    try:
        nodes = nx.dijkstra_path(forward, source, target, weight="weight")
    except nx.NetworkXNoPath:
        return PathResult(
            source,
            target,
            False,
            message=f"no time-consistent chain of evidence leads from {source} to {target}",
        )
    steps = [_path_step(graph, source, None)]
    for start, end in pairwise(nodes):
        steps.append(_path_step(graph, end, forward.edges[start, end]["evidence"]))
    return PathResult(source, target, True, steps)


def _nearest_alternative(
    graph: nx.MultiDiGraph, forward: nx.DiGraph, source: str, target: str
) -> PathResult | None:
    """The path to the paper reachable from `source` that is fewest hops (any edge, any
    direction) from `target`; else the reverse path; else None."""
    reachable = nx.single_source_dijkstra_path_length(forward, source, weight="weight")
    hops_to_target = nx.single_source_shortest_path_length(
        graph.to_undirected(as_view=True), target
    )
    candidates = [node for node in reachable if node != source and node in hops_to_target]
    if candidates:
        closest = min(candidates, key=lambda node: (hops_to_target[node], reachable[node], node))
        alternative = _shortest(graph, forward, source, closest)
        alternative.message = (
            f"closest reachable paper to {target}: {closest}, "
            f"{hops_to_target[closest]} link(s) away from it in the graph"
        )
        return alternative
    reverse = _shortest(graph, forward, target, source)
    return reverse if reverse.found else None


def _path_step(graph: nx.MultiDiGraph, node: str, via: Evidence | None) -> PathStep:
    return PathStep(node, graph.nodes[node]["title"], graph.nodes[node]["year"], via)
