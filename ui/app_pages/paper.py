"""Paper page: facts, the arXiv abstract or speechgraph's note (labelled as which), links,
where the lists mention it, cites / cited by / builds on, similar papers and what to read first."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.catalogue.queries import get_paper
from speechgraph.graph.plans import DEFAULT_DEPTH
from speechgraph.views.catalogue import (
    Related,
    escape_markdown,
    hit_rows,
    markdown_link,
    mention_rows,
    paper_facts,
    paper_links,
    paper_relations,
    paper_summary,
)
from speechgraph.views.graph import plan_rows
from speechgraph.views.pickers import scope_filters

catalogue = ui_support.open_catalogue()
wanted = ui_support.paper_from_url(catalogue)
chosen = ui_support.paper_picker(catalogue, "Paper", key="paper", default=wanted)
if chosen is None:
    st.info("Type an arXiv id, a name like *VITS* or words of a title above, then pick a match.")
    st.stop()
if chosen != wanted:
    st.query_params["id"] = chosen

with ui_support.errors_shown():
    paper = get_paper(catalogue.store, chosen)
    knowledge = catalogue.knowledge(paper.id)
    relations = paper_relations(catalogue.store, knowledge.graph, paper.id)

st.header(escape_markdown(paper.title))
facts, links = st.columns([3, 2])
with facts:
    for label, value in paper_facts(paper):
        st.markdown(f"**{label}:** {escape_markdown(value)}")
with links:
    st.subheader("Links")
    st.markdown(
        "\n".join(f"- {markdown_link(link.label, link.url)}" for link in paper_links(paper))
    )

label, text = paper_summary(paper)
st.subheader(label)
if text:
    st.text(text)

st.subheader("Where the reading lists mention it")
if paper.mentions:
    st.dataframe(mention_rows(paper), hide_index=True)
else:
    origins = ", ".join(paper.data_origins) or "citations only"
    st.text(f"No reading list mentions this paper (it is in the catalogue from {origins}).")


def related_list(title: str, items: list[Related], empty: str) -> None:
    st.markdown(f"**{title}** ({len(items)})")
    if not items:
        st.caption(empty)
    for item in items:
        shown = f"{item.title} ({item.year or '?'})"
        if item.in_catalogue:
            st.page_link(
                ui_support.PAPER_PAGE,
                label=escape_markdown(shown),
                query_params={"id": item.id},
            )
        else:
            st.text(f"{shown} · outside the catalogue")
        st.caption(escape_markdown(item.evidence))


st.subheader("Connections")
no_citations = "No citation data: a refresh online (Catalogue page) adds it."
left, right = st.columns(2)
with left:
    related_list("Cites", relations.cites, no_citations)
    related_list("Builds on", relations.builds_on, "Names no earlier catalogue paper.")
with right:
    related_list("Cited by", relations.cited_by, no_citations)
    related_list("Built on by", relations.built_on_by, "No later catalogue paper names it.")

st.subheader("Similar papers")
with ui_support.errors_shown(stop=False):
    scope = scope_filters(ui_support.current_scope())
    similar = catalogue.searcher().similar(paper.id, k=5, filters=scope)
    similar_rows = hit_rows(catalogue.store, similar)
    for row in similar_rows:
        st.page_link(
            ui_support.PAPER_PAGE,
            label=escape_markdown(f"{row.title} ({row.year or '?'})"),
            query_params={"id": row.id},
        )
        st.caption(escape_markdown(row.why))

st.subheader("Read first")
with ui_support.errors_shown():
    plan = catalogue.plan(paper.id, DEFAULT_DEPTH)
if plan.steps:
    st.dataframe(plan_rows(plan), hide_index=True)
if plan.message:
    st.caption(escape_markdown(plan.message))
st.page_link(
    ui_support.PATH_PAGE, label="Open the reading path page", query_params={"id": paper.id}
)
