"""What the text says: the names papers go by and which paper a user means (`names`), the names a
paper introduces (`introduced`), what its title and abstract say about earlier papers (`relations`,
typed by `cues`, read sentence by `sentences`), which paper each mention of a reading list points
to (`resolve`), and the catalogue's health (`audit`).

May import the ground modules, `lists`, `clients` and `catalogue`.
"""
