"""Search commands: search, similar, index.

Thin wrappers over `search`/`indexing`; those (and numpy, FAISS, ONNX Runtime) are imported inside
the command bodies so that `speechgraph --help` and the other commands start instantly.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

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
)

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]
KOption = Annotated[
    int, typer.Option("-k", "--k", min=1, help="How many results (at most 1000)", show_default=True)
]


def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help='What to look for, e.g. "neural vocoder"')],
    k: KOption = 10,
    mode: Annotated[
        str, typer.Option(help="hybrid (dense + keyword, fused), dense or lexical")
    ] = "hybrid",
    year_from: Annotated[int | None, typer.Option(help="Only papers from this year on")] = None,
    year_to: Annotated[int | None, typer.Option(help="Only papers up to this year")] = None,
    category: Annotated[
        str | None, typer.Option(help="Only this arXiv category (eess.AS) or archive (eess)")
    ] = None,
    list_name: Annotated[
        str | None, typer.Option("--list", help="Only papers mentioned in this reading list")
    ] = None,
    section: Annotated[
        str | None, typer.Option(help="Only papers listed under a section containing this text")
    ] = None,
    scope: Annotated[Scope, scope_option(Scope.field, "Where to search")] = Scope.field,
    json_output: JsonFlag = False,
) -> None:
    """Find papers by meaning and by keyword, across the field or in the reading lists; each
    hit says why it matched, and listed papers are marked."""
    from speechgraph.search.hybrid import Filters, Searcher

    filters = Filters(
        year_from, year_to, category, list_name, section, listed_only=scope is Scope.lists
    )
    lexical = mode.lower() == "lexical"
    with (
        opened_store(ctx) as store,
        Searcher(settings_of(ctx), store, load_vectors=not lexical) as searcher,
    ):
        result = searcher.search(query, k, mode.lower(), filters)
    if json_output:
        print_json(result.to_json())
        return
    if result.truncated:
        typer.echo("note: the query was long and was shortened", err=True)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    _print_hits([hit.to_json() for hit in result.results])


def similar(
    ctx: typer.Context,
    paper_id: Annotated[
        str,
        typer.Argument(help='arXiv id (any version or URL form), s2: id or a name like "VITS"'),
    ],
    k: KOption = 10,
    scope: Annotated[Scope, scope_option(Scope.field, "Where to look")] = Scope.field,
    json_output: JsonFlag = False,
) -> None:
    """Papers closest in meaning to one paper of the catalogue (listed papers are marked)."""
    from speechgraph.knowledge.names import find_paper
    from speechgraph.search.hybrid import Filters, Searcher

    filters = Filters(listed_only=True) if scope is Scope.lists else None
    with opened_store(ctx) as store:
        catalogue_id = find_paper(store, paper_id)
        with Searcher(settings_of(ctx), store) as searcher:
            hits = searcher.similar(catalogue_id, k, filters)
    results = [hit.to_json() for hit in hits]
    if json_output:
        print_json({"paper": catalogue_id, "results": results})
        return
    _print_hits(results)


class Engine(StrEnum):
    local = "local"
    ray = "ray"


def index(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option(help="Rebuild from scratch (cached embeddings are still reused)")
    ] = False,
    engine: Annotated[
        Engine,
        typer.Option(
            help="Where to embed: this process, or Ray Data actors (needs the ray extra: "
            "pip install 'speechgraph\\[ray]')"
        ),
    ] = Engine.local,
    address: Annotated[
        str | None,
        typer.Option(
            help="With --engine ray: the cluster to join, e.g. 10.0.0.5:6379 "
            "(default: a local Ray for this run)"
        ),
    ] = None,
    json_output: JsonFlag = False,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Bring the search indexes, and what the texts say (names, relations), up to date with the
    catalogue: embeds every paper that lacks a vector; does nothing when all is current.

    Exit codes: 0 done; 1 it could not be done (no catalogue, another writer past --wait, a
    write failure, a Ray cluster out of reach: one line on stderr); 2 a usage error.
    """
    from speechgraph.update.reindex import reindex

    if address and engine is not Engine.ray:
        raise typer.BadParameter("--address needs --engine ray", param_hint="--address")
    with progress_bars(ctx) as show:
        summary = reindex(
            settings_of(ctx),
            rebuild=rebuild,
            progress=show,
            wait=wait,
            announce=say_on_stderr,
            engine=engine.value,
            ray_address=address,
        )
    if json_output:
        print_json(summary)
        return
    typer.echo(describe_sync(summary))


def describe_sync(summary: dict[str, Any]) -> str:
    """The one-line summary of an index update."""
    where = f"{summary['kind']} index, catalogue version {summary['catalogue_version']}"
    knowledge = summary.get("knowledge") or {}
    known = (
        f"; relations read from {knowledge['papers']} papers' texts: {knowledge['relations']}"
        if knowledge.get("status") == "updated"
        else ""
    )
    if summary["status"] == "up-to-date":
        return f"search index up to date: {summary['papers']} papers ({where}){known}"
    return (
        f"indexed {summary['papers']} papers: {summary['embedded']} embedded, "
        f"{summary['added']} added or changed, {summary['removed']} removed ({where}){known}"
    )


def _print_hits(results: list[dict[str, Any]]) -> None:
    from speechgraph.text import shorten

    if not results:
        typer.echo("no papers match")
        return
    rows = [
        [
            str(rank),
            hit["id"],
            str(hit["year"] or ""),
            f"{hit['score']:.3f}",
            shorten(hit["title"], 58) + (" *" if hit.get("listed") else ""),
            ", ".join(hit["why"]["matched_terms"]),
        ]
        for rank, hit in enumerate(results, start=1)
    ]
    typer.echo(table(rows, ["#", "id", "year", "score", "title (* in a list)", "matched"]))


COMMANDS = {"search": search, "similar": similar, "index": index}
