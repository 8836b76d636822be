"""Export of the catalogue as BibTeX, CSV, JSON lines (our import format), GraphML or JSON (the
last two with the graph).

Takes paper views and the graph as plain data and returns text.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TextIO

import networkx as nx

from speechgraph.clients.bulk_formats import write_jsonl
from speechgraph.errors import ConfigError
from speechgraph.records import PaperRecord, PaperView

FORMATS = ("bibtex", "csv", "graphml", "json", "jsonl")
GRAPH_FORMATS = ("graphml", "json")  # the formats that carry the knowledge graph
# Spreadsheets run a cell that starts like this as a formula: such cells get a leading quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id", "title", "authors", "year", "published", "primary_category", "doi", "url",
    "topic", "aliases", "lists", "sections", "citation_count", "note",
)  # fmt: skip
# LaTeX specials: a backslash before most is enough, but `\\` starts a line break, `\~` and
# `\^` are accents, and a backslash itself needs a command.
_BIBTEX_SPECIAL = re.compile(r"[&%$#_{}\\~^]")
_BIBTEX_COMMANDS = {
    "\\": r"\textbackslash{}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def export_catalogue(
    papers: Sequence[PaperView], export_format: str, graph: nx.MultiDiGraph | None = None
) -> str:
    """The catalogue in `export_format` (one of FORMATS). Raises ConfigError for another."""
    buffer = io.StringIO()
    write_export(papers, export_format, buffer, graph)
    return buffer.getvalue()


def write_export(
    papers: Iterable[PaperView],
    export_format: str,
    stream: TextIO,
    graph: nx.MultiDiGraph | None = None,
) -> int:
    """Write the catalogue in `export_format` to `stream`; returns how many papers. BibTeX,
    CSV and JSON lines are written paper by paper (memory stays at one); the graph formats hold
    the papers and the graph whole. Raises ConfigError for an unknown format."""
    if export_format == "bibtex":
        return write_bibtex(papers, stream)
    if export_format == "csv":
        return write_csv(papers, stream)
    if export_format == "jsonl":
        return write_jsonl(
            (paper_record(paper) for paper in papers if paper.is_arxiv and not paper.is_stub),
            stream,
        )
    chosen = list(papers)
    if export_format == "graphml":
        stream.write(to_graphml(chosen, graph))
    elif export_format == "json":
        stream.write(to_json(chosen, graph))
    else:
        raise ConfigError(
            f"unknown export format {export_format!r}: use one of {', '.join(FORMATS)}"
        )
    return len(chosen)


def paper_record(paper: PaperView) -> PaperRecord:
    """A catalogue paper as the metadata record it was imported or fetched as."""
    return PaperRecord(
        arxiv_id=paper.id,
        title=paper.title,
        authors=list(paper.authors),
        published=paper.published,
        version=paper.version,
        categories=list(paper.categories),
        primary_category=paper.primary_category,
        abstract=paper.abstract,
        doi=paper.doi,
        journal_ref=paper.journal_ref,
        source=paper.source,
    )


# --- BibTeX --------------------------------------------------------------------------------------


def write_bibtex(papers: Iterable[PaperView], stream: TextIO) -> int:
    keys: set[str] = set()
    count = 0
    for paper in papers:
        stream.write(("\n" if count else "") + _bibtex_entry(paper, _unique_key(paper, keys)))
        count += 1
    return count


def _unique_key(paper: PaperView, taken: set[str]) -> str:
    """`surname` + year + first title word, with a, b, ..., z, aa, ab, ... appended on a clash."""
    first = paper.authors[0].split() if paper.authors and paper.authors[0] != "?" else []
    surname = _ascii(first[-1]) if first else ""
    words = [word for word in re.findall(r"[A-Za-z0-9]+", paper.title) if len(word) > 3]
    base = _ascii(f"{surname or 'anon'}{paper.year or ''}{words[0] if words else ''}").lower()
    key, suffix = base, 0
    while key in taken:
        suffix += 1
        key = f"{base}{_letters(suffix)}"
    taken.add(key)
    return key


def _letters(number: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa, 28 -> ab, ... (spreadsheet column names)."""
    letters = ""
    while number > 0:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("a") + remainder) + letters
    return letters


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]", "", folded)


