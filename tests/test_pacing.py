"""Tests for speechgraph.clients.http: Retry-After parsing, back-off growth and request pacing."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from speechgraph.clients.http import Pacer, backoff_seconds, parse_retry_after

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
