"""The writers: `refresh` (the reading lists), `import` and `harvest` (the field), `index`,
`upgrade` and `lists remove`. Each holds the data directory's writer lock (`lock`) and keeps
the search index in step with what it writes.

May import every package before it: `lists`, `clients`, `catalogue`, `knowledge`, `search`,
`graph`.
"""
