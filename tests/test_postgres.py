"""The catalogue on a real PostgreSQL server: any SQLAlchemy URL must work, not only SQLite.

A throwaway cluster is created with the server binaries of Debian's `postgresql` package
(`.ci/run` installs it) and listens on 127.0.0.1 only; it is removed afterwards.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED_DIR, make_settings
from speechgraph.catalogue.queries import catalogue_stats, get_paper, load_papers
from speechgraph.catalogue.store import open_db
from speechgraph.cli.app import app
from speechgraph.update.refresh import refresh_catalogue

POSTGRES_ROOT = Path("/usr/lib/postgresql")


def server_binaries() -> Path | None:
    versions = sorted(POSTGRES_ROOT.glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return versions[-1].parent if versions else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user(command: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    binaries = server_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    # Not under pytest's tmp dir: that one is private to root, and the server runs as postgres.
    cluster = Path(tempfile.mkdtemp(prefix="speechgraph-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(cluster, "postgres")
    port = free_port()
    subprocess.run(
        as_server_user(
            [
                str(binaries / "initdb"),
                "-D",
                str(cluster),
                "-U",
                "speechgraph",
                "--auth=trust",
                "--encoding=UTF8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {cluster} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg_ctl = str(binaries / "pg_ctl")
    subprocess.run(
        as_server_user(
            [
                pg_ctl,
                "-D",
                str(cluster),
                "-o",
                options,
                "-w",
                "-l",
                str(cluster / "server.log"),
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://speechgraph@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            as_server_user([pg_ctl, "-D", str(cluster), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(cluster, ignore_errors=True)


def test_offline_catalogue_on_postgresql_matches_sqlite(
    postgres_url: str, seed_settings, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", db_url=postgres_url)
    first = refresh_catalogue(settings, offline=True, update_index=False)
    again = refresh_catalogue(settings, offline=True, update_index=False)
    assert len(first.new) == 84 and again.new == [] and again.failed == []

    store = open_db(postgres_url)
    sqlite = open_db(seed_settings.db_url)
    assert catalogue_stats(store)["mentions"] == catalogue_stats(sqlite)["mentions"]
    on_postgres = [paper.to_json() for paper in load_papers(store)]
    on_sqlite = [paper.to_json() for paper in load_papers(sqlite)]
    assert get_paper(store, "1712.05884").aliases[0] == "Tacotron 2"
    store.dispose()
    sqlite.dispose()
    assert on_postgres == on_sqlite


def test_cli_reads_a_postgresql_catalogue(postgres_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", db_url=postgres_url)
    refresh_catalogue(settings, offline=True, update_index=False)
    result = CliRunner().invoke(app, ["--db-url", postgres_url, "show", "2010.05646", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["title"].startswith("HiFi-GAN")
    result = CliRunner().invoke(app, ["--db-url", postgres_url, "audit", "--json"])
    assert json.loads(result.stdout)["counts"]["mislabelled"] == 5


def test_a_schema_1_catalogue_on_postgresql_is_upgraded(postgres_url: str, tmp_path: Path) -> None:
    """Step 2 runs on PostgreSQL too: a catalogue put back into schema 1's shape (the columns and
    tables schema 2 added removed) opens upgraded, with the same papers."""
    from sqlalchemy import text

    settings = make_settings(tmp_path / "data", db_url=postgres_url)
    refresh_catalogue(settings, offline=True, update_index=False)
    store = open_db(postgres_url)
    before = [paper.to_json() for paper in load_papers(store)]
    with store.engine.begin() as connection:
        for table in ("paperorigin", "papername", "relation", "papertopic", "topiclabel"):
            connection.execute(text(f"DROP TABLE {table}"))
        connection.execute(text("ALTER TABLE paper DROP COLUMN compares_with"))
        connection.execute(text("ALTER TABLE paper DROP COLUMN changed_in"))
        connection.execute(text("ALTER TABLE paper DROP COLUMN record_hash"))
        connection.execute(text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    store.dispose()
    upgraded = open_db(postgres_url, create=False)
    after = [paper.to_json() for paper in load_papers(upgraded)]
    assert upgraded.upgraded_from == 1 and upgraded.backup is None
    upgraded.dispose()
    assert after == before


def test_an_import_on_postgresql_matches_sqlite(postgres_url: str, tmp_path: Path) -> None:
    """Bulk writes go straight to the driver: on PostgreSQL they write what they write on
    SQLite (papers updated over curated ones, new papers, a rerun that changes nothing)."""
    from sqlalchemy import create_engine, text

    from speechgraph.update.importer import import_metadata

    server = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS field_import"))
        connection.execute(text("CREATE DATABASE field_import"))
    server.dispose()
    corpus = tmp_path / "corpus.jsonl"
    with gzip.open(SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz", "rt") as lines:
        corpus.write_text("".join(line for _, line in zip(range(300), lines, strict=False)))
    files = [SHARED_DIR / "corpus" / "seed-papers.jsonl", corpus]
    papers = {}
    for name, url in (
        ("postgres", postgres_url.rsplit("/", 1)[0] + "/field_import"),
        ("sqlite", f"sqlite:///{tmp_path / 'sqlite' / 'speechgraph.db'}"),
    ):
        settings = make_settings(tmp_path / name, db_url=url)
        refresh_catalogue(settings, offline=True, update_index=False)
        first = import_metadata(settings, files, categories="all", batch_size=100)
        assert first.updated > 50 and first.imported > 250
        reordered = tmp_path / f"{name}-reordered.jsonl"  # other bytes: every record is read
        reordered.write_text("".join(reversed(corpus.read_text().splitlines(keepends=True))))
        again = import_metadata(settings, [reordered], categories="all")
        assert again.unchanged == 300 and again.imported == again.updated == 0
        assert again.already_imported == 0
        store = open_db(url)
        papers[name] = [paper.to_json() for paper in load_papers(store)]
        store.dispose()
    assert papers["postgres"] == papers["sqlite"]
