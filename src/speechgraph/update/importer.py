"""`speechgraph import`: arXiv metadata files (arXiv's snapshot JSON lines or ours; plain, gzip
or zip) streamed into the catalogue in batches, filtered by category and date. Bad lines are
counted and skipped, never fatal; a rerun of the same file writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from speechgraph.catalogue.queries import imported_files
from speechgraph.catalogue.store import open_catalogue
from speechgraph.clients.bulk import BadLine, BulkSource, open_bulk
from speechgraph.clients.bulk_filter import RecordFilter
from speechgraph.config import Settings
from speechgraph.update.batches import BATCH_SIZE, BatchReport, BatchWriter, Progress
from speechgraph.update.lock import DEFAULT_WAIT, Announce, busy_timeout, writer_lock


def import_metadata(
    settings: Settings,
    paths: Sequence[str | Path],
    *,
    format: str | None = None,
    categories: str | None = None,
    since: str | None = None,
    until: str | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    wait: float = DEFAULT_WAIT,
    announce: Announce | None = None,
) -> BatchReport:
    """Import every path; returns the counts. Every file and the filter are checked before
    anything is written (ImportFileError / ImportFilterError otherwise), then the writer lock
    is taken as for `refresh` (`wait`, `announce`; WriterBusy, WriteFailure)."""
    chosen = RecordFilter.parse(categories, since, until)
    sources = [open_bulk(path, format) for path in paths]
    report = BatchReport()
    with ExitStack() as opened:
        for source in sources:
            opened.enter_context(source)
        opened.enter_context(writer_lock(settings, wait=wait, announce=announce))
        store = open_catalogue(settings, busy_timeout=busy_timeout(wait))
        opened.callback(store.dispose)
        done_before = imported_files(store)
        writer = BatchWriter(settings, store, report, batch_size)
        total = sum(source.total_bytes or 0 for source in sources)
        done = 0
        for source in sources:
            key = file_key(source.path, chosen)
            same = key if key in done_before else content_key(source.path, chosen)
            if same in done_before:
                report.add_counts(done_before[same], already=True)
            else:
                before = report.counts()
                _import_file(source, chosen, writer, report, progress, done, total)
                writer.flush()
                writer.remember_file([key, same], before)
            done += source.total_bytes or 0
        writer.finish(
            "import",
            {"files": [str(Path(path)) for path in paths], "filter": chosen.categories.describe()},
        )
    return report


def file_key(path: Path, chosen: RecordFilter) -> str:
    """What makes a second import of a file the same import: the file as it is on disk (path,
    size, modification time) and the filter."""
    stat = path.resolve().stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{chosen.describe()}"


def content_key(path: Path, chosen: RecordFilter) -> str:
    """The same import told by the file's bytes (and the filter): a copy, a move or a new
    download of a file imported before reads nothing either. Hashing costs well under 1% of
    an import."""
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    return f"sha256:{digest}|{chosen.describe()}"


def _import_file(
    source: BulkSource,
    chosen: RecordFilter,
    writer: BatchWriter,
    report: BatchReport,
    progress: Progress | None,
    done_before: int,
    total: int,
) -> None:
    name = source.path.name
    for count, event in enumerate(source, start=1):
        report.read += 1
        if isinstance(event, BadLine):
            report.add_bad(name, event.line_number, event.reason)
            continue
        _line, record = event
        if not chosen.accepts(record):
            report.skipped += 1
            continue
        writer.add(record if record.source == "import" else replace(record, source="import"))
        if progress is not None and count % 1000 == 0:
            progress(
                "import MB", (done_before + source.bytes_read) // 1_000_000, total // 1_000_000
            )
    if progress is not None:
        progress("import MB", (done_before + source.bytes_read) // 1_000_000, total // 1_000_000)
