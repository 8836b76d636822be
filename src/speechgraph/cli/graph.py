"""Graph commands: prereqs, path, clusters, export.

networkx, scikit-learn and FAISS load inside the command bodies so `speechgraph --help` stays
instant. Errors are SpeechgraphError subclasses; `cli.py` prints them on one line.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from speechgraph.cli.common import (
    Scope,
    opened_store,
    print_json,
    scope_option,
    settings_of,
    table,
)
from speechgraph.files import atomic_path
from speechgraph.text import shorten

if TYPE_CHECKING:
    from speechgraph.graph.build import Embeddings, Knowledge
    from speechgraph.records import PaperView

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


class ExportFormat(StrEnum):
    bibtex = "bibtex"
    csv = "csv"
    jsonl = "jsonl"
    graphml = "graphml"
    json = "json"


def _knowledge(
    ctx: typer.Context,
    *,
    with_embeddings: bool = True,
    around: list[str] | None = None,
    depth: int = 3,
) -> tuple[Knowledge, Embeddings | None]:
    """The knowledge graph (of the neighbourhood `around` needs, or of the catalogue), with
    similar-paper links from the search index when it matches the model, and the vectors it
    used, unless `with_embeddings` is off."""
    from speechgraph.graph.build import index_neighbours, load_knowledge

    with opened_store(ctx) as store:
        if not with_embeddings:
            return load_knowledge(store, around=around, depth=depth), None
        neighbours = index_neighbours(settings_of(ctx), store)
        knowledge = load_knowledge(store, neighbours, around=around, depth=depth)
        return knowledge, neighbours.embeddings


def _paper_ids(ctx: typer.Context, *names: str) -> list[str]:
    """The catalogue ids the user means (ids in any form, names, titles)."""
    from speechgraph.catalogue.queries import require_papers
    from speechgraph.knowledge.names import find_paper

    with opened_store(ctx) as store:
        require_papers(store)
        return [find_paper(store, name) for name in names]


def _echo_notes(knowledge: Knowledge) -> None:
    for note in knowledge.notes:
        typer.echo(f"note: {note}", err=True)


def prereqs(
    ctx: typer.Context,
    paper_id: Annotated[str, typer.Argument(help="arXiv id (any form) or a name such as VITS")],
    depth: Annotated[int, typer.Option(help="How many links back to follow (1-8)")] = 3,
    json_output: JsonFlag = False,
) -> None:
    """What to read before a paper, in order, each step with its evidence and a confidence."""
    from speechgraph.graph.plans import because, prerequisites

    (target,) = _paper_ids(ctx, paper_id)
    knowledge, _ = _knowledge(ctx, around=[target], depth=max(1, min(depth, 8)))
    plan = prerequisites(knowledge.graph, target, depth)
    if json_output:
        print_json(plan.to_json())
        return
    _echo_notes(knowledge)
    typer.echo(f"Before {plan.target} {plan.title}, read:")
    for number, step in enumerate(plan.steps, start=1):
        typer.echo(
            f"{number:>3}. {step.id}  {step.title} ({step.year or '?'})  {step.confidence:.2f}"
            f"  [{step.relation.replace('_', ' ')}]"
        )
        typer.echo(f"       because {because(step.evidence)}")
    if plan.message:
        typer.echo(plan.message)
    typer.echo(f"{len(plan.steps)} papers to read first (depth {plan.depth})")


def path(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="The older paper: arXiv id or name")],
    target: Annotated[str, typer.Argument(help="The newer paper: arXiv id or name")],
    json_output: JsonFlag = False,
) -> None:
    """How one paper leads to another: a path forward in time, each hop explained."""
    from speechgraph.graph.plans import find_path

    start, end = _paper_ids(ctx, source, target)
    knowledge, _ = _knowledge(ctx, around=[start, end])
    result = find_path(knowledge.graph, start, end)
    if json_output:
        print_json(result.to_json())
        return
    _echo_notes(knowledge)
    shown = result if result.found else result.alternative
    if result.message:
        typer.echo(result.message)
    if shown is None:
        typer.echo("no alternative path either")
        return
    if shown is not result and shown.message:
        typer.echo(shown.message)
    for step in shown.steps:
        via = f"  <- {step.via.kind}: {step.via.evidence}" if step.via else ""
        typer.echo(f"{step.id}  {step.title} ({step.year or '?'}){via}")
    typer.echo(f"{len(shown.steps) - 1} hops, confidence {shown.confidence:.2f}")


def clusters(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """Topic clusters of the catalogue with their labels, quality figures and map coordinates."""
    from speechgraph.graph.topics import cluster_catalogue
    from speechgraph.update.topics import topics_report
    from speechgraph.views.graph import describe_clustering

    with opened_store(ctx) as store:
        report = topics_report(settings_of(ctx), store)
    if report is None:
        knowledge, embeddings = _knowledge(ctx)
        report = cluster_catalogue(knowledge, embeddings)
        if not json_output:
            _echo_notes(knowledge)
    if json_output:
        print_json(report.to_json())
        return
    rows = [
        [str(c.id), str(len(c.members)), c.label, " ".join(c.members[:4])] for c in report.clusters
    ]
    typer.echo(table(rows, ["id", "papers", "label", "first members"]))
    typer.echo(describe_clustering(report))
    if report.message:
        typer.echo(report.message)


def export(
    ctx: typer.Context,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="bibtex, csv, jsonl (for `speechgraph import`), graphml or json (with the graph)",
        ),
    ] = ExportFormat.json,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout")] = None,
    scope: Annotated[Scope, scope_option(Scope.lists, "Which papers")] = Scope.lists,
) -> None:
    """Export the catalogue (and, for graphml and json, the knowledge graph of its papers).

    bibtex, csv and jsonl stream the papers one by one, so the field of any size fits.
    """
    from speechgraph.catalogue.queries import iter_papers, load_papers
    from speechgraph.errors import ConfigError
    from speechgraph.graph.export import GRAPH_FORMATS, write_export

    export_format_name = export_format.value
    with opened_store(ctx) as store:
        if export_format_name in GRAPH_FORMATS:
            knowledge, _ = _knowledge(ctx, with_embeddings=True)
            papers: Iterable[PaperView] = [
                paper for paper in knowledge.papers if scope is Scope.field or paper.listed
            ]
            graph = knowledge.graph.subgraph([paper.id for paper in papers])
        elif scope is Scope.field:
            papers = (paper for chunk in iter_papers(store) for paper in chunk)
            graph = None
        else:
            papers = [paper for paper in load_papers(store) if paper.listed]
            graph = None
        try:
            with _output(out) as stream:
                count = write_export(papers, export_format_name, stream, graph)
        except OSError as error:
            raise ConfigError(
                f"cannot write {out} ({error.strerror}): choose another --out"
            ) from None
    if out is not None:
        typer.echo(f"wrote {out}: {count} papers as {export_format_name}", err=True)


@contextmanager
def _output(out: Path | None) -> Iterator[TextIO]:
    """stdout, or the file `out` (a .gz name is compressed); written whole or not at all."""
    if out is None:
        yield sys.stdout
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as temporary:
        opener = gzip.open if out.suffix == ".gz" else open
        with opener(temporary, "wt", encoding="utf-8") as stream:
            yield stream


def missing(
    ctx: typer.Context,
    reading_list: Annotated[
        str, typer.Argument(help="A reading list's name, or a path or URL to read and add first")
    ],
    section: Annotated[
        str | None, typer.Option(help="Only for the sections whose name contains this")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, help="How many suggestions")] = 20,
    online: Annotated[
        bool, typer.Option(help="Fetch the list's papers the catalogue lacks from arXiv")
    ] = False,
    json_output: JsonFlag = False,
) -> None:
    """What a reading list is missing: papers of the field its papers build on, compare with
    or cite, or that sit among a section's papers in meaning, each with its evidence."""
    from speechgraph.graph.missing import find_missing
    from speechgraph.lists.registry import is_list_location, source_from_argument

    name = reading_list
    if is_list_location(reading_list):
        from speechgraph.update.refresh import refresh_catalogue

        name = source_from_argument(reading_list).name
        refresh_catalogue(
            settings_of(ctx), offline=not online, extra_lists=[reading_list], citations=online
        )
    with opened_store(ctx) as store:
        report = find_missing(settings_of(ctx), store, name, section=section, k=k)
    if json_output:
        print_json(report.to_json())
        return
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"{report.list_name} may be missing:")
    for number, suggestion in enumerate(report.suggestions, start=1):
        typer.echo(
            f"{number:>3}. {suggestion.id}  {suggestion.title} ({suggestion.year or '?'})"
            f"  {suggestion.score:.2f}  [{suggestion.section}]"
        )
        for line in suggestion.evidence[:2]:
            typer.echo(f"       {shorten(line, 150)}")
    if not report.suggestions:
        typer.echo("  nothing: no paper of the field relates to the list's papers")


COMMANDS = {
    "prereqs": prereqs,
    "path": path,
    "clusters": clusters,
    "missing": missing,
    "export": export,
}
