"""What every page shares: settings, the heavy objects loaded once per process, error display,
the scope, paper pickers that search, the first-run build and the figures. Layout only; the
data comes from the library.

Heavy objects are `st.cache_resource` entries keyed on the database, data directory, model and
catalogue version, so a refresh (which bumps the version) makes the next page load fresh ones.
No page loads every paper to render: counts, the search and ids carry them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from speechgraph.catalogue.queries import (
    catalogue_stats,
    catalogue_version,
    has_papers,
    listed_ids,
    paper_cards,
)
from speechgraph.catalogue.store import Store
from speechgraph.catalogue.store import open_catalogue as open_catalogue_store
from speechgraph.config import Settings
from speechgraph.errors import SpeechgraphError
from speechgraph.graph.build import (
    NEIGHBOURHOOD_DEPTH,
    IndexNeighbours,
    Knowledge,
    index_neighbours,
    load_knowledge,
)
from speechgraph.graph.clusters import ClusterReport
from speechgraph.graph.missing import MissingReport, find_missing
from speechgraph.graph.plans import PathResult, Plan, find_path, prerequisites
from speechgraph.graph.topics import cluster_catalogue
from speechgraph.knowledge.audit import audit_catalogue
from speechgraph.knowledge.names import find_paper
from speechgraph.search.hybrid import Searcher
from speechgraph.text import shorten
from speechgraph.update.topics import topics_report
from speechgraph.views.catalogue import escape_markdown
from speechgraph.views.graph import Drawing
from speechgraph.views.pickers import FIELD, SCOPES, Matches, paper_matches
from speechgraph.views.status import catalogue_status_view
from speechgraph.views.topic_map import (
    TopicMap,
    map_layout,
    member_rows,
    sample_map,
    topic_heading,
    topic_members,
)

SEARCH_PAGE = "app_pages/search.py"
PAPER_PAGE = "app_pages/paper.py"
MISSING_PAGE = "app_pages/missing.py"
PATH_PAGE = "app_pages/reading_path.py"
EDGE_COLOURS = {
    "cites": "#1f77b4",
    "builds_on": "#d62728",
    "similar": "#2ca02c",
    "co_listed": "#9467bd",
    "shares_author": "#8c564b",
}
CacheKey = tuple[str, str, str, int]
PICKER_STATE = ("query", "seen", "text", "choice")  # a picker's session keys, after its own


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

    def knowledge(self, *around: str, depth: int = NEIGHBOURHOOD_DEPTH) -> Knowledge:
        """The knowledge graph of the neighbourhood the papers `around` need (`load_knowledge`),
        remembered per version."""
        return _knowledge(self.key, around, depth, self.settings, self.store)

    def topics(self) -> ClusterReport:
        return _topics(self.key, self.settings, self.store)

    def find(self, raw: str) -> str:
        """`find_paper`, remembered per catalogue version (a page reruns on every click)."""
        return _found(self.key, raw, self.store)

    def matches(self, text: str, scope: str, *, searchable: bool) -> Matches:
        """What a picker offers for `text` (`paper_matches`), remembered per version."""
        return _matches(self.key, text, scope, searchable, self.settings, self.store)

    def plan(self, target: str, depth: int) -> Plan:
        """`prerequisites` on the knowledge graph, remembered per version (reruns are free)."""
        return _plan(self.key, target, depth, self.settings, self.store)

    def path(self, source: str, end: str) -> PathResult:
        """`find_path` on the knowledge graph, remembered per version."""
        return _path(self.key, source, end, self.settings, self.store)

    def missing(self, list_name: str, section: str | None, k: int) -> MissingReport:
        """`find_missing` for a list (and section), remembered per version."""
        return _missing(self.key, list_name, section, k, self.settings, self.store)

    def status(self) -> dict[str, Any]:
        """`speechgraph status` and the lists' counters, counted once per catalogue version."""
        return _status(self.key, self.settings, self.store)

    def audit(self) -> dict[str, Any]:
        return _audit(self.key, self.store)

    def topic_map(self, scope: str) -> TopicMap:
        """The map's points (a bounded sample, titled) and the topics' centres for `scope`."""
        return _topic_map(self.key, scope, self.settings, self.store)

    def topic_figure(self, scope: str) -> go.Figure:
        """The map's WebGL figure for `scope`, drawn once per catalogue version."""
        return _topic_figure(self.key, scope, self.settings, self.store)

    def topic_members(self, scope: str) -> list[tuple[str, list[dict[str, Any]]]]:
        """(heading, rows) per topic, a bounded number of rows each, listed papers first."""
        return _topic_members(self.key, scope, self.settings, self.store)


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


