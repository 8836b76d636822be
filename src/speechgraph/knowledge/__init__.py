"""What the text says: the names papers go by and which paper a user means (`names`), which paper
each mention of a reading list points to (`resolve`), and the catalogue's health (`audit`).

May import the ground modules, `lists`, `clients` and `catalogue`.
"""
