"""The internal HTTP transport, end to end: the server's refusals, the client's timeouts, retries,
failover, circuit breaker and header forwarding, and the msgspec codec at the edges of the contract.

Network faults use real loopback sockets (a server that accepts and never answers, one that
answers a fixed status, a closed port); only the breaker test swaps in a transport that fails
on demand, so it can count requests the breaker did not let through.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol
from uuid import UUID, uuid4

import httpx
import msgspec
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings

from shop.kernel import ContextUnavailable, Money, NotFound, idempotent
from shop.kernel import context as call_context
from shop.registry.transport import codec, signing
from shop.registry.transport.client import RemoteContext
from shop.registry.transport.inprocess import InProcessWSGIApp
from shop.users.api import AddressNotFound, User, UsersAPI
from shop.users.services import UsersService
from tests.contracts.kit import LoopbackServer, closed_port, remote, remote_in_process
from tests.factories import AddressFactory, UserFactory
from tests.helpers import assert_problem

GET_USER = "/internal/users/get_user"


# --- the server: signatures, arguments, methods ------------------------------------------------------
def _post(
    path: str,
    body: bytes,
    *,
    secret: str | None = None,
    now: float | None = None,
    signed_path: str | None = None,
    signed_body: bytes | None = None,
    acting_user: str = "",
    extra_headers: dict[str, str] | None = None,
) -> Any:
    """POST through Django's test client, signed like the real client unless told otherwise."""
    headers = signing.signed_headers(
        secret=secret or settings.SHOP_INTERNAL_SECRET,
        method="POST",
        path=signed_path or path,
        body=body if signed_body is None else signed_body,
        acting_user=acting_user,
        now=now,
    )
    headers.update(extra_headers or {})
    return Client().post(path, data=body, content_type="application/json", headers=headers)


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    body = assert_problem(response, status, code)
    assert signing.DOMAIN_ERROR_HEADER not in response  # a refusal, not a business answer
    return body


@pytest.mark.django_db
def test_a_signed_call_is_answered_with_the_dto_as_json() -> None:
    user = UserFactory.create()

    response = _post(GET_USER, json.dumps({"user_id": user.pk}).encode())

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["email"] == user.email


def test_an_unsigned_call_is_refused() -> None:
    response = Client().post(GET_USER, data=b'{"user_id": 1}', content_type="application/json")

    _assert_problem(response, 401, "bad_signature")


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"secret": "another-secret-of-enough-length-0123456789"}, id="wrong-secret"),
        pytest.param({"now_offset": -signing.WINDOW_SECONDS - 5}, id="stale-timestamp"),
        pytest.param({"now_offset": signing.WINDOW_SECONDS + 5}, id="future-timestamp"),
        pytest.param({"signed_body": b'{"user_id": 2}'}, id="body-changed-after-signing"),
        pytest.param({"signed_path": "/internal/users/get_users"}, id="signed-for-another-method"),
        pytest.param({"extra_headers": {signing.ACTING_USER_HEADER: "1"}}, id="acting-user-swapped"),
        pytest.param({"extra_headers": {signing.TIMESTAMP_HEADER: "not-a-number"}}, id="garbage-timestamp"),
    ],
)
def test_a_wrongly_signed_call_is_refused(tamper: dict[str, Any]) -> None:
    tamper = dict(tamper)
    if "now_offset" in tamper:  # relative to now, not to collection time
        tamper["now"] = time.time() + tamper.pop("now_offset")
    response = _post(GET_USER, b'{"user_id": 1}', **tamper)

    _assert_problem(response, 401, "bad_signature")


