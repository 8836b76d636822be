"""The `speechgraph` command line: a thin Typer app (`app`) over the library, one module per
group of commands. Nothing imports it.

May import every package of the library.
"""

from speechgraph.cli.app import app, main

__all__ = ["app", "main"]
