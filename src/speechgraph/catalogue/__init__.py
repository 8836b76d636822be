"""The catalogue: the SQLModel schema (`schema`), opening and migrating a database and every
write (`store`), every read as plain views (`queries`), and the offline snapshot (`snapshot`).

The only package that holds SQL or imports a database driver. May import the ground modules,
`lists` and `clients` (for their plain records).
"""
