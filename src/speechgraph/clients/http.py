"""The one HTTP policy of every call speechgraph makes: a timeout, bounded retries with back-off
on 429, 5xx, timeouts and dropped connections, Retry-After honoured up to one cap (above it the
call fails at once), and a courtesy pause per host counted from the end of one request.

`HttpPolicy` holds the values and the decisions. `PolicySession` is a `requests` session with
`PolicyRetry` (a urllib3 `Retry`) mounted on it; the arXiv and citation clients and list
downloads (`clients.download`) use it, and `clients.transport` gives the same policy to httpx.
Failures come out as `HttpFailure` subclasses that each caller rephrases for its users.
Imports only `speechgraph.__version__`, `requests` and `urllib3`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
    ResponseError,
)
from urllib3.util.retry import Retry

from speechgraph import __version__

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Every call speechgraph makes only reads, so POST (the citation batch look-up) is retried too.
RETRY_METHODS = frozenset({"GET", "HEAD", "POST"})
# A longer Retry-After means "come back later", not "wait here": the call fails at once.
MAX_RETRY_AFTER = 120.0
DEFAULT_USER_AGENT = f"speechgraph/{__version__}"
_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# 2.0 ** 1024 overflows a float; long before that every back-off has reached its cap.
_MAX_EXPONENT = 1000

T = TypeVar("T")


# --- failures ------------------------------------------------------------------------------


class HttpFailure(Exception):
    """A call that failed under the policy; `reason` is a short phrase such as "HTTP 503"."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


class RetriesExhausted(HttpFailure):
    """Every attempt failed with something worth retrying; `reason` describes the last one."""

    def __init__(self, url: str, reason: str, attempts: int) -> None:
        super().__init__(url, reason)
        self.attempts = attempts


class RetryAfterTooLong(HttpFailure):
    """The server asked to wait longer than the policy's `max_retry_after`."""

    def __init__(self, url: str, seconds: float, status: int) -> None:
        super().__init__(url, f"HTTP {status}, asked to wait {seconds:.0f} s")
        self.seconds = seconds
        self.status = status


class BadPayload(HttpFailure):
    """A successful status whose body is unusable: cut off mid-way, truncated or malformed.

    The session raises it for bodies cut off; clients raise it for payloads they cannot parse.
    `retry_bad_payloads` retries it.
    """


# --- pure helpers --------------------------------------------------------------------------


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (`"7"`, `"1.5"`) or an HTTP date.

    A date in the past gives 0.0. None when the header is absent, blank or unparseable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, OverflowError):
        log.debug("ignoring unparseable Retry-After: %r", value)
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_seconds(
    attempt: int, base: float, cap: float, retry_after: float | None = None
) -> float:
    """Seconds to sleep before retry number `attempt` (0 for the first retry).

    The back-off is `base * 2**attempt` (base, 2·base, 4·base, ...), at most `cap`. A server's
    `retry_after` wins when it is longer, and is not capped: whether a long one is worth
    waiting for is the policy's `max_retry_after` decision.
    """
    backoff = max(0.0, min(cap, base * 2.0 ** min(max(0, attempt), _MAX_EXPONENT)))
    return backoff if retry_after is None else max(backoff, retry_after)


def describe_error(error: BaseException) -> str:
    """A short phrase for a transport error: "timed out (...)" or "connection failed (...)"."""
    name = type(error).__name__
    if isinstance(error, NewConnectionError):  # a subclass of ConnectTimeoutError, oddly
        return f"connection failed ({name})"
    if isinstance(error, TimeoutError | ReadTimeoutError | ConnectTimeoutError | requests.Timeout):
        return f"timed out ({name})"
    return f"connection failed ({name})"


def attempts_phrase(attempts: int) -> str:
    return f"{attempts} attempt" if attempts == 1 else f"{attempts} attempts"


