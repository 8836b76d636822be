"""Errors users see. Each message names the input involved and what to do next.

Every module may raise these; the CLI and the UI show the message on one line.
"""

from __future__ import annotations


class SpeechgraphError(Exception):
    """Base class: the CLI prints the message on one line and exits with code 1."""


class ReadingListError(SpeechgraphError):
    """A reading list is missing, unreadable, not text, or holds no paper links."""


class ArxivUnavailable(SpeechgraphError):
    """The arXiv API could not be reached or kept failing after retries."""


class ArxivBadResponse(SpeechgraphError):
    """The arXiv API answered with something that is not a valid Atom feed."""


class CitationServiceUnavailable(SpeechgraphError):
    """The citation service could not be reached or kept failing after retries."""


class PaperNotFound(SpeechgraphError):
    """An id that is not in the catalogue (or not known to arXiv)."""


class InvalidPaperId(SpeechgraphError):
    """A string that is not an arXiv id or a catalogue id."""


class DatabaseError(SpeechgraphError):
    """The database cannot be opened: not a database, or written by a newer speechgraph."""


class CatalogueEmpty(SpeechgraphError):
    """A query needs a catalogue and there is none yet."""


class IndexOutOfDate(SpeechgraphError):
    """The search index is missing or was built for another model or catalogue."""


class SearchInputError(SpeechgraphError):
    """A query, `k`, mode or filter that search cannot use."""


class SnapshotError(SpeechgraphError):
    """The offline snapshot in ingest/ is missing or malformed."""


class ConfigError(SpeechgraphError):
    """A setting or the sources file is invalid."""


class ImportFileError(SpeechgraphError):
    """A bulk metadata file that cannot be read at all: missing, empty, not text, a zip with
    no JSON inside, or compressed in a way import does not read."""


class ImportFilterError(SpeechgraphError):
    """An import filter that cannot be used: an unknown arXiv category, a date that is not one."""


class ClusterUnavailable(SpeechgraphError):
    """The Ray cluster for distributed embedding cannot be reached or its workers failed."""


class WriteFailure(SpeechgraphError):
    """The catalogue, the index or a file could not be written: a read-only directory, a full
    disk, a permission, a database another program holds, a broken constraint."""


class WriterBusy(SpeechgraphError):
    """Another process kept writing the catalogue for longer than this one would wait."""
