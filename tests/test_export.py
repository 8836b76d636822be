"""Export as BibTeX, CSV, GraphML and JSON, through the library and the `export` command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from speechgraph.catalogue.queries import load_papers
from speechgraph.cli.app import app
from speechgraph.errors import ConfigError
from speechgraph.graph.edges import build_graph
from speechgraph.graph.export import CSV_COLUMNS, export_catalogue
from speechgraph.knowledge.derive import relations_among
from speechgraph.records import PaperView
from test_graph import write_catalogue


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/x.db"
    write_catalogue(url)
    return url


@pytest.fixture
def papers(db_url: str) -> list[PaperView]:
    from speechgraph.catalogue import store

    catalogue = store.open_db(db_url)
    return load_papers(catalogue)


def test_bibtex_entries(papers: list[PaperView]) -> None:
    text = export_catalogue(papers, "bibtex")
    assert text.count("@misc{") == len(papers)
    assert "@misc{oord2016wavenet," in text
    assert "  title = {{WaveNet: A Generative Model for Raw Audio}}," in text
    assert "  author = {Aaron van den Oord and Heiga Zen}," in text
    assert "  eprint = {1609.03499},\n  archivePrefix = {arXiv}," in text
    keys = [line.split("{")[1].rstrip(",") for line in text.splitlines() if line.startswith("@")]
    assert len(set(keys)) == len(keys)


def test_csv_rows(papers: list[PaperView]) -> None:
    rows = list(csv.DictReader(io.StringIO(export_catalogue(papers, "csv"))))
    assert len(rows) == len(papers)
    assert tuple(rows[0]) == CSV_COLUMNS
    vits = next(row for row in rows if row["id"] == "2106.06103")
    assert vits["year"] == "2021"
    assert vits["aliases"] == "VITS"
    assert vits["sections"] == "awesome-speech > Text to Speech"
    assert vits["url"] == "https://arxiv.org/abs/2106.06103"


def test_graphml_round_trips_edges(papers: list[PaperView]) -> None:
    graph = build_graph(papers, [("2106.06103", "2010.05646")], relations=relations_among(papers))
    loaded = nx.parse_graphml(export_catalogue(papers, "graphml", graph))
    assert loaded.number_of_nodes() == len(papers)
    assert loaded.number_of_edges() == graph.number_of_edges()
    assert loaded.nodes["2106.06103"]["published"] == "2021-06-11"
    kinds = {data["kind"] for _, _, data in loaded.edges(data=True)}
    assert {"cites", "builds_on", "co_listed"} <= kinds


def test_json_has_papers_and_edges(papers: list[PaperView]) -> None:
    graph = build_graph(papers, [])
    document = json.loads(export_catalogue(papers, "json", graph))
    assert len(document["papers"]) == len(papers)
    assert document["papers"][0]["id"] == papers[0].id
    assert len(document["edges"]) == graph.number_of_edges()
    assert set(document["edges"][0]) >= {"source", "target", "kind", "evidence", "confidence"}


def test_unknown_format(papers: list[PaperView]) -> None:
    with pytest.raises(ConfigError, match="unknown export format"):
        export_catalogue(papers, "docx")


def test_export_command(db_url: str, tmp_path: Path) -> None:
    base = ["--db-url", db_url, "--data-dir", str(tmp_path / "data"), "export"]
    runner = CliRunner()
    out = tmp_path / "out" / "catalogue.bib"
    result = runner.invoke(app, [*base, "--format", "bibtex", "--out", str(out)])
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").count("@misc{") == 12  # the listed papers
    assert "wrote" in result.stderr
    field = runner.invoke(app, [*base, "--format", "bibtex", "--scope", "field"])
    assert field.stdout.count("@misc{") == 17  # and the rest of the catalogue
    printed = runner.invoke(app, [*base, "--format", "csv"])
    assert printed.exit_code == 0
    assert printed.stdout.startswith("id,title,authors")
    wrong = runner.invoke(app, [*base, "--format", "docx"])
    assert wrong.exit_code == 2
    blocked = runner.invoke(app, [*base, "--out", str(tmp_path / "x.db" / "f.json")])
    assert blocked.exit_code == 1
    assert "cannot write" in blocked.stderr


def bare_paper(paper_id: str, title: str, authors: list[str]) -> PaperView:
    return PaperView(paper_id, title, authors, 2020, None, [], None, None)


@pytest.mark.parametrize("first_author", ["", "   ", "?", "李"])
def test_bibtex_key_without_a_usable_surname(first_author: str) -> None:
    text = export_catalogue([bare_paper("2001.00001", "Neural Vocoders", [first_author])], "bibtex")
    assert text.startswith("@misc{anon2020neural,")


def test_bibtex_escapes_backslash_tilde_and_caret() -> None:
    title = r"A\B ~ x^2 & 50% of $1 #3 {a_b}"
    text = export_catalogue([bare_paper("2001.00001", title, ["Ada Lovelace"])], "bibtex")
    title_line = next(line for line in text.splitlines() if line.startswith("  title"))
    assert title_line == (
        r"  title = {{A\textbackslash{}B \textasciitilde{} x\textasciicircum{}2 \& 50\% of \$1 "
        r"\#3 \{a\_b\}}},"
    )


def test_bibtex_key_suffixes_go_on_after_z() -> None:
    papers = [
        bare_paper(f"2001.{number:05d}", "Neural Vocoders", ["Ada Lovelace"])
        for number in range(30)
    ]
    keys = [line[len("@misc{") : -1] for line in export_catalogue(papers, "bibtex").splitlines()
            if line.startswith("@misc{")]  # fmt: skip
    suffixes = [key.removeprefix("lovelace2020neural") for key in keys]
    assert suffixes[:3] == ["", "a", "b"]
    assert suffixes[26:30] == ["z", "aa", "ab", "ac"]
    assert len(set(keys)) == 30
    assert all(key.isalnum() for key in keys)
