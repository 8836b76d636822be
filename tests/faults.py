"""Helpers of the fault tests: `speechgraph` run as a real child process (and killed with
SIGKILL once it holds the writer lock), copies of data directories, and the state of a
catalogue and its index as plain, comparable data.

Imports the standard library, numpy and the library's read side only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from conftest import INGEST_DIR, REPO_DIR

HOLDER_FILE = "writer.lock.json"  # update.lock.HOLDER_FILE: the holder's pid, once it holds it
# Files whose presence or content says nothing about the catalogue: locks, SQLite's WAL and
# journals (a clean close removes them), caches that only save time.
_TRANSIENT = re.compile(r"(^writer\.lock(\.json)?$|-(wal|shm|journal)$|^fingerprints\.json$)")
# Catalogue facts that differ between runs whatever happens: times, version counters, and the
# counts a run reports (a rerun counts as unchanged what a killed run stored).
_VOLATILE_META = {
    "catalogue_version", "last_removal", "last_refresh", "last_refresh_mode",
    "last_refresh_report", "last_import", "last_harvest", "imported_files",
    "knowledge_version", "topics_of", "status_counts",
}  # fmt: skip


def child_environment(**extra: str) -> dict[str, str]:
    """The environment of a child `speechgraph`: this checkout's code and ingest/, no network,
    no pacing."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SPEECHGRAPH_") and key != "S2_API_KEY"
    }
    environment.update(
        PYTHONPATH=os.pathsep.join([str(REPO_DIR / "src"), environment.get("PYTHONPATH", "")]),
        SPEECHGRAPH_INGEST_DIR=str(INGEST_DIR),
        SPEECHGRAPH_ARXIV_DELAY="0",
        SPEECHGRAPH_S2_DELAY="0",
        SPEECHGRAPH_MAX_RETRIES="1",
        HF_HUB_OFFLINE="1",
        NO_PROXY="127.0.0.1",
        **extra,
    )
    return environment


def speechgraph(data_dir: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "speechgraph", "--quiet", "--data-dir", str(data_dir), *arguments]


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    seconds: float
    writing_seconds: float | None = None  # from taking the writer lock to the end


