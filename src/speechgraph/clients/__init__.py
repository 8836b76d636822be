"""Everything that reads from outside, behind one HTTP policy (`http`, and `transport` for httpx):
the arXiv API (`arxiv`), the citation service (`citations`), bounded downloads such as reading
lists (`download`) and the OAI-PMH harvester (`oai`). Each yields plain records and none writes
the catalogue.

May import only the ground modules (`config`, `errors`, `records`, `ids`, `text`, `files`).
"""
