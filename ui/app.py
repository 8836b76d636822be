"""speechgraph in the browser: `speechgraph ui` runs `streamlit run` on this file.

The entry page sets up navigation and the scope switch (the field or the lists); each page is
a thin file under app_pages/ and shares `ui_support` (`streamlit run` puts this directory on the
import path). Settings come from
SPEECHGRAPH_* environment variables (the `ui` command passes its options through them).
"""

from __future__ import annotations

import streamlit as st

import ui_support

st.set_page_config(page_title="speechgraph", page_icon=":material/graphic_eq:", layout="wide")

ui_support.open_catalogue()  # on a first run, builds the catalogue offline before any page
ui_support.scope_switch()  # the field or the lists, for every page

pages = [
    st.Page("app_pages/search.py", title="Search", icon=":material/search:", default=True),
    st.Page("app_pages/paper.py", title="Paper", icon=":material/article:"),
    st.Page("app_pages/reading_path.py", title="Reading path", icon=":material/route:"),
    st.Page("app_pages/topics.py", title="Topics", icon=":material/scatter_plot:"),
    st.Page("app_pages/missing.py", title="Missing", icon=":material/playlist_add:"),
    st.Page("app_pages/catalogue.py", title="Catalogue", icon=":material/inventory_2:"),
]
st.navigation(pages).run()
