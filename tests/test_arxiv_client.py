"""Tests for speechgraph.clients.arxiv against the fake arXiv server in tests/fake_arxiv.py."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import arxiv
import pytest
import requests

from fake_arxiv import (
    CannedResponse,
    FakeArxiv,
    atom_feed,
    empty_feed,
    error_feed,
    fake_arxiv_server,
    feed_response,
    hang,
    malformed_feed,
    status_response,
)
from speechgraph.clients import arxiv as arxiv_module
from speechgraph.clients.arxiv import TITLE_MATCH_THRESHOLD, ArxivClient
from speechgraph.config import Settings
from speechgraph.errors import ArxivBadResponse, ArxivUnavailable
from speechgraph.ids import parse_arxiv_id
from speechgraph.records import PaperRecord
from speechgraph.text import normalize_title, title_similarity

# Made-up papers: invented titles, authors and one-line summaries.
UNITS = PaperRecord(
    arxiv_id="2006.11477",
    version=3,
    title="Quiet Waves: Learning Discrete Speech Units from Raw Audio Without Any Labels at All",
    authors=["Ada Quill", "Bo Renner", "Cyd Marsh"],
    published=date(2020, 6, 20),
    updated=date(2020, 10, 22),
    categories=["eess.AS", "cs.CL", "cs.SD"],
    primary_category="cs.CL",
    abstract="A made-up   summary that is long enough to be wrapped over several lines by the "
    "fake server, the way arXiv wraps its abstracts.",
    doi="10.5555/FAKE.2020.001",
    journal_ref="Imaginary Speech Conference 2020",
    comment="12 pages, 3 figures",
)
OLD_STYLE = PaperRecord(
    arxiv_id="cs/0112017",
    version=1,
    title="A Tiny Lexicon for Syllable Counting",
    authors=["Dee Voss"],
    published=date(2001, 12, 14),
    categories=["cs.CL"],
    primary_category="cs.CL",
    abstract="Dummy summary.",
)
CONFORMER = PaperRecord(
    arxiv_id="2105.01234",
    version=2,
    title="Convolution-Augmented Transducers for Streaming Speech Recognition",
    authors=["Eli Park", "Fay Ngo"],
    published=date(2021, 5, 4),
    categories=["eess.AS"],
    primary_category="eess.AS",
    abstract="Dummy summary.",
)
NEAR_MISS = PaperRecord(
    arxiv_id="2107.04321",
    title="Convolution-Augmented Transducers for Streaming Speech Translation",
    authors=["Gus Hale"],
    published=date(2021, 7, 9),
    categories=["cs.CL"],
    primary_category="cs.CL",
    abstract="Dummy summary.",
)
PAPERS = [UNITS, OLD_STYLE, CONFORMER, NEAR_MISS]

FAST = {"delay_seconds": 0.05, "timeout": 2.0, "max_retries": 2, "max_backoff": 0.05}


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with fake_arxiv_server(PAPERS) as server:
        yield server


@pytest.fixture
def make_client(fake: FakeArxiv) -> Iterator[Callable[..., ArxivClient]]:
    clients: list[ArxivClient] = []

    def make(**overrides: Any) -> ArxivClient:
        client = ArxivClient(fake.url, **{**FAST, **overrides})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- id look-ups -------------------------------------------------------------------------------


def test_entry_becomes_a_record(fake: FakeArxiv, make_client: Callable[..., ArxivClient]) -> None:
    result = make_client(contact_email="lists@example.org").fetch_by_ids(["2006.11477"])

    record = result.records["2006.11477"]
    assert result.missing == []
    assert record.arxiv_id == "2006.11477"
    assert record.version == 3
    assert record.title == UNITS.title  # the fake wraps it over lines; whitespace collapsed
    assert record.authors == ["Ada Quill", "Bo Renner", "Cyd Marsh"]
    assert record.published == date(2020, 6, 20)
    assert record.updated == date(2020, 10, 22)
    assert record.primary_category == "cs.CL"
    assert record.categories == ["cs.CL", "eess.AS", "cs.SD"]  # primary first
    assert record.abstract is not None
    assert record.abstract.startswith("A made-up summary that is long enough to be wrapped over")
    assert "\n" not in record.abstract
    assert record.doi == "10.5555/fake.2020.001"
    assert record.journal_ref == "Imaginary Speech Conference 2020"
    assert record.comment == "12 pages, 3 figures"
    assert record.source == "arxiv"
    user_agent = fake.requests[0].headers["User-Agent"]
    assert user_agent.startswith("speechgraph/")
    assert "mailto:lists@example.org" in user_agent


def test_230_ids_take_three_requests_of_at_most_100(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    many = [
        PaperRecord(arxiv_id=f"2101.{n:05d}", title=f"Made-up paper {n}", authors=["Ann Example"])
        for n in range(230)
    ]
    fake.add(*many)
    calls: list[tuple[int, int]] = []

    result = make_client().fetch_by_ids(
        [p.arxiv_id for p in many], progress=lambda done, total: calls.append((done, total))
    )

    assert [len(request.id_list) for request in fake.requests] == [100, 100, 30]
    assert len(result.records) == 230
    assert result.missing == []
    assert calls == [(100, 230), (200, 230), (230, 230)]


def test_batch_size_is_clamped_to_100() -> None:
    assert ArxivClient("http://127.0.0.1:9/api/query", batch_size=500).batch_size == 100


def test_newer_version_is_recorded(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    result = make_client().fetch_by_ids(["2006.11477v1"])

    assert fake.requests[0].id_list == ["2006.11477"]  # asked without version: newest served
    assert result.records["2006.11477"].version == 3


def test_old_style_id(fake: FakeArxiv, make_client: Callable[..., ArxivClient]) -> None:
    result = make_client().fetch_by_ids(["cs/0112017v1"])

    assert result.records["cs/0112017"].version == 1
    assert result.records["cs/0112017"].title == "A Tiny Lexicon for Syllable Counting"


def test_unknown_and_invalid_ids_are_missing(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    result = make_client().fetch_by_ids(["2006.11477", "2012.99999", "not-an-id"])

    assert set(result.records) == {"2006.11477"}
    assert sorted(result.missing) == ["2012.99999", "not-an-id"]
    assert fake.requests[0].id_list == ["2006.11477", "2012.99999"]  # invalid one never sent


def test_error_entry_means_missing(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient], caplog: pytest.LogCaptureFixture
) -> None:
    fake.enqueue(CannedResponse(body=error_feed("2006.11477")))

    with caplog.at_level(logging.WARNING, logger="speechgraph.clients.arxiv"):
        result = make_client().fetch_by_ids(["2006.11477"])

    assert result.records == {}
    assert result.missing == ["2006.11477"]
    assert "incorrect id format" in caplog.text


def test_empty_feed_means_all_missing(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(empty_feed())

    result = make_client().fetch_by_ids(["2006.11477", "cs/0112017"])

    assert result.records == {}
    assert result.missing == ["2006.11477", "cs/0112017"]
    assert len(fake.requests) == 1


def test_empty_follow_up_page_keeps_what_came(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    # The first page announces two results but holds one; the second page comes back empty.
    fake.enqueue(CannedResponse(body=atom_feed([UNITS], total_results=2)))

    result = make_client().fetch_by_ids(["2006.11477", "2012.99999"])

    assert set(result.records) == {"2006.11477"}
    assert result.missing == ["2012.99999"]
    assert [request.query["start"] for request in fake.requests] == ["0", "1"]


@pytest.mark.parametrize(
    "body",
    [None, b"this is not xml at all", b"<html><body>Service busy</body></html>"],
    ids=["truncated", "garbage", "html"],
)
def test_malformed_feed_raises_bad_response(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient], body: bytes | None
) -> None:
    fake.enqueue(malformed_feed(body))

    with pytest.raises(ArxivBadResponse, match=fake.url):
        make_client().fetch_by_ids(["2006.11477"])


# --- retries, timeouts, pacing -----------------------------------------------------------------


def test_429_then_success_honours_retry_after(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(status_response(429, {"Retry-After": "1"}))

    result = make_client().fetch_by_ids(["2006.11477"])

    assert "2006.11477" in result.records
    first, second = fake.requests
    assert second.time - first.time >= 1.0


def test_503_then_success(fake: FakeArxiv, make_client: Callable[..., ArxivClient]) -> None:
    fake.enqueue(status_response(503))

    result = make_client().fetch_by_ids(["2006.11477"])

    assert "2006.11477" in result.records
    assert len(fake.requests) == 2


def test_retry_after_too_long_gives_up_at_once(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(status_response(503, {"Retry-After": "3600"}))

    with pytest.raises(ArxivUnavailable, match="asked to wait 3600 s"):
        make_client().fetch_by_ids(["2006.11477"])

    assert len(fake.requests) == 1


def test_repeated_500_raises_unavailable_naming_the_url(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(*[status_response(500)] * 3)

    with pytest.raises(ArxivUnavailable, match="HTTP 500") as raised:
        make_client(max_retries=2).fetch_by_ids(["2006.11477"])

    assert fake.url in str(raised.value)
    assert "try again later" in str(raised.value)
    assert len(fake.requests) == 3  # one try and two retries, no more


def test_other_4xx_fails_at_once(fake: FakeArxiv, make_client: Callable[..., ArxivClient]) -> None:
    fake.enqueue(status_response(400))

    with pytest.raises(ArxivUnavailable, match="HTTP 400"):
        make_client().fetch_by_ids(["2006.11477"])

    assert len(fake.requests) == 1


def test_hang_past_timeout_is_retried(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(hang(2.0))

    result = make_client(timeout=0.5).fetch_by_ids(["2006.11477"])

    assert "2006.11477" in result.records
    assert len(fake.requests) == 2


def test_hang_every_time_raises_unavailable(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(hang(2.0), hang(2.0))
    started = time.monotonic()

    with pytest.raises(ArxivUnavailable, match="timed out") as raised:
        make_client(timeout=0.5, max_retries=1).fetch_by_ids(["2006.11477"])

    assert fake.url in str(raised.value)
    assert len(fake.requests) == 2
    assert time.monotonic() - started < 2.0


def test_connection_refused_fails_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api/query"  # nothing listens here any more
    started = time.monotonic()

    with (
        ArxivClient(url, **FAST) as client,
        pytest.raises(ArxivUnavailable, match="connection failed") as raised,
    ):
        client.fetch_by_ids(["2006.11477"])

    assert url in str(raised.value)
    assert "--offline" in str(raised.value)
    assert time.monotonic() - started < 2.0


def test_delay_holds_between_requests_of_any_kind(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    client = make_client(delay_seconds=0.3)

    client.fetch_by_ids(["2006.11477"])
    client.search_title(CONFORMER.title)

    first, second = fake.requests
    assert second.time - first.time >= 0.3


def test_from_settings(tmp_path: Any) -> None:
    settings = Settings.load(data_dir=tmp_path).with_overrides(
        arxiv_base_url="http://127.0.0.1:9/api/query", http_timeout=7.0, max_retries=1
    )
    client = ArxivClient.from_settings(settings)

    assert client.base_url == "http://127.0.0.1:9/api/query"
    assert client.max_retries == 1


# --- the arxiv package ------------------------------------------------------------------------


def test_arxiv_package_still_keeps_its_session_where_we_replace_it() -> None:
    # clients/arxiv.py assigns arxiv.Client._session, the package's only HTTP hook. A release
    # that renames it, or stops sending requests through it, must fail here, loudly.
    package_client = arxiv.Client()

    assert isinstance(package_client._session, requests.Session), (
        f"arxiv {arxiv.__version__} no longer keeps a requests.Session in Client._session; "
        f"clients/arxiv.py was written for {arxiv_module.TESTED_ARXIV_RANGE}"
    )


def test_every_request_goes_through_the_policy_session(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    client = make_client(contact_email="lists@example.org")

    assert client._client._session is client._session
    client.fetch_by_ids(["2006.11477"])
    assert "mailto:lists@example.org" in fake.requests[0].headers["User-Agent"]


def test_a_package_without_the_session_attribute_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class SessionlessClient:
        def __init__(self, **options: Any) -> None:
            self.page_size = options.get("page_size")

    monkeypatch.setattr(arxiv, "Client", SessionlessClient)

    with pytest.raises(ArxivUnavailable, match=r"Client\._session.*arxiv>=4\.0\.2,<4\.1"):
        ArxivClient("http://127.0.0.1:9/api/query")


# --- title search ------------------------------------------------------------------------------


def test_title_search_accepts_a_confident_match(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    cited = 'CONVOLUTION AUGMENTED transducers for "streaming" speech recognition.'

    match = make_client().search_title(cited, year=2021)

    assert match is not None
    assert match.record.arxiv_id == "2105.01234"
    assert match.score >= TITLE_MATCH_THRESHOLD
    query = fake.requests[0].search_query
    assert query == 'ti:"convolution augmented transducers for streaming speech recognition"'


def test_title_search_rejects_a_near_miss(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    fake.enqueue(feed_response([NEAR_MISS]))  # arXiv's best hit is a different paper

    assert make_client().search_title(CONFORMER.title) is None


def test_title_search_rejects_a_year_mismatch(make_client: Callable[..., ArxivClient]) -> None:
    client = make_client()

    assert client.search_title(CONFORMER.title, year=2018) is None
    assert client.search_title(CONFORMER.title, year=2022) is not None  # within a year


def test_title_search_finds_nothing(make_client: Callable[..., ArxivClient]) -> None:
    assert make_client().search_title("An Unwritten Paper About Whistled Languages") is None


def test_title_search_of_punctuation_only_asks_nothing(
    fake: FakeArxiv, make_client: Callable[..., ArxivClient]
) -> None:
    assert make_client().search_title(" :- ") is None
    assert fake.requests == []


# --- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2006.11477", ("2006.11477", None)),
        ("2006.11477v3", ("2006.11477", 3)),
        ("arXiv:1706.03762", ("1706.03762", None)),
        ("0704.0001", ("0704.0001", None)),
        ("cs/0112017v1", ("cs/0112017", 1)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("https://arxiv.org/abs/2006.11477v2", ("2006.11477", 2)),
        ("2006.1147", None),
        ("1412.12345", None),  # five digits only from 1501 on
        ("1501.1234", None),
        ("2013.12345", None),
        ("hello", None),
    ],
)
def test_parse_arxiv_id(raw: str, expected: tuple[str, int | None] | None) -> None:
    assert parse_arxiv_id(raw) == expected


def test_normalize_title() -> None:
    assert normalize_title("  Écoute: Self-Supervised   Speech (Again)! ") == (
        "ecoute self supervised speech again"
    )


def test_title_similarity() -> None:
    assert title_similarity("Speech: A Study", "speech — a study") == 1.0
    assert title_similarity(CONFORMER.title, NEAR_MISS.title) < TITLE_MATCH_THRESHOLD
    assert title_similarity(CONFORMER.title, "Streaming recogniser") < 0.5
    assert title_similarity("", CONFORMER.title) == 0.0
