"""What the command modules share: settings from the Typer context, the store, JSON and table
output, and Rich progress bars. Command modules import this; nothing imports them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from speechgraph.config import DEFAULT_WAIT_SECONDS, Settings


@dataclass
class CliState:
    settings: Settings
    quiet: bool = False
    debug: bool = False


def state_of(ctx: typer.Context) -> CliState:
    state = ctx.find_root().obj
    if not isinstance(state, CliState):  # a command invoked without the app callback (tests)
        state = CliState(settings=Settings.load())
        ctx.find_root().obj = state
    return state


def settings_of(ctx: typer.Context) -> Settings:
    return state_of(ctx).settings


@contextmanager
def opened_store(ctx: typer.Context) -> Iterator[Any]:
    """The catalogue for a command that only reads it (never created here), closed afterwards."""
    from speechgraph.catalogue.store import open_catalogue

    store = open_catalogue(settings_of(ctx), create=False)
    try:
        yield store
    finally:
        store.dispose()


class Scope(StrEnum):
    """Which papers a command looks at: those the reading lists mention, or the whole field."""

    lists = "lists"
    field = "field"


def scope_option(default: Scope, what: str) -> Any:
    return typer.Option(
        "--scope", help=f"{what}: the papers the reading lists mention, or the whole field"
    )


WaitOption = Annotated[
    float,
    typer.Option(
        "--wait",
        metavar="SECONDS",
        min=0,
        help="How long to wait while another process writes the catalogue (it is named once on "
        "stderr) before giving up with exit code 1",
    ),
]
DEFAULT_WAIT = DEFAULT_WAIT_SECONDS


def say_on_stderr(message: str) -> None:
    """How a writer says, once, that it waits for another one."""
    typer.echo(message, err=True)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@contextmanager
def progress_bars(ctx: typer.Context) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback `show(stage, done, total)` drawing one Rich bar per stage on stderr,
    with counts, rate, elapsed time and ETA; silent with --quiet or when stderr is no terminal."""
    if state_of(ctx).quiet or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as progress:
        tasks: dict[str, Any] = {}

        def show(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total or None, rate="")
            task = tasks[stage]
            progress.update(task, completed=done, total=total or None)
            speed = progress.tasks[task].speed
            progress.update(task, rate=f"{speed:,.0f}/s" if speed else "")

        yield show


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain text table, column widths fitted to the content."""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False))
        for row in [headers, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def table_header(headers: list[str], widths: list[int]) -> str:
    """The header line of a table printed row by row (`table_row`), columns of `widths`."""
    return table_row(headers, widths)


def table_row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
