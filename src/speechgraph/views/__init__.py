"""The plain data the CLI and the UI render: papers, search rows and counters (`catalogue`),
topics, plans and paths (`graph`). No Streamlit and no SQL here.

May import every package before it, up to `update`.
"""
