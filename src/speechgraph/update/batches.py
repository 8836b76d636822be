"""What imports and harvests share: records written in batches, one transaction and catalogue
version each (so a kill loses at most the batch in flight, and a rerun skips what is stored),
counted into a flat report, the keyword index brought up to date at the end.

Neither embeds: `speechgraph index` embeds the papers that wait for a vector.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from speechgraph.catalogue.batch import upsert_records
from speechgraph.catalogue.queries import catalogue_version, paper_count
from speechgraph.catalogue.status import remember_counts
from speechgraph.catalogue.store import Store
from speechgraph.config import Settings
from speechgraph.records import PaperRecord
from speechgraph.search.keyword_sync import KeywordFollower, sync_keywords
from speechgraph.search.manifest import vector_count

# Records per transaction. Measured on the 740K import (bench: 2 cores, quiet): 2000 took 206 s,
# 5000 175 s, 10000 182 s; an interrupted run loses at most one batch.
BATCH_SIZE = 5000
MAX_BAD_LINES = 100

Progress = Callable[[str, int, int], None]


@dataclass
class BatchReport:
    """Counts of one import or harvest; `to_json` is the flat `--json` contract."""

    read: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    bad: int = 0
    bad_lines: list[int] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    without_vector: int = 0
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def add_bad(self, source: str, line: int, reason: str) -> None:
        self.bad += 1
        if len(self.bad_lines) < MAX_BAD_LINES:
            self.bad_lines.append(line)
            self.problems.append({"file": source, "line": line, "reason": reason})

    already_imported: int = 0  # files skipped: imported before, unchanged since

    def add_counts(self, counts: dict[str, int], *, already: bool = False) -> None:
        """Count a file imported before as it was counted then: its papers all unchanged."""
        self.read += counts["read"]
        self.unchanged += counts["imported"] + counts["updated"] + counts["unchanged"]
        self.skipped += counts["skipped"]
        self.bad += counts["bad"]
        self.already_imported += int(already)

    @property
    def good(self) -> int:
        return self.imported + self.updated + self.unchanged + self.skipped

    def exit_code(self) -> int:
        """0 when every line was good, 3 when some were bad and the rest was stored, 1 when
        nothing could be."""
        if not self.bad:
            return 0
        return 3 if self.good else 1

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "bad": self.bad,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.counts(),
            "bad_lines": self.bad_lines,
            "seconds": round(self.seconds),
            "without_vector": self.without_vector,
            "already_imported": self.already_imported,
            "problems": self.problems,
        }


class BatchWriter:
    """Collects records and writes them in batches of `batch_size`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        report: BatchReport,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.settings = settings
        self.store = store
        self.report = report
        self.batch_size = batch_size
        self.pending: list[PaperRecord] = []
        self.author_ids: dict[str, int] = {}
        # A current keyword index takes each batch's documents as it is written (no read-back).
        sync_keywords(settings, store, catalogue_version(store))
        self.keywords = KeywordFollower(settings)

    def add(self, record: PaperRecord) -> None:
        self.pending.append(record)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        with self.store.writing() as writer:
            outcome = upsert_records(writer, self.pending, self.author_ids, documents=True)
        if outcome.documents:
            self.keywords.follow(outcome.documents, writer.version)
        self.report.imported += len(outcome.new)
        self.report.updated += len(outcome.updated)
        self.report.unchanged += len(outcome.unchanged)
        self.pending = []

    def remember_file(self, keys: Iterable[str], before: dict[str, int]) -> None:
        """Record, in one transaction, that the file `keys` name (by path, by bytes) was
        imported whole, with its counts (the report's now, less `before`), so that importing it
        again reads nothing."""
        counts = {name: value - before[name] for name, value in self.report.counts().items()}
        with self.store.writing() as writer:
            for key in dict.fromkeys(keys):
                writer.remember_import(key, counts)

    def finish(self, event: str, details: dict[str, Any]) -> None:
        """Write what is left, record the run (`last_import` or `last_harvest`), bring the
        keyword index up to date and count the papers that wait for a vector."""
        self.flush()
        self.keywords.close()
        report = self.report
        report.seconds = time.monotonic() - report.started
        with self.store.writing() as writer:
            record = {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                **details,
                **report.counts(),
            }
            writer.set_meta(f"last_{event}", json.dumps(record, sort_keys=True))
            remember_counts(writer)
        sync_keywords(self.settings, self.store, catalogue_version(self.store))
        indexed = vector_count(self.settings.index_dir)
        report.without_vector = max(0, paper_count(self.store) - indexed)
        report.seconds = time.monotonic() - report.started
