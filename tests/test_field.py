"""The field catalogue: `import` of real arXiv metadata in every format (and bad input), reruns
that change nothing, the newest version winning, provenance and scopes, `status`, `harvest`
against a fake OAI-PMH server, and reading lists resolved offline against what was imported."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import SHARED_DIR, make_settings
from fake_oai import FakeOai, load_corpus, unavailable
from speechgraph.catalogue.queries import catalogue_version, load_papers
from speechgraph.catalogue.store import open_db
from speechgraph.cli import app
from speechgraph.clients.oai import OaiHarvester
from speechgraph.config import Settings
from speechgraph.update.harvest import harvest_updates
from speechgraph.update.importer import import_metadata
from test_bulk import snapshot_object, write_snapshot

CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
SEED_PAPERS = SHARED_DIR / "corpus" / "seed-papers.jsonl"


def run(settings: Settings, *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--data-dir", str(settings.data_dir), *arguments])
    return result.exit_code, result.stdout, result.stderr


def corpus_lines(count: int | None = None) -> list[dict[str, Any]]:
    with gzip.open(CORPUS, "rt", encoding="utf-8") as stream:
        lines = [json.loads(line) for line in stream]
    return lines[:count] if count else lines


@pytest.fixture(scope="module")
def field(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The corpus imported with the default speech filter (read-only for the tests)."""
    settings = make_settings(tmp_path_factory.mktemp("field"))
    import_metadata(settings, [CORPUS])
    return settings


def test_the_corpus_imports_with_the_default_speech_filter(field: Settings) -> None:
    code, out, _ = run(field, "status", "--json")
    status = json.loads(out)
    assert code == 0
    assert status["papers"] == 8201 and status["by_origin"]["import"] == 8201
    assert status["with_abstract"] == 8201 and status["with_vector"] == 0 and status["listed"] == 0
    assert status["last_import"]["skipped"] == 268 and status["data_dir"] == str(field.data_dir)
    assert set(status) >= {
        "papers", "listed", "with_abstract", "with_vector", "by_origin", "lists",
        "last_import", "last_harvest", "data_dir",
    }  # fmt: skip


def test_a_rerun_changes_nothing(field: Settings, tmp_path: Path) -> None:
    copy = make_settings(tmp_path / "data")
    import shutil

    shutil.copytree(field.data_dir, copy.data_dir)
    database = copy.data_dir / "speechgraph.db"
    before = sqlite3.connect(database).execute("SELECT id, title, changed_in FROM paper").fetchall()
    store = open_db(copy.db_url)
    version = catalogue_version(store)
    code, out, _ = run(copy, "import", str(CORPUS), "--json")
    report = json.loads(out)
    assert code == 0 and report["imported"] == report["updated"] == 0
    assert report["unchanged"] == 8201 and report["skipped"] == 268
    assert catalogue_version(store) == version
    store.dispose()
    after = sqlite3.connect(database).execute("SELECT id, title, changed_in FROM paper").fetchall()
    assert after == before


@pytest.mark.parametrize("compression", ["plain", "gzip", "zip"])
def test_arxiv_snapshot_files_in_every_compression(tmp_path: Path, compression: str) -> None:
    lines = corpus_lines(300)
    path = write_snapshot(
        tmp_path / "snapshot.json",
        (snapshot_object(line, number) for number, line in enumerate(lines, start=1)),
        compression,
    )
    settings = make_settings(tmp_path / "data")
    code, out, _ = run(settings, "import", str(path), "--category", "all", "--json")
    report = json.loads(out)
    assert code == 0 and report["imported"] == 300 and report["bad"] == 0
    store = open_db(settings.db_url)
    paper = load_papers(store, [lines[0]["id"]])[0]
    store.dispose()
    assert paper.title == " ".join(lines[0]["title"].split()) and paper.origins == ["import"]
    assert paper.abstract and paper.authors


def test_bad_lines_are_counted_and_the_rest_imported(tmp_path: Path) -> None:
    lines = [json.dumps(line) for line in corpus_lines(20)]
    lines[3] = "{not json"
    lines[7] = json.dumps({"title": "no id at all"})
    lines[11] = json.dumps({"id": "2013.12345", "title": "an impossible id"})
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = make_settings(tmp_path / "data")
    code, out, _ = run(settings, "import", str(path), "--category", "all", "--json")
    report = json.loads(out)
    assert code == 3
    assert report["bad"] == 3 and report["bad_lines"] == [4, 8, 12] and report["imported"] == 17
    assert all(isinstance(report[key], int) for key in ("read", "seconds", "bad"))


def test_a_file_of_bad_lines_only_imports_nothing_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "junk.jsonl"
    path.write_text("junk\nmore junk\n", encoding="utf-8")
    code, out, _ = run(make_settings(tmp_path / "data"), "import", str(path), "--json")
    assert code == 1 and json.loads(out)["bad"] == 2


