"""Search quality over the field: the 72 judged queries of bench/eval_queries_field.json (topic
and known-item) on a catalogue holding the seed papers with their real abstracts and the
8,469-paper corpus, for dense, lexical (BM25 on the same texts) and hybrid search, with and
without our curation. Also the judged prerequisite chains of bench/eval_chains.json: how many
of each target's judged prerequisites its plan holds, and any plan step submitted after its
target (a time inversion; there must be none).

    # the catalogue, once (a few minutes, mostly embedding):
    speechgraph --data-dir /tmp/evalcat refresh --offline
    speechgraph --data-dir /tmp/evalcat import ../shared/corpus/seed-papers.jsonl \\
        ../shared/corpus/speech-arxiv.jsonl.gz --category all
    speechgraph --data-dir /tmp/evalcat index
    speechgraph --data-dir /tmp/evalcat --curation off index
    python bench/eval_field.py --data-dir /tmp/evalcat
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from speechgraph.catalogue.store import open_catalogue
from speechgraph.config import Settings
from speechgraph.graph.build import index_neighbours, load_knowledge
from speechgraph.graph.edges import compare_time
from speechgraph.graph.plans import prerequisites
from speechgraph.search.evaluate import load_judgements, rank_all, score_modes
from speechgraph.search.hybrid import Searcher

QUERIES = Path(__file__).with_name("eval_queries_field.json")
CHAINS = Path(__file__).with_name("eval_chains.json")


def search_table(settings: Settings) -> dict[str, dict[str, dict[str, float]]]:
    queries = load_judgements(QUERIES)
    with Searcher(settings) as searcher:
        rankings = rank_all(searcher, queries)
    table = {"all": score_modes(queries, rankings)}
    for kind in ("topic", "known-item"):
        chosen = [(q, r) for q, r in zip(queries, rankings, strict=True) if q.get("kind") == kind]
        table[kind] = score_modes([q for q, _ in chosen], [r for _, r in chosen])
    return table


def chain_table(settings: Settings) -> dict[str, Any]:
    chains = json.loads(CHAINS.read_text(encoding="utf-8"))["chains"]
    store = open_catalogue(settings, create=False)
    neighbours = index_neighbours(settings, store)
    met = judged = inversions = found_builds = judged_builds = 0
    seconds = []
    for chain in chains:
        started = time.perf_counter()
        knowledge = load_knowledge(store, neighbours, around=[chain["target"]])
        plan = prerequisites(knowledge.graph, chain["target"])
        seconds.append(time.perf_counter() - started)
        planned = {step.id for step in plan.steps}
        for paper, kind in chain["prerequisites"].items():
            judged += 1
            met += paper in planned
            if kind == "builds_on":
                judged_builds += 1
                found_builds += paper in planned
        inversions += sum(
            1
            for step in plan.steps
            if compare_time(knowledge.graph, step.id, chain["target"]) != -1
        )
    store.dispose()
    seconds.sort()
    return {
        "targets": len(chains),
        "prerequisites met": f"{met}/{judged}",
        "builds_on met": f"{found_builds}/{judged_builds}",
        "time inversions": inversions,
        "median plan seconds": round(seconds[len(seconds) // 2], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--curation", choices=["on", "off", "both"], default="both")
    arguments = parser.parse_args()
    modes = ["on", "off"] if arguments.curation == "both" else [arguments.curation]
    for mode in modes:
        settings = Settings.load(data_dir=arguments.data_dir, curation=mode)
        print(f"\n== curation {mode} ==")
        for subset, table in search_table(settings).items():
            header = ("mode", "nDCG@10", "recall@5", "MRR@10", "top10")
            print(f"{subset:<11} {header[0]:<8} " + " ".join(f"{h:>8}" for h in header[1:]))
            for name, scores in table.items():
                print(
                    f"{'':<11} {name:<8} {scores['ndcg@10']:>8.3f} {scores['recall@5']:>9.3f} "
                    f"{scores['mrr@10']:>7.3f} {scores['top10']:>6.2f}"
                )
        print("chains:", chain_table(settings))


if __name__ == "__main__":
    main()
