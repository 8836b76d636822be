"""Politeness for the HTTP clients: Retry-After parsing, retry back-off and request pacing.

Standard library only; imports nothing from the project, so both ingest clients can share it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

logger = logging.getLogger(__name__)

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")
# 2.0 ** 1024 overflows a float; long before that every back-off has reached its cap.
_MAX_EXPONENT = 1000


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
        logger.debug("ignoring unparseable Retry-After: %r", value)
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
    waiting for is the caller's decision.
    """
    backoff = max(0.0, min(cap, base * 2.0 ** min(max(0, attempt), _MAX_EXPONENT)))
    return backoff if retry_after is None else max(backoff, retry_after)


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
        logger.debug("%s: pausing %.2f s between requests", self.name, pause)
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
