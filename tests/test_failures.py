"""Write failures in one line, on real processes and real file systems: a read-only mount, a
full disk (a small tmpfs, or a file-size limit where no tmpfs can be mounted), a directory the
process may not write, a database another program holds, a write that breaks a constraint.
Each writer exits 1 with one line naming the path and what to do, and leaves the catalogue as
it was. A read-only copy serves every reading command, without tracebacks or repeated
warnings; a copy whose WAL still holds commits is refused in one line."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import resource
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from conftest import SHARED_DIR, make_settings, read_only_view
from faults import (
    Finished,
    catalogue_rows,
    check_sound,
    child_environment,
    copy_data_dir,
    papers_are_whole,
    run,
    speechgraph,
)
from speechgraph.catalogue.store import database_write_failure
from speechgraph.config import Settings
from speechgraph.files import describe_os_error

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
ENVIRONMENT = child_environment()


def run_cli(data_dir: Path, *arguments: str, **options: object) -> Finished:
    command = [*options.pop("prefix", []), *speechgraph(data_dir, *arguments)]  # type: ignore[misc]
    return run(command, ENVIRONMENT, **options)  # type: ignore[arg-type]


def assert_one_line_error(done: Finished, *fragments: str) -> str:
    assert done.code == 1, (done.code, done.stdout, done.stderr)
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def metadata_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("metadata") / "metadata.jsonl"
    with gzip.open(CORPUS, "rt", encoding="utf-8") as lines:
        path.write_text("".join(itertools.islice(lines, 1200)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def seed_without_onnx(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed catalogue with its index and embedding cache, no ONNX export (small)."""
    target = tmp_path_factory.mktemp("small") / "data"
    shutil.copytree(seed_settings.data_dir, target, ignore=shutil.ignore_patterns("onnx"))
    return target


def writer_commands(metadata: Path) -> dict[str, list[str]]:
    return {
        "refresh": ["refresh", "--offline"],
        "import": ["import", str(metadata), "--category", "all"],
        "harvest": ["harvest", "--from", "2024-01-01"],
        "index": ["index", "--rebuild"],
        "lists remove": ["lists", "remove", "awesome-speech"],
        "upgrade": ["upgrade"],
    }


# --- a read-only mount ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def read_only_copy(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    tuple[Path, Path]
]:  # fmt: skip
    """(the original, its read-only view): the seed catalogue seen through a read-only bind mount
    (as root) or made read-only with chmod."""
    original = copy_data_dir(seed_settings.data_dir, tmp_path_factory.mktemp("ro") / "data")
    with read_only_view(original) as view:
        yield original, view


def test_every_writer_refuses_a_read_only_directory_in_one_line(
    read_only_copy: tuple[Path, Path], metadata_file: Path
) -> None:
    original, view = read_only_copy
    before = catalogue_rows(original)
    for name, arguments in writer_commands(metadata_file).items():
        done = run_cli(view, *arguments, "--wait", "1")
        line = assert_one_line_error(done, str(view))
        assert "read-only" in line and "--data-dir" in line, (name, line)
    assert catalogue_rows(original) == before


READERS = {
    "list": ["list", "--json"],
    "show": ["show", "VITS"],
    "search": ["search", "neural vocoder"],
    "similar": ["similar", "HiFi-GAN"],
    "status": ["status"],
    "lists": ["lists"],
    "audit": ["audit"],
    "export": ["export", "--format", "csv"],
    "prereqs": ["prereqs", "VITS"],
    "clusters": ["clusters"],
}


def test_a_read_only_copy_serves_every_reading_command(read_only_copy: tuple[Path, Path]) -> None:
    _, view = read_only_copy
    for name, arguments in READERS.items():
        done = run_cli(view, *arguments)
        assert done.code == 0, (name, done.stderr)
        assert done.stdout.strip(), name
        assert "Traceback" not in done.stderr, (name, done.stderr)
        warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
        assert len(warnings) == len(set(warnings)) <= 1, (name, done.stderr)
    assert not list(view.rglob("*.tmp"))


def test_a_read_only_copy_without_caches_searches_with_one_warning_at_most(
    seed_settings: Settings, tmp_path: Path
) -> None:
    """No ONNX export, no model memo, no embedding cache: the query is embedded by torch, and
    nothing that cannot be cached is said more than once."""
    original = tmp_path / "data"
    shutil.copytree(seed_settings.data_dir, original, ignore=shutil.ignore_patterns("cache"))
    with read_only_view(original) as view:
        done = run_cli(view, "search", "neural vocoder", "--json", "-k", "3")
    assert done.code == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.splitlines()) <= 1, done.stderr
    assert json.loads(done.stdout)["results"]
    assert not (original / "cache").exists()


