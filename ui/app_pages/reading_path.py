"""Reading path page: what to read before a paper, and how one paper leads to another, each
drawn as a graph with every step's evidence. Links carry the papers: `?id=` (the paper to
prepare for), `?from=` and `?to=` (the path's ends); an unknown one is named, never replaced."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.graph.plans import MAX_DEPTH
from speechgraph.views.catalogue import escape_markdown
from speechgraph.views.graph import path_drawing, path_rows, plan_drawing, plan_rows

catalogue = ui_support.open_catalogue()
wanted = {name: ui_support.paper_from_url(catalogue, name) for name in ("id", "from", "to")}

st.title("Reading paths")
st.header("What to read first")
target_column, depth_column = st.columns([4, 1])
with target_column:
    target = ui_support.paper_picker(
        catalogue, "Paper to prepare for", key="plan_target", default=wanted["id"]
    )
depth = depth_column.slider("Links back", 1, MAX_DEPTH, 3, key="plan_depth")
if target is None:
    st.info("Type an arXiv id, a name like *VITS* or words of a title, then pick a match.")
    st.stop()
if target != wanted["id"]:
    st.query_params["id"] = target

with ui_support.errors_shown():
    knowledge = catalogue.knowledge(target, depth=depth)
graph = knowledge.graph
for note in knowledge.notes:
    st.caption(f"Note: {escape_markdown(note)}")
with ui_support.errors_shown():
    plan = catalogue.plan(target, depth)
st.markdown(f"Before **{escape_markdown(plan.title)}**, read:")
if plan.steps:
    st.plotly_chart(ui_support.network_figure(plan_drawing(plan, graph)), key="plan_chart")
    st.dataframe(plan_rows(plan), hide_index=True)
if plan.message:
    st.info(escape_markdown(plan.message))

st.header("From one paper to another")
defaults = {
    "from": wanted["from"] or (plan.steps[0].id if plan.steps else None),
    "to": wanted["to"] or target,
}
left, right = st.columns(2)
with left:
    source = ui_support.paper_picker(
        catalogue, "From (older paper)", key="path_from", default=defaults["from"]
    )
with right:
    end = ui_support.paper_picker(
        catalogue, "To (newer paper)", key="path_to", default=defaults["to"]
    )
if source is None or end is None:
    st.stop()
for name, chosen in (("from", source), ("to", end)):
    if chosen != defaults[name]:
        st.query_params[name] = chosen  # a link to this page shows the same path

with ui_support.errors_shown():
    result = catalogue.path(source, end)
if result.message:
    st.info(escape_markdown(result.message))
shown = result if result.found else result.alternative
if shown is None:
    st.warning("No path in either direction: these papers are not linked by any evidence.")
    st.stop()
if shown is not result:
    st.markdown(f"**Nearest alternative:** {escape_markdown(shown.message or '')}")
st.caption(f"{len(shown.steps) - 1} hops, confidence {shown.confidence:.2f}")
path_graph = catalogue.knowledge(source, end).graph
st.plotly_chart(
    ui_support.network_figure(path_drawing(shown, path_graph), height=300), key="path_chart"
)
st.dataframe(path_rows(shown), hide_index=True)
