"""The Streamlit app through AppTest, against the real seed catalogue and a field around it
(seed plus imported corpus papers no list mentions); and the `ui` command."""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from conftest import SHARED_DIR, make_settings
from speechgraph.catalogue.queries import list_sections, paper_count
from speechgraph.catalogue.store import open_db
from speechgraph.cli.app import app as cli_app
from speechgraph.cli.ui import app_path, streamlit_command, ui_environment
from speechgraph.config import CHECKOUT_DIR, Settings
from speechgraph.records import PaperRecord
from speechgraph.search.indexing import sync_index
from speechgraph.update.importer import import_metadata
from speechgraph.views.catalogue import NOTE_LABEL, escape_markdown

APP = CHECKOUT_DIR / "ui" / "app.py"
TIMEOUT = 120  # the first run in a process loads the model, index and graph
VITS = "2106.06103"
HIFI_GAN = "2010.05646"
HOSTILE_ID = "2501.99999"
HOSTILE_TITLE = "<script>alert(1)</script> **bold** [link](javascript:alert(1)) :red[red] $x$"
CORPUS = SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz"
FIELD_PAPERS = 150  # corpus papers added around the seed catalogue


@pytest.fixture(scope="module")
def field_settings(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seed catalogue plus the first corpus papers (imported, indexed; no list mentions
    them): a small field with its listed spine."""
    settings = make_settings(tmp_path_factory.mktemp("ui-field"))
    shutil.copytree(seed_settings.data_dir, settings.data_dir, dirs_exist_ok=True)
    part = settings.data_dir.parent / "corpus-part.jsonl.gz"
    with gzip.open(CORPUS, "rt", encoding="utf-8") as source:
        lines = [next(source) for _ in range(FIELD_PAPERS)]
    with gzip.open(part, "wt", encoding="utf-8") as target:
        target.writelines(lines)
    import_metadata(settings, [part])
    store = open_db(settings.db_url)
    try:
        sync_index(settings, store)
    finally:
        store.dispose()
    return settings


def open_app(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    page: str | None = None,
    paper_id: str | None = None,
    **parameters: str,
) -> AppTest:
    """The app opened (on `page`), with `?id=paper_id` and other query `parameters`."""
    monkeypatch.setenv("SPEECHGRAPH_DATA_DIR", str(settings.data_dir))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if paper_id is not None:
        app.query_params["id"] = paper_id
    for name, value in parameters.items():
        app.query_params[name] = value
    app.run()
    if page is not None:
        app.switch_page(page).run()
    return app


def assert_clean(app: AppTest) -> None:
    assert not app.exception, [error.value for error in app.exception]
    assert not app.error, [error.value for error in app.error]


def markdown_texts(app: AppTest) -> list[str]:
    return [element.value for element in app.markdown]


def parameter(app: AppTest, name: str) -> str | None:
    """One query parameter of the page's URL as it stands after the run."""
    value = app.query_params.get(name)
    return value[-1] if isinstance(value, list) else value


def field_size(settings: Settings) -> int:
    """How many papers the catalogue of `settings` holds."""
    store = open_db(settings.db_url)
    try:
        return paper_count(store)
    finally:
        store.dispose()


def choice_id(label: str) -> str:
    """The paper id in a picker's label "Title (year) · id[ · listed]"."""
    parts = label.split(" · ")
    return parts[-2] if parts[-1] == "listed" else parts[-1]


def set_scope(app: AppTest, scope: str) -> AppTest:
    app.button_group(key="scope").set_value(scope).run()
    return app


def result_lines(app: AppTest) -> list[str]:
    """The title line of each search hit."""
    return [text for text in markdown_texts(app) if text.startswith("**") and ". " in text[:8]]


# --- Search ----------------------------------------------------------------------------------


def test_search_page_returns_hits_with_why(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings)
    app.text_input(key="query").input("neural vocoder").run()
    assert_clean(app)
    titles = [text for text in markdown_texts(app) if text.startswith("**1.")]
    assert titles, markdown_texts(app)
    shown = " ".join(markdown_texts(app))
    assert "HiFi\\-GAN" in shown or "WaveGlow" in shown
    captions = [caption.value for caption in app.caption]
    assert any("Score" in caption and "why:" in caption for caption in captions)
    assert any(text.value.startswith("Listed in: ") for text in app.text)


def test_search_filters_narrow_hits(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings)
    app.text_input(key="query").input("speech").run()
    app.slider(key="years").set_value((2021, 2022)).run()
    app.toggle(key="by_topic").set_value(True).run()
    app.selectbox(key="topic").set_value(app.selectbox(key="topic").options[1]).run()
    assert_clean(app)
    years = [text.value for text in app.text if " · arXiv " in text.value]
    assert years
    assert all(" · 2021 · " in year or " · 2022 · " in year for year in years)


def test_search_unknown_section_is_an_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings)
    app.text_input(key="section").input("no [click](http://x) __such__ section").run()
    app.text_input(key="query").input("vocoder").run()
    assert not app.exception
    shown = app.error[0].value
    assert "no section matches" in shown
    # the value is Markdown that shows the text literally: no link, no bold
    assert "no \\[click\\]\\(http\\://x\\) \\_\\_such\\_\\_ section" in shown
    assert "[click](http://x)" not in shown