def test_a_read_only_copy_whose_wal_holds_commits_is_refused_in_one_line(
    seed_settings: Settings, tmp_path: Path
) -> None:
    original = tmp_path / "data"
    shutil.copytree(seed_settings.data_dir, original)
    database = original / "speechgraph.db"
    with closing(sqlite3.connect(database)) as writing:
        writing.execute("PRAGMA wal_autocheckpoint = 0")
        writing.execute("UPDATE paper SET note = 'written after the copy' WHERE id = '2106.06103'")
        writing.commit()
        copy = tmp_path / "copy"
        shutil.copytree(original, copy, ignore=shutil.ignore_patterns("*-shm"))
        shared_memory = (original / "speechgraph.db-shm").read_bytes()
    assert (copy / "speechgraph.db-wal").stat().st_size > 0
    with read_only_view(copy) as view:
        refused = run_cli(view, "show", "VITS")
    assert_one_line_error(refused, "speechgraph.db-wal", "read-only", "copy it again")
    (copy / "speechgraph.db-shm").write_bytes(shared_memory)
    with read_only_view(copy) as view:
        shown = run_cli(view, "show", "VITS", "--json")
    assert shown.code == 0, shown.stderr
    assert json.loads(shown.stdout)["note"] == "written after the copy"


def test_a_writer_refuses_before_it_starts_when_the_index_cannot_be_written(
    seed_without_onnx: Path, tmp_path: Path
) -> None:
    """The data directory is writable, its index directory is not: refresh stops before it
    writes the catalogue."""
    data = copy_data_dir(seed_without_onnx, tmp_path / "data")
    before = catalogue_rows(data)
    with read_only_in_place(data / "index"):
        done = run_cli(data, "refresh", "--offline")
    assert_one_line_error(done, str(data / "index"), "read-only")
    assert catalogue_rows(data) == before


@contextmanager
def read_only_in_place(directory: Path) -> Iterator[None]:
    """`directory` itself read-only: a read-only bind mount over it (as root), else chmod."""
    if os.geteuid() != 0:
        with read_only_view(directory):
            yield
        return
    subprocess.run(["mount", "--bind", str(directory), str(directory)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(directory)], check=True)
        yield
    finally:
        subprocess.run(["umount", str(directory)], check=True)


# --- a directory the process may not write --------------------------------------------------------


@contextmanager
def not_writable(directory: Path) -> Iterator[list[str]]:
    """`directory` without write permission, and the command prefix under which permissions
    hold: root drops the capability that overrides them (setpriv)."""
    modes = {path: path.stat().st_mode for path in [directory, *directory.rglob("*")]}
    for path, mode in modes.items():
        path.chmod(mode & ~0o222)
    prefix: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("root without setpriv: permissions cannot be made to hold")
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    try:
        yield prefix
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def test_permission_denied_is_one_line_and_reading_still_works(
    seed_without_onnx: Path, tmp_path: Path, metadata_file: Path
) -> None:
    data = copy_data_dir(seed_without_onnx, tmp_path / "data")
    before = catalogue_rows(data)
    with not_writable(data) as prefix:
        refused = run_cli(data, "import", str(metadata_file), "--category", "all", prefix=prefix)
        listed = run_cli(data, "list", "--json", prefix=prefix)
    assert_one_line_error(refused, str(data), "permission denied")
    assert listed.code == 0, listed.stderr
    assert len(json.loads(listed.stdout)["papers"]) == 84
    assert catalogue_rows(data) == before


# --- a full disk ---------------------------------------------------------------------------------


