"""Facts about the catalogue that light readers need without SQLAlchemy: the schema version this
release writes and the origins a paper may have. Imports nothing.
"""

SCHEMA_VERSION = 2
ORIGINS = ("snapshot", "arxiv", "import", "harvest")
