"""Everything that reads from outside, behind one HTTP policy (`http`, and `transport` for httpx):
the arXiv API (`arxiv`), the citation service (`citations`), bounded downloads such as reading
lists (`download`), the OAI-PMH harvester (`oai`) and bulk metadata files (`bulk`, with
`bulk_formats`, `bulk_filter` and arXiv's `taxonomy`). Each yields plain records and none writes
the catalogue.

May import only the ground modules (`config`, `errors`, `records`, `ids`, `text`, `files`).
"""
