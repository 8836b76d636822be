"""speechgraph in the browser: `speechgraph ui` runs `streamlit run` on this file.

The entry page sets up navigation; each page is a thin file under pages/. Settings come from
SPEECHGRAPH_* environment variables (the `ui` command passes its options through them).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts this directory on sys.path, AppTest does not: make `ui_support` importable
# for the pages either way.
_UI_DIR = str(Path(__file__).resolve().parent)
if _UI_DIR not in sys.path:
    sys.path.insert(0, _UI_DIR)

import streamlit as st  # noqa: E402

import ui_support  # noqa: E402

st.set_page_config(page_title="speechgraph", page_icon="🎙️", layout="wide")

ui_support.open_catalogue()  # on a first run, builds the catalogue offline before any page

pages = [
    st.Page("pages/search.py", title="Search", icon="🔎", default=True),
    st.Page("pages/paper.py", title="Paper", icon="📄"),
    st.Page("pages/reading_path.py", title="Reading path", icon="🧭"),
    st.Page("pages/topics.py", title="Topics", icon="🗺️"),
    st.Page("pages/catalogue.py", title="Catalogue", icon="🗂️"),
]
st.navigation(pages).run()
