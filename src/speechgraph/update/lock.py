"""The writer lock: one process at a time writes a data directory's catalogue and index.

A `filelock` lock (flock) on `writer.lock` in the data directory, which the kernel releases
when its holder dies, `kill -9` included; the holder writes its pid and command beside it
(`writer.lock.json`) so that a second writer can say whom it waits for. Before a writer starts,
it checks that it can write where it will (a write probe). Readers never take the lock.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from speechgraph.catalogue.store import sqlite_database_path
from speechgraph.config import DEFAULT_WAIT_SECONDS, Settings
from speechgraph.errors import WriteFailure, WriterBusy
from speechgraph.files import (
    atomic_write_text,
    is_running,
    probe_writable,
    remove_stale_temporaries,
    write_failure,
)

log = logging.getLogger(__name__)

LOCK_FILE = "writer.lock"
HOLDER_FILE = "writer.lock.json"
DEFAULT_WAIT = DEFAULT_WAIT_SECONDS

Announce = Callable[[str], None]


@contextmanager
def writer_lock(
    settings: Settings,
    *,
    wait: float = DEFAULT_WAIT,
    announce: Announce | None = None,
    command: str | None = None,
) -> Iterator[None]:
    """Hold the data directory's writer lock for the block; once held, check that the
    catalogue, index and caches can be written, before the block starts.

    While another process holds it, says once through `announce` (default: a warning in the
    log) which process that is, and waits up to `wait` seconds. Raises WriterBusy when the wait
    runs out and WriteFailure when the directory cannot be written. Not reentrant: a holder
    must not take it again.
    """
    lock_path = settings.data_dir / LOCK_FILE
    lock = FileLock(lock_path)
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        _acquire(lock, settings.data_dir, max(wait, 0.0), announce or log.warning)
    except OSError as error:
        raise write_failure(error, settings.data_dir) from error
    try:
        check_writable(settings)
        _write_holder(settings.data_dir, command)
        removed = remove_stale_temporaries(settings.data_dir)
        if removed:
            log.info("removed %d temporary files an interrupted writer left", removed)
        yield
    finally:
        with suppress(OSError):
            (settings.data_dir / HOLDER_FILE).unlink(missing_ok=True)
        lock.release()


def busy_timeout(wait: float) -> float:
    """How long a writer holding the lock waits for a database lock another program (an
    sqlite3 shell, a database browser) holds: as long as it would wait for another writer."""
    return max(1.0, wait)


def _acquire(lock: FileLock, data_dir: Path, wait: float, announce: Announce) -> None:
    try:
        lock.acquire(timeout=0)
        return
    except Timeout:
        pass
    holder = describe_holder(data_dir)
    announce(f"waiting up to {wait:g} s for {holder} to finish writing {data_dir}")
    try:
        lock.acquire(timeout=wait, poll_interval=0.1)
    except Timeout:
        raise WriterBusy(
            f"{data_dir} is still being written by {describe_holder(data_dir)} after "
            f"{wait:g} s: run the command again when it has finished, or wait longer with "
            "--wait SECONDS"
        ) from None


def check_writable(settings: Settings) -> None:
    """Write a small file where a writer writes (data directory, index, caches, the SQLite
    file's directory) and check the SQLite file itself; WriteFailure in one line otherwise."""
    database = sqlite_database_path(settings.db_url)
    directories = [settings.data_dir, settings.index_dir, settings.cache_dir]
    if database is not None:
        directories.append(database.parent)
    for directory in dict.fromkeys(directories):
        probe_writable(directory)
    if database is not None and database.exists() and not os.access(database, os.W_OK):
        raise WriteFailure(
            f"cannot write {database}: the file is read-only: make it writable (chmod u+w) or "
            "write to a copy with --data-dir or SPEECHGRAPH_DATA_DIR"
        )


def describe_holder(data_dir: Path) -> str:
    """Who holds the lock, as the holder wrote it: "pid 123 (speechgraph import …, since …)"."""
    holder = read_holder(data_dir)
    pid = holder.get("pid")
    if not isinstance(pid, int) or not is_running(pid):
        return "another process"
    return f"pid {pid} ({holder.get('command', '?')}, since {holder.get('since', '?')})"


def read_holder(data_dir: Path) -> dict[str, Any]:
    try:
        holder = json.loads((data_dir / HOLDER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _write_holder(data_dir: Path, command: str | None) -> None:
    holder = {
        "pid": os.getpid(),
        "command": command or _command_line(),
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        atomic_write_text(data_dir / HOLDER_FILE, json.dumps(holder))
    except OSError as error:
        raise write_failure(error, data_dir) from error


def _command_line() -> str:
    words = [Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]]
    line = " ".join(words)
    return line if len(line) <= 160 else line[:159] + "…"