@pytest.mark.django_db
def test_the_previous_secret_is_accepted_during_rotation() -> None:
    old = settings.SHOP_INTERNAL_SECRET
    user = UserFactory.create()
    with override_settings(
        SHOP_INTERNAL_SECRET="the-new-secret-0123456789abcdefghijkl", SHOP_INTERNAL_SECRET_PREVIOUS=old
    ):
        response = _post(GET_USER, json.dumps({"user_id": user.pk}).encode(), secret=old)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"user_id": "1"}', id="string-for-int"),
        pytest.param(b'{"user_id": true}', id="bool-for-int"),
        pytest.param(b'{"user_id": 1.0}', id="float-for-int"),
        pytest.param(b"{}", id="missing"),
        pytest.param(b'{"user_id": 1, "is_staff": true}', id="unknown-field"),
        pytest.param(b'{"user_id": ', id="malformed-json"),
        pytest.param(b"[1]", id="array"),
    ],
)
def test_arguments_outside_the_contract_are_refused(body: bytes) -> None:
    response = _post(GET_USER, body)

    problem = _assert_problem(response, 400, "invalid_arguments")
    assert problem["detail"]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        pytest.param("/internal/users/delete_everything", "unknown_method", id="unknown-method"),
        pytest.param("/internal/users/context", "unknown_method", id="protocol-attribute-not-a-method"),
        pytest.param("/internal/users/_validate_password", "unknown_method", id="private-name"),
        pytest.param("/internal/nowhere/get_user", "unknown_context", id="unknown-context"),
    ],
)
def test_only_the_protocols_methods_are_exposed(path: str, code: str) -> None:
    _assert_problem(_post(path, b'{"user_id": 1}'), 404, code)


