"""Missing page: what a reading list (or one of its sections) may lack. Papers of the field that
its papers build on, compare with or cite, or that sit among a section's papers in meaning,
each with the section it would join and its evidence; `?list=` and `?section=` link to it."""

from __future__ import annotations

import streamlit as st

import ui_support
from speechgraph.catalogue.queries import reading_list_names
from speechgraph.views.catalogue import escape_markdown
from speechgraph.views.graph import missing_rows

catalogue = ui_support.open_catalogue()
st.title("What a reading list is missing")
st.caption(
    "Suggestions come from the field around the list: what its papers build on, compare with "
    "or cite, and what sits closest in meaning to a section's papers. Each says why."
)
with ui_support.errors_shown():
    names = reading_list_names(catalogue.store)
if not names:
    st.info("No reading list yet: add one with `speechgraph refresh --list FILE_OR_URL`.")
    st.stop()
wanted = st.query_params.get("list")
left, middle, right = st.columns([2, 2, 1])
list_name = left.selectbox(
    "Reading list", names, index=names.index(wanted) if wanted in names else 0, key="missing_list"
)
section = middle.text_input(
    "Section contains", value=st.query_params.get("section", ""), key="missing_section"
).strip()
count = right.slider("Suggestions", 5, 50, 20, step=5, key="missing_k")
st.query_params["list"] = list_name

with ui_support.errors_shown():
    report = catalogue.missing(list_name, section or None, count)
for note in report.notes:
    st.caption(f"Note: {escape_markdown(note)}")
if not report.suggestions:
    st.info("Nothing to suggest: no paper of the field relates to this list's papers.")
    st.stop()
st.dataframe(missing_rows(report), hide_index=True)
for suggestion in report.suggestions[:10]:
    st.page_link(
        ui_support.PAPER_PAGE,
        label=escape_markdown(f"{suggestion.title} ({suggestion.year or '?'})"),
        query_params={"id": suggestion.id},
    )
