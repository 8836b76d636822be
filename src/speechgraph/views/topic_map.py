"""Plain data for the topic map at any size: every mapped paper as arrays (`MapLayout`, built
once per clustering), a bounded, seeded sample of each topic with every listed paper and each
topic's centre (`TopicMap`), and a bounded list of each topic's members. No Streamlit here.

A browser draws a few thousand WebGL points at once without strain; 740K points would not
travel, so the map shows a sample whose size does not grow with the field.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from speechgraph.catalogue.queries import PaperCard
from speechgraph.graph.clusters import ClusterReport
from speechgraph.views.pickers import FIELD, LISTS

MAP_POINTS = 4000  # sampled papers on the map, listed papers not counted
MIN_PER_TOPIC = 40  # so that a small topic still shows its shape
MEMBERS_SHOWN = 100  # members listed per topic under the map
SEED = 7
UNCLUSTERED = "unclustered"


@dataclass
class MapLayout:
    """Every mapped paper: `ids[i]` sits at `xy[i]` in topic `topics[i]` (an index into
    `labels`; -1 for none), and `listed[i]` says whether a reading list mentions it."""

    ids: list[str]
    xy: np.ndarray
    topics: np.ndarray
    labels: list[str]
    listed: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def map_layout(report: ClusterReport, listed: Collection[str]) -> MapLayout:
    """The report's coordinates and clusters as arrays (one pass over the mapped papers)."""
    topic_of = {
        member: number
        for number, cluster in enumerate(report.clusters)
        for member in cluster.members
    }
    ids = list(report.coordinates)
    wanted = set(listed)
    return MapLayout(
        ids=ids,
        xy=np.array([report.coordinates[paper_id] for paper_id in ids], dtype=np.float32).reshape(
            -1, 2
        ),
        topics=np.array([topic_of.get(paper_id, -1) for paper_id in ids], dtype=np.int32),
        labels=[f"{cluster.id}: {cluster.label}" for cluster in report.clusters],
        listed=np.array([paper_id in wanted for paper_id in ids], dtype=bool),
    )


@dataclass
class Centre:
    label: str
    x: float
    y: float
    size: int  # the topic's papers in scope, all of them, not only those drawn


@dataclass
class TopicMap:
    """The points to draw: `ids`, `x`, `y`, `topic` labels and `listed` flags side by side
    (titles and years filled in by `with_cards`), the topics' centres, and how many papers the
    scope holds in all."""

    ids: list[str] = field(default_factory=list)
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    topic: list[str] = field(default_factory=list)
    listed: list[bool] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    years: list[int | None] = field(default_factory=list)
    centres: list[Centre] = field(default_factory=list)
    total: int = 0

    @property
    def shown(self) -> int:
        return len(self.ids)

    def with_cards(self, cards: Mapping[str, PaperCard]) -> TopicMap:
        """Titles and years from `cards` (the id stands in for a paper without one)."""
        self.titles = [cards[i].title if i in cards else i for i in self.ids]
        self.years = [cards[i].year if i in cards else None for i in self.ids]
        return self


def sample_map(
    layout: MapLayout,
    *,
    scope: str = FIELD,
    budget: int = MAP_POINTS,
    minimum: int = MIN_PER_TOPIC,
    seed: int = SEED,
) -> TopicMap:
    """The map of `scope`: in the field, every listed paper plus a seeded sample of the others,
    `budget` at most, each topic getting `minimum` (or all it has) and the rest in proportion to
    its size; in the lists, every listed paper. Centres are each topic's mean position over all
    its papers in scope."""
    in_scope = layout.listed if scope == LISTS else np.ones(len(layout), dtype=bool)
    numbers = np.unique(layout.topics[in_scope])
    members = [in_scope & (layout.topics == number) for number in numbers]
    others = [np.flatnonzero(mask & ~layout.listed) for mask in members]
    rng = np.random.default_rng(seed)
    chosen = [np.flatnonzero(in_scope & layout.listed)]
    quotas = _quotas([len(pool) for pool in others], budget, minimum)
    for pool, quota in zip(others, quotas, strict=True):
        chosen.append(rng.choice(pool, quota, replace=False))
    picked = np.sort(np.concatenate(chosen))
    centres = [
        Centre(
            layout.labels[number] if number >= 0 else UNCLUSTERED,
            float(layout.xy[mask, 0].mean()),
            float(layout.xy[mask, 1].mean()),
            int(mask.sum()),
        )
        for number, mask in zip(numbers.tolist(), members, strict=True)
    ]
    return TopicMap(
        ids=[layout.ids[index] for index in picked],
        x=layout.xy[picked, 0].tolist(),
        y=layout.xy[picked, 1].tolist(),
        topic=[layout.labels[t] if t >= 0 else UNCLUSTERED for t in layout.topics[picked].tolist()],
        listed=layout.listed[picked].tolist(),
        centres=sorted(centres, key=lambda centre: -centre.size),
        total=int(in_scope.sum()),
    )


def _quotas(sizes: list[int], budget: int, minimum: int) -> list[int]:
    """How many of each pool to draw: `minimum` each (fewer when the pools or the budget are
    small), then the rest of `budget` in proportion to what each pool has left."""
    floor = min(minimum, budget // max(len(sizes), 1))
    base = [min(size, floor) for size in sizes]
    left = [size - taken for size, taken in zip(sizes, base, strict=True)]
    spare, waiting = max(budget - sum(base), 0), sum(left)
    if not waiting:
        return base
    return [
        taken + min(rest, spare * rest // waiting) for taken, rest in zip(base, left, strict=True)
    ]


def describe_map(topic_map: TopicMap, scope: str) -> str:
    """One line saying what the map shows."""
    if scope == LISTS:
        return f"All {topic_map.total} papers the reading lists mention, by topic."
    if topic_map.shown >= topic_map.total:
        return f"All {topic_map.total} papers, by topic; listed papers are marked."
    return (
        f"{topic_map.shown} of {topic_map.total} papers: a seeded sample of each topic in "
        "proportion to its size, every listed paper (marked), and each topic's centre, sized "
        "by its papers."
    )


def topic_members(
    report: ClusterReport,
    listed: Collection[str],
    *,
    scope: str = FIELD,
    limit: int = MEMBERS_SHOWN,
) -> list[tuple[str, int, list[str]]]:
    """(label, papers in scope, ids shown) per topic, largest first: listed members first, then
    the others in the clustering's order, `limit` at most."""
    wanted = set(listed)
    found = []
    for cluster in report.clusters:
        members = [m for m in cluster.members if m in wanted] if scope == LISTS else cluster.members
        if not members:
            continue
        first = [m for m in members if m in wanted][:limit]
        rest = [m for m in members if m not in wanted][: limit - len(first)]
        found.append((f"{cluster.id}: {cluster.label}", len(members), first + rest))
    return sorted(found, key=lambda item: -item[1])


def member_rows(
    ids: list[str], cards: Mapping[str, PaperCard], listed: Collection[str]
) -> list[dict[str, Any]]:
    """Table rows of one topic's shown members: id, title, year, whether listed."""
    wanted = set(listed)
    return [
        {
            "id": paper_id,
            "title": cards[paper_id].title if paper_id in cards else paper_id,
            "year": cards[paper_id].year if paper_id in cards else None,
            "listed": paper_id in wanted,
        }
        for paper_id in ids
    ]


def topic_heading(label: str, size: int, shown: int) -> str:
    """ "3: vocoder gan (1,234 papers)", saying how many are listed below when not all."""
    count = f"{size:,} papers" if size != 1 else "1 paper"
    return f"{label} ({count}{f', {shown} shown' if shown < size else ''})"