def test_internal_calls_are_post_only() -> None:
    response = Client().get(GET_USER)

    _assert_problem(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


@pytest.mark.django_db
def test_a_domain_error_is_problem_json_marked_as_a_business_answer() -> None:
    response = _post(GET_USER, b'{"user_id": 987654321}')

    assert response.status_code == 404
    assert response[signing.DOMAIN_ERROR_HEADER] == "1"
    body = json.loads(response.content)
    assert (body["code"], body["resource"]) == ("not_found", "user")


# --- the client: timeouts, refusals, failover, retries ------------------------------------------------
class PingAPI(Protocol):
    """A tiny contract with a non-idempotent method (UsersAPI has only reads). Never served: the
    client tests aim it at loopback servers that refuse or never answer."""

    context: ClassVar[str] = "users"

    @idempotent
    def read(self, *, key: int) -> int: ...

    def write(self, *, key: int) -> int: ...


@pytest.fixture
def hanging() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


@pytest.fixture
def hanging_too() -> Iterator[LoopbackServer]:
    with LoopbackServer() as server:
        yield server


def _timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_a_hanging_remote_is_unavailable_within_the_timeout(hanging: LoopbackServer) -> None:
    timeout, attempts = 0.3, 2
    users = remote(UsersAPI, urls=[hanging.url], timeout=timeout, connect_timeout=0.3, retries=attempts)

    error, elapsed = _timed(lambda: users.get_user(user_id=1))

    assert isinstance(error, ContextUnavailable), error
    assert error.context == "users"
    assert "timed out" in error.reason
    assert hanging.connections == attempts  # the read is idempotent: retried, and no more
    assert timeout * attempts * 0.9 <= elapsed < timeout * attempts + 0.5


def test_a_refused_connection_is_unavailable_at_once() -> None:
    users = remote(UsersAPI, urls=[f"http://127.0.0.1:{closed_port()}"], retries=2)

    error, elapsed = _timed(lambda: users.get_user(user_id=1))

    assert isinstance(error, ContextUnavailable), error
    assert "cannot connect" in error.reason
    assert elapsed < 1.0


def test_a_404_that_is_not_a_business_answer_never_becomes_a_domain_error() -> None:
    """A URL with a wrong prefix reaches the shop's own 404 handler, whose problem+json says
    ``not_found``: that must read as an unavailable context, not as the context's ``NotFound``."""
    transport = httpx.WSGITransport(app=InProcessWSGIApp())
    users = remote(UsersAPI, urls=["http://testserver/wrong-prefix"], transport=transport, retries=1)

    error, _ = _timed(lambda: users.get_user(user_id=1))

    assert isinstance(error, ContextUnavailable), error
    assert not isinstance(error, NotFound)
    assert error.reason == "HTTP 404 not_found"


class RoutingTransport(httpx.BaseTransport):
    """``testserver`` goes in-process, every other host over real sockets; records the hosts tried."""

    def __init__(self, app: Callable[..., Iterable[bytes]] | None = None) -> None:
        self.in_process = httpx.WSGITransport(app=app or InProcessWSGIApp())
        self.network = httpx.HTTPTransport()
        self.hosts: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.hosts.append(f"{request.url.host}:{request.url.port}" if request.url.port else request.url.host)
        target = self.in_process if request.url.host == "testserver" else self.network
        return target.handle_request(request)


@pytest.mark.django_db
def test_failover_from_a_dead_url_to_a_working_one() -> None:
    user = UserFactory.create()
    dead = f"127.0.0.1:{closed_port()}"
    transport = RoutingTransport()
    users = remote(UsersAPI, urls=[f"http://{dead}", "http://testserver"], transport=transport, retries=1)

    # Two calls: the first URL tried rotates, so one call starts at the dead one and fails over.
    assert users.get_user(user_id=user.pk).id == user.pk
    assert users.get_user(user_id=user.pk).id == user.pk
    assert transport.hosts.count(dead) == 1
    assert transport.hosts.count("testserver") == 2


@pytest.mark.django_db
def test_failover_from_a_url_answering_503() -> None:
    user = UserFactory.create()
    with LoopbackServer(status=503) as broken:
        users = remote(UsersAPI, urls=[broken.url, "http://testserver"], transport=RoutingTransport(), retries=1)

        assert users.get_user(user_id=user.pk).id == user.pk
        assert broken.connections == 1


def test_a_non_idempotent_call_is_sent_once_after_a_read_timeout(
    hanging: LoopbackServer, hanging_too: LoopbackServer
) -> None:
    """It may have run: neither retried nor failed over to the second URL."""
    ping = remote(PingAPI, urls=[hanging.url, hanging_too.url], timeout=0.2, retries=3)

    error, elapsed = _timed(lambda: ping.write(key=1))

    assert isinstance(error, ContextUnavailable), error
    assert (hanging.connections, hanging_too.connections) == (1, 0)
    assert elapsed < 0.2 + 0.4


def test_an_idempotent_call_is_retried_across_every_url(hanging: LoopbackServer, hanging_too: LoopbackServer) -> None:
    ping = remote(PingAPI, urls=[hanging.url, hanging_too.url], timeout=0.2, retries=2)

    error, elapsed = _timed(lambda: ping.read(key=1))

    assert isinstance(error, ContextUnavailable), error
    assert (hanging.connections, hanging_too.connections) == (2, 2)
    assert elapsed < 0.2 * 4 + 0.5


def test_a_non_idempotent_call_fails_over_when_the_connection_was_refused(hanging: LoopbackServer) -> None:
    """Refused means it never reached a server, so trying the next URL is safe even for a write."""
    ping = remote(PingAPI, urls=[f"http://127.0.0.1:{closed_port()}", hanging.url], timeout=0.2, retries=3)

    error, _ = _timed(lambda: ping.write(key=1))

    assert isinstance(error, ContextUnavailable), error
    assert hanging.connections == 1


def test_calls_outside_the_protocol_do_not_exist_on_the_client() -> None:
    users = remote(UsersAPI, urls=["http://127.0.0.1:9"])

    with pytest.raises(AttributeError):
        users.is_remote_method  # type: ignore[attr-defined]  # noqa: B018


# --- the circuit breaker -----------------------------------------------------------------------------
class SwitchableTransport(httpx.BaseTransport):
    """The in-process app behind a switch: while ``down``, every request fails to connect. Counts requests."""

    def __init__(self) -> None:
        self.inner = httpx.WSGITransport(app=InProcessWSGIApp())
        self.down = False
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.down:
            raise httpx.ConnectError("switched off", request=request)
        return self.inner.handle_request(request)


@pytest.mark.django_db
def test_the_breaker_opens_after_fail_max_fails_fast_and_closes_after_reset_timeout() -> None:
    user = UserFactory.create()
    transport = SwitchableTransport()
    users = remote(
        UsersAPI,
        urls=["http://testserver"],
        transport=transport,
        retries=1,
        breaker_fail_max=2,
        breaker_reset_timeout=0.3,
    )
    breaker = users.breaker  # type: ignore[attr-defined]

    transport.down = True
    for _ in range(2):
        with pytest.raises(ContextUnavailable, match="cannot connect"):
            users.get_user(user_id=user.pk)
    assert transport.requests == 2
    assert breaker.current_state == "open"

    transport.down = False  # healthy again, but the breaker does not know yet
    error, elapsed = _timed(lambda: users.get_user(user_id=user.pk))
    assert isinstance(error, ContextUnavailable), error
    assert error.reason == "circuit breaker open"
    assert transport.requests == 2  # failed fast: the network was not touched
    assert elapsed < 0.05

    time.sleep(0.35)
    assert users.get_user(user_id=user.pk).id == user.pk  # the half-open trial call
    assert breaker.current_state == "closed"
    assert transport.requests == 3


@pytest.mark.django_db
def test_domain_errors_never_open_the_breaker() -> None:
    someone_elses = AddressFactory.create()
    me = UserFactory.create()
    users = remote_in_process(UsersAPI, breaker_fail_max=2)

    for _ in range(5):
        with pytest.raises(AddressNotFound):
            users.get_address(user_id=me.pk, address_id=someone_elses.pk)

    breaker = users.breaker  # type: ignore[attr-defined]
    assert breaker.current_state == "closed"
    assert breaker.fail_counter == 0
    assert users.get_user(user_id=me.pk).id == me.pk


def test_the_breaker_does_not_serialise_concurrent_calls(hanging: LoopbackServer) -> None:
    """pybreaker holds its lock around the guarded call; ours must not, or one slow call blocks all."""
    timeout = 0.4
    users = remote(UsersAPI, urls=[hanging.url], timeout=timeout, retries=1, breaker_fail_max=10)
    errors: list[BaseException | None] = []

    def call() -> None:
        errors.append(_timed(lambda: users.get_user(user_id=1))[0])

    started = time.monotonic()
    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    elapsed = time.monotonic() - started

    assert len(errors) == 3
    assert all(isinstance(e, ContextUnavailable) for e in errors)
    assert hanging.connections == 3
    assert elapsed < timeout * 2  # in parallel, not 3 x timeout


# --- forwarding the request id and the acting user -----------------------------------------------------
class SpyUsersService(UsersService):
    """The served implementation, recording what the server side of a call saw."""

    seen: ClassVar[list[tuple[str | None, str | None]]] = []

    def get_user(self, *, user_id: int) -> User:
        self.seen.append((call_context.request_id.get(), call_context.acting_user_id.get()))
        return super().get_user(user_id=user_id)


class RecordingApp:
    """Wraps the in-process app and keeps each request's WSGI environ."""

    def __init__(self) -> None:
        self.app = InProcessWSGIApp()
        self.environs: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.environs.append(dict(environ))
        return self.app(environ, start_response)


@pytest.fixture
def spy() -> Iterator[type[SpyUsersService]]:
    SpyUsersService.seen = []
    implementation = f"{__name__}.SpyUsersService"
    with override_settings(SHOP_CONTEXTS={"users": {"BACKEND": "local", "IMPLEMENTATION": implementation}}):
        yield SpyUsersService


@pytest.mark.django_db
def test_request_id_and_acting_user_are_forwarded(spy: type[SpyUsersService]) -> None:
    user = UserFactory.create()
    recorder = RecordingApp()
    users = remote_in_process(UsersAPI, app=recorder)

    request_token = call_context.request_id.set("req-forwarded-123")
    user_token = call_context.acting_user_id.set(str(user.pk))
    try:
        users.get_user(user_id=user.pk)
    finally:
        call_context.acting_user_id.reset(user_token)
        call_context.request_id.reset(request_token)

    assert spy.seen == [("req-forwarded-123", str(user.pk))]
    assert recorder.environs[0]["HTTP_X_REQUEST_ID"] == "req-forwarded-123"
    assert recorder.environs[0]["HTTP_X_SHOP_ACTING_USER"] == str(user.pk)
    assert call_context.acting_user_id.get() is None  # the server restored the caller's values


@pytest.mark.django_db
def test_without_an_acting_user_the_server_sees_none(spy: type[SpyUsersService]) -> None:
    user = UserFactory.create()
    recorder = RecordingApp()

    remote_in_process(UsersAPI, app=recorder).get_user(user_id=user.pk)

    assert spy.seen[0][1] is None
    assert spy.seen[0][0]  # the server minted a request id
    assert "HTTP_X_SHOP_ACTING_USER" not in recorder.environs[0]


# --- the in-process app and the test transaction ---------------------------------------------------------
@pytest.mark.django_db
def test_nested_in_process_calls_keep_the_callers_transaction() -> None:
    """A remote-bound context calling another one in-process (SHOP_REMOTE_CONTEXTS=all): the inner
    call's end must not re-arm ``close_old_connections`` while the outer request is still running."""
    user = UserFactory.create()
    outer_app = InProcessWSGIApp()
    inner = remote_in_process(UsersAPI)
    handler = outer_app._handler

    def calls_another_context_first(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert inner.get_user(user_id=user.pk).id == user.pk
        return handler(environ, start_response)

    outer_app._handler = calls_another_context_first  # type: ignore[assignment]
    outer = remote_in_process(UsersAPI, app=outer_app)

    assert outer.get_user(user_id=user.pk).id == user.pk
    assert connection.connection is not None
    assert connection.in_atomic_block
    assert not connection.needs_rollback
    assert UserFactory.create().pk > user.pk


# --- the codec at the edges of the contract ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, slots=True)
class Line:
    sku: str
    quantity: int
    price: Money


@dataclass(frozen=True, kw_only=True, slots=True)
class Quote:
    id: UUID
    lines: list[Line]
    total: Money
    valid_until: datetime
    note: str | None = None


class QuotesAPI(Protocol):
    """Shapes future contexts will use: Money (a frozen slots dataclass validating in __post_init__),
    nested DTOs, Sequence, UUID, aware datetimes and optional results."""

    context: ClassVar[str] = "users"

    def quote(self, *, reservation_id: UUID, lines: Sequence[Line], skus: Sequence[int], at: datetime) -> Quote: ...

    def find(self, *, quote_id: UUID) -> Quote | None: ...

    def forget(self, *, quote_id: UUID) -> None: ...


def _line(amount: str = "9.99", currency: str = "EUR") -> Line:
    return Line(sku="SKU-1", quantity=2, price=Money(Decimal(amount), currency))


def test_codec_round_trips_money_sequences_uuids_and_datetimes() -> None:
    kwargs = {
        "reservation_id": uuid4(),
        "lines": (_line(), _line("0.5", "JPY")),
        "skus": (3, 1, 2),
        "at": datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC),
    }

    decoded = codec.decode_arguments(QuotesAPI, "quote", codec.encode_arguments(QuotesAPI, "quote", kwargs))

    assert decoded == {**kwargs, "lines": list(kwargs["lines"]), "skus": [3, 1, 2]}  # type: ignore[call-overload]
    assert decoded["lines"][1].price == Money(Decimal(0), "JPY")  # __post_init__ ran: 0.5 JPY rounds half-even
    assert type(decoded["lines"][0].price.amount) is Decimal
    assert decoded["at"].tzinfo is not None


def test_codec_decodes_optional_and_none_results() -> None:
    quote = Quote(
        id=uuid4(), lines=[_line()], total=Money(Decimal("19.98"), "EUR"), valid_until=datetime.now(UTC), note=None
    )

    assert codec.decode_result(QuotesAPI, "find", codec.encoder.encode(quote)) == quote
    assert codec.decode_result(QuotesAPI, "find", codec.encoder.encode(None)) is None
    assert codec.decode_result(QuotesAPI, "forget", b"null") is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("price", {"amount": "1.00", "currency": "XXX"}, id="money-unknown-currency"),
        pytest.param("price", {"amount": "NaN", "currency": "EUR"}, id="money-not-finite"),
        pytest.param("price", {"amount": "ten", "currency": "EUR"}, id="money-not-a-number"),
        pytest.param("quantity", "2", id="string-for-int"),
    ],
)
def test_codec_refuses_invalid_nested_values(field: str, value: Any) -> None:
    line = {"sku": "SKU-1", "quantity": 2, "price": {"amount": "1.00", "currency": "EUR"}, field: value}
    body = msgspec.json.encode(
        {"reservation_id": str(uuid4()), "lines": [line], "skus": [], "at": "2026-01-01T00:00:00Z"}
    )

    with pytest.raises(msgspec.ValidationError):
        codec.decode_arguments(QuotesAPI, "quote", body)


def test_codec_refuses_strings_in_an_int_sequence() -> None:
    body = b'{"reservation_id": "%s", "lines": [], "skus": ["1"], "at": "2026-01-01T00:00:00Z"}' % str(uuid4()).encode()

    with pytest.raises(msgspec.ValidationError, match=r"\$\.skus\[0\]"):
        codec.decode_arguments(QuotesAPI, "quote", body)


def test_a_remote_context_is_what_registry_get_returns_for_a_remote_binding() -> None:
    config = {"BACKEND": "remote", "URLS": ["http://testserver"], "TRANSPORT": "wsgi"}
    with override_settings(SHOP_CONTEXTS={"users": config}):
        from shop import registry

        assert isinstance(registry.get(UsersAPI), RemoteContext)
