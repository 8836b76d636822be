"""Property-based fuzzing with Hypothesis: the import line reader (random and truncated JSON,
random bytes, gzip cut short) and the query paths of the CLI and the UI (`search`, `show`,
`similar`, `prereqs`, `path`, `list --in`, and the library calls the UI's pages make). No
exception escapes but the one-line errors."""

from __future__ import annotations

import gzip
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import SHARED_DIR, make_settings
from speechgraph.catalogue.store import Store, open_db
from speechgraph.cli import app
from speechgraph.clients.bulk import BadLine, open_bulk
from speechgraph.config import Settings
from speechgraph.errors import SpeechgraphError
from speechgraph.knowledge.names import find_paper
from speechgraph.records import PaperRecord
from speechgraph.search.hybrid import Filters, Searcher
from speechgraph.update.importer import import_metadata
from speechgraph.views.catalogue import search_rows

with gzip.open(SHARED_DIR / "corpus" / "speech-arxiv.jsonl.gz", "rt", encoding="utf-8") as corpus:
    CORPUS_LINES = [line.rstrip("\n") for _, line in zip(range(200), corpus, strict=False)]
T = TypeVar("T")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- lines ----------------------------------------------------------------------------------

real_lines = st.sampled_from(CORPUS_LINES)
cut_lines = st.tuples(real_lines, st.floats(0, 1)).map(
    lambda pair: pair[0][: int(len(pair[0]) * pair[1])]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
record_keys = ["id", "title", "authors", "abstract", "categories", "published", "versions",
               "update_date", "authors_parsed", "doi", "journal-ref", "comments"]  # fmt: skip
mangled_records = st.tuples(
    real_lines, st.dictionaries(st.sampled_from(record_keys), json_values)
).map(lambda pair: json.dumps({**json.loads(pair[0]), **pair[1]}))
lines = st.one_of(
    real_lines,
    cut_lines,
    mangled_records,
    json_values.map(json.dumps),
    st.text(max_size=200).map(lambda text: text.replace("\n", " ")),
)


def ends_cleanly(action: Callable[[], T]) -> T | None:
    """What `action` returns, or None when it raised a SpeechgraphError of one line; any other
    exception fails the test."""
    try:
        return action()
    except SpeechgraphError as error:
        failure = error
    assert "\n" not in str(failure) and str(failure)
    return None


def encoded(chosen: list[str], raw_tail: bytes) -> bytes:
    return ("\n".join(chosen) + "\n").encode("utf-8", "surrogatepass") + raw_tail


def read_all(path: Path) -> tuple[int, int]:
    """(records, bad lines) of a bulk file; anything but a SpeechgraphError fails the test."""
    records = bad = 0
    with open_bulk(path) as source:
        for event in source:
            if isinstance(event, BadLine):
                bad += 1
                assert event.reason and "\n" not in event.reason
            else:
                assert isinstance(event[1], PaperRecord) and event[1].arxiv_id
                records += 1
    return records, bad


@FUZZ
@given(chosen=st.lists(lines, max_size=30), tail=st.binary(max_size=64))
def test_the_line_reader_reads_or_counts_every_line(
    chosen: list[str], tail: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(encoded(chosen, tail))
    counts = ends_cleanly(lambda: read_all(path))
    if counts is not None:
        assert sum(counts) <= len(chosen) + tail.count(b"\n") + 1


@FUZZ
@given(chosen=st.lists(lines, min_size=1, max_size=30), cut=st.floats(0, 1))
def test_gzip_cut_short_is_a_bad_line_or_one_line_error(
    chosen: list[str], cut: float, tmp_path: Path
) -> None:
    whole = gzip.compress(encoded(chosen, b""))
    path = tmp_path / "lines.jsonl.gz"
    path.write_bytes(whole[: max(1, int(len(whole) * cut))])
    ends_cleanly(lambda: read_all(path))


@FUZZ
@given(chosen=st.lists(lines, min_size=1, max_size=10), cut=st.floats(0, 1))
def test_zip_cut_short_is_a_bad_line_or_one_line_error(
    chosen: list[str], cut: float, tmp_path: Path
) -> None:
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as writing:
        writing.writestr("lines.jsonl", encoded(chosen, b""))
    path = tmp_path / "lines.zip"
    whole = archive.read_bytes()
    path.write_bytes(whole[: max(1, int(len(whole) * cut))])
    ends_cleanly(lambda: read_all(path))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(chosen=st.lists(lines, max_size=20), cut=st.floats(0.2, 1), compress=st.booleans())
@example(chosen=[CORPUS_LINES[0], CORPUS_LINES[1], CORPUS_LINES[0]], cut=1.0, compress=False)
def test_an_import_of_any_file_stores_what_is_good_or_fails_in_one_line(
    chosen: list[str], cut: float, compress: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("fuzz-import")
    data = encoded(chosen, b"")
    if compress:
        data = gzip.compress(data)
    path = directory / ("lines.jsonl.gz" if compress else "lines.jsonl")
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    settings_ = make_settings(directory / "data")
    report = ends_cleanly(
        lambda: import_metadata(settings_, [path], categories="all", batch_size=7)
    )
    if report is not None:
        assert report.exit_code() in (0, 1, 3)
        assert report.read == report.good + report.bad, report.counts()


# --- queries --------------------------------------------------------------------------------

# Text a user might type, and text meant to break query syntax (FTS5, SQL LIKE, regexes).
syntax = st.sampled_from(
    ['"', "'", "*", "^", "NEAR(", "AND", "OR", "NOT", ":", "(", ")", "%", "_", "\\", "[", "]",
     "{", "}", "-", "+", "--", ";", "/*", "\x00", "\u202e", "arXiv:", "2106.06103v9", "s2:"]
)  # fmt: skip
queries = st.lists(st.one_of(st.text(max_size=12), syntax), min_size=0, max_size=6).map(" ".join)


def invoke(settings_: Settings, *arguments: str) -> None:
    """Run a command; it must end with 0, or 1 and one line on stderr."""
    result = CliRunner().invoke(app, ["--data-dir", str(settings_.data_dir), *arguments])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        arguments,
        repr(result.exception),
    )
    assert result.exit_code in (0, 1, 2), (arguments, result.exit_code, result.stderr)
    if result.exit_code == 1:
        (line,) = result.stderr.splitlines()
        assert line.startswith("error: "), line


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=queries, other=queries)
def test_cli_queries_end_in_results_or_one_line(
    seed_settings: Settings, query: str, other: str
) -> None:
    if "\x00" in query + other:  # no command line carries a NUL
        query, other = query.replace("\x00", ""), other.replace("\x00", "")
    invoke(seed_settings, "search", query, "--mode", "lexical", "--json")
    invoke(seed_settings, "search", query, "--list", other, "--section", other, "--mode", "lexical")
    invoke(seed_settings, "search", query, "--category", other, "--mode", "lexical")
    invoke(seed_settings, "show", query)
    invoke(seed_settings, "list", "--in", query)
    invoke(seed_settings, "path", query, other)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=queries)
