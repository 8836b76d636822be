"""Convert the public mirror of arXiv's OAI-PMH Dublin Core records (github.com/
HeinrichHartmann/arxiv_meta: 2007 to April 2017, one JSON-lines file per day, each line
`[id, {title, creator, subject, description, date, identifier, ...}]`) into arXiv's metadata
snapshot format, streaming, for benchmarks of `speechgraph import`. Data only: the output goes
to /tmp and is never committed.

    python bench/convert_arxiv_meta.py --out /tmp/arxiv-740k.jsonl.gz \\
        --git-dir /work/.mirror/HeinrichHartmann+arxiv_meta/repo/.git

Reads the mirror's blobs straight from its git directory (`git cat-file --batch`), one day at
a time. Mapping, field by field:
  id            the abs URL in `identifier` (else the line's own id), without version
  title         title[0];  abstract: the first `description` that is not "Comment: ..."
  comments      that "Comment: ..." description;  doi / journal-ref: the other identifiers
  authors       creator "Last, First[, Suffix]" -> "First Last Suffix"; authors_parsed as arXiv
  categories    subject names -> codes (speechgraph.clients.taxonomy); MSC/ACM/PACS codes and
                free keywords among the subjects are dropped and counted
  versions      date[0] -> v1; a second date (Dublin Core gives the first and the latest
                version's dates only) -> v2, the newest version's number being unknown
  update_date   the day of the file (the record's OAI datestamp)
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from speechgraph.clients.taxonomy import ARCHIVES, code_for_subject_name
from speechgraph.files import atomic_path
from speechgraph.ids import parse_arxiv_id, parse_arxiv_url

DAY_FILE = re.compile(r"^(\d{4})/(\d{4}-\d{2}-\d{2})(?:\.\d+)?\.json$")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
ARCHIVE_NAMES = frozenset(ARCHIVES.values()) | {"High Energy Physics", "Nuclear"}


@dataclass
class Report:
    files: int = 0
    files_missing: list[str] = field(default_factory=list)
    records: int = 0
    lines_not_understood: int = 0
    duplicates: int = 0
    subjects: int = 0
    subjects_mapped: int = 0
    unmapped_arxiv_names: Counter[str] = field(default_factory=Counter)
    unmapped_other: Counter[str] = field(default_factory=Counter)
    records_without_category: int = 0
    categories: Counter[str] = field(default_factory=Counter)


def day_files(git_dir: Path) -> tuple[list[tuple[str, str, str]], list[str]]:
    """((blob, path, day) of each day file present in the mirror, paths listed but absent)."""
    listing = subprocess.run(
        ["git", "--git-dir", str(git_dir), "ls-tree", "-r", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        if match := DAY_FILE.match(path):
            files.append((meta.split()[2], path, match.group(2)))
    check = subprocess.run(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch-check"],
        input="".join(f"{blob}\n" for blob, _, _ in files),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    present = [item for item, answer in zip(files, check, strict=True) if "missing" not in answer]
    missing = [
        path for (_, path, _), answer in zip(files, check, strict=True) if "missing" in answer
    ]
    return sorted(present, key=lambda item: item[1]), missing


def blobs(git_dir: Path, files: list[tuple[str, str, str]]) -> Iterator[tuple[str, str, bytes]]:
    """(path, day, content) of each file, one at a time."""
    with subprocess.Popen(
        ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as git:
        assert git.stdin is not None and git.stdout is not None
        for blob, path, day in files:
            git.stdin.write(f"{blob}\n".encode())
            git.stdin.flush()
            size = int(git.stdout.readline().split()[2])
            content = git.stdout.read(size + 1)[:-1]
            yield path, day, content
        git.stdin.close()


def rfc2822(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {MONTHS[day.month - 1]} {day.year} 00:00:00 GMT"


def parsed_author(creator: str) -> list[str]:
    """A creator `Last, First[, Suffix]` as [last, first, suffix], like arXiv's `authors_parsed`."""
    parts = [part.strip() for part in creator.split(",")]
    return [*parts[:3], "", ""][:3]


def author_name(creator: str) -> str:
    last, first, suffix = parsed_author(creator)
    return " ".join(part for part in (first, last, suffix) if part)


def categories(subjects: list[str], report: Report) -> list[str]:
    codes: list[str] = []
    for subject in subjects:
        report.subjects += 1
        code = code_for_subject_name(subject)
        if code is None:
            name = " ".join(subject.split())
            if name in ARCHIVE_NAMES or name.split(" - ")[0] in ARCHIVE_NAMES:
                report.unmapped_arxiv_names[name] += 1
            else:
                report.unmapped_other[name] += 1
        else:
            report.subjects_mapped += 1
            if code not in codes:
                codes.append(code)
    return codes


