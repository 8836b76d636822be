"""The `speechgraph` command line: a thin Typer app over the library.

Commands live in `catalogue`, `field`, `search`, `graph`, `lists` and `ui`; this module builds the
app, its shared options and its one error handler. Heavy libraries are imported inside command
bodies so that `speechgraph --help` starts instantly.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from speechgraph.cli import catalogue as cli_catalogue
from speechgraph.cli import field as cli_field
from speechgraph.cli import graph as cli_graph
from speechgraph.cli import lists as cli_lists
from speechgraph.cli import search as cli_search
from speechgraph.cli import ui as cli_ui
from speechgraph.cli.common import CliState
from speechgraph.config import Settings
from speechgraph.errors import SpeechgraphError


class _Group(TyperGroup):
    """Turns library errors into one line on stderr and exit code 1 (a traceback with --debug)."""

    def invoke(self, ctx: Any) -> Any:  # a click Context (Typer vendors its own click)
        try:
            return super().invoke(ctx)
        except SpeechgraphError as error:
            if isinstance(ctx.obj, CliState) and ctx.obj.debug:
                raise
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("interrupted: the catalogue was left as it was", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Turn reading lists of speech-AI papers into a searchable knowledge graph.",
)


@app.callback()
def options(
    ctx: typer.Context,
    db_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the catalogue [env SPEECHGRAPH_DB_URL]")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Directory for the database, index and caches [env SPEECHGRAPH_DATA_DIR]"
        ),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Embedding model name or path [env SPEECHGRAPH_MODEL]"),
    ] = None,
    curation: Annotated[
        str | None,
        typer.Option(
            help="on: use our curation (notes, aliases, curated lists); off: the data alone "
            "[env SPEECHGRAPH_CURATION]"
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Debug logging on stderr")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of errors")] = False,
) -> None:
    """Options shared by every command."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    settings = Settings.load(db_url=db_url, data_dir=data_dir, model=model, curation=curation)
    ctx.obj = CliState(settings=settings, quiet=quiet, debug=debug)


def _register(commands: Mapping[str, Callable[..., None]]) -> None:
    for name, function in commands.items():
        app.command(name)(function)


for _module in (cli_catalogue, cli_field, cli_search, cli_graph, cli_ui):
    _register(_module.COMMANDS)
app.add_typer(cli_lists.app, name="lists")


def main() -> None:
    """Console-script entry point."""
    app()
