"""What every page shares: settings, the heavy objects loaded once per process, error display,
the first-run build and the network figure. Layout only; the data comes from the library.

Heavy objects are `st.cache_resource` entries keyed on the database, data directory, model and
catalogue version, so a refresh (which bumps the version) makes the next page load fresh ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from speechgraph.catalogue.queries import catalogue_version, has_papers
from speechgraph.catalogue.store import Store
from speechgraph.catalogue.store import open_catalogue as open_catalogue_store
from speechgraph.config import Settings
from speechgraph.errors import SpeechgraphError
from speechgraph.graph.build import Embeddings, Knowledge, index_neighbours, load_knowledge
from speechgraph.graph.clusters import ClusterReport
from speechgraph.graph.topics import cluster_catalogue
from speechgraph.knowledge.names import find_paper
from speechgraph.search.hybrid import Searcher
from speechgraph.views.catalogue import escape_markdown
from speechgraph.views.graph import Drawing

SEARCH_PAGE = "app_pages/search.py"
PAPER_PAGE = "app_pages/paper.py"
PATH_PAGE = "app_pages/reading_path.py"
EDGE_COLOURS = {
    "cites": "#1f77b4",
    "builds_on": "#d62728",
    "similar": "#2ca02c",
    "co_listed": "#9467bd",
    "shares_author": "#8c564b",
}
CacheKey = tuple[str, str, str, int]


@contextmanager
def errors_shown(*, stop: bool = True) -> Iterator[None]:
    """Library errors become one `st.error` line (never a traceback). The page stops there, or
    with `stop=False` skips the rest of the block and goes on (for an optional section)."""
    try:
        yield
    except SpeechgraphError as error:
        st.error(escape_markdown(str(error)))
        if stop:
            st.stop()


def load_settings() -> Settings:
    try:
        return Settings.load()
    except SpeechgraphError as error:
        st.error(escape_markdown(str(error)))
        st.stop()


@st.cache_resource(max_entries=4, show_spinner=False)
def _store(db_url: str, curation: bool, _settings: Settings) -> Store:
    return open_catalogue_store(_settings)


@dataclass(frozen=True)
class Catalogue:
    """The open catalogue of this run: settings, store and the version its caches key on."""

    settings: Settings
    store: Store
    version: int

    @property
    def key(self) -> CacheKey:
        settings = self.settings
        # The index directory differs with and without curation, so it keys both.
        return (settings.db_url, str(settings.index_dir), settings.model, self.version)

    def searcher(self) -> Searcher:
        return _searcher(self.key, self.settings, self.store)

    def knowledge(self) -> tuple[Knowledge, Embeddings | None]:
        return _knowledge(self.key, self.settings, self.store)

    def topics(self) -> ClusterReport:
        return _topics(self.key, self.settings, self.store)


def open_catalogue() -> Catalogue:
    """This run's catalogue; on a first run with no papers, builds one offline first."""
    settings = load_settings()
    try:
        store = _store(settings.db_url, settings.curation, settings)
        version = catalogue_version(store)
        if not has_papers(store):
            build_first_catalogue(settings)
            st.rerun()
    except SpeechgraphError as error:
        st.error(escape_markdown(str(error)))
        st.stop()
    return Catalogue(settings, store, version)


@st.cache_resource(max_entries=2, show_spinner="Loading the search model and index…")
def _searcher(key: CacheKey, _settings: Settings, _store: Store) -> Searcher:
    searcher = Searcher(_settings, _store)
    searcher.encoder  # noqa: B018  (load the model now, not on the first query)
    return searcher


@st.cache_resource(max_entries=2, show_spinner="Building the knowledge graph…")
def _knowledge(
    key: CacheKey, _settings: Settings, _store: Store
) -> tuple[Knowledge, Embeddings | None]:
    neighbours = index_neighbours(_settings, _store)
    knowledge = load_knowledge(_store, neighbours)
    return knowledge, neighbours.embeddings


@st.cache_resource(max_entries=2, show_spinner="Finding topic clusters…")
def _topics(key: CacheKey, _settings: Settings, _store: Store) -> ClusterReport:
    knowledge, embeddings = _knowledge(key, _settings, _store)
    return cluster_catalogue(knowledge, embeddings)


# --- building and refreshing -----------------------------------------------------------------


@st.cache_resource
def _refresh_lock() -> threading.Lock:
    return threading.Lock()