def run(
    command: Sequence[str],
    environment: dict[str, str],
    timeout: float = 300,
    preexec: Callable[[], None] | None = None,
) -> Finished:
    """Run to the end; `preexec` runs in the child before it starts (a resource limit)."""
    started = time.monotonic()
    done = subprocess.run(
        command,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec,
    )
    return Finished(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def run_timed(
    command: Sequence[str], environment: dict[str, str], data_dir: Path, timeout: float = 300
) -> Finished:
    """Run to the end, measuring how long the child held the writer lock."""
    started = time.monotonic()
    child = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    locked_at = wait_for_lock(child, data_dir, timeout)
    stdout, stderr = child.communicate(timeout=timeout)
    ended = time.monotonic()
    writing = ended - locked_at if locked_at is not None else None
    return Finished(child.returncode, stdout, stderr, ended - started, writing)


@dataclass
class Kill:
    delay: float  # seconds after the child took the writer lock
    killed: bool  # False: the child had finished before
    code: int
    stderr: str
    left: str = ""  # what the kill left, in words (set by the test)


def run_and_kill(
    command: Sequence[str], environment: dict[str, str], data_dir: Path, delay: float
) -> Kill:
    """Start the child, and SIGKILL it `delay` seconds after it holds the writer lock."""
    child = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    locked_at = wait_for_lock(child, data_dir, 120)
    if locked_at is not None:
        time.sleep(max(0.0, delay - (time.monotonic() - locked_at)))
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    _, stderr = child.communicate(timeout=120)
    # The child may have ended on its own between the poll and the signal.
    return Kill(delay, child.returncode == -signal.SIGKILL, child.returncode, stderr)


def wait_for_lock(child: subprocess.Popen[str], data_dir: Path, timeout: float) -> float | None:
    """When the child wrote its pid into the lock's holder file (None when it ended first)."""
    holder = data_dir / HOLDER_FILE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        if holder_pid(holder) == child.pid:
            return time.monotonic()
        time.sleep(0.005)
    return None


def holder_pid(holder: Path) -> int | None:
    try:
        return int(json.loads(holder.read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def copy_data_dir(source: Path, target: Path) -> Path:
    """A copy of a data directory; the ONNX export (large, never changed in place once made)
    is hard-linked."""
    if target.exists():
        shutil.rmtree(target)

    def copy(source_file: str, target_file: str) -> object:
        if f"{os.sep}onnx{os.sep}" in source_file:
            return os.link(source_file, target_file)
        return shutil.copy2(source_file, target_file)

    shutil.copytree(source, target, copy_function=copy)
    return target


# --- state -------------------------------------------------------------------------------------


def catalogue_rows(data_dir: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the catalogue as sorted rows of natural values (names, not row ids),
    without the times and counters that differ between equal catalogues."""
    with closing(_read_only(data_dir / "speechgraph.db")) as connection:
        paper_columns = [
            row[1]
            for row in connection.execute("PRAGMA table_info(paper)")
            if row[1] not in ("changed_in", "fetched_at")
        ]
        queries = {
            "paper": f"SELECT {', '.join(paper_columns)} FROM paper",
            "author": "SELECT paper_id, position, name FROM paperauthor JOIN author "
            "ON author.id = paperauthor.author_id",
            "category": "SELECT paper_id, position, category FROM papercategory",
            "origin": "SELECT paper_id, origin FROM paperorigin",
            "list": "SELECT name, location, content_hash FROM readinglist",
            "mention": "SELECT readinglist.name, paper_id, section, link_text, line, kind, url, "
            "linked_version, doi, title, year, reference, resolution, resolution_score, "
            "resolution_detail FROM mention JOIN readinglist ON readinglist.id = list_id",
            "resource": "SELECT readinglist.name, paper_id, section, url, kind, text, line "
            "FROM resource JOIN readinglist ON readinglist.id = list_id",
            "citation": "SELECT citing_id, cited_id, source FROM citation",
            "relation": "SELECT source_id, target_id, kind, name, evidence, confidence, origin "
            "FROM relation",
            "meta": "SELECT key, value FROM meta",
        }
        rows = {
            name: sorted(connection.execute(query).fetchall(), key=repr)
            for name, query in queries.items()
        }
    rows["meta"] = [row for row in rows["meta"] if row[0] not in _VOLATILE_META]
    rows["meta"].append(("harvest datestamp", _harvest_datestamp(data_dir)))
    rows["meta"].append(("imported files", _imported_files(data_dir)))
    return rows


def _harvest_datestamp(data_dir: Path) -> str | None:
    value = _meta(data_dir, "last_harvest")
    return json.loads(value).get("datestamp") if value else None


def _imported_files(data_dir: Path) -> str:
    value = _meta(data_dir, "imported_files")
    return ",".join(sorted(json.loads(value))) if value else ""


def _meta(data_dir: Path, key: str) -> str | None:
    with closing(_read_only(data_dir / "speechgraph.db")) as connection:
        row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def catalogue_version(data_dir: Path) -> int:
    return int(_meta(data_dir, "catalogue_version") or 0)


def check_sound(data_dir: Path) -> None:
    """The catalogue passes SQLite's own checks and holds no row twice (by natural key)."""
    with closing(_read_only(data_dir / "speechgraph.db")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    for table, rows in catalogue_rows(data_dir).items():
        twice = [row for row, count in Counter(rows).items() if count > 1]
        assert not twice, f"{table} holds rows twice: {twice[:3]}"


def papers_are_whole(
    rows: dict[str, list[tuple[Any, ...]]], *states: dict[str, list[tuple[Any, ...]]]
) -> None:
    """Every paper's authors, categories and origins in `rows` are all of them as in one of
    `states` (before a run, after it): no paper was left half written."""
    for table in ("author", "category", "origin"):
        found = _by_paper(rows[table])
        allowed = [_by_paper(state[table]) for state in states]
        for paper_id, paper_rows in found.items():
            assert any(paper_rows == state.get(paper_id) for state in allowed), (table, paper_id)
        for paper_id in {row[0] for row in rows["paper"]}:
            assert any(found.get(paper_id) == state.get(paper_id) for state in allowed), (
                table,
                paper_id,
            )


def _by_paper(rows: list[tuple[Any, ...]]) -> dict[str, list[tuple[Any, ...]]]:
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


def index_state(data_dir: Path) -> dict[str, Any]:
    """What the keyword and vector indexes hold: ids and the catalogue version each reflects,
    and the vectors by id."""
    index_dir = data_dir / "index"
    state: dict[str, Any] = {"keywords": None, "keywords_version": None, "vectors": None}
    lexical = index_dir / "lexical.sqlite"
    if lexical.exists():
        with closing(_read_only(lexical)) as connection:
            state["keywords"] = {row[0] for row in connection.execute("SELECT paper_id FROM "
                                 "keyword_doc")}  # fmt: skip
            stamp = connection.execute(
                "SELECT value FROM lexical_meta WHERE key = 'catalogue_version'"
            ).fetchone()
            state["keywords_version"] = int(stamp[0]) if stamp else None
    manifest_file = index_dir / "manifest.json"
    if manifest_file.exists():
        from speechgraph.search.index import load_index

        index = load_index(index_dir)
        ids = list(index.manifest.ids)
        state["vectors"] = dict(zip(ids, index.vectors(ids), strict=True))
        state["vectors_version"] = index.manifest.catalogue_version
    return state


def paper_ids(data_dir: Path) -> set[str]:
    with closing(_read_only(data_dir / "speechgraph.db")) as connection:
        return {row[0] for row in connection.execute("SELECT id FROM paper WHERE is_stub = 0")}


def assert_same_index(state: dict[str, Any], reference: dict[str, Any]) -> None:
    assert state["keywords"] == reference["keywords"]
    if reference["vectors"] is None:
        assert state["vectors"] is None
        return
    assert set(state["vectors"]) == set(reference["vectors"])
    for paper_id, vector in reference["vectors"].items():
        assert np.allclose(state["vectors"][paper_id], vector, atol=1e-4), paper_id


def file_listing(data_dir: Path) -> list[str]:
    """The data directory's files, vectors files under one name, without transient files."""
    names = []
    for path in sorted(data_dir.rglob("*")):
        if path.is_dir() or _TRANSIENT.search(path.name):
            continue
        relative = str(path.relative_to(data_dir))
        names.append(re.sub(r"vectors-[0-9a-f]+\.faiss$", "vectors-*.faiss", relative))
    return names


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
