"""Import benchmark: `speechgraph import` end to end (a new process: store and keyword index,
no embedding) against a raw baseline in the same run, the no-op reruns, and peak memory on
generated files of growing size. Not run by the tests.

Each run is a child process; its peak RSS is its own VmHWM (ru_maxrss would keep the forking
parent's peak). The raw baseline reads the same file with gzip and json and writes the same
records with plain `sqlite3.executemany` into a table and an FTS5 table of the same tokenizer,
one transaction per 2,000 records, as the import commits its batches.

    python bench/import_bench.py                          # the shared corpus, 3 rounds
    python bench/import_bench.py --file /tmp/arxiv-740k.jsonl.gz --rounds 1
    python bench/import_bench.py --memory 0.5,2           # generated files (bulk_read_bench's)

Reported: papers/s (wall) and CPU seconds of each, the ratio import/raw, the no-op rerun of
the same file (skipped by its key) and of the same records in a new file (every digest
matches), each as a share of the first import; medians over the rounds; the load average.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "speech-arxiv.jsonl.gz"
BATCH = 2000
FTS_SCHEMA = (
    "CREATE VIRTUAL TABLE paper_fts USING fts5(title, names, summary, authors, "
    "tokenize = 'porter unicode61 remove_diacritics 2')"
)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_import(data_dir: Path, path: Path) -> dict[str, Any]:
    """`speechgraph import --category all --json` in this process, as the console script
    runs it."""
    from speechgraph.cli.app import app

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        app(["--data-dir", str(data_dir), "-q", "import", str(path), "--category", "all", "--json"])
    report = json.loads(out.getvalue())
    return {"papers": report["imported"] + report["updated"], "report": report}


def child_raw(data_dir: Path, path: Path) -> dict[str, Any]:
    """The floor: the same records through gzip, json and plain executemany, paper table and
    FTS5 table, committed every BATCH records."""
    data_dir.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(data_dir / "raw.db")
    connection.execute(
        "CREATE TABLE paper (id TEXT PRIMARY KEY, title TEXT, abstract TEXT, authors TEXT, "
        "categories TEXT, versions TEXT, updated TEXT, doi TEXT, journal_ref TEXT, comment TEXT)"
    )
    connection.execute(FTS_SCHEMA)
    count = 0
    pending: list[tuple[Any, ...]] = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines:
        for line in lines:
            obj = json.loads(line)
            authors = obj.get("authors")
            pending.append(
                (
                    obj["id"],
                    obj["title"],
                    obj.get("abstract"),
                    authors if isinstance(authors, str) else ", ".join(authors or []),
                    json.dumps(obj.get("categories")),
                    json.dumps(obj.get("versions") or obj.get("published")),
                    obj.get("update_date") or obj.get("updated"),
                    obj.get("doi"),
                    obj.get("journal-ref") or obj.get("journal_ref"),
                    obj.get("comments") or obj.get("comment"),
                )
            )
            if len(pending) == BATCH:
                count += _raw_batch(connection, pending)
        count += _raw_batch(connection, pending)
    connection.close()
    return {"papers": count}


def _raw_batch(connection: sqlite3.Connection, pending: list[tuple[Any, ...]]) -> int:
    connection.executemany(
        "INSERT OR REPLACE INTO paper VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", pending
    )
    connection.executemany(
        "INSERT INTO paper_fts (rowid, title, names, summary, authors) "
        "SELECT rowid, ?, '', ?, ? FROM paper WHERE id = ?",
        [(row[1], row[2], row[3], row[0]) for row in pending],
    )
    connection.commit()
    count = len(pending)
    pending.clear()
    return count


def run_child(kind: str, data_dir: Path, path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(data_dir), str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output)
    result["wall"] = time.perf_counter() - start
    return result


def load() -> str:
    return "load average " + " ".join(f"{value:.1f}" for value in os.getloadavg())


def fresh(directory: Path) -> Path:
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return directory


def one_round(path: Path, work: Path) -> dict[str, dict[str, Any]]:
    """Raw, import, then three no-op reruns: the same file, a copy (another path and time,
    the same bytes), and the same records in other bytes (recompressed: every record is read
    and its digest compared)."""
    results = {"raw": run_child("raw", fresh(work / "raw"), path)}
    data = fresh(work / "import")
    results["import"] = run_child("import", data, path)
    results["rerun"] = run_child("import", data, path)
    copy = work / f"copy-{path.name}"
    shutil.copyfile(path, copy)
    results["copy"] = run_child("import", data, copy)
    recompress(path, copy)
    results["same records"] = run_child("import", data, copy)
    copy.unlink()
    return results


def recompress(path: Path, target: Path) -> None:
    """The lines of `path` in a new gzip file of other bytes (level 1, another timestamp)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as lines, gzip.open(target, "wb", compresslevel=1) as out:
        shutil.copyfileobj(lines, out, 1024 * 1024)


