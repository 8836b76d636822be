"""Search quality on the seed catalogue: nDCG@10 and recall@5 of dense, lexical and hybrid search
over the judged queries in bench/eval_queries.json, plus a sweep of fusion settings.

    python bench/eval_search.py                 # the catalogue in the default data directory
    python bench/eval_search.py --build         # build the offline seed catalogue in a temp dir
    python bench/eval_search.py --data-dir DIR --per-query
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from speechgraph.config import Settings
from speechgraph.search.evaluate import load_judgements, ndcg_at, rank_all, score_modes
from speechgraph.search.hybrid import Searcher, rrf_fuse

QUERIES_FILE = Path(__file__).with_name("eval_queries.json")


def fused(lists: dict[str, list[str]], rrf_k: int, dense_weight: float = 1.0) -> list[str]:
    """RRF with the dense list counted `dense_weight` times (a weighted variant to compare)."""
    scores: dict[str, float] = {}
    for paper_id, score in rrf_fuse({"dense": lists["dense"]}, rrf_k):
        scores[paper_id] = dense_weight * score
    for paper_id, score in rrf_fuse({"lexical": lists["lexical"]}, rrf_k):
        scores[paper_id] = scores.get(paper_id, 0.0) + score
    return [paper_id for paper_id, _ in sorted(scores.items(), key=lambda item: -item[1])]


def evaluate(searcher: Searcher, per_query: bool) -> None:
    queries = load_judgements(QUERIES_FILE)
    all_rankings = rank_all(searcher, queries)
    print(f"{len(queries)} judged queries, {len(searcher.index)} papers indexed\n")
    print(f"{'mode':<28} {'nDCG@10':>8} {'recall@5':>9}")
    for mode, scores in score_modes(queries, all_rankings).items():
        print(f"{mode:<28} {scores['ndcg@10']:>8.3f} {scores['recall@5']:>9.3f}")
    print("\nfusion variants (hybrid = RRF k=60, equal weights)")
    for rrf_k in (10, 30, 60, 100):
        for weight in (1.0, 1.5, 2.0):
            variant = [{"v": fused(lists, rrf_k, weight)} for lists in all_rankings]
            scores = score_modes(queries, variant)["v"]
            label = f"rrf k={rrf_k} dense x{weight}"
            print(f"{label:<28} {scores['ndcg@10']:>8.3f} {scores['recall@5']:>9.3f}")
    if per_query:
        print("\nper query nDCG@10: dense / lexical / hybrid")
        for item, lists in zip(queries, all_rankings, strict=True):
            modes = ("dense", "lexical", "hybrid")
            scores_of = [ndcg_at(lists[mode], item["relevant"]) for mode in modes]
            print(" / ".join(f"{score:.2f}" for score in scores_of), " ", item["query"])


def build_seed_catalogue(directory: Path) -> Settings:
    from speechgraph.update.refresh import refresh_catalogue

    settings = Settings.load(data_dir=directory, db_url=f"sqlite:///{directory / 'speechgraph.db'}")
    refresh_catalogue(settings, offline=True)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="data directory of an indexed catalogue")
    parser.add_argument("--build", action="store_true", help="build the offline seed catalogue")
    parser.add_argument("--per-query", action="store_true", help="print nDCG@10 of every query")
    arguments = parser.parse_args()
    if arguments.build:
        settings = build_seed_catalogue(Path(tempfile.mkdtemp(prefix="speechgraph-eval-")))
    elif arguments.data_dir:
        settings = Settings.load(data_dir=arguments.data_dir)
    else:
        settings = Settings.load()
    evaluate(Searcher(settings), arguments.per_query)


if __name__ == "__main__":
    main()
