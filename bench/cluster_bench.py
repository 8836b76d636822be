"""Topics at scale: `graph.topics.cluster_field` (two levels of mini-batch k-means, c-TF-IDF labels
from a sample of titles, a PCA map) on real vectors, and at 740K padded with SYNTHETIC vectors as
`bench/ann_bench.py` makes them. Prints wall and CPU seconds, peak memory, topic and subtopic
counts and, for the real vectors, the labels of the largest topics (titles of the real papers).
Not run by the tests; the target is 740K in at most 10 minutes on this machine.

    python bench/embed_bench.py --run 50000          # saves the real vectors it embeds
    python bench/cluster_bench.py --titles /tmp/arxiv-740k.jsonl.gz   # the real vectors
    python bench/cluster_bench.py --total 740000                      # padded to 740K
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from speechgraph.graph.topics import cluster_field

sys.path.insert(0, str(Path(__file__).parent))
from ann_bench import synthetic_around


def real_titles(path: Path, ids: list[str]) -> list[str]:
    """The titles of papers `ids` (row order) from the arXiv snapshot file they came from."""
    wanted = set(ids)
    found: dict[str, str] = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if str(record["id"]) in wanted:
                found[str(record["id"])] = " ".join(record["title"].split())
    return [found.get(paper_id, paper_id) for paper_id in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=Path, default=Path("/tmp/speechgraph-vectors"))
    parser.add_argument("--titles", type=Path, help="the snapshot file the real vectors came from")
    parser.add_argument("--total", type=int, default=0, help="pad with synthetic vectors to this")
    arguments = parser.parse_args()
    real = np.load(arguments.vectors / "documents.npy")
    vectors = real
    if arguments.total > len(real):
        vectors = np.vstack([real, synthetic_around(real, arguments.total - len(real))])
    kind = "REAL" if len(vectors) == len(real) else f"{len(real)} REAL + SYNTHETIC"
    ids = [f"p{row}" for row in range(len(vectors))]
    known: list[str] = []
    if arguments.titles:
        order = json.loads((arguments.vectors / "documents.json").read_text(encoding="utf-8"))
        known = real_titles(arguments.titles, order)

    def titles(chosen: Sequence[str]) -> Mapping[str, str]:
        rows = [int(paper_id[1:]) for paper_id in chosen]
        return {f"p{row}": known[row] if row < len(known) else f"synthetic {row}" for row in rows}

    wall, cpu = time.perf_counter(), time.process_time()
    topics = cluster_field(ids, vectors, titles)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    levels = [sum(1 for label in topics.labels if label.level == level) for level in (0, 1)]
    print(
        f"{len(vectors)} vectors ({kind}): {levels[0]} topics, {levels[1]} subtopics in "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU; peak RSS {peak:.0f} MB"
    )
    if known and len(vectors) == len(real):
        largest = sorted(
            (label for label in topics.labels if label.level == 0), key=lambda t: -t.size
        )
        for label in largest[:12]:
            print(f"  {label.size:>6}  {label.label}")


if __name__ == "__main__":
    main()
