"""Topics page: a 2-D map of the scope coloured by topic (WebGL, a bounded sample of each topic
with every listed paper marked and each topic's centre sized by its papers; titles on hover),
and each topic with its label and a bounded list of members."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.views.catalogue import escape_markdown
from speechgraph.views.graph import describe_clustering
from speechgraph.views.topic_map import describe_map

catalogue = ui_support.open_catalogue()
scope = ui_support.current_scope()
with ui_support.errors_shown():
    report = catalogue.topics()
    drawn = catalogue.topic_map(scope)
    members = catalogue.topic_members(scope)

st.title("Topics")
st.caption(
    "Papers close on the map are close in meaning (their embeddings, reduced to two "
    "dimensions). Colours are topic clusters, labelled by their most distinctive words; stars "
    "are papers the reading lists mention, rings the topics' centres sized by their papers."
)
st.plotly_chart(catalogue.topic_figure(scope), key="topic_map")
st.caption(escape_markdown(describe_map(drawn, scope)))
st.caption(escape_markdown(describe_clustering(report)))
if report.message:
    st.info(escape_markdown(report.message))

st.header("Clusters")
for heading, rows in members:
    with st.expander(escape_markdown(heading)):
        st.dataframe(rows, hide_index=True)