@contextmanager
def small_disk(path: Path, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` at `path`; skips where none can be mounted."""
    path.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(path)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"no tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


def fill(disk: Path, leave: int) -> Path:
    """Fill `disk` up to `leave` bytes free; returns the filler file."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with filler.open("wb") as stream:
        stream.write(b"\0" * max(0, free - leave))
    return filler


def test_a_full_disk_refuses_a_writer_before_it_starts(
    seed_without_onnx: Path, tmp_path: Path, metadata_file: Path
) -> None:
    with small_disk(tmp_path / "disk", 8) as disk:
        data = copy_data_dir(seed_without_onnx, disk / "data")
        before = catalogue_rows(data)
        fill(disk, 0)
        done = run_cli(data, "import", str(metadata_file), "--category", "all")
        assert_one_line_error(done, str(data), "no space left", "free some space")
        assert catalogue_rows(data) == before


def file_size_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("limit", ["tmpfs", "file size"])
def test_a_disk_that_fills_during_an_import_loses_nothing(
    limit: str, seed_without_onnx: Path, tmp_path: Path, metadata_file: Path
) -> None:
    """The disk fills after some batches: exit 1 in one line, every stored batch whole, nothing
    of the catalogue lost; with space again, the rerun ends as an import that never failed."""
    reference = copy_data_dir(seed_without_onnx, tmp_path / "reference")
    arguments = ["import", str(metadata_file), "--category", "all", "--batch-size", "100"]
    assert run_cli(reference, *arguments).code == 0
    with _filling(limit, seed_without_onnx, tmp_path) as (data, preexec, make_room):
        before = catalogue_rows(data)
        done = run_cli(data, *arguments, preexec=preexec)
        line = assert_one_line_error(done, "cannot write")
        assert "free some space" in line or "check the disk" in line, line
        check_sound(data)
        rows = catalogue_rows(data)
        papers_are_whole(rows, before, catalogue_rows(reference))
        assert set(before["paper"]) < set(rows["paper"]), "it should fail after some batches"
        make_room()
        rerun = run_cli(data, *arguments)
        assert rerun.code == 0, rerun.stderr
        assert catalogue_rows(data) == catalogue_rows(reference)


@contextmanager
def _filling(
    limit: str, start: Path, tmp_path: Path
) -> Iterator[tuple[Path, Callable[[], None] | None, Callable[[], None]]]:
    """A copy of `start` on a disk with room for some batches: (data dir, what the child runs
    first, what makes room again)."""
    if limit == "tmpfs":
        with small_disk(tmp_path / "disk", 16) as disk:
            data = copy_data_dir(start, disk / "data")
            filler = fill(disk, 700_000)
            yield data, None, lambda: filler.unlink()
        return
    data = copy_data_dir(start, tmp_path / "data")
    database = data / "speechgraph.db"
    yield data, file_size_limit(database.stat().st_size + 600_000), lambda: None


# --- another program's lock; a constraint --------------------------------------------------------


def test_a_database_another_program_holds_is_one_line_after_wait(
    seed_without_onnx: Path, tmp_path: Path, metadata_file: Path
) -> None:
    data = copy_data_dir(seed_without_onnx, tmp_path / "data")
    before = catalogue_rows(data)
    with closing(sqlite3.connect(data / "speechgraph.db")) as other:
        other.execute("BEGIN IMMEDIATE")
        done = run_cli(data, "import", str(metadata_file), "--category", "all", "--wait", "1")
        other.rollback()
    line = assert_one_line_error(done, str(data / "speechgraph.db"), "database is locked")
    assert "another program" in line and "--wait" in line
    assert catalogue_rows(data) == before


def test_a_write_that_breaks_a_constraint_is_one_line_and_kept_out(
    seed_without_onnx: Path, tmp_path: Path, metadata_file: Path
) -> None:
    data = copy_data_dir(seed_without_onnx, tmp_path / "data")
    with closing(sqlite3.connect(data / "speechgraph.db")) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_titles BEFORE INSERT ON paper WHEN NEW.title LIKE '%speech%' "
            "BEGIN SELECT RAISE(ABORT, 'titles about speech are refused here'); END"
        )
        connection.commit()
    before = catalogue_rows(data)
    done = run_cli(data, "import", str(metadata_file), "--category", "all")
    line = assert_one_line_error(done, "breaks its constraints", "titles about speech")
    assert "nothing of it was kept" in line
    assert catalogue_rows(data) == before


# --- the messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "says"),
    [
        (30, "read-only"),  # EROFS
        (28, "no space left"),  # ENOSPC
        (27, "no space left"),  # EFBIG: over the file-size limit
        (13, "permission denied"),  # EACCES
        (1, "permission denied"),  # EPERM
        (5, "check the disk"),  # EIO
    ],
)
def test_every_file_system_failure_says_what_to_do(number: int, says: str) -> None:
    message = describe_os_error(OSError(number, os.strerror(number)))
    assert says in message and ":" in message and "\n" not in message


@pytest.mark.parametrize(
    ("reason", "says"),
    [
        ("attempt to write a readonly database", "read-only file system"),
        ("database or disk is full", "the disk is full"),
        ("database is locked", "another program holds a lock"),
        ("disk I/O error", "check the disk"),
        ("unable to open database file", "check the disk"),
    ],
)
def test_every_database_failure_says_what_to_do(reason: str, says: str) -> None:
    message = str(database_write_failure(sqlite3.OperationalError(reason), "/data/x.db"))
    assert "/data/x.db" in message and says in message and "\n" not in message
    constraint = database_write_failure(sqlite3.IntegrityError("UNIQUE failed"), "/data/x.db")
    assert "breaks its constraints (UNIQUE failed)" in str(constraint)


# --- the UI on a read-only copy ------------------------------------------------------------------


def test_the_ui_serves_a_read_only_copy_and_refuses_a_refresh_in_one_line(
    monkeypatch: pytest.MonkeyPatch, read_only_copy: tuple[Path, Path]
) -> None:
    from test_ui import VITS, assert_clean, open_app

    _, view = read_only_copy
    settings = make_settings(view)
    app = open_app(monkeypatch, settings)
    app.text_input(key="query").input("neural vocoder").run()
    assert_clean(app)
    assert any(text.startswith("**1.") for text in (element.value for element in app.markdown))
    for page in ("app_pages/paper.py", "app_pages/reading_path.py", "app_pages/topics.py"):
        assert_clean(open_app(monkeypatch, settings, page, paper_id=VITS))
    catalogue = open_app(monkeypatch, settings, "app_pages/catalogue.py")
    assert_clean(catalogue)
    catalogue.button(key="refresh").click().run()
    assert not catalogue.exception
    (error,) = [element.value for element in catalogue.error]
    assert "read\\-only" in error and "\n" not in error
