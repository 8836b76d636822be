"""One writer at a time: every command that writes takes the data directory's writer lock; a
second writer names the holder once on stderr, waits up to --wait and then exits 1 in one line;
a holder killed with SIGKILL frees it; readers never wait, and see the last commit while a
write is under way; the vector index is swapped whole under a reader."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from faults import catalogue_rows, child_environment, speechgraph
from speechgraph.cli import app
from speechgraph.config import Settings
from speechgraph.errors import WriterBusy
from speechgraph.search.index import VectorIndex, load_index
from speechgraph.update.lock import describe_holder, writer_lock

HOLDER = "speechgraph test-holder"


def invoke(settings: Settings, *arguments: str) -> tuple[int, str, str, float]:
    started = time.monotonic()
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *arguments])
    return result.exit_code, result.stdout, result.stderr, time.monotonic() - started


@pytest.fixture
def metadata_file(tmp_path: Path) -> Path:
    path = tmp_path / "two.jsonl"
    lines = [
        {"id": "2101.00001", "title": "A first test paper", "abstract": "Speech.",
         "authors": ["A. Author"], "categories": ["eess.AS"], "published": "2021-01-01"},
        {"id": "2101.00002", "title": "A second test paper", "abstract": "Audio.",
         "authors": ["B. Author"], "categories": ["cs.SD"], "published": "2021-01-02"},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


WRITERS = {
    "refresh": ["refresh", "--offline"],
    "import": ["import", "{file}"],
    "harvest": ["harvest", "--from", "2024-01-01"],
    "index": ["index"],
    "lists remove": ["lists", "remove", "awesome-speech"],
    "upgrade": ["upgrade"],
}


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_gives_up_after_wait_in_one_line_and_changes_nothing(
    writer: str, seed_copy: Settings, metadata_file: Path
) -> None:
    arguments = [argument.format(file=metadata_file) for argument in WRITERS[writer]]
    before = catalogue_rows(seed_copy.data_dir)
    with writer_lock(seed_copy, command=HOLDER):
        since = json.loads((seed_copy.data_dir / "writer.lock.json").read_text())["since"]
        code, _, err, _ = invoke(seed_copy, *arguments, "--wait", "0.3")
    assert code == 1
    waiting, error = err.splitlines()
    holder = f"pid {os.getpid()} ({HOLDER}, since {since})"
    assert waiting == f"waiting up to 0.3 s for {holder} to finish writing {seed_copy.data_dir}"
    assert error.startswith(f"error: {seed_copy.data_dir} is still being written by pid ")
    assert holder in error and "--wait SECONDS" in error
    assert catalogue_rows(seed_copy.data_dir) == before


def test_a_second_writer_process_waits_names_the_holder_once_and_goes_on(
    seed_copy: Settings, metadata_file: Path
) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with writer_lock(seed_copy, command=HOLDER):
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    child = subprocess.Popen(
        speechgraph(seed_copy.data_dir, "import", str(metadata_file), "--wait", "120"),
        env=child_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    first_line = child.stderr.readline()
    time.sleep(0.5)  # still waiting: it says so once
    release.set()
    holder.join()
    stdout, rest = child.communicate(timeout=120)
    assert child.returncode == 0, rest
    assert first_line.startswith(f"waiting up to 120 s for pid {os.getpid()} ({HOLDER}, since ")
    assert first_line.rstrip().endswith(f"to finish writing {seed_copy.data_dir}")
    assert "waiting" not in rest and "2 imported" in stdout


def test_a_holder_killed_with_sigkill_frees_the_lock(seed_copy: Settings) -> None:
    script = (
        "import sys, time\n"
        "from speechgraph.config import Settings\n"
        "from speechgraph.update.lock import writer_lock\n"
        f"with writer_lock(Settings.load(data_dir={str(seed_copy.data_dir)!r})):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], env=child_environment(), stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    assert f"pid {holder.pid} (" in describe_holder(seed_copy.data_dir)
    with pytest.raises(WriterBusy, match=f"pid {holder.pid}"), writer_lock(seed_copy, wait=0.2):
        pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(30)
    # The holder file outlives its writer; a dead pid is not named as a holder.
    assert describe_holder(seed_copy.data_dir) == "another process"
    code, out, err, _ = invoke(seed_copy, "index", "--wait", "0")
    assert code == 0, err
    assert "waiting" not in err and "search index up to date" in out


def test_readers_never_wait_and_see_the_last_commit_during_a_write(seed_copy: Settings) -> None:
    """A writer holds the lock and an open write transaction that has deleted every mention
    and paper; every reading command answers at once from the last commit."""
    database = seed_copy.data_dir / "speechgraph.db"
    with (
        writer_lock(seed_copy, command=HOLDER),
        closing(sqlite3.connect(database, timeout=1)) as writing,
    ):
        writing.execute("BEGIN IMMEDIATE")
        writing.execute("DELETE FROM mention")
        writing.execute("DELETE FROM paperauthor")
        reads = {
            "list": invoke(seed_copy, "list", "--json"),
            "show": invoke(seed_copy, "show", "VITS", "--json"),
            "search": invoke(seed_copy, "search", "neural vocoder", "--json"),
            "lists": invoke(seed_copy, "lists", "--json"),
            "status": invoke(seed_copy, "status", "--json"),
        }
        writing.rollback()
    for name, (code, _, err, seconds) in reads.items():
        assert code == 0, (name, err)
        assert seconds < 20, (name, seconds)  # no wait for the lock (300 s) or the database
    assert len(json.loads(reads["list"][1])["papers"]) == 84
    vits = json.loads(reads["show"][1])
    assert vits["id"] == "2106.06103" and vits["authors"] and vits["mentions"]
    assert json.loads(reads["search"][1])["results"]
    assert len(json.loads(reads["lists"][1])["lists"]) == 5


def test_the_catalogue_is_in_wal_mode(seed_settings: Settings) -> None:
    database = seed_settings.data_dir / "speechgraph.db"
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_reader_always_loads_a_whole_vector_index_while_it_is_saved(tmp_path: Path) -> None:
    """Saves of indexes of different sizes race with loads: every load matches its manifest."""
    rng = np.random.default_rng(0)
    directory = tmp_path / "index"

    def build(count: int) -> VectorIndex:
        vectors = rng.standard_normal((count, 16)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"p{count}-{i}" for i in range(count)]
        return VectorIndex.build(ids, vectors, model="m", fingerprint="m", catalogue_version=count)

    indexes = [build(count) for count in (10, 200, 3000)]
    indexes[0].save(directory)
    stop = threading.Event()

    def keep_saving() -> None:
        while not stop.is_set():
            for index in indexes:
                index.save(directory)

    saver = threading.Thread(target=keep_saving)
    saver.start()
    loads = 0
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            loaded = load_index(directory)
            assert len(loaded) == loaded.manifest.catalogue_version
            assert all(paper_id.startswith(f"p{len(loaded)}-") for paper_id in loaded.manifest.ids)
            loads += 1
    finally:
        stop.set()
        saver.join()
    assert loads > 10


def test_a_catalogue_in_rollback_mode_is_read_at_once_and_switched_to_wal_when_free(
    seed_copy: Settings,
) -> None:
    """A catalogue of an earlier release keeps SQLite's rollback journal; opening it while
    another connection reads does not wait for the switch to WAL, which happens when it can."""
    database = seed_copy.data_dir / "speechgraph.db"
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA journal_mode=DELETE").fetchone() == ("delete",)

    def mode() -> str:
        with closing(sqlite3.connect(database)) as connection:
            return str(connection.execute("PRAGMA journal_mode").fetchone()[0])

    with closing(sqlite3.connect(database)) as reading:
        reading.execute("BEGIN")
        reading.execute("SELECT count(*) FROM paper").fetchone()
        code, out, err, seconds = invoke(seed_copy, "list", "--json")
        assert mode() == "delete"
        reading.rollback()
    assert code == 0 and seconds < 20, err
    assert len(json.loads(out)["papers"]) == 84
    assert invoke(seed_copy, "list")[0] == 0  # `status` reads with sqlite3 alone, read-only
    assert mode() == "wal"