def test_search_result_opens_its_paper(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings)
    app.text_input(key="query").input("VITS").run()
    app.button(key=f"open-{VITS}").click().run()
    assert_clean(app)
    assert app.query_params["id"] == [VITS] or app.query_params["id"] == VITS
    assert "Conditional Variational Autoencoder" in app.header[0].value


# --- Paper -----------------------------------------------------------------------------------


def test_paper_page_shows_facts_note_links_and_plan(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings, "app_pages/paper.py", paper_id=VITS)
    assert_clean(app)
    assert "Conditional Variational Autoencoder" in app.header[0].value
    shown = "\n".join(markdown_texts(app))
    assert "**Authors:**" in shown and "Jaehyeon Kim" in shown
    assert f"https://arxiv.org/abs/{VITS}" in shown
    assert NOTE_LABEL in [subheader.value for subheader in app.subheader]
    assert app.dataframe[0].value["list"].tolist()  # where the lists mention it
    assert "**Builds on**" in " ".join(shown.split("\n"))
    plan = app.dataframe[-1].value
    assert "1609.03499" in plan["id"].tolist()  # WaveNet, via HiFi-GAN


def test_paper_page_shows_hostile_title_literally(
    monkeypatch: pytest.MonkeyPatch, seed_copy: Settings
) -> None:
    store = open_db(seed_copy.db_url)
    note = "A note with <b>tags</b> and **stars**."
    with store.writing() as writer:
        record = PaperRecord(
            HOSTILE_ID, HOSTILE_TITLE, ["Mallory <img src=x>"], date(2025, 1, 2), source="snapshot"
        )
        writer.upsert_paper(record, note=note)
    store.dispose()
    app = open_app(monkeypatch, seed_copy, "app_pages/paper.py", paper_id=HOSTILE_ID)
    assert not app.exception
    header = app.header[0].value
    assert header == escape_markdown(HOSTILE_TITLE)
    assert "\\<script\\>" in header and "\\*\\*bold\\*\\*" in header and "\\:red" in header
    assert note in [text.value for text in app.text]  # shown as plain text, unparsed
    assert any("Mallory \\<img" in text for text in markdown_texts(app))


# --- Reading path, topics, catalogue ---------------------------------------------------------


def test_reading_path_page_shows_plan_and_path(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings, "app_pages/reading_path.py", paper_id=VITS)
    assert_clean(app)
    plan, path = app.dataframe[0].value, app.dataframe[1].value
    assert "1609.03499" in plan["id"].tolist()
    assert plan["because"].str.len().min() > 0  # every step has its evidence
    assert path["id"].tolist()[-1] == VITS
    assert len(app.get("plotly_chart")) == 2
    for chart in app.get("plotly_chart"):  # papers labelled by name and year, id on hover
        traces = [trace for trace in json.loads(chart.proto.spec)["data"] if trace.get("text")]
        labels = [text for trace in traces for text in trace["text"]]
        assert "VITS (2021)" in labels, labels
        assert not any(label.startswith(VITS) for label in labels)
        assert f"<br>{VITS}" in " ".join(hover for trace in traces for hover in trace["hovertext"])
    app.text_input(key="path_from_query").input(HIFI_GAN).run()
    assert_clean(app)
    assert app.dataframe[1].value["id"].tolist()[0] == HIFI_GAN
    assert app.query_params["from"] in ([HIFI_GAN], HIFI_GAN)  # a link shows the same path


def test_topics_page_renders_map_and_clusters(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings, "app_pages/topics.py")
    assert_clean(app)
    assert len(app.get("plotly_chart")) == 1
    assert len(app.expander) >= 2
    members = sum(len(frame.value) for frame in app.dataframe)
    assert members == 84


