"""The catalogue commands through Typer's CliRunner against real catalogues: exit codes, stdout
JSON contracts and one-line errors on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from speechgraph.cli.app import app
from speechgraph.config import Settings

runner = CliRunner()


def run(settings: Settings, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--data-dir", str(settings.data_dir), "--quiet", *args])
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(code: int, stderr: str, *fragments: str) -> None:
    assert code == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in stderr


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("refresh", "list", "show", "audit", "snapshot"):
        assert command in result.stdout


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys; from speechgraph.cli.app import app; "
        "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'streamlit', 'networkx')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_refresh_offline_builds_the_catalogue_and_reports_counts(fresh_settings: Settings) -> None:
    code, stdout, _ = run(fresh_settings, "refresh", "--offline", "--json")
    assert code == 0
    report = json.loads(stdout)
    assert report["mode"] == "offline"
    assert report["counts"]["new"] == 84 and report["counts"]["failed"] == 0
    assert {item["name"] for item in report["lists"]} >= {"awesome-speech", "voice-models-25"}
    code, stdout, _ = run(fresh_settings, "refresh", "--offline")
    assert code == 0
    assert "0 new" in stdout and "84 unchanged" in stdout


def test_list_json_follows_the_paper_contract(seed_settings: Settings) -> None:
    code, stdout, _ = run(seed_settings, "list", "--json")
    assert code == 0
    papers = json.loads(stdout)["papers"]
    assert len(papers) == 84
    required = {"id", "title", "authors", "year", "categories", "note", "abstract", "mentions"}
    for paper in papers:
        assert required <= set(paper)
        assert isinstance(paper["authors"], list) and isinstance(paper["categories"], list)
        assert "v" not in paper["id"].split(".")[-1]
        for mention in paper["mentions"]:
            assert {"list", "section", "link_text"} <= set(mention)
    years = [paper["year"] for paper in papers]
    assert years == sorted(years)


def test_list_filters_by_reading_list(seed_settings: Settings) -> None:
    code, stdout, _ = run(seed_settings, "list", "--in", "voice-models-25", "--json")
    assert code == 0
    papers = json.loads(stdout)["papers"]
    assert papers and all(
        any(m["list"] == "voice-models-25" for m in paper["mentions"]) for paper in papers
    )


@pytest.mark.parametrize(
    "form", ["2106.06103", "2106.06103v3", "https://arxiv.org/pdf/2106.06103v1"]
)
def test_show_accepts_any_id_form(seed_settings: Settings, form: str) -> None:
    code, stdout, _ = run(seed_settings, "show", form, "--json")
    assert code == 0
    paper = json.loads(stdout)
    assert paper["id"] == "2106.06103"
    assert paper["title"].startswith("Conditional Variational Autoencoder")
    assert paper["abstract"] is None and paper["note"]
    assert any(m["link_text"] == "VITS" for m in paper["mentions"])


def test_show_text_labels_the_note_as_ours(seed_settings: Settings) -> None:
    code, stdout, _ = run(seed_settings, "show", "1712.05884")
    assert code == 0
    assert "note (ours, not an abstract)" in stdout
    assert "github.com/Rayhane-mamah/Tacotron-2" in stdout


def test_show_unknown_and_malformed_ids_are_one_line_errors(seed_settings: Settings) -> None:
    code, _, stderr = run(seed_settings, "show", "2312.99999")
    assert_one_line_error(code, stderr, "2312.99999", "speechgraph list")
    code, _, stderr = run(seed_settings, "show", "not-an-id")
    assert_one_line_error(code, stderr, "not-an-id")


def test_audit_finds_the_real_mislabels(seed_settings: Settings) -> None:
    code, stdout, _ = run(seed_settings, "audit", "--json")
    assert code == 0
    report = json.loads(stdout)
    flagged = {(item["link_text"], item["linked_id"]) for item in report["mislabelled"]}
    assert flagged == REAL_MISLABELS
    named = {
        item["linked_id"]: (item["names_instead"] or {}).get("id") for item in report["mislabelled"]
    }
    assert named["2005.08100"] == "2006.11477" and named["1703.10135"] == "1712.05884"
    unresolved = [item["reference"] for item in report["unresolved_citations"]]
    assert any("Dimensionality reduction" in text for text in unresolved)
    assert report["counts"]["unresolved_links"] == 0


REAL_MISLABELS = {
    ("Wav2Vec2", "2005.08100"),
    ("Tacotron 2", "1703.10135"),
    ("FastSpeech", "1811.00002"),
    ("NaturalSpeech", "2203.16852"),
    ("Huang et al.", "2305.10973"),
}


def test_audit_without_curation_reads_names_from_the_abstracts(seed_copy: Settings) -> None:
    """With the seed papers' real abstracts and no curation, "Tacotron 2" is still known as
    1712.05884 (its abstract introduces it), "Dialogue GSLM" abbreviates its paper's title; the
    only false alarms left are short names the abstracts never use."""
    from conftest import SHARED_DIR
    from speechgraph.update.derive import sync_knowledge
    from speechgraph.update.importer import import_metadata

    import_metadata(seed_copy, [SHARED_DIR / "corpus" / "seed-papers.jsonl"], categories="all")
    sync_knowledge(seed_copy)
    result = runner.invoke(
        app, ["--data-dir", str(seed_copy.data_dir), "--curation", "off", "audit", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    flagged = {(item["link_text"], item["linked_id"]) for item in report["mislabelled"]}
    assert flagged >= REAL_MISLABELS
    assert flagged - REAL_MISLABELS <= {("VITS", "2106.06103"), ("Whisper", "2212.04356")}
    named = {
        item["link_text"]: (item["names_instead"] or {}).get("id") for item in report["mislabelled"]
    }
    assert named["Tacotron 2"] == "1712.05884"


def test_snapshot_of_the_offline_catalogue_reproduces_the_shipped_one(
    seed_settings: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "snapshot.json"
    code, stdout, _ = run(seed_settings, "snapshot", "--out", str(out))
    assert code == 0 and "84 papers" in stdout
    written = json.loads(out.read_text(encoding="utf-8"))
    shipped = json.loads(seed_settings.snapshot_file.read_text(encoding="utf-8"))
    assert written == shipped
    assert all("abstract" not in paper for paper in written["papers"])


def test_commands_on_an_empty_catalogue_say_what_to_run(fresh_settings: Settings) -> None:
    for command in ("list", "audit"):
        code, _, stderr = run(fresh_settings, command)
        assert_one_line_error(code, stderr, "speechgraph refresh --offline")


def test_database_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "catalogue.db"
    bad.write_bytes(b"\x89PNG not a database" * 100)
    result = runner.invoke(app, ["--db-url", f"sqlite:///{bad}", "list"])
    assert_one_line_error(result.exit_code, result.stderr, str(bad))


def test_refresh_with_a_missing_list_is_refused(seed_copy: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.md"
    code, _, stderr = run(seed_copy, "refresh", "--offline", "--list", str(missing))
    assert_one_line_error(code, stderr, str(missing), "does not exist")


def test_reading_commands_never_create_a_catalogue(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "catalogue.db"
    for command in (["list"], ["show", "2106.06103"], ["audit"], ["snapshot", "--out", "x.json"]):
        result = runner.invoke(app, ["--db-url", f"sqlite:///{missing}", *command])
        assert_one_line_error(result.exit_code, result.stderr, "no catalogue", "refresh --offline")
    assert not missing.parent.exists()
