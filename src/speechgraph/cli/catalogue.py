"""Catalogue commands: refresh, list, show, audit, snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from speechgraph.cli.common import (
    DEFAULT_WAIT,
    Scope,
    WaitOption,
    opened_store,
    print_json,
    progress_bars,
    say_on_stderr,
    scope_option,
    settings_of,
    table,
    table_header,
    table_row,
)
from speechgraph.text import shorten

if TYPE_CHECKING:
    from speechgraph.records import PaperView

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def refresh(
    ctx: typer.Context,
    offline: Annotated[
        bool, typer.Option(help="Touch no network: build from ingest/snapshot.json")
    ] = False,
    full: Annotated[
        bool, typer.Option(help="Fetch every paper again, not only new or stale")
    ] = False,
    list_: Annotated[
        list[str] | None,
        typer.Option("--list", help="Another reading list to read (path or URL); repeatable"),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Name of the --list list (default: its file name, no extension)"),
    ] = None,
    citations: Annotated[
        bool, typer.Option(help="Fetch references from the citation service (online)")
    ] = True,
    json_output: JsonFlag = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Read the reading lists and bring the catalogue up to date (one transaction).

    Exit codes: 0 every arXiv paper the lists link is in the catalogue; 3 the run completed
    but some linked arXiv papers could not be catalogued (their count is in the last line and
    in --json; unresolved text citations and other links never make it 3); 1 the run could not
    do its job (bad input, another writer past --wait, a write failure: one line on stderr);
    2 a usage error.
    """
    from speechgraph.update.refresh import refresh_catalogue

    with progress_bars(ctx) as show:
        report = refresh_catalogue(
            settings_of(ctx),
            offline=offline,
            full=full,
            extra_lists=list_ or [],
            list_name=name,
            citations=citations,
            progress=show,
            wait=wait,
            announce=say_on_stderr,
        )
    if json_output:
        print_json(report.to_json())
        raise typer.Exit(report.exit_code())
    rows = [
        [item["name"], item["origin"], str(item["mentions"]), str(item["papers"])]
        for item in report.lists
    ]
    typer.echo(table(rows, ["list", "read from", "mentions", "papers"]))
    for failure in report.failed:
        typer.echo(f"failed: {failure['id']}: {failure['reason']}")
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(report.summary())
    raise typer.Exit(report.exit_code())


def list_papers(
    ctx: typer.Context,
    json_output: JsonFlag = False,
    reading_list: Annotated[
        str | None, typer.Option("--in", help="Only papers mentioned in this reading list")
    ] = None,
    scope: Annotated[Scope, scope_option(Scope.lists, "Which papers")] = Scope.lists,
) -> None:
    """List the papers of the catalogue, oldest first (the field's, by id, streamed)."""
    from speechgraph.catalogue.queries import iter_papers, load_papers, require_papers

    with opened_store(ctx) as store:
        require_papers(store)
        if scope is Scope.field and not reading_list:
            _print_papers((paper for chunk in iter_papers(store) for paper in chunk), json_output)
            return
        papers = [paper for paper in load_papers(store) if paper.listed]
    if reading_list:
        papers = [paper for paper in papers if reading_list in paper.lists]
    _print_papers(iter(papers), json_output)


def _print_papers(papers: Iterator[PaperView], json_output: bool) -> None:
    """The papers as one JSON document of the paper contract (`{"papers": [...]}`) written
    paper by paper, or as a table; memory stays at one paper either way."""
    count = 0
    if json_output:
        typer.echo('{"papers": [', nl=False)
        for paper in papers:
            text = json.dumps(paper.to_json(), ensure_ascii=False, default=str)
            typer.echo(("," if count else "") + "\n" + text, nl=False)
            count += 1
        typer.echo("\n]}")
        return
    typer.echo(table_header(["id", "year", "title"], [10, 4, 70]))
    for paper in papers:
        typer.echo(
            table_row([paper.id, str(paper.year or ""), shorten(paper.title, 70)], [10, 4, 70])
        )
        count += 1
    typer.echo(f"{count} papers")