def test_catalogue_page_shows_counts_and_audit(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings, "app_pages/catalogue.py")
    assert_clean(app)
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Papers"] == "84"
    assert metrics["Reading lists"] == "5"
    assert any("mislabelled links" in text.value for text in app.text)
    assert any(text.value.startswith("Last refresh: ") for text in app.text)
    unresolved = [tab for tab in app.tabs if tab.label.startswith("Unresolved citations")]
    assert unresolved and unresolved[0].dataframe[0].value["reference"].tolist()


def test_catalogue_page_refreshes_offline(
    monkeypatch: pytest.MonkeyPatch, seed_copy: Settings
) -> None:
    app = open_app(monkeypatch, seed_copy, "app_pages/catalogue.py")
    app.button(key="refresh").click().run()
    assert_clean(app)
    assert "offline" in app.success[0].value
    assert app.get("progress")


@pytest.mark.slow
def test_first_run_builds_the_catalogue_offline(
    monkeypatch: pytest.MonkeyPatch, fresh_settings: Settings
) -> None:
    app = open_app(monkeypatch, fresh_settings)
    assert_clean(app)
    from speechgraph.catalogue.queries import catalogue_stats

    assert catalogue_stats(open_db(fresh_settings.db_url))["papers"] == 84
    app.run()
    assert app.text_input(key="query") is not None
    assert "84 papers" in app.info[0].value


def test_unusable_database_is_an_error_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "my__catalogue_v2.sqlite"
    bad.write_text("this is not a database", encoding="utf-8")
    monkeypatch.setenv("SPEECHGRAPH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPEECHGRAPH_DB_URL", f"sqlite:///{bad}")
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "is not a usable database" in app.error[0].value
    assert "my\\_\\_catalogue\\_v2\\.sqlite" in app.error[0].value  # not "my **catalogue"


# --- the `ui` command ------------------------------------------------------------------------


