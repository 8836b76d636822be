"""Everything that reads from outside, behind one HTTP policy (`http`): the arXiv API (`arxiv`),
the citation service (`citations`). Each yields plain records and none writes the catalogue.

May import only the ground modules (`config`, `errors`, `records`, `ids`, `text`, `files`).
"""
