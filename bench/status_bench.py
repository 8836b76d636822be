"""Cold-start benchmark: `speechgraph status` and `speechgraph search --mode lexical`, each in a
new process, on the imported corpus and on any catalogues named; which heavy libraries each
imported; and, in process, the catalogue side of a search (filters, cards, listed marks).
Not run by the tests.

    python bench/status_bench.py                              # the corpus, imported to a work dir
    python bench/status_bench.py --data-dir /tmp/field-740k   # also a catalogue imported before

Targets (the field issue): status <= 0.5 s; cold search <= 1 s at 8.5K papers, <= 1.5 s at 740K.
Wall times are medians of --rounds runs, with CPU seconds beside them and the load average:
on a shared machine the wall time is the CPU time stretched by the load.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "speech-arxiv.jsonl.gz"
QUERIES = ("speech recognition", "neural vocoder", "speaker verification", "quantum error")
HEAVY = ("sqlalchemy", "faiss", "torch", "onnxruntime", "numpy")
SHOW_IMPORTS = "import sys, runpy\n" + (
    "try:\n    runpy.run_module('speechgraph', run_name='__main__')\nexcept SystemExit:\n    pass\n"
    f"print('HEAVY', sorted(set({HEAVY!r}) & set(sys.modules)), file=sys.stderr)\n"
)


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cold(arguments: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds of one new process running the CLI, and the heavy modules it
    imported."""
    before = children_cpu()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", SHOW_IMPORTS, *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    heavy = next(line for line in result.stderr.splitlines() if line.startswith("HEAVY"))
    return wall, children_cpu() - before, heavy.removeprefix("HEAVY ")


def measure(label: str, arguments: list[str], rounds: int) -> float:
    runs = [cold(arguments) for _ in range(rounds)]
    wall = statistics.median(run[0] for run in runs)
    cpu = statistics.median(run[1] for run in runs)
    print(f"  {label:38} {wall:6.2f} s wall {cpu:6.2f} s CPU   imports {runs[0][2]}")
    return wall


def catalogue_side(data_dir: Path) -> None:
    """Filters, cards and listed marks of a search, on a warm store (in this process)."""
    from speechgraph.catalogue.keywords import KeywordIndex
    from speechgraph.catalogue.queries import Filters, ids_matching, listed_among, paper_cards
    from speechgraph.catalogue.store import open_db
    from speechgraph.config import Settings

    settings = Settings.load(data_dir=data_dir)
    store = open_db(settings.db_url, create=False)
    keywords = KeywordIndex(settings.index_dir)
    hits = [paper_id for paper_id, _ in keywords.search(["speech", "recognition"], 100)]
    for name, filters in (
        ("filter year >= 2015", Filters(year_from=2015)),
        ("filter category cs.CL", Filters(category="cs.CL")),
        ("filter listed only", Filters(listed_only=True)),
    ):
        start = time.perf_counter()
        allowed = ids_matching(store, filters)
        print(f"  {name:38} {time.perf_counter() - start:6.3f} s ({len(allowed):,} papers)")
    for count in (10, 100):
        start = time.perf_counter()
        paper_cards(store, hits[:count])
        listed_among(store, hits[:count])
        print(f"  cards and listed marks of {count:<12} {time.perf_counter() - start:6.3f} s")
    keywords.close()
    store.dispose()


def ensure_corpus(work: Path) -> Path:
    if not (work / "speechgraph.db").exists():
        print(f"importing the corpus into {work} ...")
        command = ["-m", "speechgraph", "--data-dir", str(work), "-q", "import", str(CORPUS)]
        subprocess.run(
            [sys.executable, *command, "--category", "all"],
            check=True,
            capture_output=True,
        )
    return work


def bench(data_dir: Path, rounds: int) -> dict[str, Any]:
    papers = subprocess.run(
        [sys.executable, "-m", "speechgraph", "--data-dir", str(data_dir), "status"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    print(f"{data_dir}: {papers} papers, {load()}")
    base = ["--data-dir", str(data_dir)]
    status = measure("status (target <= 0.5 s)", [*base, "status"], rounds)
    searches = [
        measure(
            f"search --mode lexical {query!r}",
            [*base, "search", query, "--mode", "lexical"],
            rounds,
        )
        for query in QUERIES
    ]
    catalogue_side(data_dir)
    return {"status": status, "search": statistics.median(searches)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/speechgraph-status-bench"))
    args = parser.parse_args()
    for data_dir in [ensure_corpus(args.work_dir), *args.data_dir]:
        result = bench(data_dir, args.rounds)
        print(
            f" median: status {result['status']:.2f} s, lexical search {result['search']:.2f} s"
            f" ({load()})"
        )


if __name__ == "__main__":
    main()
