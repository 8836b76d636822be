"""The `lists` commands: the reading lists the catalogue holds, and taking one back out."""

from __future__ import annotations

from typing import Annotated

import typer

from speechgraph.cli.common import (
    DEFAULT_WAIT,
    WaitOption,
    opened_store,
    print_json,
    say_on_stderr,
    settings_of,
    table,
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]

app = typer.Typer(
    add_completion=False,
    help="The reading lists in the catalogue: where each was read from, its mentions and "
    "papers, its last refresh; `lists remove NAME` takes one back out.",
)


@app.callback(invoke_without_command=True)
def lists(ctx: typer.Context, json_output: JsonFlag = False) -> None:
    """The reading lists in the catalogue (name, source path or URL, mentions, papers, last
    refresh); `lists remove NAME` takes one back out."""
    if ctx.invoked_subcommand is not None:
        return
    from speechgraph.catalogue.reading_lists import list_summaries

    with opened_store(ctx) as store:
        summaries = list_summaries(store)
    if json_output:
        print_json({"lists": [summary.to_json() for summary in summaries]})
        return
    if not summaries:
        typer.echo("no reading lists in the catalogue: run `speechgraph refresh`")
        return
    rows = [
        [
            summary.name,
            summary.location,
            str(summary.mentions),
            str(summary.papers),
            summary.read_at.strftime("%Y-%m-%d %H:%M") if summary.read_at else "never",
        ]
        for summary in summaries
    ]
    typer.echo(table(rows, ["list", "source", "mentions", "papers", "last refresh"]))
    typer.echo(f"{len(summaries)} reading lists")


@app.command()
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The list's name, as `speechgraph lists` shows it")],
    wait: WaitOption = DEFAULT_WAIT,
    json_output: JsonFlag = False,
) -> None:
    """Take a reading list out of the catalogue: its mentions, and the papers no other list and
    no import or harvest brought; the search index follows. A list of ingest/sources.toml comes
    back with the next `speechgraph refresh`.

    Exit codes: 0 removed; 1 no such list, another writer past --wait, or a write failure (one
    line on stderr); 2 a usage error.
    """
    from speechgraph.update.lists import remove_reading_list

    result = remove_reading_list(settings_of(ctx), name, wait=wait, announce=say_on_stderr)
    if json_output:
        print_json(result)
        return
    typer.echo(
        f"removed the list {result['list']}: {result['mentions']} mentions, "
        f"{len(result['papers_removed'])} papers no other list or import brought"
        + (f", {result['stubs_removed']} citation stubs" if result["stubs_removed"] else "")
    )