# --- the policy ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpPolicy:
    """The values every HTTP call follows, and the decisions made from them.

    `delay` is the least time between the end of one request to a host and the start of the
    next, retries included. Retry number n waits `backoff_base * 2**(n-1)` (at most
    `max_backoff`), or the server's Retry-After, or `delay`, whichever is longest.
    """

    timeout: float = 30.0
    max_retries: int = 4
    backoff_base: float = 2.0
    max_backoff: float = 60.0
    max_retry_after: float = MAX_RETRY_AFTER
    delay: float = 0.0
    user_agent: str = DEFAULT_USER_AGENT
    name: str = "HTTP"  # who is being asked, for log lines

    def __post_init__(self) -> None:
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")

    def is_retryable_status(self, status: int) -> bool:
        return status in RETRY_STATUSES

    def waits_too_long(self, retry_after: float | None) -> bool:
        return retry_after is not None and retry_after > self.max_retry_after

    def pause_before_retry(self, retry_number: int, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry `retry_number` (1 for the first retry)."""
        backoff = backoff_seconds(retry_number - 1, self.backoff_base, self.max_backoff)
        return max(backoff, retry_after or 0.0, self.delay)

    def sleep_before_retry(
        self, retry_number: int, reason: str, retry_after: float | None = None
    ) -> None:
        wait = self.pause_before_retry(retry_number, retry_after)
        log.warning(
            "%s: %s; retry %d of %d in %.1f s",
            self.name,
            reason,
            retry_number,
            self.max_retries,
            wait,
        )
        time.sleep(wait)


class PolicyRetry(Retry):
    """urllib3's `Retry` following an `HttpPolicy`.

    Differences from the stock class: the first retry already backs off; Retry-After may be
    fractional, and a garbled one is ignored instead of raising; a Retry-After above the cap
    stops at once (urlopen then hands that response back, and `PolicySession` names the
    wait); a refused connection or an unknown host is not retried, since waiting does not
    change that; every pause is at least the policy's courtesy delay.
    """

    def __init__(self, *args: Any, policy: HttpPolicy | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy or HttpPolicy()

    @classmethod
    def for_policy(cls, policy: HttpPolicy) -> PolicyRetry:
        return cls(
            total=policy.max_retries,
            allowed_methods=RETRY_METHODS,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=policy.backoff_base,
            backoff_max=policy.max_backoff,
            raise_on_status=False,
            respect_retry_after_header=True,
            policy=policy,
        )

    def new(self, **kw: Any) -> PolicyRetry:
        return super().new(policy=self.policy, **kw)

    def get_retry_after(self, response: Any) -> float | None:
        return parse_retry_after(response.headers.get("Retry-After"))

    def get_backoff_time(self) -> float:
        return backoff_seconds(
            len(self.history) - 1, self.policy.backoff_base, self.policy.max_backoff
        )

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> PolicyRetry:
        attempts = len(self.history) + 1
        if response is not None and self.policy.waits_too_long(self.get_retry_after(response)):
            raise _Stopped(_pool, url, ResponseError("Retry-After above the cap"), attempts)
        if isinstance(error, NewConnectionError):
            raise _Stopped(_pool, url, error, attempts) from error
        try:
            return super().increment(method, url, response, error, _pool, _stacktrace)
        except MaxRetryError as stop:
            raise _Stopped(_pool, url, stop.reason, attempts) from stop.reason

    def sleep(self, response: Any = None) -> None:
        retry_after = self.get_retry_after(response) if response is not None else None
        self.policy.sleep_before_retry(len(self.history), self._last_reason(), retry_after)

    def _last_reason(self) -> str:
        last = self.history[-1] if self.history else None
        if last is None:
            return "failed"
        if last.error is not None:
            return describe_error(last.error)
        return f"HTTP {last.status}"


class _Stopped(MaxRetryError):
    """urllib3's "no more retries", carrying how many attempts were made."""

    def __init__(self, pool: Any, url: str | None, reason: Exception | None, attempts: int) -> None:
        super().__init__(pool, url or "", reason)
        self.attempts = attempts


class Pacer:
    """Keeps at least `min_interval` seconds between the end of one request and the next start.

    Counting from the end, not the start, means a slow response never shortens the pause the
    service asked for (arXiv wants 3 s between requests). Not thread-safe: one clock, one caller.
    """

    def __init__(self, min_interval: float, *, name: str = "requests") -> None:
        self.min_interval = max(0.0, min_interval)
        self.name = name
        self._last_end: float | None = None

    def wait(self) -> float:
        """Sleep until `min_interval` has passed since the last `mark()`; the seconds slept."""
        if self._last_end is None:
            return 0.0
        pause = self._last_end + self.min_interval - time.monotonic()
        if pause <= 0:
            return 0.0
        log.debug("%s: pausing %.2f s between requests", self.name, pause)
        time.sleep(pause)
        return pause

    def mark(self) -> None:
        """Record that a request has just ended, whether it succeeded or failed."""
        self._last_end = time.monotonic()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """`wait()` before the block, `mark()` after it, even when the block raises."""
        self.wait()
        try:
            yield
        finally:
            self.mark()


class HostPacing:
    """One `Pacer` per host (scheme, name and port), all keeping the same interval."""

    def __init__(self, min_interval: float, *, name: str = "requests") -> None:
        self.min_interval = max(0.0, min_interval)
        self.name = name
        self._pacers: dict[str, Pacer] = {}

    def pacer(self, url: str) -> Pacer:
        parts = urlsplit(str(url))
        host = f"{parts.scheme}://{parts.netloc}".lower()
        if host not in self._pacers:
            self._pacers[host] = Pacer(self.min_interval, name=f"{self.name} ({parts.netloc})")
        return self._pacers[host]


class PolicySession(requests.Session):
    """A `requests` session that follows an `HttpPolicy` on every request.

    Retries happen inside urllib3 (`PolicyRetry` on the adapters). What is left over comes out
    as an `HttpFailure`: `RetriesExhausted` after the last retryable status or transport error,
    `RetryAfterTooLong`, `BadPayload` for a body cut off mid-way, and plain `HttpFailure` for
    a request that cannot be sent (a malformed URL). Other statuses are returned as they are.
    Unless `stream=True`, the body is read before returning, inside the pacing turn.
    """

    def __init__(self, policy: HttpPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.headers["User-Agent"] = policy.user_agent
        adapter = HTTPAdapter(max_retries=PolicyRetry.for_policy(policy))
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.pacing = HostPacing(policy.delay, name=policy.name)

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.policy.timeout
        stream = bool(kwargs.get("stream"))
        kwargs["stream"] = True  # the body is read below, so that a cut-off one is told apart
        with self.pacing.pacer(url).turn():
            try:
                response = super().request(method, url, *args, **kwargs)
            except requests.RequestException as error:
                raise _as_failure(str(url), error) from None
            self._raise_for_retryable_status(response)
            if not stream:
                _read_body(response)
        return response

    def _raise_for_retryable_status(self, response: requests.Response) -> None:
        status = response.status_code
        if not self.policy.is_retryable_status(status):
            return
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        retries = getattr(response.raw, "retries", None)
        attempts = len(retries.history) + 1 if isinstance(retries, Retry) else 1
        response.close()
        if self.policy.waits_too_long(retry_after):
            raise RetryAfterTooLong(response.url, retry_after or 0.0, status)
        raise RetriesExhausted(response.url, f"HTTP {status}", attempts)


def _read_body(response: requests.Response) -> None:
    try:
        response.content  # noqa: B018 - reads and keeps the body
    except requests.RequestException as error:
        cause = error.args[0] if error.args and isinstance(error.args[0], Exception) else error
        raise BadPayload(response.url, f"body cut off ({describe_error(cause)})") from None


def _as_failure(url: str, error: requests.RequestException) -> HttpFailure:
    cause = error.args[0] if error.args else None
    if isinstance(cause, MaxRetryError):
        attempts = cause.attempts if isinstance(cause, _Stopped) else 1
        return RetriesExhausted(url, describe_error(cause.reason or cause), attempts)
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        inner = cause if isinstance(cause, BaseException) else error
        return RetriesExhausted(url, describe_error(inner), 1)
    return HttpFailure(url, f"cannot send the request ({type(error).__name__})")


# --- callers' helpers ----------------------------------------------------------------------


def retry_bad_payloads(fetch: Callable[[], T], policy: HttpPolicy) -> T:
    """`fetch()`, called again when it raises `BadPayload`, at most `policy.max_retries` times.

    urllib3 judges status lines and connections, never bodies: a 200 whose body is cut off,
    or holds a truncated page, is only found by reading it. This is the one retry loop outside
    `PolicyRetry`, with the same back-off; the session paces each new try.
    Raises RetriesExhausted naming the last reason.
    """
    retry_number = 0
    while True:
        try:
            return fetch()
        except BadPayload as error:
            retry_number += 1
            if retry_number > policy.max_retries:
                raise RetriesExhausted(error.url, error.reason, retry_number) from None
            policy.sleep_before_retry(retry_number, error.reason)
