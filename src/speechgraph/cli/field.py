"""Field commands: import arXiv metadata in bulk, harvest its updates, and where the catalogue
stands (status)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from speechgraph.cli.common import (
    DEFAULT_WAIT,
    WaitOption,
    print_json,
    progress_bars,
    say_on_stderr,
    settings_of,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
BatchSizeOption = Annotated[
    int,
    typer.Option(
        "--batch-size",
        min=1,
        help="Records per transaction: an interrupted run loses at most one batch, and a rerun "
        "skips what is stored",
    ),
]
BATCH_SIZE = 5000  # update.batches.BATCH_SIZE, not imported: `--help` must start instantly
CATEGORY_HELP = (
    "Categories to keep, comma-separated: codes (eess.AS), archives as prefixes (cs = all of "
    "cs), `speech` (the default: eess.AS, cs.SD and speech papers of cs.CL) or `all`"
)


def import_(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="arXiv metadata files: .jsonl, .json, .gz or .zip")
    ],
    format: Annotated[
        str | None,
        typer.Option("--format", help="arxiv (arXiv's metadata snapshot) or jsonl (ours)"),
    ] = None,
    category: Annotated[str | None, typer.Option("--category", help=CATEGORY_HELP)] = None,
    since: Annotated[
        str | None, typer.Option(help="Only papers first submitted on or after this date")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Only papers first submitted on or before this date")
    ] = None,
    json_output: JsonFlag = False,
    wait: WaitOption = DEFAULT_WAIT,
    batch_size: BatchSizeOption = BATCH_SIZE,
) -> None:
    """Import arXiv metadata in bulk (streamed; rerunning it changes nothing).

    Exit codes: 0 every line was good; 3 some lines were bad and the rest was imported (their
    count is in the last line and in --json); 1 nothing could be imported, or the run could
    not do its job (an unreadable file, another writer past --wait, a write failure: one line
    on stderr); 2 a usage error.
    """
    from speechgraph.update.importer import import_metadata

    with progress_bars(ctx) as show:
        report = import_metadata(
            settings_of(ctx),
            [str(path) for path in paths],
            format=format,
            categories=category,
            since=since,
            until=until,
            progress=show,
            batch_size=batch_size,
            wait=wait,
            announce=say_on_stderr,
        )
    if json_output:
        print_json(report.to_json())
    else:
        for problem in report.problems[:10]:
            typer.echo(
                f"bad line {problem['file']}:{problem['line']}: {problem['reason']}", err=True
            )
        typer.echo(
            f"{report.read} read: {report.imported} imported, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.skipped} skipped by the filter, "
            f"{report.bad} bad ({report.seconds:.1f} s); {report.without_vector} papers wait "
            "for `speechgraph index`"
        )
    raise typer.Exit(report.exit_code())


def harvest(
    ctx: typer.Context,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="OAI-PMH set to harvest (cs, eess, physics:…); repeatable"),
    ] = None,
    from_date: Annotated[
        str | None,
        typer.Option("--from", help="Harvest changes from this date (default: the last harvest)"),
    ] = None,
    until: Annotated[str | None, typer.Option(help="Harvest changes up to this date")] = None,
    category: Annotated[str | None, typer.Option("--category", help=CATEGORY_HELP)] = None,
    json_output: JsonFlag = False,
    wait: WaitOption = DEFAULT_WAIT,
    batch_size: BatchSizeOption = BATCH_SIZE,
) -> None:
    """Bring the field up to date through arXiv's OAI-PMH interface (incremental: it starts
    where the last harvest ended).

    Exit codes: 0 every record was read; 3 some records were bad and the rest was stored; 1
    the run could not do its job (arXiv unreachable, another writer past --wait, a write
    failure: one line on stderr); 2 a usage error.
    """
    from speechgraph.update.harvest import DEFAULT_SETS, harvest_updates

    with progress_bars(ctx) as show:
        report = harvest_updates(
            settings_of(ctx),
            sets=tuple(sets or DEFAULT_SETS),
            from_date=from_date,
            until=until,
            categories=category,
            progress=show,
            batch_size=batch_size,
            wait=wait,
            announce=say_on_stderr,
        )
    if json_output:
        print_json(report.to_json())
    else:
        typer.echo(
            f"{report.read} harvested: {report.imported} new, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.skipped} skipped ({report.seconds:.1f} s); "
            f"{report.without_vector} papers wait for `speechgraph index`"
        )
    raise typer.Exit(report.exit_code())


def status(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """Where the catalogue stands: papers, listed papers, abstracts, vectors, origins, lists,
    the last import and harvest."""
    from speechgraph.views.status import catalogue_status_view

    view = catalogue_status_view(settings_of(ctx))
    if json_output:
        print_json(view)
        return
    for line in describe_status(view):
        typer.echo(line)


def describe_status(view: dict[str, Any]) -> list[str]:
    """The status as lines of text (origins and events worded as on the UI's Catalogue page)."""
    from speechgraph.views.status import describe_event, describe_origins

    lines = [
        f"{view['papers']} papers ({view['listed']} in reading lists); {view['with_abstract']} "
        f"with an abstract, {view['with_vector']} with a vector",
        f"from: {describe_origins(view)}",
        f"{view['lists']} reading lists; data directory {view['data_dir']}",
    ]
    for event in ("last_import", "last_harvest"):
        if view.get(event):
            lines.append(f"{event.replace('_', ' ')}: {describe_event(view[event])}")
    return lines


COMMANDS = {"import": import_, "harvest": harvest, "status": status}
