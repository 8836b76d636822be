"""Hostile text renders inert on every page: a catalogue whose titles, abstracts, authors, list
names, section names, link texts and links carry script tags, `javascript:` links, Markdown and
Streamlit directives; and fuzzed queries (the search box, `?q=`, `?id=`, the pickers) that end
in results or one error line, never an exception."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies
from streamlit.testing.v1 import AppTest

from conftest import make_settings
from speechgraph.catalogue.store import open_db
from speechgraph.config import Settings
from speechgraph.records import ARXIV, Mention, PaperRecord, Resolution, ResolvedList, Resource
from speechgraph.search.indexing import sync_index
from speechgraph.views.catalogue import escape_markdown
from test_ui import APP, HOSTILE_ID, HOSTILE_TITLE, TIMEOUT, VITS, open_app

HOSTILE_ABSTRACT = (
    "We <b>propose</b> <script>steal()</script> a [vocoder](javascript:alert(2)) that is "
    ":blue[fast] and $$\\pi$$ good. <img src=x onerror=alert(3)>"
)
HOSTILE_AUTHOR = "Mallory <img src=x onerror=alert(4)> **Eve**"
HOSTILE_LIST = "evil <script>list()</script> [list](javascript:alert(5)) :red[list]"
HOSTILE_SECTION = "**Vocoders** <img src=y> [section](javascript:alert(6)) :green[sec] $y$"
HOSTILE_LINK_TEXT = "[click](javascript:alert(7)) <script>x()</script>"
# Raw fragments that would be live if a Markdown element showed them unescaped.
LIVE = ("<script", "<img", "<b>", "](javascript", ":red[", ":blue[", ":green[", "**bold**",
        "**Eve**", "**Vocoders**", "$x$", "$y$", "$$")  # fmt: skip
# Elements whose text Streamlit renders as Markdown (values) and widgets whose labels it does.
MARKDOWN_ELEMENTS = ("markdown", "caption", "title", "header", "subheader", "info", "warning",
                     "error", "success", "exception")  # fmt: skip
LABELLED = ("expander", "tab", "text_input", "selectbox", "slider", "toggle", "button",
            "metric", "radio", "button_group", "page_link")  # fmt: skip


@pytest.fixture(scope="module")
def hostile_settings(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seed catalogue plus a hostile paper, listed (with VITS) in a hostile list under a
    hostile section, with a `javascript:` code link; indexed so that search finds it."""
    settings = make_settings(tmp_path_factory.mktemp("hostile"))
    shutil.copytree(seed_settings.data_dir, settings.data_dir, dirs_exist_ok=True)
    store = open_db(settings.db_url)
    try:
        with store.writing() as writer:
            writer.upsert_paper(
                PaperRecord(
                    HOSTILE_ID,
                    HOSTILE_TITLE,
                    [HOSTILE_AUTHOR],
                    date(2025, 1, 2),
                    categories=["cs.SD"],
                    abstract=HOSTILE_ABSTRACT,
                    journal_ref="<script>j()</script> :red[journal]",
                    source="snapshot",
                ),
                aliases=["Evil[GAN](javascript:alert(8))"],
            )
            mentions = [
                (mention(paper_id, line), Resolution(paper_id, "link"))
                for line, paper_id in enumerate((HOSTILE_ID, VITS), start=1)
            ]
            code = Resource("javascript:alert(9)", "code", HOSTILE_LINK_TEXT, HOSTILE_SECTION, 1)
            writer.replace_list(
                ResolvedList(HOSTILE_LIST, "tests/evil.md", None, mentions, [(code, HOSTILE_ID)])
            )
        sync_index(settings, store)
    finally:
        store.dispose()
    return settings


def mention(paper_id: str, line: int) -> Mention:
    return Mention(
        list_name=HOSTILE_LIST,
        section=HOSTILE_SECTION,
        link_text=HOSTILE_LINK_TEXT,
        line=line,
        kind=ARXIV,
        url=f"https://arxiv.org/abs/{paper_id}",
        arxiv_id=paper_id,
        reference=HOSTILE_LINK_TEXT,
    )


def markdown_shown(app: AppTest) -> list[str]:
    """Every text the page hands to Streamlit's Markdown renderer: element values and labels."""
    shown = []
    for kind in MARKDOWN_ELEMENTS:
        shown += [str(element.value) for element in app.get(kind)]
    for kind in LABELLED:
        for element in app.get(kind):
            label = getattr(element, "label", None) or getattr(element.proto, "label", "")
            shown.append(str(label))
    return shown