def show(label: str, result: dict[str, Any], first: float | None) -> None:
    rate = result["papers"] / result["wall"] if result["papers"] else 0
    share = f"{result['wall'] / first:>7.1%} of import" if first else ""
    print(
        f"  {label:13} {result['papers']:>9,} papers {result['wall']:>8.1f} s wall"
        f" {result['cpu']:>8.1f} s CPU {rate:>9,.0f} papers/s {result['peak_mb']:>7.0f} MB {share}"
    )


def bench_file(path: Path, rounds: int, work: Path) -> None:
    print(f"{path.name} ({path.stat().st_size / 1e6:,.0f} MB stored), {load()}")
    runs = []
    for number in range(1, rounds + 1):
        results = one_round(path, work)
        print(f" round {number} ({load()})")
        for label, result in results.items():
            first = None if label in ("raw", "import") else results["import"]["wall"]
            show(label, result, first)
        runs.append(results)
    ratio = statistics.median(r["import"]["wall"] / r["raw"]["wall"] for r in runs)
    cpu_ratio = statistics.median(r["import"]["cpu"] / r["raw"]["cpu"] for r in runs)
    rate = statistics.median(r["import"]["papers"] / r["import"]["wall"] for r in runs)
    raw_rate = statistics.median(r["raw"]["papers"] / r["raw"]["wall"] for r in runs)
    shares = {
        label: statistics.median(r[label]["wall"] / r["import"]["wall"] for r in runs)
        for label in ("rerun", "copy", "same records")
    }
    print(
        f" median of {rounds}: import {rate:,.0f} papers/s, raw {raw_rate:,.0f} papers/s;"
        f" import/raw x{ratio:.2f} wall, x{cpu_ratio:.2f} CPU (target <= 1.5, >= 4,000/s);"
        f" no-op reruns (target < 5% of the import): same file {shares['rerun']:.1%},"
        f" a copy {shares['copy']:.1%}, the same records in other bytes"
        f" {shares['same records']:.1%}"
    )
    shutil.rmtree(work, ignore_errors=True)


def bench_memory(sizes: list[float], work: Path) -> None:
    """Peak RSS of an import of generated snapshot files of growing size (a fresh catalogue
    each), generated and cached by bulk_read_bench.py."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bulk_read_bench import generate

    cache = Path("/tmp/speechgraph-bulk-bench")
    cache.mkdir(parents=True, exist_ok=True)
    print(f"memory: generated arXiv snapshot files, {load()}")
    peaks = []
    for size in sizes:
        path = cache / f"arxiv-snapshot-{size:g}GB.jsonl.gz"
        text_bytes = generate(path, int(size * 1e9))
        result = run_child("import", fresh(work / "memory"), path)
        show(f"{text_bytes / 1e9:.1f} GB text", result, None)
        peaks.append((text_bytes, result["peak_mb"]))
    (small, first), (large, last) = peaks[0], peaks[-1]
    print(
        f" peak RSS {last:.0f} MB for {large / 1e9:.1f} GB vs {first:.0f} MB for"
        f" {small / 1e9:.1f} GB: x{last / first:.2f} memory for x{large / small:.1f} data"
    )
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, default=CORPUS, help="metadata file to import")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--memory", help="GB of generated text, comma-separated (e.g. 0.5,2)")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/speechgraph-import-bench"))
    args = parser.parse_args()
    if args.child:
        kind, data_dir, path = args.child
        runner = child_import if kind == "import" else child_raw
        result = runner(Path(data_dir), Path(path))
        print(json.dumps({**result, "cpu": cpu_seconds(), "peak_mb": peak_rss_mb()}))
        return
    if args.memory:
        bench_memory([float(size) for size in args.memory.split(",")], args.work_dir)
    else:
        bench_file(args.file, args.rounds, args.work_dir)


if __name__ == "__main__":
    main()
