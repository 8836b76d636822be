"""Tests for speechgraph.clients.http: Retry-After parsing, back-off growth, request pacing, and
the policy session against the fake server of fake_lists.py. The clients' own tests cover each
client's use of the policy (429, 503, 500s, hangs, Retry-After above the cap)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from fake_lists import FakeListServer, status
from speechgraph.clients.http import (
    HttpPolicy,
    Pacer,
    PolicySession,
    RetriesExhausted,
    RetryAfterTooLong,
    backoff_seconds,
    parse_retry_after,
)

# --- parse_retry_after ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("1", 1.0),
        ("7", 7.0),
        ("120", 120.0),
        (" 30 ", 30.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("0.25", 0.25),
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("-5", None),
        ("1.", None),
        ("nan", None),
        ("inf", None),
        ("1e3", None),
    ],
)
def test_parse_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_parse_retry_after_http_date() -> None:
    in_thirty_seconds = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    in_five_seconds = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)

    assert 25 <= (parse_retry_after(in_thirty_seconds) or 0) <= 30
    assert 3.5 <= (parse_retry_after(in_five_seconds) or 0) <= 5.0


def test_parse_retry_after_date_without_zone_is_utc() -> None:
    when = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S -0000")

    assert 25 <= (parse_retry_after(when) or 0) <= 30


def test_parse_retry_after_past_date_is_zero() -> None:
    an_hour_ago = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)

    assert parse_retry_after(an_hour_ago) == 0.0


@pytest.mark.parametrize(
    "header", ["Mon, 99 Foo 2024 25:61:00 GMT", "Wed, 21 Oct 99999 07:28:00 GMT", "tomorrow"]
)
def test_parse_retry_after_garbage_date_is_none(header: str) -> None:
    assert parse_retry_after(header) is None


# --- backoff_seconds -----------------------------------------------------------------------


def test_backoff_doubles_from_base() -> None:
    assert [backoff_seconds(attempt, 2.0, 60.0) for attempt in range(5)] == [
        2.0,
        4.0,
        8.0,
        16.0,
        32.0,
    ]
    assert [backoff_seconds(attempt, 0.5, 60.0) for attempt in range(3)] == [0.5, 1.0, 2.0]


def test_backoff_is_capped() -> None:
    assert backoff_seconds(5, 2.0, 60.0) == 60.0
    assert backoff_seconds(0, 2.0, 0.05) == 0.05
    assert backoff_seconds(10_000, 2.0, 60.0) == 60.0  # no float overflow


def test_backoff_is_never_negative() -> None:
    assert backoff_seconds(-3, 2.0, 60.0) == 2.0
    assert backoff_seconds(0, 2.0, -1.0) == 0.0
    assert backoff_seconds(0, 0.0, 60.0) == 0.0


def test_longer_retry_after_wins_and_is_not_capped() -> None:
    assert backoff_seconds(0, 0.01, 10.0, retry_after=1.0) == 1.0
    assert backoff_seconds(0, 2.0, 60.0, retry_after=120.0) == 120.0


def test_shorter_retry_after_does_not_shorten_the_backoff() -> None:
    assert backoff_seconds(2, 2.0, 60.0, retry_after=1.0) == 8.0
    assert backoff_seconds(1, 2.0, 60.0, retry_after=0.0) == 4.0


# --- Pacer ---------------------------------------------------------------------------------


def test_first_request_does_not_wait() -> None:
    started = time.monotonic()

    slept = Pacer(5.0).wait()

    assert slept == 0.0
    assert time.monotonic() - started < 0.1


def test_interval_counts_from_the_end_of_the_previous_request() -> None:
    pacer = Pacer(0.2)
    with pacer.turn():
        time.sleep(0.15)  # a slow request must not eat into the pause
        ended = time.monotonic()

    with pacer.turn():
        started = time.monotonic()

    assert started - ended >= 0.2


def test_interval_holds_between_every_pair_of_requests() -> None:
    pacer = Pacer(0.2)
    starts: list[float] = []
    for _ in range(3):
        pacer.wait()
        starts.append(time.monotonic())
        pacer.mark()

    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.2 for gap in gaps), gaps
    assert all(gap < 0.5 for gap in gaps), gaps


def test_time_already_passed_counts_towards_the_interval() -> None:
    pacer = Pacer(0.2)
    pacer.mark()
    time.sleep(0.15)

    slept = pacer.wait()

    assert 0.0 < slept <= 0.06


def _fail_during_turn(pacer: Pacer) -> None:
    with pacer.turn():
        raise ConnectionResetError("connection reset")


def test_failed_request_still_counts() -> None:
    pacer = Pacer(0.2)
    before = time.monotonic()
    with pytest.raises(ConnectionResetError, match="reset"):
        _fail_during_turn(pacer)

    pacer.wait()

    assert time.monotonic() - before >= 0.2


def test_zero_or_negative_interval_never_waits() -> None:
    for interval in (0.0, -1.0):
        pacer = Pacer(interval)
        pacer.mark()
        assert pacer.wait() == 0.0
        assert pacer.min_interval == 0.0


# --- HttpPolicy ----------------------------------------------------------------------------


def test_first_retry_already_backs_off_and_doubles_after() -> None:
    policy = HttpPolicy(backoff_base=2.0, max_backoff=60.0)

    assert [policy.pause_before_retry(n) for n in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_pause_is_the_longest_of_backoff_retry_after_and_delay() -> None:
    policy = HttpPolicy(backoff_base=0.5, max_backoff=60.0, delay=3.0)

    assert policy.pause_before_retry(1) == 3.0  # the courtesy delay holds for retries too
    assert policy.pause_before_retry(1, retry_after=10.0) == 10.0
    assert policy.pause_before_retry(5) == 8.0


def test_retry_after_cap_is_inclusive() -> None:
    policy = HttpPolicy(max_retry_after=120.0)

    assert not policy.waits_too_long(None)
    assert not policy.waits_too_long(120.0)
    assert policy.waits_too_long(120.5)


@pytest.mark.parametrize("options", [{"timeout": 0}, {"max_retries": -1}])
def test_policy_refuses_impossible_values(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        HttpPolicy(**options)  # type: ignore[arg-type]


# --- PolicySession -------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeListServer]:
    with FakeListServer({"list.md": b"# A list\n\n* https://arxiv.org/abs/2006.11477\n"}) as fake:
        yield fake


def session(**options: float) -> PolicySession:
    values = {"max_retries": 2, "backoff_base": 0.01, "max_backoff": 0.05, **options}
    return PolicySession(HttpPolicy(name="test", **values))  # type: ignore[arg-type]


def test_retries_keep_the_courtesy_delay(server: FakeListServer) -> None:
    server.fail_next(status(500), status(503))

    with session(delay=0.3) as polite:
        response = polite.get(server.url("list.md"))

    assert response.status_code == 200
    gaps = [b.arrived_at - a.arrived_at for a, b in itertools.pairwise(server.requests)]
    assert len(gaps) == 2
    assert min(gaps) >= 0.28, gaps


def test_pacing_is_per_host(server: FakeListServer) -> None:
    with FakeListServer({"other.md": b"# Other\n"}) as other, session(delay=0.5) as polite:
        polite.get(server.url("list.md"))
        started = time.monotonic()
        polite.get(other.url("other.md"))  # another host: no pause
        between_hosts = time.monotonic() - started
        polite.get(server.url("list.md"))  # the first host again: paused

    assert between_hosts < 0.3
    first, second = (request.arrived_at for request in server.requests)
    assert second - first >= 0.5


def test_garbled_retry_after_falls_back_to_backoff(
    server: FakeListServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.fail_next(status(503, retry_after="soon"))

    with caplog.at_level(logging.WARNING), session() as polite:
        response = polite.get(server.url("list.md"))

    assert response.status_code == 200
    assert "test: HTTP 503; retry 1 of 2" in caplog.text


def test_retry_after_date_above_the_cap_stops_at_once(server: FakeListServer) -> None:
    in_an_hour = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    server.fail_next(status(429, retry_after=in_an_hour))

    with session() as polite, pytest.raises(RetryAfterTooLong) as raised:
        polite.get(server.url("list.md"))

    assert raised.value.status == 429
    assert 3500 < raised.value.seconds <= 3600
    assert len(server.requests) == 1


def test_exhausted_retries_count_every_attempt(server: FakeListServer) -> None:
    server.fail_next(*[status(502)] * 3)

    with session(max_retries=2) as polite, pytest.raises(RetriesExhausted) as raised:
        polite.get(server.url("list.md"))

    assert raised.value.reason == "HTTP 502"
    assert raised.value.attempts == 3
    assert len(server.requests) == 3


def test_other_statuses_come_back_as_they_are(server: FakeListServer) -> None:
    with session() as polite:
        response = polite.get(server.url("nothing-here.md"))

    assert response.status_code == 404
    assert len(server.requests) == 1
