"""Bounded downloads under the HTTP policy: a file fetched whole (a reading list), streamed, and
refused rather than cut when it is larger than the caller allows.

Imports only `clients.http`, `requests` and `urllib3`.
"""

from __future__ import annotations

import logging
from contextlib import closing

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from speechgraph.clients.http import (
    BadPayload,
    HttpFailure,
    HttpPolicy,
    PolicySession,
    describe_error,
    retry_bad_payloads,
)

log = logging.getLogger(__name__)

_CHUNK_BYTES = 64 * 1024


class RequestRefused(HttpFailure):
    """A status that retrying cannot fix (404, 403, ...)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(url, f"HTTP {status}")
        self.status = status


class BodyTooLarge(HttpFailure):
    """A body longer than the caller's limit, refused rather than cut."""

    def __init__(self, url: str, limit: int) -> None:
        super().__init__(url, f"larger than {limit} bytes")
        self.limit = limit


def download_bytes(url: str, policy: HttpPolicy, *, max_bytes: int) -> bytes:
    """The body of `url`, read in chunks, never more than `max_bytes + 1` bytes of it.

    Raises BodyTooLarge past `max_bytes` (never cuts silently), RequestRefused for a status
    other than 2xx that retrying cannot fix, and the policy's failures (`HttpFailure`); a
    body cut off is retried like a 5xx.
    """
    with PolicySession(policy) as session:
        return retry_bad_payloads(lambda: _download_once(session, url, max_bytes), policy)


def _download_once(session: PolicySession, url: str, max_bytes: int) -> bytes:
    response = session.get(url, stream=True)
    with closing(response):
        if not 200 <= response.status_code < 300:
            raise RequestRefused(url, response.status_code)
        announced = response.headers.get("Content-Length", "")
        if announced.isdigit() and int(announced) > max_bytes:
            raise BodyTooLarge(url, max_bytes)
        return _read_at_most(response, url, max_bytes)


def _read_at_most(response: requests.Response, url: str, max_bytes: int) -> bytes:
    body = bytearray()
    try:
        while True:
            wanted = min(_CHUNK_BYTES, max_bytes + 1 - len(body))
            chunk = response.raw.read(wanted, decode_content=True)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > max_bytes:
                log.debug("%s: more than %d bytes, refused", url, max_bytes)
                raise BodyTooLarge(url, max_bytes)
    except (Urllib3Error, OSError) as error:
        raise BadPayload(url, f"body cut off ({describe_error(error)})") from None
