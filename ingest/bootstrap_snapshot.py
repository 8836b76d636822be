"""Make ingest/snapshot.json from the verified facts tables and our notes, with no network.

    python ingest/bootstrap_snapshot.py --facts ../shared/catalogue [--notes NOTES.json]

The facts (ids, titles, authors, dates, categories) come from `arxiv_facts.tsv`; the text
citations that the facts table resolves to arXiv come from `text_references.tsv`; where those
tables leave a title or an author list unverified or partial, `ingest/verified_facts.json` gives
the one we checked by hand (and where). Notes, aliases, topics, the methods each paper builds on
and the baselines it compares with (our own words) come from the current snapshot, or from a JSON
file {arxiv_id: {"note", "aliases", "topic", "builds_on", "compares_with"}} given with --notes.
It builds a catalogue through the ordinary offline refresh and writes its snapshot, so the file is
what `speechgraph snapshot` would write for that catalogue, plus the `compares_with` lists, which
the catalogue does not store yet.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

from speechgraph.catalogue.snapshot import (
    SNAPSHOT_FORMAT,
    load_snapshot,
    snapshot_from_catalogue,
    write_snapshot,
)
from speechgraph.catalogue.store import open_db
from speechgraph.config import Settings
from speechgraph.lists.parser import clean_text
from speechgraph.lists.registry import load_lists, load_sources
from speechgraph.records import ARXIV
from speechgraph.update.refresh import refresh_catalogue

HERE = Path(__file__).resolve().parent


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream, delimiter="\t", quoting=csv.QUOTE_NONE))


def parse_authors(raw: str) -> list[str]:
    """Verified names only: '?' and 'et al. (...)' placeholders are dropped."""
    names = [name.strip() for name in raw.split(";")]
    return [name for name in names if name and name != "?" and not name.startswith("et al")]


def date_from_arxiv_id(arxiv_id: str) -> date:
    """New-style ids start with YYMM, the month of first submission."""
    return date(2000 + int(arxiv_id[:2]), int(arxiv_id[2:4]), 1)


def fact_papers(facts_dir: Path) -> dict[str, dict]:
    papers: dict[str, dict] = {}
    for row in read_tsv(facts_dir / "arxiv_facts.tsv"):
        category = row["primary_category"].strip()
        papers[row["arxiv_id"]] = {
            "id": row["arxiv_id"],
            "title": row["title"],
            "authors": parse_authors(row["authors"]),
            "published": date(int(row["year"]), int(row["month"]), 1).isoformat(),
            "categories": [category] if category else [],
            "primary_category": category or None,
        }
    for row in read_tsv(facts_dir / "text_references.tsv"):
        arxiv_id = row["resolved_arxiv_id"].strip()
        if row["status"] == "on-arxiv" and arxiv_id and arxiv_id not in papers:
            papers[arxiv_id] = {
                "id": arxiv_id,
                "title": row["true_title"],
                "title_verified": not UNVERIFIED_TITLE.search(row["true_title"]),
                "authors": [],
                "published": date_from_arxiv_id(arxiv_id).isoformat(),
                "categories": [],
                "primary_category": None,
            }
    return papers


def apply_verified_facts(papers: dict[str, dict], path: Path) -> None:
    """Titles and author lists checked by hand replace the facts table's unverified ones."""
    if not path.exists():
        return
    for paper_id, checked in json.loads(path.read_text(encoding="utf-8"))["papers"].items():
        paper = papers.get(paper_id)
        if paper is None:
            continue
        if checked.get("authors"):
            paper["authors"] = list(checked["authors"])
        if checked.get("title"):
            paper["title"] = checked["title"]
            paper["title_verified"] = True


# The table marks titles it could not check: "SphereFace (full arXiv title not shown in source; ?)".
UNVERIFIED_TITLE = re.compile(r"\((?:[^)]*not shown[^)]*|[^)]*\?)\)\s*$")


def take_unverified_titles_from_citations(papers: dict[str, dict], lists: list[dict]) -> None:
    """Where the facts table could not verify a title, use the title the list's citation gives
    (a fact from the list itself); an online refresh replaces it with arXiv's."""
    for reading_list in lists:
        for mention in reading_list["mentions"]:
            paper = papers.get(mention.get("paper_id") or "")
            if paper is not None and not paper.get("title_verified", True) and mention["title"]:
                paper["title"] = mention["title"]
                paper["title_verified"] = True
    for paper in papers.values():
        if not paper.pop("title_verified", True):
            paper["title"] = UNVERIFIED_TITLE.sub("", paper["title"]).strip()


