"""Helpers shared by the command modules: settings from the Typer context, the store, output.

Imports `config` and, lazily, `store`. Command modules import this; nothing imports them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import typer

from speechgraph.config import Settings


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
    from speechgraph.catalogue.store import open_db

    store = open_db(settings_of(ctx).db_url, create=False)
    try:
        yield store
    finally:
        store.dispose()


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def progress_printer(ctx: typer.Context) -> Callable[[str, int, int], None]:
    """A progress callback drawing one bar per stage on stderr; silent when not a terminal."""
    if state_of(ctx).quiet or not sys.stderr.isatty():
        return lambda stage, done, total: None
    shown: dict[str, int] = {}

    def show(stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{stage:<12} [{bar}] {done}/{total}")
        if done >= total and shown.get(stage) != done:
            sys.stderr.write("\n")
        shown[stage] = done
        sys.stderr.flush()

    return show


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
