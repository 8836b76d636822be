"""Search quality: nDCG@10 and recall@5 of dense, lexical and hybrid search over judged queries
(bench/eval_queries.json holds ours for the seed catalogue).

Used by bench/eval_search.py and the evaluation tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechgraph.search.hybrid import MODES, Searcher

DEPTH = 100


def ndcg_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of `ranked` against graded judgements (gain 2^g-1)."""
    gains = [relevant.get(paper_id, 0) for paper_id in ranked[:k]]
    dcg = sum((2**gain - 1) / math.log2(rank + 2) for rank, gain in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2**gain - 1) / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 5) -> float:
    """Share of the relevant papers (any grade) in the top k, out of at most k."""
    wanted = {paper_id for paper_id, grade in relevant.items() if grade > 0}
    return len(wanted & set(ranked[:k])) / min(len(wanted), k) if wanted else 0.0


def reciprocal_rank_at(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """1 / rank of the first paper graded highest (what a known-item query looks for) within
    the top k, else 0."""
    best = max(relevant.values(), default=0)
    for rank, paper_id in enumerate(ranked[:k], start=1):
        if best and relevant.get(paper_id) == best:
            return 1.0 / rank
    return 0.0


def load_judgements(path: Path) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8"))["queries"])


def rank_all(searcher: Searcher, queries: Sequence[dict[str, Any]]) -> list[dict[str, list[str]]]:
    """For each judged query, the ranked ids of every mode (top DEPTH)."""
    return [
        {
            mode: [hit.id for hit in searcher.search(item["query"], DEPTH, mode).results]
            for mode in MODES
        }
        for item in queries
    ]


def score_modes(
    queries: Sequence[dict[str, Any]], rankings: Sequence[dict[str, list[str]]]
) -> dict[str, dict[str, float]]:
    """Per mode, over the queries: mean nDCG@10, recall@5, MRR@10 and the share with a
    top-graded paper in the top 10 (the last two are what known-item queries are judged by)."""
    table: dict[str, dict[str, float]] = {}
    for mode in rankings[0] if rankings else []:
        pairs = [
            (item["relevant"], ranked[mode]) for item, ranked in zip(queries, rankings, strict=True)
        ]
        count = len(pairs)
        reciprocal = [reciprocal_rank_at(found, relevant) for relevant, found in pairs]
        table[mode] = {
            "ndcg@10": sum(ndcg_at(found, relevant) for relevant, found in pairs) / count,
            "recall@5": sum(recall_at(found, relevant) for relevant, found in pairs) / count,
            "mrr@10": sum(reciprocal) / count,
            "top10": sum(1 for value in reciprocal if value > 0) / count,
        }
    return table