def test_ui_command_runs_streamlit_with_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls = []

    class FakeProcess:
        def __init__(self, command: list[str], env: dict[str, str]) -> None:
            calls.append((command, env))

        def wait(self, timeout: float | None = None) -> int:
            return 0

        def poll(self) -> int:
            return 0

    monkeypatch.setattr("speechgraph.cli.ui.subprocess.Popen", FakeProcess)
    result = CliRunner().invoke(
        cli_app, ["--data-dir", str(tmp_path), "ui", "--port", "8600"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    command, env = calls[0]
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4] == str(app_path())
    assert command[5:7] == ["--server.port", "8600"]
    assert env["SPEECHGRAPH_DATA_DIR"] == str(tmp_path)
    assert env["SPEECHGRAPH_DB_URL"] == f"sqlite:///{tmp_path / 'speechgraph.db'}"


def test_ui_environment_and_command() -> None:
    settings = Settings.load(data_dir=Path("/data"), db_url="sqlite:////x.db", model="m")
    env = ui_environment(settings, base={"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert env["SPEECHGRAPH_DB_URL"] == "sqlite:////x.db"
    assert env["SPEECHGRAPH_MODEL"] == "m"
    command = streamlit_command(Path("/a/app.py"), 9000, "127.0.0.1")
    assert "--server.headless" in command and "127.0.0.1" in command
    assert app_path() == APP


# --- text the user sees literally ----------------------------------------------------------


def test_catalogue_page_caption_escapes_its_paths(
    monkeypatch: pytest.MonkeyPatch, seed_copy: Settings, tmp_path: Path
) -> None:
    import shutil

    data_dir = tmp_path / "my_data__dir"
    shutil.copytree(seed_copy.data_dir, data_dir)
    app = open_app(monkeypatch, make_settings(data_dir), "app_pages/catalogue.py")
    assert_clean(app)
    caption = app.caption[0].value
    assert caption.startswith("Database: ")
    assert "my\\_data\\_\\_dir" in caption and "my_data__dir" not in caption


def test_search_topic_filter_says_it_looks_among_the_best_hits(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    from speechgraph.search.hybrid import MAX_K

    app = open_app(monkeypatch, seed_settings)
    app.text_input(key="query").input("speech").run()
    assert not any("topic filter" in caption.value for caption in app.caption)
    app.toggle(key="by_topic").set_value(True).run()
    app.selectbox(key="topic").set_value(app.selectbox(key="topic").options[1]).run()
    assert_clean(app)
    assert any(f"best {MAX_K} matches" in caption.value for caption in app.caption)


# --- notes on the graph and topics -----------------------------------------------------------


def test_topics_page_notes_papers_without_a_vector(
    monkeypatch: pytest.MonkeyPatch, seed_copy: Settings
) -> None:
    from speechgraph.search.index import load_index

    index = load_index(seed_copy.index_dir)
    index.remove([VITS, HIFI_GAN])
    index.save(seed_copy.index_dir)
    app = open_app(monkeypatch, seed_copy, "app_pages/topics.py")
    assert_clean(app)
    assert "2 papers have no vector yet" in app.info[0].value
    assert sum(len(frame.value) for frame in app.dataframe) == 84


# --- the `ui` command stops Streamlit with itself ------------------------------------------


def test_ui_process_stops_its_child_on_sigterm(tmp_path: Path) -> None:
    """SIGTERM to `speechgraph ui` stops the Streamlit child too, killing one that ignores it."""
    import contextlib
    import os
    import signal
    import subprocess
    import sys
    import time

    child_pid_file = tmp_path / "child.pid"
    stubborn_child = (
        "import os, signal, time, pathlib; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"pathlib.Path({str(child_pid_file)!r}).write_text(str(os.getpid())); time.sleep(60)"
    )
    parent = (
        "import os, sys; from speechgraph.cli import ui as cli_ui; cli_ui.STOP_SECONDS = 0.5; "
        f"sys.exit(cli_ui.run_child([sys.executable, '-c', {stubborn_child!r}], dict(os.environ)))"
    )
    process = subprocess.Popen([sys.executable, "-c", parent])
    child_pid = None
    try:
        deadline = time.monotonic() + 30
        while not child_pid_file.exists() or not child_pid_file.read_text():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child_pid = int(child_pid_file.read_text())
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 128 + signal.SIGTERM
        time.sleep(0.1)
        with pytest.raises(ProcessLookupError):
            os.kill(child_pid, 0)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if child_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child_pid, signal.SIGKILL)  # only if the test failed: no orphan left


# --- the field, the lists and pickers that search ------------------------------------------


def test_search_covers_the_field_and_marks_listed_papers(
    monkeypatch: pytest.MonkeyPatch, field_settings: Settings
) -> None:
    app = open_app(monkeypatch, field_settings, q="speech recognition")
    assert_clean(app)
    assert app.text_input(key="query").value == "speech recognition"  # from the link
    lines = result_lines(app)
    places = [text.value for text in app.text if text.value.startswith("Listed in: ")]
    assert len(lines) == len(places) == 10
    assert "Listed in: no reading list" in places  # the field: papers no list mentions too
    for line, place in zip(lines, places, strict=True):
        assert line.endswith(" · listed") == (place != "Listed in: no reading list")
    set_scope(app, "lists")
    assert_clean(app)
    places = [text.value for text in app.text if text.value.startswith("Listed in: ")]
    assert places and "Listed in: no reading list" not in places
    assert all(line.endswith(" · listed") for line in result_lines(app))


def test_the_scope_travels_with_a_link_and_across_pages(
    monkeypatch: pytest.MonkeyPatch, field_settings: Settings
) -> None:
    app = open_app(monkeypatch, field_settings, scope="lists")
    assert_clean(app)
    assert app.button_group(key="scope").value == "lists"
    papers = field_size(field_settings)
    assert f"Searching the lists: 84 papers in 5 reading lists (the field has {papers})" in (
        app.info[0].value
    )
    app.switch_page("app_pages/topics.py").run()
    assert_clean(app)
    assert app.button_group(key="scope").value == "lists"
    assert any(c.value.startswith("All 84 papers the reading lists") for c in app.caption)


def test_the_paper_picker_searches_instead_of_listing_every_title(
    monkeypatch: pytest.MonkeyPatch, field_settings: Settings
) -> None:
    app = open_app(monkeypatch, field_settings, "app_pages/paper.py")
    assert_clean(app)
    assert not app.get("selectbox")  # nothing offered before the user types
    app.text_input(key="paper_query").input("hifi gan").run()  # a name: chosen at once
    assert_clean(app)
    picker = app.selectbox(key="paper_choice")
    assert picker.value == HIFI_GAN and 1 < len(picker.options) <= 9
    assert "HiFi\\-GAN" in app.header[0].value and parameter(app, "id") == HIFI_GAN
    app.text_input(key="paper_query").input("neural vocoder").run()  # words: the user picks
    assert_clean(app)
    picker = app.selectbox(key="paper_choice")
    assert picker.value is None and not app.header
    assert picker.proto.placeholder.startswith("Pick one of ")
    paper_id = choice_id(picker.options[1])
    picker.set_value(paper_id).run()
    assert_clean(app)
    assert parameter(app, "id") == paper_id and app.header


def test_a_typed_unknown_id_is_named_with_how_to_add_it(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings, "app_pages/paper.py", paper_id=VITS)
    app.text_input(key="paper_query").input("arXiv:2501.99999").run()
    assert not app.exception and not app.error
    shown = app.warning[0].value.replace("\\", "")
    assert "2501.99999 is not in the catalogue" in shown and "speechgraph import FILE" in shown
    assert not app.get("selectbox") and not app.header  # no other paper in its place


def test_a_link_to_another_paper_replaces_what_the_picker_holds(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(monkeypatch, seed_settings, "app_pages/paper.py", paper_id=VITS)
    assert app.text_input(key="paper_query").value == VITS
    app.query_params["id"] = HIFI_GAN  # what a "Similar papers" link does
    app.run()
    assert_clean(app)
    assert app.text_input(key="paper_query").value == HIFI_GAN
    assert "HiFi\\-GAN" in app.header[0].value


def test_the_reading_path_takes_its_ends_from_the_link(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings
) -> None:
    app = open_app(
        monkeypatch,
        seed_settings,
        "app_pages/reading_path.py",
        paper_id=VITS,
        **{"from": "WaveNet", "to": "vits"},
    )
    assert_clean(app)
    path = app.dataframe[1].value["id"].tolist()
    assert path[0] == "1609.03499" and path[-1] == VITS


@pytest.mark.parametrize("name", ["id", "from", "to"])
def test_the_reading_path_names_an_unknown_paper_in_its_link(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, name: str
) -> None:
    wanted = {"id": VITS, "from": HIFI_GAN, "to": VITS, name: "2501.99999"}
    app = open_app(monkeypatch, seed_settings, "app_pages/reading_path.py", **wanted)
    assert not app.exception
    [error] = [error.value.replace("\\", "") for error in app.error]
    assert "2501.99999 is not in the catalogue" in error and "speechgraph import FILE" in error
    assert "refresh --list FILE" in error  # on the same line: how to add it
    [link] = app.get("page_link")
    assert link.proto.query_string == "q=2501.99999" and link.proto.label.startswith("Search for")
    assert not app.get("text_input") and not app.get("dataframe")


def test_the_topic_map_is_webgl_with_listed_papers_marked(
    monkeypatch: pytest.MonkeyPatch, field_settings: Settings
) -> None:
    app = open_app(monkeypatch, field_settings, "app_pages/topics.py")
    assert_clean(app)
    [chart] = app.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    assert {trace["type"] for trace in traces} == {"scattergl"}
    [centres] = [trace for trace in traces if trace["name"] == "topic centres"]
    symbols = [
        symbol for trace in traces if trace is not centres for symbol in trace["marker"]["symbol"]
    ]
    assert symbols.count("star") == 84  # every listed paper, marked, in its topic's colour
    assert len(traces) > 2  # one trace (colour) per topic
    points = sum(len(trace["x"]) for trace in traces if trace is not centres)
    papers = field_size(field_settings)
    assert points == papers  # a small field is drawn whole
    assert any(c.value.startswith(f"All {papers} papers, by topic") for c in app.caption)
    assert sum(len(frame.value) for frame in app.dataframe) == papers
    set_scope(app, "lists")
    [chart] = app.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    assert sum(len(trace["x"]) for trace in traces if trace["name"] != "topic centres") == 84


def test_the_catalogue_page_shows_the_status_of_the_field(
    monkeypatch: pytest.MonkeyPatch, field_settings: Settings
) -> None:
    app = open_app(monkeypatch, field_settings, "app_pages/catalogue.py")
    assert_clean(app)
    papers = field_size(field_settings)
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Papers"] == str(papers) and metrics["Listed"] == "84"
    assert metrics["With a vector"] == str(papers) and metrics["Reading lists"] == "5"
    texts = [text.value for text in app.text]
    assert f"From: 84 list, 84 snapshot, {papers - 84} import" in texts
    assert any(t.startswith("Last import: ") and f"{papers - 84} imported" in t for t in texts)
    assert "Last harvest: never" in texts


# --- Missing ---------------------------------------------------------------------------------


def test_the_missing_page_suggests_papers_the_list_lacks(
    monkeypatch: pytest.MonkeyPatch, field_settings: Settings
) -> None:
    app = open_app(monkeypatch, field_settings, "app_pages/missing.py", list="voice-models-25")
    assert_clean(app)
    assert app.selectbox(key="missing_list").value == "voice-models-25"
    rows = app.dataframe[0].value
    assert len(rows) == 20
    store = open_db(field_settings.db_url)
    try:
        listed = set(list_sections(store, "voice-models-25"))
    finally:
        store.dispose()
    assert not set(rows["id"]) & listed
    assert all(evidence for evidence in rows["evidence"])
    app.text_input(key="missing_section").set_value("no such section").run()
    assert "no such section" in app.error[0].value
    assert not app.exception