def show(
    ctx: typer.Context,
    paper_id: Annotated[
        str, typer.Argument(help="arXiv id (any version or URL form) or a name like VITS")
    ],
    json_output: JsonFlag = False,
) -> None:
    """Show one paper: facts, our note or the abstract, where it was listed, links."""
    from speechgraph.catalogue.queries import get_paper
    from speechgraph.knowledge.names import find_paper

    with opened_store(ctx) as store:
        paper = get_paper(store, find_paper(store, paper_id))
    if json_output:
        print_json(paper.to_json())
        return
    typer.echo(f"{paper.id}  {paper.title}")
    typer.echo(f"{', '.join(paper.authors) or 'authors unknown'} ({paper.year or 'year unknown'})")
    if paper.categories:
        typer.echo(f"categories: {', '.join(paper.categories)}")
    if paper.abstract:
        typer.echo(f"\nabstract (arXiv):\n{paper.abstract}")
    if paper.note:
        typer.echo(f"\nnote (ours, not an abstract):\n{paper.note}")
    typer.echo(f"\n{paper.abs_url}\n{paper.pdf_url}")
    for mention in paper.mentions:
        typer.echo(f"listed in {mention.list} > {mention.section} as {mention.link_text!r}")
    for resource in paper.resources:
        typer.echo(f"{resource.kind}: {resource.url}")


def audit(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """Report mislabelled links, papers linked in several forms, and what did not resolve."""
    from speechgraph.catalogue.queries import require_papers
    from speechgraph.knowledge.audit import audit_catalogue

    with opened_store(ctx) as store:
        require_papers(store)
        report = audit_catalogue(store)
    if json_output:
        print_json(report.to_json())
        return
    typer.echo(f"Mislabelled links ({len(report.mislabelled)}):")
    for item in report.mislabelled:
        typer.echo(
            f"  {item['list']}:{item['line']} [{item['link_text']}] -> {item['linked_id']} "
            f"({shorten(item['linked_title'], 60)}): {item['reason']}"
        )
    typer.echo(f"Papers linked in several forms ({len(report.several_forms)}):")
    for item in report.several_forms:
        typer.echo(f"  {item['id']} {shorten(item['title'] or '', 50)}: {'; '.join(item['forms'])}")
    for heading, items in (
        ("Links that did not resolve", report.unresolved_links),
        ("Text citations not resolved", report.unresolved_citations),
    ):
        typer.echo(f"{heading} ({len(items)}):")
        for item in items:
            typer.echo(
                f"  {item['list']}:{item['line']} "
                f"{shorten(item['reference'], 70)}: {item['reason']}"
            )


def snapshot(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option(help="Where to write (default: ingest/snapshot.json)")
    ] = None,
) -> None:
    """Write the offline snapshot (facts, notes, mentions; never abstracts) of the catalogue."""
    from speechgraph.catalogue.queries import require_papers
    from speechgraph.catalogue.snapshot import snapshot_from_catalogue, write_snapshot

    target = out or settings_of(ctx).snapshot_file
    with opened_store(ctx) as store:
        require_papers(store)
        data = snapshot_from_catalogue(store)
    write_snapshot(data, target)
    typer.echo(f"wrote {target}: {len(data['papers'])} papers, {len(data['lists'])} lists")


def upgrade(
    ctx: typer.Context, json_output: JsonFlag = False, wait: WaitOption = DEFAULT_WAIT
) -> None:
    """Bring a catalogue written by an earlier release to this release's schema (a SQLite
    catalogue is copied aside first). Every command does this on opening one; this does only it."""
    from speechgraph.update.reindex import upgrade_catalogue

    result = upgrade_catalogue(settings_of(ctx), wait=wait, announce=say_on_stderr)
    if json_output:
        print_json(result)
    elif result["upgraded_from"] is None:
        typer.echo(f"the catalogue is at schema {result['schema']}: nothing to upgrade")
    else:
        kept = f"; the previous catalogue is kept in {result['backup']}" if result["backup"] else ""
        typer.echo(
            f"upgraded the catalogue from schema {result['upgraded_from']} to "
            f"{result['schema']}{kept}"
        )


COMMANDS = {
    "refresh": refresh,
    "list": list_papers,
    "show": show,
    "audit": audit,
    "snapshot": snapshot,
    "upgrade": upgrade,
}