def comparable(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", clean_text(text).lower())


def facts_resolutions(facts_dir: Path) -> list[tuple[str, str, str]]:
    """(seed file number, comparable reference, arXiv id) for the on-arXiv text references."""
    return [
        (
            row["seed_file"],
            comparable(row["reference_as_written"]),
            row["resolved_arxiv_id"].strip(),
        )
        for row in read_tsv(facts_dir / "text_references.tsv")
        if row["status"] == "on-arxiv" and row["resolved_arxiv_id"].strip()
    ]


def seed_number(location: str) -> str:
    return Path(location).name.split("_", 1)[0]


def proto_lists(settings: Settings, resolutions: list[tuple[str, str, str]]) -> list[dict]:
    """The lists as parsed, their text citations resolved by the facts table."""
    lists = []
    for loaded in load_lists(load_sources(settings), [], None, offline=True, timeout=10):
        number = seed_number(loaded.source.location)
        mentions = []
        for mention in loaded.parsed.mentions:
            entry = {
                "section": mention.section,
                "link_text": mention.link_text,
                "line": mention.line,
                "kind": mention.kind,
                "url": mention.url,
                "arxiv_id": mention.arxiv_id,
                "version": mention.version,
                "doi": mention.doi,
                "title": mention.title,
                "year": mention.year,
                "reference": mention.reference,
            }
            if mention.kind != ARXIV:
                paper_id = _facts_match(number, mention, resolutions)
                if paper_id:
                    entry.update(
                        paper_id=paper_id,
                        resolution="facts",
                        resolution_detail="resolved in the verified facts table",
                    )
            mentions.append(entry)
        lists.append({"name": loaded.source.name, "location": "", "mentions": mentions})
    return lists


def _facts_match(number: str, mention, resolutions: list[tuple[str, str, str]]) -> str | None:
    """The facts row of the same seed file whose reference contains the mention's text (the
    table keeps Markdown and emoji as written: '**Paper:** [Audiobox: ...](url)')."""
    for text in (mention.reference, mention.link_text, mention.title):
        key = comparable(text or "")[:60]  # the table cuts references at 200 characters
        if len(key) < 6:
            continue
        for seed, reference, arxiv_id in resolutions:
            if seed == number and (key in reference or reference in key):
                return arxiv_id
    return None


def read_annotations(path: Path) -> dict[str, dict]:
    """Notes, aliases, topics and builds_on by arXiv id, from a notes file or a snapshot."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and "papers" in data:
        return {paper["id"]: paper for paper in data["papers"]}
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--facts", type=Path, default=HERE.parent.parent / "shared" / "catalogue")
    parser.add_argument("--notes", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE / "snapshot.json")
    args = parser.parse_args()

    notes = read_annotations(args.notes or args.out)
    papers = fact_papers(args.facts)
    apply_verified_facts(papers, HERE / "verified_facts.json")
    for paper_id, paper in papers.items():
        annotation = notes.get(paper_id, {})
        paper.update(
            note=annotation.get("note"),
            aliases=annotation.get("aliases", []),
            topic=annotation.get("topic"),
            builds_on=annotation.get("builds_on", []),
            compares_with=annotation.get("compares_with", []),
        )
    missing_notes = sorted(set(papers) - set(notes))
    if missing_notes:
        print(f"no note for: {', '.join(missing_notes)}", file=sys.stderr)

    with tempfile.TemporaryDirectory() as work:
        settings = Settings.load(data_dir=Path(work) / "db", ingest_dir=HERE)
        lists = proto_lists(settings, facts_resolutions(args.facts))
        take_unverified_titles_from_citations(papers, lists)
        proto_file = Path(work) / "proto-snapshot.json"
        proto = {"format": SNAPSHOT_FORMAT, "papers": list(papers.values()), "lists": lists}
        write_snapshot(proto, proto_file)
        report = refresh_catalogue(
            settings, offline=True, update_index=False, snapshot=load_snapshot(proto_file)
        )
        print(report.summary(), file=sys.stderr)
        store = open_db(settings.db_url)
        snapshot = snapshot_from_catalogue(store)
        for paper in snapshot["papers"]:
            paper["compares_with"] = papers.get(paper["id"], {}).get("compares_with", [])
        write_snapshot(snapshot, args.out)
        store.dispose()
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
