"""Bulk read benchmark: records/s and MB/s of `open_bulk` on the shared corpus and on generated
arXiv-snapshot .gz files of growing size, each read in a fresh child process whose peak RSS
shows that memory does not grow with the file. Also the default speech filter's throughput.
Not run by the tests.

The generated files repeat the corpus records in arXiv's snapshot format under fresh ids; they
are written once to --work-dir (default /tmp/speechgraph-bulk-bench) and reused.

    python bench/bulk_read_bench.py                   # corpus, 0.5 GB and 2 GB (uncompressed)
    python bench/bulk_read_bench.py --sizes 0.1,0.4   # quicker
    python bench/bulk_read_bench.py --also /tmp/arxiv-740k.jsonl.gz   # see convert_arxiv_meta.py
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from speechgraph.clients.bulk import BadLine, open_bulk
from speechgraph.clients.bulk_filter import CategoryFilter

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "speech-arxiv.jsonl.gz"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MB = 1024 * 1024


def child_read(path: Path) -> None:
    """Read `path` once and print counts, seconds and peak RSS as JSON (run in a child)."""
    start = time.perf_counter()
    records = bad = 0
    with open_bulk(path) as source:
        for event in source:
            if isinstance(event, BadLine):
                bad += 1
            else:
                records += 1
        stored = source.bytes_read
    seconds = time.perf_counter() - start
    peak_kib = peak_rss_kib()
    print(
        json.dumps(
            {
                "records": records,
                "bad": bad,
                "seconds": seconds,
                "stored": stored,
                "peak_mb": peak_kib / 1024,
            }
        )
    )


def peak_rss_kib() -> int:
    """This process's peak RSS. VmHWM on Linux: ru_maxrss there keeps the parent's peak
    across exec, which would hide the child's own."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def rfc2822(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year} 17:02:11 GMT"


def snapshot_line(line: dict[str, Any]) -> dict[str, Any]:
    """A corpus record in arXiv's snapshot format, its id left as a placeholder."""
    published = date.fromisoformat(line["published"]) if line["published"] else date(2025, 1, 1)
    return {
        "id": "@ID@",
        "submitter": line["authors"][0] if line["authors"] else "",
        "authors": ", ".join(line["authors"]),
        "title": line["title"],
        "comments": "10 pages",
        "journal-ref": None,
        "doi": None,
        "report-no": None,
        "categories": " ".join(line["categories"]),
        "license": None,
        "abstract": "  " + line["abstract"] + "\n",
        "versions": [
            {"version": "v1", "created": rfc2822(published)},
            {"version": "v2", "created": rfc2822(published + timedelta(days=30))},
        ],
        "update_date": (published + timedelta(days=31)).isoformat(),
        "authors_parsed": [[*reversed(name.rsplit(" ", 1)), ""] for name in line["authors"]],
    }


def fresh_ids() -> Iterator[str]:
    for year in range(16, 99):
        for month in range(1, 13):
            for number in range(1, 100_000):
                yield f"{year:02d}{month:02d}.{number:05d}"


def generate(path: Path, size_bytes: int) -> int:
    """Write about `size_bytes` of uncompressed snapshot lines to `path` (gzip level 1);
    return the exact uncompressed size (kept beside the file for reuse)."""
    sidecar = path.with_suffix(".size")
    if path.exists() and sidecar.exists():
        return int(sidecar.read_text())
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        templates = [json.dumps(snapshot_line(json.loads(line))) for line in lines]
    print(f"generating {path} ({size_bytes / 1e9:.1f} GB uncompressed) ...", file=sys.stderr)
    start = time.perf_counter()
    written = 0
    ids = fresh_ids()
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)  # 31: gzip header and trailer
    with path.open("wb") as out:
        while written < size_bytes:
            chunk = "".join(
                template.replace("@ID@", next(ids), 1) + "\n" for template in templates
            ).encode()
            out.write(compressor.compress(chunk))
            written += len(chunk)
        out.write(compressor.flush())
    sidecar.write_text(str(written))
    print(f"  {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return written


def text_size(path: Path) -> int:
    """Bytes of text in `path`, decompressed when it is gzip."""
    with gzip.open(path) if path.suffix == ".gz" else path.open("rb") as text:
        return sum(len(chunk) for chunk in iter(lambda: text.read(MB), b""))


def filter_throughput() -> None:
    with open_bulk(CORPUS) as source:
        records = [event[1] for event in source if not isinstance(event, BadLine)]
    for name in ("speech", "cs,eess", "all"):
        category_filter = CategoryFilter.parse(name)
        start = time.perf_counter()
        kept = sum(category_filter.matches(record) for record in records * 5)
        seconds = time.perf_counter() - start
        print(
            f"  filter {name:8} {len(records) * 5 / seconds:>12,.0f} records/s"
            f"   keeps {kept // 5:,} of {len(records):,}"
        )


def row(label: str, stored: int, uncompressed: int, result: dict[str, Any]) -> None:
    seconds = result["seconds"]
    rates = f"{result['records'] / seconds:>10,.0f} {uncompressed / MB / seconds:>8,.1f}"
    print(
        f"  {label:30} {stored / MB:>9,.0f} {uncompressed / MB:>9,.0f} {result['records']:>11,}"
        f" {result['bad']:>4} {rates} {stored / MB / seconds:>8,.1f} {result['peak_mb']:>9,.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="0.5,2", help="GB of uncompressed JSON lines")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="more files to read")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/speechgraph-bulk-bench"))
    args = parser.parse_args()
    if args.child:
        child_read(args.child)
        return
    args.work_dir.mkdir(parents=True, exist_ok=True)
    files = [(CORPUS.name, CORPUS, len(gzip.decompress(CORPUS.read_bytes())))]
    for size in (float(text) for text in args.sizes.split(",")):
        path = args.work_dir / f"arxiv-snapshot-{size:g}GB.jsonl.gz"
        files.append((path.name, path, generate(path, int(size * 1e9))))
    generated = files[1:]
    files += [(path.name, path, text_size(path)) for path in args.also]
    print(
        f"  {'file':30} {'stored MB':>9} {'text MB':>9} {'records':>11} {'bad':>4}"
        f" {'records/s':>10} {'text MB/s':>8} {'gz MB/s':>8} {'peak RSS':>9}"
    )
    peaks = {}
    for label, path, uncompressed in files:
        result = measure(path)
        row(label, path.stat().st_size, uncompressed, result)
        peaks[path] = result["peak_mb"]
    if len(generated) > 1:
        (_, first, small), (_, last, large) = generated[0], generated[-1]
        print(
            f"  peak RSS {peaks[last]:.1f} MB for {large / MB:,.0f} MB of text vs"
            f" {peaks[first]:.1f} MB for {small / MB:,.0f} MB:"
            f" x{peaks[last] / peaks[first]:.2f} memory for x{large / small:.1f} data"
        )
    filter_throughput()


if __name__ == "__main__":
    main()
