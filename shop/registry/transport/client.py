"""The HTTP client side of a remote context: a proxy that looks exactly like the local service.

Timeouts on every call, jittered retries for idempotent methods only, failover across URLS,
one circuit breaker per context (business errors never trip it), and the request id and acting
user forwarded. Every infrastructure failure surfaces as ``kernel.ContextUnavailable``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import msgspec
import pybreaker
from django.conf import settings
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, stop_after_delay, wait_random_exponential

from shop.kernel import context as call_context
from shop.kernel.contracts import is_idempotent
from shop.kernel.errors import ContextUnavailable, DomainError
from shop.registry.contexts import context_of
from shop.registry.transport import codec, signing
from shop.registry.transport.breaker import ConcurrentCircuitBreaker

logger = logging.getLogger(__name__)

T = TypeVar("T")


_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


class TransportFailure(Exception):
    """The remote did not give a business answer; counts against the breaker."""

    def __init__(self, reason: str, *, sent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent  # False when the remote provably did not run the method (safe to fail over)


def breaker_for(context: str, *, fail_max: int = 5, reset_timeout: float = 30.0) -> pybreaker.CircuitBreaker:
    with _breakers_lock:
        if context not in _breakers:
            # throw_new_error_on_trip=False: the call that trips the breaker reports its real cause.
            _breakers[context] = ConcurrentCircuitBreaker(
                fail_max=fail_max,
                reset_timeout=reset_timeout,
                exclude=[DomainError],
                name=context,
                throw_new_error_on_trip=False,
            )
        return _breakers[context]


def breaker_states() -> dict[str, str]:
    with _breakers_lock:
        return {name: str(breaker.current_state) for name, breaker in _breakers.items()}


def reset_breakers() -> None:
    with _breakers_lock:
        _breakers.clear()


def _transport(kind: str | None) -> httpx.BaseTransport:
    if kind == "wsgi":
        from shop.registry.transport.inprocess import InProcessWSGIApp

        return httpx.WSGITransport(app=InProcessWSGIApp())
    return httpx.HTTPTransport()


class RemoteContext:
    """Implements a context's Protocol by POSTing to ``/internal/<context>/<method>``."""

    def __init__(
        self,
        *,
        protocol: type[Any],
        urls: list[str],
        secret: str,
        timeout: float = 2.0,
        connect_timeout: float = 0.5,
        retries: int = 3,
        retry_deadline: float = 5.0,
        breaker_fail_max: int = 5,
        breaker_reset_timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("a remote context needs at least one URL")
        self.protocol = protocol
        self.context = context_of(protocol)
        self.urls = [url.rstrip("/") for url in urls]
        self.secret = secret
        self.retries = retries
        self.retry_deadline = retry_deadline
        self.timeout = timeout
        self.breaker = breaker_for(self.context, fail_max=breaker_fail_max, reset_timeout=breaker_reset_timeout)
        self._methods = codec.public_methods(protocol)
        self._start = itertools.cycle(range(len(self.urls)))  # round-robin the first URL tried
        self._start_lock = threading.Lock()
        self._http = httpx.Client(
            transport=transport or httpx.HTTPTransport(),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
        )

    @classmethod
    def from_settings(cls, protocol: type[Any], config: dict[str, Any]) -> RemoteContext:
        return cls(
            protocol=protocol,
            urls=list(config["URLS"]),
            secret=config.get("SECRET", settings.SHOP_INTERNAL_SECRET),
            timeout=float(config.get("TIMEOUT", 2.0)),
            connect_timeout=float(config.get("CONNECT_TIMEOUT", 0.5)),
            retries=int(config.get("RETRIES", 3)),
            retry_deadline=float(config.get("RETRY_DEADLINE", 5.0)),
            breaker_fail_max=int(config.get("BREAKER_FAIL_MAX", 5)),
            breaker_reset_timeout=float(config.get("BREAKER_RESET_TIMEOUT", 30.0)),
            transport=_transport(config.get("TRANSPORT")),
        )

    def __getattr__(self, name: str) -> Callable[..., Any]:
        methods = self.__dict__.get("_methods", {})
        if name not in methods:
            raise AttributeError(name)

        def call(**kwargs: Any) -> Any:
            return self.call(name, kwargs)

        call.__name__ = name
        return call

    def __repr__(self) -> str:
        return f"<RemoteContext {self.context} {self.urls}>"

    # -- the call ---------------------------------------------------------------------------
    def call(self, method: str, kwargs: dict[str, Any]) -> Any:
        idempotent = is_idempotent(self._methods[method])
        body = codec.encode_arguments(self.protocol, method, kwargs)  # TypeError like a local call
        try:
            return self.breaker.call(self._with_retries, method, body, idempotent)
        except pybreaker.CircuitBreakerError as exc:
            raise ContextUnavailable(self.context, "circuit breaker open") from exc
        except TransportFailure as exc:
            raise ContextUnavailable(self.context, exc.reason) from exc

    def _with_retries(self, method: str, body: bytes, idempotent: bool) -> Any:
        if not idempotent:
            return self._attempt(method, body, idempotent=False)
        retrying = Retrying(
            stop=stop_after_attempt(self.retries) | stop_after_delay(self.retry_deadline),
            wait=wait_random_exponential(multiplier=0.05, max=1.0),
            retry=retry_if_exception_type(TransportFailure),
            reraise=True,
        )
        return retrying(self._attempt, method, body, idempotent=True)

    def _attempt(self, method: str, body: bytes, *, idempotent: bool) -> Any:
        """One pass over the URLs. Failover after a sent request only when it is safe to repeat."""
        path = f"/internal/{self.context}/{method}"
        with self._start_lock:
            first = next(self._start)
        last: TransportFailure | None = None
        for offset in range(len(self.urls)):
            base = self.urls[(first + offset) % len(self.urls)]
            try:
                return self._send(base, path, method, body)
            except TransportFailure as failure:
                last = failure
                logger.warning(
                    "remote call failed", extra={"context": self.context, "url": base, "reason": failure.reason}
                )
                if failure.sent and not idempotent:
                    break
        assert last is not None
        raise last

    def _send(self, base: str, path: str, method: str, body: bytes) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        acting_user = call_context.acting_user_id.get() or ""
        # Sign the path the server will see (a URL may carry a prefix), and the acting user with it;
        # every attempt gets a new nonce, so a retry is never refused as a replay of the first.
        signed_path = urlsplit(base).path + path
        headers.update(
            signing.signed_headers(
                secret=self.secret, method="POST", path=signed_path, body=body, acting_user=acting_user
            )
        )
        if request_id := call_context.request_id.get():
            headers[signing.REQUEST_ID_HEADER] = request_id
        if acting_user:
            headers[signing.ACTING_USER_HEADER] = acting_user
        try:
            response = self._http.post(base + path, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise TransportFailure(f"cannot connect: {exc!r}", sent=False) from exc
        except httpx.TimeoutException as exc:
            raise TransportFailure(f"timed out after {self.timeout}s", sent=True) from exc
        except httpx.TransportError as exc:
            raise TransportFailure(f"transport error: {exc!r}", sent=True) from exc
        if response.status_code == 200:
            try:
                return codec.decode_result(self.protocol, method, response.content)
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                # The remote runs another version of the contract: nothing we can hand the caller.
                raise TransportFailure(f"answer does not match the contract: {exc}", sent=True) from exc
        problem = _json_or_none(response)
        if response.headers.get(signing.DOMAIN_ERROR_HEADER) and problem is not None and "code" in problem:
            raise codec.error_from_problem(self.protocol, problem)
        code = f" {problem['code']}" if problem and "code" in problem else ""
        # A 4xx refusal (bad signature, unknown route or method, arguments the remote's contract
        # rejects) means the method did not run there, so another URL may be tried.
        raise TransportFailure(f"HTTP {response.status_code}{code}", sent=not 400 <= response.status_code < 500)

    def health(self) -> dict[str, str]:
        """Reachability of each URL (for ``manage.py contexts``); never raises."""
        result: dict[str, str] = {}
        for base in self.urls:
            try:
                response = self._http.get(base + "/healthz")
                result[base] = "up" if response.status_code == 200 else f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                result[base] = f"down ({type(exc).__name__})"
        return result


def _json_or_none(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
