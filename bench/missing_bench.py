"""How well `speechgraph missing` finds what a real reading list lacks: hide a random 20% of the
list's papers that the catalogue holds, ask for the 50 best suggestions from the rest, and
count the hidden papers among them (recall@50), over 5 seeded folds, against a plain
nearest-neighbour baseline (TF-IDF over title and abstract, sublinear tf, English stop words,
cosine; a candidate scores its mean similarity to its 5 closest listed papers).

The list is read from where it lives (a file or a git commit of a fetched repository); it is
never copied into the project.

    python bench/missing_bench.py --data-dir /tmp/evalcat \\
        --git-dir /work/.mirror/YuChen-06+awesome-speech-ai/repo --commit e199fe7 --path README.md
    python bench/missing_bench.py --data-dir DIR --list my-list.md --curation off
"""

from __future__ import annotations

import argparse
import random
import subprocess
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from speechgraph.catalogue.queries import iter_papers
from speechgraph.catalogue.store import open_catalogue
from speechgraph.config import Settings
from speechgraph.graph.missing import gather_evidence, rank_missing
from speechgraph.lists.parser import parse_reading_list
from speechgraph.records import ARXIV

FOLDS, HIDDEN, DEPTH, CLOSEST = 5, 0.2, 50, 5


def list_text(arguments: argparse.Namespace) -> str:
    if arguments.list:
        return Path(arguments.list).read_text(encoding="utf-8")
    show = ["git", "--git-dir", arguments.git_dir, "show", f"{arguments.commit}:{arguments.path}"]
    return subprocess.run(show, capture_output=True, text=True, check=True).stdout


def listed_papers(text: str, catalogue: set[str]) -> dict[str, str]:
    """The list's arXiv papers the catalogue holds, each with its first section."""
    placed: dict[str, str] = {}
    for mention in parse_reading_list(text, "benchmark").mentions:
        if mention.kind == ARXIV and mention.arxiv_id in catalogue:
            placed.setdefault(mention.arxiv_id, mention.section)
    return placed


def baseline_ranking(
    texts: dict[str, str], visible: list[str], candidates: list[str], vectorizer_matrix
) -> list[str]:
    matrix, row_of = vectorizer_matrix
    listed = matrix[[row_of[paper] for paper in visible]]
    others = matrix[[row_of[paper] for paper in candidates]]
    similarity = (others @ listed.T).toarray()
    top = np.sort(similarity, axis=1)[:, -CLOSEST:]
    scores = top.mean(axis=1)
    order = np.argsort(-scores, kind="stable")[:DEPTH]
    return [candidates[row] for row in order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--list")
    parser.add_argument("--git-dir")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument("--path", default="README.md")
    parser.add_argument("--curation", default="on", choices=["on", "off"])
    arguments = parser.parse_args()
    settings = Settings.load(data_dir=arguments.data_dir, curation=arguments.curation)
    store = open_catalogue(settings, create=False)
    texts = {
        paper.id: f"{paper.title}. {paper.abstract or ''}"
        for chunk in iter_papers(store)
        for paper in chunk
    }
    placed = listed_papers(list_text(arguments), set(texts))
    print(f"{len(texts)} papers in the catalogue; the list links {len(placed)} of them")
    ids = sorted(texts)
    vectorizer = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    matrix = vectorizer.fit_transform([texts[paper] for paper in ids])
    row_of = {paper: row for row, paper in enumerate(ids)}
    ours, baseline, seconds = [], [], []
    for fold in range(FOLDS):
        rng = random.Random(fold)
        hidden = set(rng.sample(sorted(placed), round(HIDDEN * len(placed))))
        visible = {paper: section for paper, section in placed.items() if paper not in hidden}
        started = time.perf_counter()
        evidence = gather_evidence(settings, store, visible, [])
        ranked = [paper for paper, *_ in rank_missing(evidence, DEPTH)]
        seconds.append(time.perf_counter() - started)
        candidates = [paper for paper in ids if paper not in visible]
        plain = baseline_ranking(texts, list(visible), candidates, (matrix, row_of))
        ours.append(len(hidden & set(ranked)) / len(hidden))
        baseline.append(len(hidden & set(plain)) / len(hidden))
        print(
            f"fold {fold}: {len(hidden)} hidden; recall@{DEPTH} ours {ours[-1]:.3f}, "
            f"baseline {baseline[-1]:.3f} ({seconds[-1]:.2f} s)"
        )
    mean_ours, mean_baseline = float(np.mean(ours)), float(np.mean(baseline))
    ratio = mean_ours / mean_baseline if mean_baseline else float("inf")
    print(
        f"\nrecall@{DEPTH} over {FOLDS} folds (curation {arguments.curation}): "
        f"ours {mean_ours:.3f}, TF-IDF nearest neighbours {mean_baseline:.3f}, "
        f"ratio {ratio:.2f} (target >= 1.5); median time {np.median(seconds):.2f} s"
    )
    store.dispose()


if __name__ == "__main__":
    main()
