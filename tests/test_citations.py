"""Tests of the citation-service client against the fake Semantic Scholar in fake_s2.py."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fake_s2 import (
    DATA_DIR,
    FakeS2,
    hang,
    load_papers,
    server_error,
    short_read,
    status_error,
    synthetic_papers,
    too_many_requests,
    truncated_body,
    wrong_length,
)
from speechgraph.clients.citations import (
    FIELDS,
    CitationClient,
    parse_paper,
)
from speechgraph.config import Settings
from speechgraph.errors import CitationServiceUnavailable
from speechgraph.records import Reference

SECRET = "s2-test-key-do-not-leak"
MakeClient = Callable[..., CitationClient]


@pytest.fixture
def fake_s2(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS2]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FakeS2(load_papers()) as server:
        yield server


@pytest.fixture
def make_client(fake_s2: FakeS2) -> Iterator[MakeClient]:
    """Clients pointed at the fake, fast by default: no pacing, tiny back-off, no cache."""
    clients: list[CitationClient] = []

    def make(**options: Any) -> CitationClient:
        settings: dict[str, Any] = {
            "timeout": 2.0,
            "delay_seconds": 0.0,
            "max_retries": 2,
            "backoff_base": 0.01,
            **options,
        }
        client = CitationClient(fake_s2.base_url, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- mapping the response -------------------------------------------------------------------


def test_references_are_mapped_deduplicated_and_self_citation_dropped(
    make_client: MakeClient,
) -> None:
    result = make_client().fetch_citations(["2006.11477"])

    record = result.records["2006.11477"]
    assert record.citation_count == 5821
    assert record.reference_count == 62
    by_title = {reference.title: reference for reference in record.references}
    assert len(record.references) == len(by_title) == 8  # 11 listed: 1 twice, 1 self, 1 empty
    assert all(reference.arxiv_id != "2006.11477" for reference in record.references)
    wav2vec = by_title["wav2vec: Unsupervised Pre-training for Speech Recognition"]
    assert wav2vec.arxiv_id == "1904.05862"
    assert wav2vec.doi == "10.21437/interspeech.2019-1873"
    assert wav2vec.year == 2019
    assert wav2vec.s2_id is not None
    assert len(wav2vec.s2_id) == 40
    conformer = by_title["Conformer: Convolution-augmented Transformer for Speech Recognition"]
    assert conformer.arxiv_id == "2005.08100"  # "v1" stripped
    librispeech = by_title["Librispeech: An ASR corpus based on public domain audio books"]
    assert librispeech.arxiv_id is None
    assert librispeech.doi == "10.1109/icassp.2015.7178964"
    assert by_title["Libri-Light: A Benchmark for ASR with Limited or No Supervision"] == Reference(
        title="Libri-Light: A Benchmark for ASR with Limited or No Supervision"
    )


def test_duplicate_reference_without_paper_id_is_merged_by_doi(make_client: MakeClient) -> None:
    record = make_client().fetch_citations(["2106.07447"]).records["2106.07447"]

    bert = [ref for ref in record.references if ref.doi == "10.18653/v1/n19-1423"]
    assert len(bert) == 1
    assert bert[0].arxiv_id == "1810.04805"
    assert bert[0].year == 2019


def test_unknown_ids_are_missing(make_client: MakeClient) -> None:
    result = make_client().fetch_citations(["1706.03762", "2312.00000", "1904.05862"])

    assert sorted(result.records) == ["1706.03762", "1904.05862"]
    assert result.missing == ["2312.00000"]
    assert result.from_cache == 0


def test_null_titles_years_counts_and_references_are_tolerated(make_client: MakeClient) -> None:
    record = make_client().fetch_citations(["2310.99999"]).records["2310.99999"]

    assert record.references == []
    assert record.citation_count is None
    assert record.reference_count is None


def test_recorded_response_with_null_abstract_parses() -> None:
    entries = json.loads((DATA_DIR / "batch_response.json").read_text(encoding="utf-8"))

    assert entries[0]["abstract"] is None
    assert entries[1] is None
    assert len(parse_paper("2006.11477", entries[0]).references) == 8
    assert parse_paper("2310.99999", entries[2]).references == []


def test_ids_are_normalised_deduplicated_and_sent_with_fields(
    make_client: MakeClient, fake_s2: FakeS2
) -> None:
    result = make_client().fetch_citations(["arXiv:2006.11477v3", "2006.11477", " 1706.03762 "])

    assert sorted(result.records) == ["1706.03762", "2006.11477"]
    (request,) = fake_s2.batch_requests
    assert request.method == "POST"
    assert request.ids == ["ARXIV:1706.03762", "ARXIV:2006.11477"]
    assert request.query["fields"] == [FIELDS]
    assert request.headers["content-type"] == "application/json"


def test_empty_input_sends_nothing(make_client: MakeClient, fake_s2: FakeS2) -> None:
    result = make_client().fetch_citations([])

    assert result.records == {}
    assert result.missing == []
    assert fake_s2.requests == []


# --- batching and pacing ----------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [500, 5000])
def test_1100_ids_are_fetched_in_three_batches_of_at_most_500(
    make_client: MakeClient, fake_s2: FakeS2, batch_size: int
) -> None:
    ids = [f"2301.{number:05d}" for number in range(1100)]
    fake_s2.papers.update(synthetic_papers(ids[::2]))
    progress: list[tuple[int, int]] = []

    result = make_client(batch_size=batch_size).fetch_citations(
        ids, progress=lambda done, total: progress.append((done, total))
    )

    assert [len(request.ids or []) for request in fake_s2.batch_requests] == [500, 500, 100]
    assert len(result.records) == 550
    assert sorted(result.missing) == ids[1::2]
    assert progress == [(500, 1100), (1000, 1100), (1100, 1100)]


def test_requests_are_paced_within_and_across_calls(
    make_client: MakeClient, fake_s2: FakeS2
) -> None:
    client = make_client(delay_seconds=0.3, batch_size=1)

    client.fetch_citations(["1706.03762", "1904.05862"])
    client.fetch_citations(["2006.11477"])

    arrivals = [request.arrived_at for request in fake_s2.batch_requests]
    assert len(arrivals) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.28, gaps


# --- API key --------------------------------------------------------------------------------


def test_api_key_header_is_sent_when_set(make_client: MakeClient, fake_s2: FakeS2) -> None:
    make_client(api_key=SECRET).fetch_citations(["1706.03762"])

    assert fake_s2.batch_requests[0].headers["x-api-key"] == SECRET


def test_api_key_header_is_absent_without_a_key(make_client: MakeClient, fake_s2: FakeS2) -> None:
    make_client().fetch_citations(["1706.03762"])

    assert "x-api-key" not in fake_s2.batch_requests[0].headers


def test_api_key_never_appears_in_errors_logs_or_repr(
    make_client: MakeClient, fake_s2: FakeS2, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(api_key=SECRET, max_retries=1)
    fake_s2.fail_next(server_error(502), status_error(403, '{"message": "Forbidden"}'))

    with caplog.at_level(logging.DEBUG), pytest.raises(CitationServiceUnavailable) as error:
        client.fetch_citations(["1706.03762"])

    assert "HTTP 403" in str(error.value)
    assert "S2_API_KEY" in str(error.value)
    assert SECRET not in str(error.value)
    assert SECRET not in caplog.text
    assert SECRET not in repr(client)


def test_from_settings_uses_the_environment_key_and_cache_dir(
    monkeypatch: pytest.MonkeyPatch, fake_s2: FakeS2, tmp_path: Path
) -> None:
    monkeypatch.setenv("S2_API_KEY", SECRET)
    settings = Settings.load(data_dir=tmp_path, s2_base_url=fake_s2.base_url, s2_delay=0.0)

    client = CitationClient.from_settings(settings)
    client.fetch_citations(["1706.03762"])

    assert client.cache_dir == tmp_path / "cache" / "s2"
    assert client.delay_seconds == 0.0
    assert fake_s2.batch_requests[0].headers["x-api-key"] == SECRET
    assert len(list(client.cache_dir.glob("*.json"))) == 1
    client.close()


# --- retries --------------------------------------------------------------------------------


def test_429_burst_then_success_waits_retry_after(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(too_many_requests(retry_after="1"), too_many_requests(retry_after="1"))

    started = time.monotonic()
    result = make_client(max_retries=3).fetch_citations(["2006.11477"])
    elapsed = time.monotonic() - started

    assert "2006.11477" in result.records
    arrivals = [request.arrived_at for request in fake_s2.batch_requests]
    assert len(arrivals) == 3
    assert arrivals[1] - arrivals[0] >= 0.95
    assert arrivals[2] - arrivals[1] >= 0.95
    assert elapsed < 4


def test_retry_after_above_the_cap_fails_at_once(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(too_many_requests(retry_after="3600"))

    with pytest.raises(CitationServiceUnavailable, match="asked to wait 3600 s") as error:
        make_client().fetch_citations(["2006.11477"])

    assert "HTTP 429" in str(error.value)
    assert "--no-citations" in str(error.value)
    assert len(fake_s2.batch_requests) == 1


def test_retry_after_cap_is_the_policy_s_not_the_back_off_s(
    make_client: MakeClient, fake_s2: FakeS2
) -> None:
    fake_s2.fail_next(too_many_requests(retry_after="1"), too_many_requests(retry_after="3"))

    with pytest.raises(CitationServiceUnavailable, match="asked to wait 3 s"):
        make_client(max_backoff=0.01, max_retry_after=2).fetch_citations(["2006.11477"])

    arrivals = [request.arrived_at for request in fake_s2.batch_requests]
    assert len(arrivals) == 2  # the 1 s wait was honoured although above max_backoff
    assert arrivals[1] - arrivals[0] >= 0.95


def test_5xx_then_success_recovers(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(server_error(500), server_error(503))

    result = make_client().fetch_citations(["1706.03762"])

    assert "1706.03762" in result.records
    assert len(fake_s2.batch_requests) == 3


def test_repeated_5xx_raises_with_url_and_next_step(
    make_client: MakeClient, fake_s2: FakeS2
) -> None:
    fake_s2.fail_next(*[server_error(503)] * 3)

    with pytest.raises(CitationServiceUnavailable) as error:
        make_client(max_retries=2).fetch_citations(["1706.03762"])

    message = str(error.value)
    assert f"{fake_s2.base_url}/paper/batch" in message
    assert "HTTP 503" in message
    assert "after 3 attempts" in message
    assert "--no-citations" in message
    assert len(fake_s2.batch_requests) == 3


def test_client_error_fails_at_once_with_status(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(status_error(400, '{"error": "Unacceptable ids"}'))

    with pytest.raises(CitationServiceUnavailable, match="HTTP 400") as error:
        make_client().fetch_citations(["1706.03762"])

    assert "Unacceptable ids" in str(error.value)
    assert len(fake_s2.batch_requests) == 1


def test_truncated_body_is_retried(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(truncated_body(), short_read())

    result = make_client().fetch_citations(["2006.11477"])

    assert len(result.records["2006.11477"].references) == 8
    assert len(fake_s2.batch_requests) == 3


def test_truncated_body_every_time_raises(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(*[truncated_body()] * 3)

    with pytest.raises(CitationServiceUnavailable, match="malformed JSON") as error:
        make_client(max_retries=2).fetch_citations(["2006.11477"])

    assert "--no-citations" in str(error.value)
    assert len(fake_s2.batch_requests) == 3


def test_wrong_length_array_raises_without_retry(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(wrong_length())

    with pytest.raises(CitationServiceUnavailable, match="answered 1 entries for 2 ids"):
        make_client().fetch_citations(["1706.03762", "2006.11477"])
    assert len(fake_s2.batch_requests) == 1


def test_timeout_is_retried(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(hang(1.0))

    started = time.monotonic()
    result = make_client(timeout=0.3).fetch_citations(["1706.03762"])

    assert "1706.03762" in result.records
    assert len(fake_s2.batch_requests) == 2
    assert time.monotonic() - started < 1.0


def test_timeout_every_time_raises(make_client: MakeClient, fake_s2: FakeS2) -> None:
    fake_s2.fail_next(hang(1.0), hang(1.0))

    with pytest.raises(CitationServiceUnavailable, match="Timeout"):
        make_client(timeout=0.3, max_retries=1).fetch_citations(["1706.03762"])
    assert len(fake_s2.batch_requests) == 2


def test_connection_refused_raises_after_retries() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = CitationClient(
        f"http://127.0.0.1:{port}/graph/v1", delay_seconds=0, max_retries=1, backoff_base=0.01
    )

    with pytest.raises(CitationServiceUnavailable, match="ConnectionError"):
        client.fetch_citations(["1706.03762"])
    client.close()


# --- cache ----------------------------------------------------------------------------------


def test_rerun_is_served_from_cache(
    make_client: MakeClient, fake_s2: FakeS2, tmp_path: Path
) -> None:
    first = make_client(cache_dir=tmp_path).fetch_citations(["2006.11477", "2312.00000"])
    second = make_client(cache_dir=tmp_path).fetch_citations(["2312.00000", "2006.11477v2"])

    assert len(fake_s2.batch_requests) == 1
    assert second.from_cache == 1
    assert second.records == first.records
    assert second.missing == first.missing == ["2312.00000"]
    cache_files = list(tmp_path.iterdir())
    assert len(cache_files) == 1  # no temporary files left behind
    assert len(cache_files[0].stem) == 64


def test_corrupt_cache_file_is_ignored_and_refetched(
    make_client: MakeClient, fake_s2: FakeS2, tmp_path: Path
) -> None:
    make_client(cache_dir=tmp_path).fetch_citations(["1706.03762"])
    (cache_file,) = tmp_path.glob("*.json")
    cache_file.write_text('[{"paperId": "79d8ba3e', encoding="utf-8")

    result = make_client(cache_dir=tmp_path).fetch_citations(["1706.03762"])

    assert result.from_cache == 0
    assert result.records["1706.03762"].citation_count == 131072
    assert len(fake_s2.batch_requests) == 2
    assert isinstance(json.loads(cache_file.read_text(encoding="utf-8")), list)


def test_failed_requests_are_not_cached(
    make_client: MakeClient, fake_s2: FakeS2, tmp_path: Path
) -> None:
    fake_s2.fail_next(truncated_body())

    with pytest.raises(CitationServiceUnavailable):
        make_client(cache_dir=tmp_path, max_retries=0).fetch_citations(["1706.03762"])

    assert list(tmp_path.iterdir()) == []