def test_cli_queries_that_embed_end_in_results_or_one_line(
    seed_settings: Settings, query: str
) -> None:
    query = query.replace("\x00", "")
    invoke(seed_settings, "search", query, "--mode", "hybrid", "-k", "3")
    invoke(seed_settings, "similar", query, "-k", "3")
    invoke(seed_settings, "prereqs", query)


@pytest.fixture(scope="module")
def searcher(seed_settings: Settings) -> Iterator[tuple[Searcher, Store]]:
    store = open_db(seed_settings.db_url, create=False)
    with Searcher(seed_settings, store) as opened:
        yield opened, store
    store.dispose()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    query=queries,
    section=queries,
    list_name=st.none() | queries,
    category=st.none() | queries,
    years=st.tuples(
        st.none() | st.integers(-(10**6), 10**6), st.none() | st.integers(-(10**6), 10**6)
    ),
    k=st.integers(-5, 2000),
)
def test_ui_queries_raise_only_one_line_errors(
    searcher: tuple[Searcher, Store],
    query: str,
    section: str,
    list_name: str | None,
    category: str | None,
    years: tuple[int | None, int | None],
    k: int,
) -> None:
    """What the search page and the paper page ask of the library: `search_rows` with the
    page's filters, and `find_paper` for the `?id=` of a link."""
    opened, store = searcher
    filters = Filters(years[0], years[1], category, list_name, section or None)
    rows = ends_cleanly(lambda: search_rows(opened, store, query, k=max(k, 1), filters=filters))
    assert rows is None or len(rows) <= max(k, 1)
    ends_cleanly(lambda: find_paper(store, query))
