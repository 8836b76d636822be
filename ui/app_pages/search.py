"""Search page: a query box and filters; each hit with its authors, year, where it was listed,
its score and why it matched, and a button opening the paper."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.catalogue.queries import reading_list_names
from speechgraph.search.hybrid import MAX_K, Filters
from speechgraph.views.catalogue import escape_markdown, search_rows

catalogue = ui_support.open_catalogue()
st.title("Search the catalogue")
st.caption(
    "Finds papers by meaning and by keyword, over titles, arXiv abstracts and speechgraph's "
    "notes. Every hit says why it matched."
)

with ui_support.errors_shown():
    searcher = catalogue.searcher()
    knowledge, _ = catalogue.knowledge()
    topics = catalogue.topics()
    list_names = reading_list_names(catalogue.store)

years = [paper.year for paper in knowledge.papers if paper.year]
first_year, last_year = (min(years), max(years)) if years else (1990, 2030)

if "query" not in st.session_state and st.query_params.get("q"):
    st.session_state["query"] = st.query_params["q"]  # a shared link: /?q=neural+vocoder
query = st.text_input(
    "What are you looking for?", key="query", placeholder="e.g. neural vocoder"
).strip()
with st.expander("Filters", expanded=False):
    left, middle, right = st.columns(3)
    year_range = left.slider(
        "Year", first_year, max(last_year, first_year + 1), (first_year, last_year), key="years"
    )
    list_name = middle.selectbox("Reading list", ["(any list)", *list_names], key="list")
    section = right.text_input("Section contains", key="section", placeholder="e.g. Vocoders")
    cluster_ids = [cluster.id for cluster in topics.clusters]
    labels = {cluster.id: f"{cluster.id}: {cluster.label}" for cluster in topics.clusters}
    topic = left.selectbox(
        "Topic (cluster)",
        [None, *cluster_ids],
        format_func=lambda value: "(any topic)" if value is None else labels[value],
        key="topic",
    )
    count = middle.slider("Results", 5, 50, 10, step=5, key="count")

if not query:
    st.info(
        f"{len(knowledge.papers)} papers from {len(list_names)} reading lists. "
        "Type a few words above, e.g. *neural vocoder*, *speaker verification* or *VITS*."
    )
    st.stop()

filters = Filters(
    year_from=year_range[0] if year_range[0] > first_year else None,
    year_to=year_range[1] if year_range[1] < last_year else None,
    list_name=None if list_name == "(any list)" else list_name,
    section=section.strip() or None,
)
members = None
if topic is not None:
    members = next(cluster.members for cluster in topics.clusters if cluster.id == topic)
    st.caption(
        f"The topic filter keeps the topic's papers among the best {MAX_K} matches for the "
        "query, so in a large catalogue a member ranked lower does not show."
    )

with ui_support.errors_shown():
    rows = search_rows(searcher, catalogue.store, query, k=count, filters=filters, within=members)

if not rows:
    st.warning("No papers match. Try other words or fewer filters.")
for rank, row in enumerate(rows, start=1):
    with st.container(border=True):
        title_column, button_column = st.columns([6, 1])
        title_column.markdown(f"**{rank}. {escape_markdown(row.title)}**")
        if button_column.button("Open paper", key=f"open-{row.id}"):
            st.switch_page(ui_support.PAPER_PAGE, query_params={"id": row.id})
        st.text(f"{row.authors} · {row.year or 'year unknown'} · arXiv {row.id}")
        st.text("Listed in: " + ("; ".join(row.listed) or "no reading list"))
        st.caption(f"Score {row.score:.4f} · why: {escape_markdown(row.why)}")
