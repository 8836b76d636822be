"""Topics page: a 2-D map of the catalogue coloured by topic cluster (titles on hover), and each
cluster with its label and members."""

from __future__ import annotations

from html import escape

import plotly.express as px
import streamlit as st

import ui_support
from speechgraph.views.catalogue import escape_markdown
from speechgraph.views.graph import cluster_member_rows, describe_clustering, topic_points

catalogue = ui_support.open_catalogue()
with ui_support.errors_shown():
    knowledge, _ = catalogue.knowledge()
    report = catalogue.topics()

st.title("Topics")
for note in knowledge.notes:
    st.caption(f"Note: {escape_markdown(note)}")
st.caption(
    "Papers close on the map are close in meaning (their embeddings, reduced to two "
    "dimensions). Colours are topic clusters, labelled by their most distinctive words."
)
points = topic_points(report, knowledge.papers)
for point in points:
    point["hover"] = escape(point["title"])  # Plotly renders some HTML tags in hover labels
figure = px.scatter(
    points,
    x="x",
    y="y",
    color="cluster",
    hover_name="hover",
    hover_data={"id": True, "year": True, "x": False, "y": False, "cluster": True},
    height=620,
)
figure.update_traces(marker={"size": 11})
figure.update_layout(xaxis_title=None, yaxis_title=None, legend_title="Cluster")
st.plotly_chart(figure, key="topic_map")
st.caption(escape_markdown(describe_clustering(report)))
if report.message:
    st.info(escape_markdown(report.message))

st.header("Clusters")
for heading, members in cluster_member_rows(report, knowledge.papers):
    with st.expander(heading):
        st.dataframe(members, hide_index=True)
