"""The knowledge graph: typed edges with evidence (`edges`), building it from the catalogue and
the index (`build`), reading plans and paths (`plans`), topic clusters (`clusters`) and export.

May import the ground modules, `lists`, `clients`, `catalogue`, `knowledge` and `search`.
"""
