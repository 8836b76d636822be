"""speechgraph: reading lists of speech-AI papers turned into a searchable knowledge graph."""

__version__ = "0.1.0"