def snapshot_record(line_id: str, dc: dict[str, Any], day: str, report: Report) -> dict[str, Any]:
    identifiers = dc.get("identifier") or []
    parsed = next(filter(None, (parse_arxiv_url(value) for value in identifiers)), None)
    paper_id = (parsed or parse_arxiv_id(line_id) or (line_id, None))[0]
    descriptions = dc.get("description") or []
    abstract = next((text for text in descriptions if not text.startswith("Comment:")), "")
    comment = next((text for text in descriptions if text.startswith("Comment:")), None)
    others = [value for value in identifiers if not parse_arxiv_url(value)]
    dois = [value[4:] for value in others if value.lower().startswith("doi:")]
    references = [value for value in others if not value.lower().startswith("doi:")]
    dates = [date.fromisoformat(value[:10]) for value in dc.get("date") or []]
    versions = [{"version": "v1", "created": rfc2822(dates[0])}] if dates else []
    if len(dates) > 1:
        versions.append({"version": "v2", "created": rfc2822(dates[-1])})
    creators = dc.get("creator") or []
    codes = categories(dc.get("subject") or [], report)
    report.categories.update(codes)
    report.records_without_category += not codes
    return {
        "id": paper_id,
        "submitter": None,
        "authors": ", ".join(author_name(name) for name in creators),
        "title": (dc.get("title") or [""])[0],
        "comments": comment[len("Comment:") :].strip() if comment else None,
        "journal-ref": "; ".join(references) or None,
        "doi": " ".join(dois) or None,
        "report-no": None,
        "categories": " ".join(codes),
        "license": (dc.get("rights") or [None])[0],
        "abstract": abstract,
        "versions": versions,
        "update_date": day,
        "authors_parsed": [parsed_author(name) for name in creators],
    }


def convert(git_dir: Path, out: IO[str], report: Report, limit_files: int | None) -> None:
    files, report.files_missing = day_files(git_dir)
    files = files[:limit_files] if limit_files else files
    seen: set[str] = set()
    for number, (path, day, content) in enumerate(blobs(git_dir, files), 1):
        report.files += 1
        for line in content.splitlines():
            if not line.strip():
                continue
            try:
                line_id, dc = json.loads(line)
                record = snapshot_record(line_id, dc, day, report)
            except (ValueError, TypeError, AttributeError, IndexError):
                report.lines_not_understood += 1
                continue
            report.duplicates += record["id"] in seen
            seen.add(record["id"])
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            report.records += 1
        if number % 250 == 0:
            print(f"  {path}: {report.records:,} records", file=sys.stderr)


def print_report(report: Report, out_path: Path, seconds: float) -> None:
    unmapped_arxiv = sum(report.unmapped_arxiv_names.values())
    unmapped_other = sum(report.unmapped_other.values())
    lines = [
        f"day files read         {report.files:,} ({len(report.files_missing)} listed in the"
        " mirror but absent from its snapshot)",
        f"records written        {report.records:,} ({report.duplicates} repeated ids,"
        f" {report.lines_not_understood} lines not understood)",
        f"subjects               {report.subjects:,}: {report.subjects_mapped:,} mapped to codes,"
        f" {unmapped_arxiv:,} arXiv-style names unmapped"
        f" ({len(report.unmapped_arxiv_names)} distinct), {unmapped_other:,} others dropped"
        f" (MSC/ACM/PACS codes, keywords; {len(report.unmapped_other):,} distinct)",
        f"records w/o category   {report.records_without_category:,}",
        f"distinct categories    {len(report.categories)}",
        f"time                   {seconds:.0f} s",
        f"output                 {out_path} {out_path.stat().st_size / 1e6:,.0f} MB",
    ]
    print("\n".join(lines))
    for name, count in report.unmapped_arxiv_names.most_common(10):
        print(f"  unmapped arXiv-style subject: {count:>6}  {name}")
    for name, count in report.unmapped_other.most_common(5):
        print(f"  most frequent other subject:  {count:>6}  {name!r}")
    for code, count in report.categories.most_common():
        if code.startswith(("cs.SD", "eess", "cs.CL")):
            print(f"  {code}: {count:,} records")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--git-dir", type=Path, required=True, help="the mirror's git directory")
    parser.add_argument("--out", type=Path, default=Path("/tmp/arxiv-740k.jsonl.gz"))
    parser.add_argument("--level", type=int, default=6, help="gzip level (1 fast, 9 small)")
    parser.add_argument("--limit-files", type=int, help="convert only the first N day files")
    args = parser.parse_args()
    report = Report()
    start = time.perf_counter()
    with (
        atomic_path(args.out) as temporary,
        gzip.open(temporary, "wt", encoding="utf-8", compresslevel=args.level) as out,
    ):
        convert(args.git_dir, out, report, args.limit_files)
    print_report(report, args.out, time.perf_counter() - start)


if __name__ == "__main__":
    main()