def _bibtex_escape(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(
        lambda match: _BIBTEX_COMMANDS.get(match.group(), "\\" + match.group()), text
    )


def _bibtex_entry(paper: PaperView, key: str) -> str:
    fields: dict[str, str | None] = {
        "title": "{" + _bibtex_escape(paper.title) + "}",  # double braces keep capitals
        "author": " and ".join(_bibtex_escape(name) for name in paper.authors if name != "?"),
        "year": str(paper.year) if paper.year else None,
        "eprint": paper.id if paper.is_arxiv else None,
        "archivePrefix": "arXiv" if paper.is_arxiv else None,
        "primaryClass": paper.primary_category,
        "doi": paper.doi,
        "url": paper.abs_url,
    }
    lines = [f"  {name} = {{{value}}}," for name, value in fields.items() if value]
    return "@misc{" + key + ",\n" + "\n".join(lines) + "\n}\n"


# --- CSV -----------------------------------------------------------------------------------------


def write_csv(papers: Iterable[PaperView], stream: TextIO) -> int:
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for paper in papers:
        writer.writerow(_csv_row(paper))
        count += 1
    return count


def _csv_row(paper: PaperView) -> dict[str, Any]:
    return {
        name: _inert(value)
        for name, value in {
            "id": paper.id,
            "title": paper.title,
            "authors": "; ".join(paper.authors),
            "year": paper.year or "",
            "published": paper.published.isoformat() if paper.published else "",
            "primary_category": paper.primary_category or "",
            "doi": paper.doi or "",
            "url": paper.abs_url or "",
            "topic": paper.topic or "",
            "aliases": "; ".join(paper.aliases),
            "lists": "; ".join(paper.lists),
            "sections": "; ".join(f"{name} > {section}" for name, section in paper.sections),
            "citation_count": "" if paper.citation_count is None else paper.citation_count,
            "note": paper.note or "",
        }.items()
    }


def _inert(value: Any) -> Any:
    """A cell a spreadsheet shows as text: one starting like a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


# --- graph formats ------------------------------------------------------------------------------


def _graph_or_nodes(papers: Sequence[PaperView], graph: nx.MultiDiGraph | None) -> nx.MultiDiGraph:
    if graph is not None:
        return graph
    bare = nx.MultiDiGraph()
    bare.add_nodes_from((paper.id, {"title": paper.title, "year": paper.year}) for paper in papers)
    return bare


def _scalar(value: Any) -> str | int | float | bool | None:
    """GraphML holds only scalars: dates become ISO text, lists '; '-joined text."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return "; ".join(str(item) for item in value)
    return str(value)


def to_graphml(papers: Sequence[PaperView], graph: nx.MultiDiGraph | None) -> str:
    source = _graph_or_nodes(papers, graph)
    clean = nx.MultiDiGraph()
    for node, data in source.nodes(data=True):
        clean.add_node(node, **{k: _scalar(v) for k, v in data.items() if v is not None})
    for first, second, key, data in source.edges(keys=True, data=True):
        clean.add_edge(first, second, key=key, **{k: _scalar(v) for k, v in data.items()})
    return "\n".join(nx.generate_graphml(clean)) + "\n"


def to_json(papers: Sequence[PaperView], graph: nx.MultiDiGraph | None) -> str:
    source = _graph_or_nodes(papers, graph)
    edges = [
        {"source": first, "target": second, **{k: _scalar(v) for k, v in data.items()}}
        for first, second, data in source.edges(data=True)
    ]
    document = {"papers": [paper.to_json() for paper in papers], "edges": edges}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
