"""Writing files so that a reader sees the old file or the new one, never half of either; and
what a failed write means to a user.

Every file speechgraph writes whole (snapshot, manifests, caches) goes through here, and every
write failure of the file system (read-only, full, not permitted) becomes one line here.
"""

from __future__ import annotations

import errno
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from speechgraph.errors import WriteFailure

# Enough to fail on a disk that is full or nearly so; small enough to cost nothing.
PROBE_BYTES = 64 * 1024
# `atomic_path`'s temporary files (and the journals SQLite keeps beside one it writes).
_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp(?:-journal|-wal|-shm)?$")
# What was warned about in this process: a cache that cannot be written is said once per run.
_WARNED: set[str] = set()


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write; it replaces `path` in one step when the block
    ends without error, and is removed otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    try:
        yield temporary
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_path(path) as temporary:
        temporary.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(directory: Path) -> int:
    """Delete the temporary files that processes killed mid-write left under `directory`
    (those of a process that is still running stay); returns how many went."""
    removed = 0
    for path in directory.rglob(".*.tmp*"):
        found = _TEMPORARY.match(path.name)
        if found is None or is_running(int(found.group(1))):
            continue
        try:
            path.unlink()
        except OSError:
            continue
        removed += 1
    return removed


def is_running(pid: int) -> bool:
    """Whether a process with this id exists (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_writable_directory(directory: Path) -> bool:
    """Whether files can be made in `directory`, or, when it does not exist yet, in the nearest
    directory above it (a read-only mount says no even to root)."""
    existing = directory
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def probe_writable(directory: Path) -> None:
    """Make `directory` if needed and write, sync and delete a small file in it; raises
    WriteFailure, naming the directory and what to do, when that fails."""
    # Named as `atomic_path` names its files, so that one a killed process left is cleaned up.
    probe = directory / f".write-probe.{os.getpid()}.tmp"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        try:
            with probe.open("wb") as stream:
                stream.write(b"\0" * PROBE_BYTES)
                stream.flush()
                os.fsync(stream.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as error:
        raise write_failure(error, directory) from error


def write_failure(error: OSError, path: Path | str) -> WriteFailure:
    """The one-line error for a failed write of `path`: what happened and what to do."""
    return WriteFailure(f"cannot write {path}: {describe_os_error(error)}")


def describe_os_error(error: OSError) -> str:
    """Why a write failed and what to do, in words (no trailing period)."""
    code = error.errno
    if code == errno.EROFS:
        return (
            "the file system is read-only (reading commands still work on it): write to a "
            "writable copy instead, e.g. with --data-dir or SPEECHGRAPH_DATA_DIR"
        )
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (
            "no space left on the device (or over a quota or file-size limit): free some space "
            "and run the command again"
        )
    if code in (errno.EACCES, errno.EPERM):
        return (
            "permission denied: run as a user who may write there, or use a directory of your "
            "own with --data-dir or SPEECHGRAPH_DATA_DIR"
        )
    reason = error.strerror or str(error)
    return f"{reason}: check the disk and run the command again"


def warn_once(logger: logging.Logger, key: str, message: str, *args: object) -> None:
    """Log `message` as a warning the first time `key` is seen in this process, and only at
    debug level after that."""
    if key in _WARNED:
        logger.debug(message, *args)
        return
    _WARNED.add(key)
    logger.warning(message, *args)
