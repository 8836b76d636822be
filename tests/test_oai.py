"""The OAI-PMH harvester against the fake repository in fake_oai.py, which serves the real corpus
in ../shared/corpus as arXiv-format pages with resumption tokens."""

from __future__ import annotations

import itertools
import logging
import socket
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from fake_oai import (
    CorpusRecord,
    FakeOai,
    expired_token,
    hang,
    load_corpus,
    oai_error,
    truncated_page,
    unavailable,
)
from speechgraph.clients.oai import DEFAULT_BASE_URL, HarvestedRecord, OaiHarvester
from speechgraph.config import Settings
from speechgraph.errors import ArxivBadResponse, ArxivUnavailable

FAST = {"delay_seconds": 0.0, "timeout": 2.0, "max_retries": 2, "backoff_base": 0.01}
JUNE = {"from_date": date(2026, 6, 1), "until": date(2026, 6, 30)}
MakeHarvester = Callable[..., OaiHarvester]


@pytest.fixture(scope="module")
def corpus() -> list[CorpusRecord]:
    return load_corpus()


@pytest.fixture
def fake(corpus: list[CorpusRecord]) -> Iterator[FakeOai]:
    with FakeOai(corpus, page_size=50) as server:
        yield server


@pytest.fixture
def make_harvester(fake: FakeOai) -> Iterator[MakeHarvester]:
    harvesters: list[OaiHarvester] = []

    def make(**options: Any) -> OaiHarvester:
        harvester = OaiHarvester(fake.url, **{**FAST, **options})
        harvesters.append(harvester)
        return harvester

    yield make
    for harvester in harvesters:
        harvester.close()


def ids(records: list[HarvestedRecord]) -> list[str | None]:
    return [record.arxiv_id for record in records]


# --- what a harvest returns ------------------------------------------------------------------


