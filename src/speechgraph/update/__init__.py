"""The writers: a refresh from the reading lists (`refresh`). They keep the search index in
step with what they write.

May import every package before it: `lists`, `clients`, `catalogue`, `knowledge`, `search`,
`graph`.
"""