def test_a_cut_short_gzip_keeps_what_came_before(tmp_path: Path) -> None:
    whole = gzip.compress("".join(json.dumps(line) + "\n" for line in corpus_lines(400)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    code, out, _ = run(
        make_settings(tmp_path / "data"), "import", str(path), "--category", "all", "--json"
    )
    report = json.loads(out)
    assert code == 3 and report["bad"] == 1 and 0 < report["imported"] < 400
    assert "cut short" in report["problems"][0]["reason"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_bytes(b"BZh91AY&SY"), "bzip2"),
    ],
)
def test_unreadable_files_are_one_line_errors(tmp_path: Path, make: Any, message: str) -> None:
    path = tmp_path / "file.jsonl"
    make(path)
    code, out, err = run(make_settings(tmp_path / "data"), "import", str(path))
    assert code == 1 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_a_zip_without_json_and_an_unknown_category_write_nothing(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "nothing.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "no metadata here")
    settings = make_settings(tmp_path / "data")
    code, _, err = run(settings, "import", str(archive))
    assert code == 1 and "nothing.zip" in err
    code, _, err = run(settings, "import", str(CORPUS), "--category", "eess.AU")
    assert code == 1 and "eess.AU" in err and "eess.AS" in err
    assert not (settings.data_dir / "speechgraph.db").exists()


def test_the_newest_version_wins(tmp_path: Path) -> None:
    line = corpus_lines(1)[0]
    older = snapshot_object(line, 1)
    newer = {
        **older,
        "title": "A later title",
        "versions": [
            *older["versions"],
            {"version": "v9", "created": older["versions"][0]["created"]},
        ],
    }
    settings = make_settings(tmp_path / "data")
    for name, record in (("new.json", newer), ("old.json", older)):
        (tmp_path / name).write_text(json.dumps(record) + "\n", encoding="utf-8")
        run(settings, "import", str(tmp_path / name), "--category", "all")
    store = open_db(settings.db_url)
    paper = load_papers(store, [line["id"]])[0]
    store.dispose()
    assert paper.title == "A later title" and paper.version == 9


def test_export_jsonl_round_trips_the_field(field: Settings, tmp_path: Path) -> None:
    out = tmp_path / "field.jsonl.gz"
    code, _, _ = run(field, "export", "--format", "jsonl", "--scope", "field", "--out", str(out))
    assert code == 0
    copy = make_settings(tmp_path / "copy")
    code, stdout, _ = run(copy, "import", str(out), "--category", "all", "--json")
    assert code == 0 and json.loads(stdout)["imported"] == 8201
    first, second = open_db(field.db_url), open_db(copy.db_url)
    sample = sorted(paper.id for paper in load_papers(first))[::500]
    left = [
        (p.id, p.title, p.authors, p.abstract, p.categories, p.published, p.version)
        for p in load_papers(first, sample)
    ]
    right = [
        (p.id, p.title, p.authors, p.abstract, p.categories, p.published, p.version)
        for p in load_papers(second, sample)
    ]
    first.dispose()
    second.dispose()
    assert left == right


def test_list_and_export_default_to_the_lists_and_stream_the_field(field: Settings) -> None:
    code, out, _ = run(field, "list", "--json")
    assert code == 0 and json.loads(out) == {"papers": []}
    code, out, _ = run(field, "list", "--scope", "field", "--json")
    papers = json.loads(out)["papers"]
    assert len(papers) == 8201
    assert {"id", "title", "authors", "source", "origins", "listed"} <= set(papers[0])
    assert papers[0]["origins"] == ["import"] and papers[0]["listed"] is False


@pytest.fixture(scope="module")
def field_with_a_list(field: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The imported field plus a reading list of ours that links corpus papers."""
    import shutil

    settings = make_settings(tmp_path_factory.mktemp("listed"))
    shutil.copytree(field.data_dir, settings.data_dir, dirs_exist_ok=True)
    store = open_db(settings.db_url)
    ids = sorted(paper.id for paper in load_papers(store))[::800][:10]
    store.dispose()
    listing = settings.data_dir.parent / "my-codecs.md"
    listing.write_text(
        "# Codecs\n\n"
        + "".join(f"* [Paper {n}](https://arxiv.org/abs/{i}v1)\n" for n, i in enumerate(ids))
        + "* [Not on arXiv yet](https://arxiv.org/abs/2612.99999)\n",
        encoding="utf-8",
    )
    return settings


def test_a_new_list_resolves_offline_against_the_imported_field(
    field_with_a_list: Settings,
) -> None:
    settings = field_with_a_list
    listing = settings.data_dir.parent / "my-codecs.md"
    code, out, _ = run(
        settings, "refresh", "--offline", "--list", str(listing), "--json", "--no-citations"
    )
    report = json.loads(out)
    mine = next(entry for entry in report["lists"] if entry["name"] == "my-codecs")
    assert mine["papers"] == 10 and mine["mentions"] == 11
    assert [failure["id"] for failure in report["failed"]] == ["2612.99999"]
    assert code == 3  # a linked arXiv paper could not be catalogued


def test_search_covers_the_field_and_marks_listed_papers(field_with_a_list: Settings) -> None:
    settings = field_with_a_list
    run(settings, "refresh", "--offline", "--list", str(settings.data_dir.parent / "my-codecs.md"))
    code, out, err = run(settings, "search", "neural audio codec", "--mode", "lexical", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert code == 0 and result["results"]
    assert any("no vector yet" in note for note in result["notes"])
    code, out, _ = run(
        settings, "search", "neural audio codec", "--mode", "lexical", "--scope", "lists", "--json"
    )
    listed = json.loads(out)["results"]
    assert listed and all(hit["listed"] for hit in listed)


def test_harvest_writes_through_the_import_path_and_resumes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    records = load_corpus()[:250]
    with FakeOai(records, page_size=60) as server:
        client = OaiHarvester(server.url, delay_seconds=0, max_retries=2, backoff_base=0.01)
        server.fail_next(unavailable("1"))
        first = harvest_updates(settings, sets=("cs", "eess"), categories="all", client=client)
        again = harvest_updates(settings, sets=("cs", "eess"), categories="all", client=client)
    assert first.imported > 0 and first.bad == 0
    assert again.imported == 0 and again.updated == 0
    store = open_db(settings.db_url)
    papers = load_papers(store)
    store.dispose()
    assert len(papers) == first.imported and all("harvest" in paper.origins for paper in papers)
    _, out, _ = run(settings, "status", "--json")
    assert json.loads(out)["last_harvest"]["datestamp"]
