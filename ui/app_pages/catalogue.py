"""Catalogue page: where the catalogue stands (papers, listed, abstracts, vectors, origins, the
last import and harvest), the lists' counters and last refresh, audit findings, and a refresh
(offline or online) with progress and its report."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.errors import SpeechgraphError
from speechgraph.views.catalogue import (
    describe_last_refresh,
    escape_markdown,
    stats_rows,
    status_rows,
)
from speechgraph.views.status import describe_event, describe_origins

catalogue = ui_support.open_catalogue()
with ui_support.errors_shown():
    status = catalogue.status()
    audit = catalogue.audit()

st.title("Catalogue")
st.caption(
    f"Database: {escape_markdown(catalogue.store.url)} · data directory: "
    f"{escape_markdown(str(status['data_dir']))}"
)
st.header("Status")
columns = st.columns(5)
for number, (label, value) in enumerate(status_rows(status)):
    columns[number % 5].metric(label, f"{value:,}")
st.text(f"From: {describe_origins(status)}")
st.text(f"Last import: {describe_event(status.get('last_import'))}")
st.text(f"Last harvest: {describe_event(status.get('last_harvest'))}")
if status["with_vector"] < status["papers"]:
    st.caption(
        f"{status['papers'] - status['with_vector']:,} papers have no vector yet: run "
        "`speechgraph index` to embed them (until then search finds them by keywords only)."
    )

st.header("Reading lists")
list_columns = st.columns(4)
shown = {"Papers", "Reading lists", "With an arXiv abstract"}  # already in the status
for number, (label, value) in enumerate(
    (label, value) for label, value in stats_rows(status) if label not in shown
):
    list_columns[number % 4].metric(label, f"{value:,}")
st.text(f"Last refresh: {describe_last_refresh(status)}")

st.header("Audit")
counts = audit["counts"]
st.text(
    f"{counts['mislabelled']} mislabelled links · {counts['several_forms']} papers linked in "
    f"several forms · {counts['unresolved_links']} unresolved links · "
    f"{counts['unresolved_citations']} unresolved text citations"
)
sections = [
    ("mislabelled", "Mislabelled links", "The link text names a different paper."),
    ("unresolved_links", "Unresolved links", "arXiv links not in the catalogue."),
    ("unresolved_citations", "Unresolved citations", "Text citations matched to no paper."),
    ("several_forms", "Linked in several forms", "One paper reached by different link forms."),
]
tabs = st.tabs([f"{title} ({counts[key]})" for key, title, _ in sections])
for tab, (key, _, explanation) in zip(tabs, sections, strict=True):
    with tab:
        st.caption(explanation)
        rows = [
            {name: ("; ".join(map(str, value)) if isinstance(value, list) else value)
             for name, value in finding.items() if not isinstance(value, dict)}
            for finding in audit[key]
        ]  # fmt: skip
        if rows:
            st.dataframe(rows, hide_index=True, key=f"audit_{key}")
        else:
            st.text("Nothing found.")

st.header("Refresh")
mode = st.radio(
    "Where from",
    ["offline", "online"],
    format_func=lambda value: {
        "offline": "Offline: the reading lists and snapshot shipped with speechgraph",
        "online": "Online: re-read the lists, fetch arXiv metadata and citations",
    }[value],
    key="refresh_mode",
)
if st.button("Refresh the catalogue", key="refresh", type="primary"):
    with st.status(f"Refreshing ({mode})…", expanded=True) as progress:
        try:
            report = ui_support.run_refresh(catalogue.settings, offline=mode == "offline")
        except SpeechgraphError as error:
            progress.update(label="Refresh failed", state="error")
            st.error(escape_markdown(str(error)))
            st.stop()
        progress.update(label=f"Refreshed: {report.summary()}", state="complete")
    st.session_state["refresh_report"] = report.to_json()
    st.session_state["refresh_summary"] = report.summary()
if "refresh_report" in st.session_state:
    st.success(escape_markdown(st.session_state["refresh_summary"]))
    for warning in st.session_state["refresh_report"].get("warnings", []):
        st.warning(escape_markdown(warning))
    with st.expander("Full refresh report"):
        st.json(st.session_state["refresh_report"])