def chart_texts(app: AppTest) -> list[str]:
    """Every string in the page's Plotly figures (names, text and hover labels render HTML)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for chart in app.get("plotly_chart"):
        walk(json.loads(chart.proto.spec))
    return found


def assert_inert(app: AppTest) -> None:
    assert not app.exception, [error.value for error in app.exception]
    for text in markdown_shown(app):
        unescaped = re.sub(r"\\.", "", text)  # what Markdown reads as markup: escapes dropped
        live = [fragment for fragment in LIVE if fragment in unescaped]
        assert not live, (live, text)
    for text in chart_texts(app):
        assert "<script" not in text and "<img" not in text and "<b>" not in text, text


@pytest.fixture
def hostile_app(monkeypatch: pytest.MonkeyPatch, hostile_settings: Settings) -> Any:
    def opened(page: str | None = None, **parameters: str) -> AppTest:
        return open_app(monkeypatch, hostile_settings, page, **parameters)

    return opened


def test_the_search_page_shows_hostile_titles_lists_and_sections_literally(hostile_app) -> None:
    app = hostile_app(q="alert bold link red vocoder")
    assert_inert(app)
    titles = [text.value for text in app.markdown if text.value.startswith("**")]
    assert any(escape_markdown(HOSTILE_TITLE) in title for title in titles), titles
    places = [text.value for text in app.text if text.value.startswith("Listed in: ")]
    assert any(HOSTILE_LIST in place for place in places)  # plain text: shown as written
    app.selectbox(key="list").set_value(HOSTILE_LIST).run()
    assert_inert(app)
    assert not app.error
    app.text_input(key="section").input(HOSTILE_SECTION + " nowhere").run()
    assert_inert(app)
    assert "no section matches" in app.error[0].value


def test_the_paper_page_shows_a_hostile_paper_literally(hostile_app) -> None:
    app = hostile_app("app_pages/paper.py", id=HOSTILE_ID)
    assert_inert(app)
    assert app.header[0].value == escape_markdown(HOSTILE_TITLE)
    assert HOSTILE_ABSTRACT in [text.value for text in app.text]  # plain text, unparsed
    shown = "\n".join(text.value for text in app.markdown)
    assert escape_markdown(HOSTILE_AUTHOR) in shown
    assert "javascript" not in shown.replace("javascript\\:", "")  # the code link is dropped
    mentions = app.dataframe[0].value
    assert set(mentions["list"]) == {HOSTILE_LIST} and set(mentions["section"]) == {HOSTILE_SECTION}


def test_pages_that_link_to_a_hostile_paper_show_it_literally(hostile_app) -> None:
    app = hostile_app("app_pages/paper.py", id=VITS)
    assert_inert(app)
    app = hostile_app("app_pages/reading_path.py", id=HOSTILE_ID)
    assert_inert(app)
    assert any(escape_markdown(HOSTILE_TITLE) in text for text in markdown_shown(app))
    app.text_input(key="path_from_query").input(HOSTILE_TITLE).run()
    assert_inert(app)


def test_the_topics_and_catalogue_pages_show_hostile_text_literally(hostile_app) -> None:
    app = hostile_app("app_pages/topics.py")
    assert_inert(app)
    assert any("&lt;script&gt;" in text for text in chart_texts(app))  # escaped, still there
    app = hostile_app("app_pages/catalogue.py")
    assert_inert(app)
    assert app.metric


def test_a_hostile_unknown_id_in_a_link_is_one_literal_error(hostile_app) -> None:
    raw = "[x](javascript:alert(1)) <script>y</script> :red[z]"
    for page in ("app_pages/paper.py", "app_pages/reading_path.py"):
        app = hostile_app(page, id=raw)
        assert_inert(app)
        [error] = app.error
        assert "\n" not in error.value and escape_markdown(raw) in error.value


# --- fuzzing: whatever arrives, results or one error line ------------------------------------

QUERY_TEXT = strategies.text(
    strategies.characters(exclude_categories=("Cs",)),  # lone surrogates cannot arrive in UTF-8
    max_size=300,
)
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_one_line_errors(app: AppTest) -> None:
    assert not app.exception, [error.value for error in app.exception]
    for error in app.error:
        assert "\n" not in error.value and "Traceback" not in error.value


@pytest.fixture(scope="module")
def warm_app(seed_settings: Settings) -> Iterator[AppTest]:
    """One app on the seed catalogue, reused across examples (its caches stay warm)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPEECHGRAPH_DATA_DIR", str(seed_settings.data_dir))
        app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        yield app


@FUZZ
@given(text=QUERY_TEXT)
def test_fuzzed_search_box(warm_app: AppTest, text: str) -> None:
    warm_app.text_input(key="query").input(text).run()
    assert_one_line_errors(warm_app)


@FUZZ
@given(text=QUERY_TEXT)
def test_fuzzed_paper_picker(warm_app: AppTest, text: str) -> None:
    warm_app.switch_page("app_pages/paper.py").run()
    warm_app.text_input(key="paper_query").input(text).run()
    assert_one_line_errors(warm_app)
    warm_app.switch_page("app_pages/search.py").run()


@FUZZ
@given(text=QUERY_TEXT, parameter=strategies.sampled_from(["id", "from", "to"]))
def test_fuzzed_links(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, text: str, parameter: str
) -> None:
    page = "app_pages/paper.py" if parameter == "id" else "app_pages/reading_path.py"
    app = open_app(monkeypatch, seed_settings, page, **{parameter: text})
    assert_one_line_errors(app)


@FUZZ
@given(text=QUERY_TEXT)
def test_fuzzed_query_in_a_link(
    monkeypatch: pytest.MonkeyPatch, seed_settings: Settings, text: str
) -> None:
    app = open_app(monkeypatch, seed_settings, q=text)
    assert_one_line_errors(app)
