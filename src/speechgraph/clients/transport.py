"""The HTTP policy for httpx clients (the OAI-PMH harvester): the same `HttpPolicy` values and
decisions as `clients.http.PolicySession`, through an httpx transport.

Imports only `clients.http` and `httpx2`.
"""

from __future__ import annotations

import httpx2

from speechgraph.clients.http import (
    HostPacing,
    HttpPolicy,
    RetriesExhausted,
    RetryAfterTooLong,
    parse_retry_after,
)


class PolicyTransport(httpx2.BaseTransport):
    """httpx's side of the HTTP policy, since a urllib3 `Retry` cannot be mounted on httpx.

    The same `HttpPolicy` values and decisions as `PolicySession`: 429, 5xx, timeouts and
    dropped connections retried with the policy's back-off, Retry-After honoured up to the
    cap (above it the call fails at once), a refused connection not retried, a courtesy pause
    per host, and the same `HttpFailure` subclasses when it gives up. Bodies are read here,
    so a body cut off is retried like a dropped connection.
    """

    def __init__(self, policy: HttpPolicy, inner: httpx2.BaseTransport | None = None) -> None:
        self.policy = policy
        self._inner = inner or httpx2.HTTPTransport()
        self._pacing = HostPacing(policy.delay, name=policy.name)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        url = str(request.url)
        pacer = self._pacing.pacer(url)
        retry_number = 0
        while True:
            with pacer.turn():
                response, reason = self._attempt(request, url, retry_number + 1)
            retry_after = None
            if response is not None:
                if not self.policy.is_retryable_status(response.status_code):
                    return response
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if self.policy.waits_too_long(retry_after):
                    raise RetryAfterTooLong(url, retry_after or 0.0, response.status_code)
                reason = f"HTTP {response.status_code}"
            retry_number += 1
            if retry_number > self.policy.max_retries:
                raise RetriesExhausted(url, reason, retry_number)
            self.policy.sleep_before_retry(retry_number, reason, retry_after)

    def _attempt(
        self, request: httpx2.Request, url: str, attempt: int
    ) -> tuple[httpx2.Response | None, str]:
        try:
            response = self._inner.handle_request(request)
            response.read()
        except httpx2.ConnectError as error:
            # Nothing listens there, or no such host: waiting does not change that.
            reason = f"connection failed ({type(error).__name__})"
            raise RetriesExhausted(url, reason, attempt) from None
        except httpx2.TimeoutException as error:
            return None, f"timed out ({type(error).__name__})"
        except httpx2.TransportError as error:
            return None, f"connection failed ({type(error).__name__})"
        return response, ""

    def close(self) -> None:
        self._inner.close()
