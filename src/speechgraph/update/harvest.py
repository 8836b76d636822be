"""`speechgraph harvest`: arXiv's updates through OAI-PMH (metadata format `arXiv`), written
through the same batches as an import. The next harvest starts where the last one ended: the
latest datestamp seen is stored with each batch.
"""

from __future__ import annotations

import json
from datetime import date

from speechgraph.catalogue.queries import meta_value
from speechgraph.catalogue.store import Store, open_catalogue
from speechgraph.clients.bulk_filter import RecordFilter, parse_day
from speechgraph.clients.oai import HarvestedRecord, OaiHarvester
from speechgraph.config import Settings
from speechgraph.update.batches import BATCH_SIZE, BatchReport, BatchWriter, Progress
from speechgraph.update.lock import DEFAULT_WAIT, Announce, busy_timeout, writer_lock

DEFAULT_SETS = ("cs", "eess")  # where speech and audio papers are listed


def harvest_updates(
    settings: Settings,
    *,
    sets: tuple[str, ...] = DEFAULT_SETS,
    from_date: str | None = None,
    until: str | None = None,
    categories: str | None = None,
    progress: Progress | None = None,
    client: OaiHarvester | None = None,
    batch_size: int = BATCH_SIZE,
    wait: float = DEFAULT_WAIT,
    announce: Announce | None = None,
) -> BatchReport:
    """Harvest `sets` from `from_date` (default: the day of the last harvest's latest
    datestamp, so nothing is missed) to `until`, keeping the records `categories` selects (as
    for `import`). Deleted records are counted as skipped. Holds the writer lock as `refresh`
    does (`wait`, `announce`; WriterBusy, WriteFailure)."""
    chosen = RecordFilter.parse(categories)
    report = BatchReport()
    with writer_lock(settings, wait=wait, announce=announce):
        store = open_catalogue(settings, busy_timeout=busy_timeout(wait))
        own_client = client is None
        client = client or OaiHarvester.from_settings(settings)
        try:
            start = parse_day(from_date, "--from", last=False) if from_date else _resume_day(store)
            end = parse_day(until, "--until", last=True) if until else None
            writer = BatchWriter(settings, store, report, batch_size)
            latest = start
            for set_spec in sets:
                for harvested in client.harvest(set_spec=set_spec, from_date=start, until=end):
                    latest = _count(harvested, chosen, writer, report, latest)
                    if progress is not None and report.read % 500 == 0:
                        progress("harvest", report.read, 0)
            writer.finish("harvest", _details(sets, start, end, latest))
        finally:
            if own_client:
                client.close()
            store.dispose()
    return report


def _details(
    sets: tuple[str, ...], start: date | None, end: date | None, latest: date | None
) -> dict[str, object]:
    return {
        "sets": list(sets),
        "from": start.isoformat() if start else None,
        "until": end.isoformat() if end else None,
        "datestamp": latest.isoformat() if latest else None,
    }


def _count(
    harvested: HarvestedRecord,
    chosen: RecordFilter,
    writer: BatchWriter,
    report: BatchReport,
    latest: date | None,
) -> date | None:
    report.read += 1
    if harvested.deleted or harvested.record is None:
        report.skipped += 1
    elif chosen.accepts(harvested.record):
        writer.add(harvested.record)
    else:
        report.skipped += 1
    return max(latest, harvested.datestamp) if latest else harvested.datestamp


def _resume_day(store: Store) -> date | None:
    """Where an incremental harvest starts: the day of the last harvest's latest datestamp
    (that day again: OAI-PMH dates have day granularity, and unchanged records cost nothing),
    or the beginning when there was none."""
    last = meta_value(store, "last_harvest")
    stamp = json.loads(last).get("datestamp") if last else None
    return date.fromisoformat(stamp) if stamp else None
