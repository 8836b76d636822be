"""Reading-list downloads under the HTTP policy, against the fake server in fake_lists.py serving
the real seed lists from ../shared/seeds."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from conftest import SEEDS_DIR
from fake_lists import FakeListServer, cut_body, endless_body, hang, status
from speechgraph.clients.http import HttpPolicy
from speechgraph.errors import ReadingListError
from speechgraph.lists.registry import ListSource, _download_list, read_list

FAST = HttpPolicy(max_retries=2, backoff_base=0.01, max_backoff=0.05, name="test download")
SEED = sorted(SEEDS_DIR.glob("*.txt"))[2]  # the largest seed list, about 16 KB


@pytest.fixture
def server() -> Iterator[FakeListServer]:
    with FakeListServer({"awesome.md": SEED.read_bytes()}) as fake:
        yield fake


def download(url: str, *, timeout: float = 2.0, **options: object) -> str:
    return _download_list(url, timeout, policy=FAST, **options)  # type: ignore[arg-type]


def seed_text() -> str:
    return SEED.read_bytes().decode("utf-8-sig")


def test_a_real_list_arrives_whole_with_our_user_agent(server: FakeListServer) -> None:
    text, origin = read_list(
        ListSource(name="awesome", url=server.url("awesome.md")), offline=False, timeout=2.0
    )

    assert origin == "url"
    assert text == seed_text()
    assert server.requests[0].headers["User-Agent"].startswith("speechgraph/")


def test_429_with_retry_after_waits_then_succeeds(server: FakeListServer) -> None:
    server.fail_next(status(429, retry_after="1"))

    assert download(server.url("awesome.md")) == seed_text()

    first, second = (request.arrived_at for request in server.requests)
    assert second - first >= 0.95


def test_503_then_success(server: FakeListServer) -> None:
    server.fail_next(status(503))

    assert download(server.url("awesome.md")) == seed_text()
    assert len(server.requests) == 2


def test_repeated_500_is_one_clear_error(server: FakeListServer) -> None:
    server.fail_next(*[status(500)] * 3)
    url = server.url("awesome.md")

    with pytest.raises(ReadingListError) as raised:
        download(url)

    message = str(raised.value)
    assert message.startswith(f"reading list {url} could not be downloaded (HTTP 500")
    assert "after 3 attempts" in message
    assert "\n" not in message
    assert len(server.requests) == 3


def test_a_hang_is_retried(server: FakeListServer) -> None:
    server.fail_next(hang(2.0))

    assert download(server.url("awesome.md"), timeout=0.3) == seed_text()
    assert len(server.requests) == 2


def test_hanging_every_time_is_a_timeout_error(server: FakeListServer) -> None:
    server.fail_next(*[hang(2.0)] * 3)
    started = time.monotonic()

    with pytest.raises(ReadingListError, match="timed out"):
        download(server.url("awesome.md"), timeout=0.3)

    assert len(server.requests) == 3
    assert time.monotonic() - started < 2.0


def test_retry_after_above_the_cap_fails_at_once(server: FakeListServer) -> None:
    server.fail_next(status(503, retry_after="3600"))

    with pytest.raises(ReadingListError, match="asked to wait 3600 s") as raised:
        download(server.url("awesome.md"))

    assert "try again later" in str(raised.value)
    assert len(server.requests) == 1


def test_a_body_cut_off_is_retried(server: FakeListServer) -> None:
    server.fail_next(cut_body())

    assert download(server.url("awesome.md")) == seed_text()
    assert len(server.requests) == 2


def test_not_found_is_not_retried(server: FakeListServer) -> None:
    with pytest.raises(ReadingListError, match="HTTP 404"):
        download(server.url("missing.md"))

    assert len(server.requests) == 1


def test_a_list_larger_than_the_limit_is_refused_naming_the_setting(
    server: FakeListServer,
) -> None:
    size = SEED.stat().st_size

    with pytest.raises(ReadingListError, match="SPEECHGRAPH_MAX_LIST_MB") as raised:
        download(server.url("awesome.md"), max_bytes=size - 1)

    assert server.url("awesome.md") in str(raised.value)
    assert len(server.requests) == 1  # refused, not retried
    assert download(server.url("awesome.md"), max_bytes=size) == seed_text()  # the limit fits


def test_a_body_without_length_is_refused_without_reading_it_all(
    server: FakeListServer,
) -> None:
    total = 64 * 2**20
    server.fail_next(endless_body(total))

    with pytest.raises(ReadingListError, match=r"over the limit of 0\.25 MB"):
        download(server.url("awesome.md"), max_bytes=2**18)

    time.sleep(0.2)  # let the server notice the closed connection
    assert server.bytes_sent < total // 4


def test_refused_connection_fails_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    with pytest.raises(ReadingListError, match="connection failed"):
        download(f"http://127.0.0.1:{port}/lists/awesome.md")

    assert time.monotonic() - started < 1.0