@st.cache_resource(max_entries=2, show_spinner=False)
def _neighbours(key: CacheKey, _settings: Settings, _store: Store) -> IndexNeighbours:
    return index_neighbours(_settings, _store)


@st.cache_resource(max_entries=64, show_spinner="Gathering what the papers rest on…")
def _knowledge(
    key: CacheKey, around: tuple[str, ...], depth: int, _settings: Settings, _store: Store
) -> Knowledge:
    neighbours = _neighbours(key, _settings, _store)
    return load_knowledge(_store, neighbours, around=list(around), depth=depth)


@st.cache_resource(max_entries=2, show_spinner="Finding topic clusters…")
def _topics(key: CacheKey, _settings: Settings, _store: Store) -> ClusterReport:
    stored = topics_report(_settings, _store)
    if stored is not None:
        return stored
    neighbours = _neighbours(key, _settings, _store)  # a small catalogue: clustered here
    return cluster_catalogue(load_knowledge(_store, neighbours), neighbours.embeddings)


@st.cache_resource(max_entries=64, show_spinner="Finding what to read first…")
def _plan(key: CacheKey, target: str, depth: int, _settings: Settings, _store: Store) -> Plan:
    knowledge = _knowledge(key, (target,), depth, _settings, _store)
    return prerequisites(knowledge.graph, target, depth)


@st.cache_resource(max_entries=64, show_spinner="Finding a path…")
def _path(key: CacheKey, source: str, end: str, _settings: Settings, _store: Store) -> PathResult:
    knowledge = _knowledge(key, (source, end), NEIGHBOURHOOD_DEPTH, _settings, _store)
    return find_path(knowledge.graph, source, end)


@st.cache_resource(max_entries=32, show_spinner="Looking for what the list lacks…")
def _missing(
    key: CacheKey,
    list_name: str,
    section: str | None,
    k: int,
    _settings: Settings,
    _store: Store,
) -> MissingReport:
    return find_missing(_settings, _store, list_name, section=section, k=k)


@st.cache_data(max_entries=1024, show_spinner=False)
def _found(key: CacheKey, raw: str, _store: Store) -> str:
    return find_paper(_store, raw)  # errors are not remembered: they raise again


@st.cache_data(max_entries=256, show_spinner=False)
def _matches(
    key: CacheKey, text: str, scope: str, searchable: bool, _settings: Settings, _store: Store
) -> Matches:
    searcher = _searcher(key, _settings, _store) if searchable else None
    return paper_matches(_store, searcher, text, scope=scope)


@st.cache_data(max_entries=4, show_spinner=False)
def _status(key: CacheKey, _settings: Settings, _store: Store) -> dict[str, Any]:
    return {**catalogue_stats(_store), **catalogue_status_view(_settings)}


@st.cache_data(max_entries=2, show_spinner="Auditing the reading lists…")
def _audit(key: CacheKey, _store: Store) -> dict[str, Any]:
    return audit_catalogue(_store).to_json()


@st.cache_resource(max_entries=4, show_spinner="Drawing the topic map…")
def _topic_map(key: CacheKey, scope: str, _settings: Settings, _store: Store) -> TopicMap:
    report = _topics(key, _settings, _store)
    drawn = sample_map(map_layout(report, listed_ids(_store)), scope=scope)
    return drawn.with_cards(paper_cards(_store, drawn.ids))


@st.cache_resource(max_entries=4, show_spinner=False)
def _topic_figure(key: CacheKey, scope: str, _settings: Settings, _store: Store) -> go.Figure:
    return topic_map_figure(_topic_map(key, scope, _settings, _store))


@st.cache_resource(max_entries=4, show_spinner=False)
def _topic_members(
    key: CacheKey, scope: str, _settings: Settings, _store: Store
) -> list[tuple[str, list[dict[str, Any]]]]:
    report = _topics(key, _settings, _store)
    listed = listed_ids(_store)
    topics = topic_members(report, listed, scope=scope)
    cards = paper_cards(_store, [paper_id for _, _, ids in topics for paper_id in ids])
    return [
        (topic_heading(label, size, len(ids)), member_rows(ids, cards, listed))
        for label, size, ids in topics
    ]


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


def scope_switch() -> str:
    """The sidebar's scope, shared by every page: the field (default) or the lists. A link may
    carry it (`?scope=lists`)."""
    linked = st.query_params.get("scope")
    scope = st.sidebar.segmented_control(
        "Scope",
        list(SCOPES),
        default=linked if linked in SCOPES else FIELD,
        required=True,
        format_func=lambda value: {"field": "Field", "lists": "Lists"}[value],
        key="scope",
        help="; ".join(SCOPES.values()),
    )
    return scope or FIELD