def test_records_match_the_corpus_field_by_field(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    harvested = list(make_harvester().harvest(set_spec="eess", **JUNE))

    expected = fake.matching("eess", JUNE["from_date"], JUNE["until"])
    assert len(expected) > 100  # several pages of 50
    assert ids(harvested) == [record.arxiv_id for record in expected]
    for got, source in zip(harvested, expected, strict=True):
        paper = got.record
        assert paper is not None
        assert got.identifier == f"oai:arXiv.org:{source.arxiv_id}"
        assert got.datestamp == source.datestamp
        assert not got.deleted
        assert "eess" in got.sets
        assert got.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
        assert paper.title == " ".join(source.title.split())
        assert paper.authors == [" ".join(name.split()) for name in source.authors]
        assert paper.categories == list(dict.fromkeys(source.categories))
        assert paper.primary_category == source.categories[0]
        assert paper.published == source.datestamp
        assert paper.abstract == " ".join(source.abstract.split())
        assert paper.source == "harvest"
        assert paper.version is None


def test_first_request_carries_the_arguments_then_only_tokens(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    list(make_harvester(contact_email="lists@example.org").harvest(set_spec="eess", **JUNE))

    first, *rest = fake.requests
    assert first.query == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "eess",
        "from": "2026-06-01",
        "until": "2026-06-30",
    }
    assert rest
    assert all(set(request.query) == {"verb", "resumptionToken"} for request in rest)
    assert "mailto:lists@example.org" in first.headers["user-agent"]


def test_the_whole_corpus_in_pages_without_duplicates(
    corpus: list[CorpusRecord], make_harvester: MakeHarvester
) -> None:
    calls: list[tuple[int, int | None]] = []
    with FakeOai(corpus, page_size=1000) as big:
        harvester = OaiHarvester(big.url, **FAST)
        harvested = list(harvester.harvest(progress=lambda done, size: calls.append((done, size))))
        harvester.close()

    assert len(harvested) == len(corpus)
    assert len(set(ids(harvested))) == len(corpus)
    assert calls[-1] == (len(corpus), len(corpus))
    assert len(calls) == -(-len(corpus) // 1000)


def test_physics_holds_its_archives(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    harvested = list(make_harvester().harvest(set_spec="physics"))

    assert ids(harvested) == [record.arxiv_id for record in fake.matching("physics")]
    assert harvested
    assert all(any(s.startswith("physics:") for s in record.sets) for record in harvested)


def test_from_and_until_are_inclusive_days(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    day = date(2025, 9, 15)

    harvested = list(make_harvester().harvest(from_date=day, until=day))

    assert harvested
    assert {record.datestamp for record in harvested} == {day}
    assert ids(harvested) == [record.arxiv_id for record in fake.matching(None, day, day)]


def test_no_records_match_is_an_empty_harvest(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    assert list(make_harvester().harvest(from_date=date(2031, 1, 1))) == []
    assert len(fake.requests) == 1


def test_deleted_records_come_without_metadata(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    gone = fake.matching("eess", JUNE["from_date"], JUNE["until"])[3].arxiv_id
    fake.deleted.add(gone)

    by_id = {record.arxiv_id: record for record in make_harvester().harvest(**JUNE)}

    assert by_id[gone].deleted
    assert by_id[gone].record is None
    assert by_id[gone].datestamp >= JUNE["from_date"]
    assert sum(record.deleted for record in by_id.values()) == 1


# --- flow control and failures ---------------------------------------------------------------


def test_503_with_retry_after_is_honoured(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    harvest = make_harvester().harvest(set_spec="eess", **JUNE)
    first = next(harvest)
    fake.fail_next(unavailable(retry_after="1"))

    rest = list(harvest)

    assert [first.arxiv_id, *ids(rest)] == [
        record.arxiv_id for record in fake.matching("eess", JUNE["from_date"], JUNE["until"])
    ]
    refused, retried = fake.requests[1:3]
    assert retried.query == refused.query  # the same token, asked again
    assert retried.arrived_at - refused.arrived_at >= 0.95


def test_retry_after_above_the_cap_fails_at_once(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    fake.fail_next(unavailable(retry_after="3600"))

    with pytest.raises(ArxivUnavailable, match="asked to wait 3600 s") as raised:
        list(make_harvester().harvest(**JUNE))

    assert "HTTP 503" in str(raised.value)
    assert fake.url in str(raised.value)
    assert len(fake.requests) == 1


def test_repeated_500s_are_one_clear_error(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    fake.fail_next(*[unavailable(retry_after=None, status=500)] * 3)

    with pytest.raises(ArxivUnavailable, match="HTTP 500") as raised:
        list(make_harvester().harvest(**JUNE))

    assert "after 3 attempts" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert len(fake.requests) == 3


def test_a_hang_is_retried_and_hanging_every_time_times_out(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    day = date(2025, 9, 15)
    fake.fail_next(hang(2.0))
    assert ids(list(make_harvester(timeout=0.3).harvest(from_date=day, until=day))) == [
        record.arxiv_id for record in fake.matching(None, day, day)
    ]
    assert fake.requests[0].query == fake.requests[1].query

    fake.fail_next(*[hang(2.0)] * 3)
    started = time.monotonic()
    with pytest.raises(ArxivUnavailable, match="timed out"):
        list(make_harvester(timeout=0.3).harvest(**JUNE))
    assert time.monotonic() - started < 2.5


def test_a_truncated_page_is_fetched_again(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    harvest = make_harvester().harvest(set_spec="eess", **JUNE)
    first = next(harvest)
    fake.fail_next(truncated_page())

    rest = list(harvest)

    expected = fake.matching("eess", JUNE["from_date"], JUNE["until"])
    assert [first.arxiv_id, *ids(rest)] == [record.arxiv_id for record in expected]
    assert fake.requests[1].query == fake.requests[2].query


def test_truncated_every_time_is_a_clear_error(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    fake.fail_next(*[truncated_page()] * 3)

    with pytest.raises(ArxivUnavailable, match="malformed page") as raised:
        list(make_harvester().harvest(**JUNE))

    assert "after 3 attempts" in str(raised.value)
    assert len(fake.requests) == 3


def test_an_expired_token_restarts_from_the_last_datestamp_without_duplicates(
    fake: FakeOai, make_harvester: MakeHarvester, caplog: pytest.LogCaptureFixture
) -> None:
    harvest = make_harvester().harvest(set_spec="eess", **JUNE)
    before = list(itertools.islice(harvest, 100))  # two whole pages; the third is not asked yet
    fake.fail_next(expired_token())

    with caplog.at_level(logging.WARNING, logger="speechgraph.clients.oai"):
        after = list(harvest)

    expected = fake.matching("eess", JUNE["from_date"], JUNE["until"])
    assert ids(before + after) == [record.arxiv_id for record in expected]
    last_day = before[-1].datestamp
    assert sum(record.datestamp == last_day for record in before) > 1  # so repeats were skipped
    refused, restart = fake.requests[2:4]
    assert "resumptionToken" in refused.query
    assert restart.query == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "eess",
        "from": last_day.isoformat(),
        "until": "2026-06-30",
    }
    assert "restarting the list from " + last_day.isoformat() in caplog.text


def test_tokens_refused_again_and_again_end_with_a_clear_error(
    fake: FakeOai, make_harvester: MakeHarvester
) -> None:
    harvest = make_harvester(max_retries=1).harvest(set_spec="eess", **JUNE)
    next(harvest)
    fake.fail_next(*[expired_token()] * 5)

    with pytest.raises(ArxivUnavailable, match="refused 2 resumption tokens in a row"):
        list(harvest)


def test_an_oai_error_names_its_code(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    fake.fail_next(oai_error("badArgument"))

    with pytest.raises(ArxivBadResponse, match="BadArgument") as raised:
        list(make_harvester().harvest(set_spec="not a set"))

    assert "check the set name and the dates" in str(raised.value)
    assert len(fake.requests) == 1


def test_refused_connection_fails_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    with (
        OaiHarvester(f"http://127.0.0.1:{port}/oai", **FAST) as harvester,
        pytest.raises(ArxivUnavailable, match="connection failed"),
    ):
        list(harvester.harvest())

    assert time.monotonic() - started < 1.0


def test_pages_keep_the_courtesy_delay(fake: FakeOai, make_harvester: MakeHarvester) -> None:
    list(
        make_harvester(delay_seconds=0.2).harvest(
            from_date=date(2025, 9, 1), until=date(2025, 9, 8)
        )
    )

    arrivals = [request.arrived_at for request in fake.requests]
    assert len(arrivals) >= 3
    assert min(b - a for a, b in itertools.pairwise(arrivals)) >= 0.2


def test_from_settings_reads_the_policy_values(tmp_path: Any) -> None:
    settings = Settings.load(data_dir=tmp_path).with_overrides(http_timeout=7.0, max_retries=1)

    harvester = OaiHarvester.from_settings(settings)

    assert harvester.base_url == DEFAULT_BASE_URL  # until Settings has oai_base_url
    assert harvester.policy.timeout == 7.0
    assert harvester.policy.max_retries == 1
    assert harvester.policy.delay == settings.arxiv_delay
    harvester.close()
