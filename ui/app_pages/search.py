"""Search page: a query box and filters over the scope (the field, listed papers marked, or the
lists); each hit with its authors, year, where it was listed, its score and why it matched, and
a button opening the paper."""

from __future__ import annotations

from datetime import date

import streamlit as st

import ui_support
from speechgraph.catalogue.queries import reading_list_names
from speechgraph.search.hybrid import MAX_K, Filters
from speechgraph.views.catalogue import escape_markdown, search_results
from speechgraph.views.pickers import LISTS, scope_filters

FIRST_YEAR = 1990  # arXiv opened in 1991; a fixed range spares counting the field's years

catalogue = ui_support.open_catalogue()
scope = ui_support.current_scope()
st.title("Search the catalogue")
st.caption(
    "Finds papers by meaning and by keyword, over titles, arXiv abstracts and speechgraph's "
    "notes. Every hit says why it matched; papers the reading lists mention are marked."
)

with ui_support.errors_shown():
    searcher = catalogue.searcher()
    status = catalogue.status()
    list_names = reading_list_names(catalogue.store)

last_year = date.today().year
if "query" not in st.session_state and st.query_params.get("q"):
    st.session_state["query"] = st.query_params["q"]  # a shared link: /?q=neural+vocoder
query = st.text_input(
    "What are you looking for?", key="query", placeholder="e.g. neural vocoder"
).strip()
with st.expander("Filters", expanded=False):
    left, middle, right = st.columns(3)
    year_range = left.slider("Year", FIRST_YEAR, last_year, (FIRST_YEAR, last_year), key="years")
    list_name = middle.selectbox("Reading list", ["(any list)", *list_names], key="list")
    section = right.text_input("Section contains", key="section", placeholder="e.g. Vocoders")
    by_topic = left.toggle("Filter by topic (finds the topics first)", key="by_topic")
    topic = None
    if by_topic:
        with ui_support.errors_shown():
            topics = catalogue.topics()
        labels = {cluster.id: f"{cluster.id}: {cluster.label}" for cluster in topics.clusters}
        topic = left.selectbox(
            "Topic (cluster)",
            [None, *labels],
            format_func=lambda value: "(any topic)" if value is None else labels[value],
            key="topic",
        )
    count = middle.slider("Results", 5, 50, 10, step=5, key="count")

if not query:
    where = (
        f"the lists: {status['listed']} papers in {status['lists']} reading lists (the field "
        f"has {status['papers']})"
        if scope == LISTS
        else f"the field: {status['papers']} papers, {status['listed']} of them in "
        f"{status['lists']} reading lists"
    )
    st.info(
        f"Searching {where}. Type a few words above, e.g. *neural vocoder*, *speaker "
        "verification* or *VITS*."
    )
    st.stop()

members = None
if topic is not None:
    members = next(cluster.members for cluster in topics.clusters if cluster.id == topic)
    st.caption(
        f"The topic filter keeps the topic's papers among the best {MAX_K} matches for the "
        "query, so in a large catalogue a member ranked lower does not show."
    )

with ui_support.errors_shown():
    filters = scope_filters(
        scope,
        Filters(
            year_from=year_range[0] if year_range[0] > FIRST_YEAR else None,
            year_to=year_range[1] if year_range[1] < last_year else None,
            list_name=None if list_name == "(any list)" else list_name,
            section=section.strip() or None,
        ),
    )
    rows, notes = search_results(
        searcher, catalogue.store, query, k=count, filters=filters, within=members
    )

for note in notes:
    st.caption(f"Note: {escape_markdown(note)}")
if not rows:
    st.warning("No papers match. Try other words or fewer filters.")
for rank, row in enumerate(rows, start=1):
    with st.container(border=True):
        title_column, button_column = st.columns([6, 1])
        marker = " · listed" if row.listed else ""
        title_column.markdown(f"**{rank}. {escape_markdown(row.title)}**{marker}")
        if button_column.button("Open paper", key=f"open-{row.id}"):
            st.switch_page(ui_support.PAPER_PAGE, query_params={"id": row.id})
        st.text(f"{row.authors} · {row.year or 'year unknown'} · arXiv {row.id}")
        st.text("Listed in: " + ("; ".join(row.listed) or "no reading list"))
        st.caption(f"Score {row.score:.4f} · why: {escape_markdown(row.why)}")
