"""Catalogue page: counts, the last refresh, audit findings, and a refresh (offline or online)
with progress and its report."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.catalogue.queries import catalogue_stats
from speechgraph.errors import SpeechgraphError
from speechgraph.knowledge.audit import audit_catalogue
from speechgraph.views.catalogue import describe_last_refresh, escape_markdown, stats_rows

catalogue = ui_support.open_catalogue()
with ui_support.errors_shown():
    stats = catalogue_stats(catalogue.store)
    audit = audit_catalogue(catalogue.store).to_json()

st.title("Catalogue")
st.caption(
    f"Database: {escape_markdown(catalogue.store.url)} · data directory: "
    f"{escape_markdown(str(catalogue.settings.data_dir))}"
)
columns = st.columns(4)
for number, (label, value) in enumerate(stats_rows(stats)):
    columns[number % 4].metric(label, value)
st.text(f"Last refresh: {describe_last_refresh(stats)}")

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
    with st.status(f"Refreshing ({mode})…", expanded=True) as status:
        try:
            report = ui_support.run_refresh(catalogue.settings, offline=mode == "offline")
        except SpeechgraphError as error:
            status.update(label="Refresh failed", state="error")
            st.error(escape_markdown(str(error)))
            st.stop()
        status.update(label=f"Refreshed: {report.summary()}", state="complete")
    st.session_state["refresh_report"] = report.to_json()
    st.session_state["refresh_summary"] = report.summary()
if "refresh_report" in st.session_state:
    st.success(escape_markdown(st.session_state["refresh_summary"]))
    for warning in st.session_state["refresh_report"].get("warnings", []):
        st.warning(escape_markdown(warning))
    with st.expander("Full refresh report"):
        st.json(st.session_state["refresh_report"])