def progress_reporter(bar: Any) -> Callable[[str, int, int], None]:
    """A refresh progress callback drawing on a `st.progress` bar."""

    def show(stage: str, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        bar.progress(min(1.0, max(0.0, fraction)), text=f"{stage}: {done} of {total}")

    return show


def run_refresh(settings: Settings, *, offline: bool) -> Any:
    """One refresh with a progress bar; returns the RefreshReport. Library errors propagate."""
    from speechgraph.update.refresh import refresh_catalogue

    bar = st.progress(0.0, text="starting…")
    with _refresh_lock():
        report = refresh_catalogue(settings, offline=offline, progress=progress_reporter(bar))
    bar.progress(1.0, text=report.summary())
    return report


def build_first_catalogue(settings: Settings) -> None:
    st.title("Welcome to speechgraph")
    st.info(
        "There is no catalogue yet, so one is being built now from the reading lists and the "
        "offline snapshot that ship with speechgraph (no network needed). This takes a minute."
    )
    with st.status("Building the catalogue offline…", expanded=True) as status:
        report = run_refresh(settings, offline=True)
        status.update(label=f"Catalogue built: {report.summary()}", state="complete")


# --- shared widgets --------------------------------------------------------------------------


def paper_from_url(catalogue: Catalogue, parameter: str = "id") -> str | None:
    """The paper a link asks for (`?id=` holds an id in any form, a name or a title). One the
    catalogue lacks stops the page with the reason, how to add it and a search link; it is
    never silently replaced by another paper."""
    raw = st.query_params.get(parameter)
    if not raw:
        return None
    try:
        return find_paper(catalogue.store, raw)
    except SpeechgraphError as error:
        st.error(escape_markdown(str(error)))
        st.page_link(
            SEARCH_PAGE, label=escape_markdown(f"Search for “{raw}”"), query_params={"q": raw}
        )
        st.stop()


def paper_picker(
    label: str,
    choices: dict[str, str],
    *,
    key: str,
    default: str | None = None,
) -> str | None:
    """A selectbox over catalogue papers (shown as "Title (year) · id"), returning the id."""
    options = list(choices)
    if not options:
        return None
    index = options.index(default) if default in choices else 0
    return st.selectbox(
        label, options, index=index, format_func=lambda paper_id: choices[paper_id], key=key
    )


def network_figure(drawing: Drawing, *, height: int = 420) -> go.Figure:
    """A left-to-right network: arrows from the paper to read first to the one relying on it,
    papers labelled by short name and year (title and id on hover), evidence on hover. Text is
    HTML-escaped: Plotly renders a few HTML tags in labels."""
    from html import escape

    figure = go.Figure()
    position = {node["id"]: (node["x"], node["y"]) for node in drawing.nodes}
    for edge in drawing.edges:
        if edge["source"] not in position or edge["target"] not in position:
            continue
        (x0, y0), (x1, y1) = position[edge["source"]], position[edge["target"]]
        colour = EDGE_COLOURS.get(edge["kind"], "#7f7f7f")
        figure.add_annotation(
            x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y",
            showarrow=True, arrowhead=3, arrowsize=1.2, arrowwidth=1.5, arrowcolor=colour,
            standoff=12, startstandoff=12,
        )  # fmt: skip
        figure.add_trace(
            go.Scatter(
                x=[(x0 + x1) / 2],
                y=[(y0 + y1) / 2],
                mode="markers",
                marker={"size": 9, "color": colour, "symbol": "diamond"},
                hovertext=[
                    f"{escape(edge['kind'])} ({edge['confidence']:.2f}):<br>"
                    f"{escape(edge['evidence'])}"
                ],
                hoverinfo="text",
                showlegend=False,
            )
        )
    roles = sorted({node["role"] for node in drawing.nodes})
    for role in roles:
        nodes = [node for node in drawing.nodes if node["role"] == role]
        figure.add_trace(
            go.Scatter(
                x=[node["x"] for node in nodes],
                y=[node["y"] for node in nodes],
                mode="markers+text",
                name=role,
                text=[escape(node["label"]) for node in nodes],
                textposition="top center",
                hovertext=[f"{escape(node['title'])}<br>{escape(node['id'])}" for node in nodes],
                hoverinfo="text",
                marker={"size": 18 if role in ("target", "end") else 13},
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False},
        legend={"orientation": "h"},
    )
    return figure