def current_scope() -> str:
    value = st.session_state.get("scope")
    return str(value) if value in SCOPES else FIELD


def paper_from_url(catalogue: Catalogue, parameter: str = "id") -> str | None:
    """The paper a link asks for (`?id=`, `?from=`, … hold an id in any form, a name or a
    title). One the catalogue lacks stops the page with the reason, how to add it and a search
    link; it is never silently replaced by another paper."""
    raw = st.query_params.get(parameter)
    if not raw:
        return None
    try:
        return catalogue.find(raw)
    except SpeechgraphError as error:
        st.error(escape_markdown(str(error)))
        st.page_link(
            SEARCH_PAGE,
            label=escape_markdown(f"Search for “{shorten(raw, 60)}”"),
            query_params={"q": raw},
        )
        st.stop()


def paper_picker(
    catalogue: Catalogue, label: str, *, key: str, default: str | None = None
) -> str | None:
    """A text box that searches (an id, a name or title words) and a choice among its top
    matches, never a list of every title; returns the chosen id. The exact paper (and
    `default`, shown as its id) is chosen at once; for other words the user picks a match.

    A new `default` (a link to another paper) replaces what the box holds."""
    query_key, seen_key, text_key, choice_key = (f"{key}_{part}" for part in PICKER_STATE)
    if default is not None and st.session_state.get(seen_key) != default:
        st.session_state[query_key] = default
        st.session_state[seen_key] = default
    text = st.text_input(
        label, key=query_key, placeholder="an arXiv id, a name like VITS, or words of its title"
    )
    if not text.strip():
        return None
    searchable = False
    with errors_shown(stop=False):
        catalogue.searcher()
        searchable = True
    matches = catalogue.matches(text, current_scope(), searchable=searchable)
    if matches.message:
        st.warning(escape_markdown(matches.message))
    if not matches.choices:
        return None
    labels = {choice.id: choice.label for choice in matches.choices}
    if st.session_state.get(text_key) != text:  # new words: a new choice, not the last one
        st.session_state.pop(choice_key, None)
        st.session_state[text_key] = text
    chosen = st.selectbox(
        f"Matches for {label.lower()}",
        list(labels),
        index=0 if matches.exact else None,
        format_func=labels.__getitem__,
        key=choice_key,
        placeholder=f"Pick one of {len(labels)} matches",
        label_visibility="collapsed",
    )
    if chosen is not None:
        st.session_state[seen_key] = chosen
    return chosen


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


def topic_map_figure(drawn: TopicMap, *, height: int = 620) -> go.Figure:
    """The topic map in WebGL (`Scattergl`): one trace per topic, listed papers drawn as larger
    stars in their topic's colour, and each topic's centre as a ring sized by its papers. Text
    is HTML-escaped: Plotly renders a few HTML tags in names and hover labels."""
    from html import escape

    figure = go.Figure()
    hover = [
        f"{escape(title)}<br>{escape(paper_id)} · {year or '?'}" + (" · listed" if listed else "")
        for paper_id, title, year, listed in zip(
            drawn.ids, drawn.titles, drawn.years, drawn.listed, strict=True
        )
    ]
    groups: dict[str, list[int]] = {}
    for position, topic in enumerate(drawn.topic):
        groups.setdefault(topic, []).append(position)
    for name, positions in groups.items():
        figure.add_trace(
            go.Scattergl(
                x=[drawn.x[i] for i in positions],
                y=[drawn.y[i] for i in positions],
                mode="markers",
                name=escape(name),
                hovertext=[hover[i] for i in positions],
                hoverinfo="text",
                marker={
                    "symbol": ["star" if drawn.listed[i] else "circle" for i in positions],
                    "size": [12 if drawn.listed[i] else 5 for i in positions],
                    "opacity": 0.75,
                },
            )
        )
    if drawn.centres:
        largest = max(centre.size for centre in drawn.centres)
        figure.add_trace(
            go.Scattergl(
                x=[centre.x for centre in drawn.centres],
                y=[centre.y for centre in drawn.centres],
                mode="markers",
                name="topic centres",
                hovertext=[
                    f"{escape(centre.label)}<br>{centre.size:,} papers" for centre in drawn.centres
                ],
                hoverinfo="text",
                marker={
                    "size": [12 + 38 * (centre.size / largest) ** 0.5 for centre in drawn.centres],
                    "symbol": "circle-open",
                    "line": {"width": 2},
                    "color": "#444444",
                },
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"visible": False},
        yaxis={"visible": False},
        legend={"title": {"text": "Topic"}},
    )
    return figure
