"""Throttles, as a client meets them: every scope limits on its own, login cannot be ground per IP or per
account, no stranger can lock a customer out, and limits keep holding while Redis is down (counters
live in real Redis; the outage is a real cut of the connection to it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from shop.kernel.problems import PROBLEM_CONTENT_TYPE
from shop.web import counters
from shop.web.throttles import DEVICE_COOKIE
from tests.factories import UserFactory
from tests.helpers import connection_of
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

LOGIN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
RESET = "/api/v1/auth/password-reset/"
PRODUCTS = "/api/v1/catalog/products/"
PASSWORD: str = UserFactory.PASSWORD  # type: ignore[attr-defined]


def attempt(email: str, ip: str, password: str = "wrong-password-123", client: Any = None, **headers: Any) -> Any:
    return (client or APIClient()).post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip, **headers)


def assert_throttled(response: Any, *, window_s: int = 60) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= window_s


# --- per IP --------------------------------------------------------------------------------------------
def test_one_ip_gets_the_configured_attempts_across_any_emails(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    throttle_rates(login="3/min")
    user = make_user()

    for n in range(3):
        assert attempt(f"someone{n}@example.com", "10.0.0.1").status_code == 401
    assert_throttled(attempt("someone-else@example.com", "10.0.0.1"))
    assert_throttled(attempt(user.email, "10.0.0.1", PASSWORD))  # even the right password waits

    assert attempt(user.email, "10.0.0.2", PASSWORD).status_code == 200  # other IPs are unaffected


@pytest.mark.parametrize(
    ("num_proxies", "forwarded_for"),
    [(0, "203.0.113.{n}"), (1, "203.0.113.{n}, 10.0.0.9")],
    ids=["no-proxy", "behind-one-proxy"],
)
def test_a_forged_x_forwarded_for_does_not_escape_the_ip_throttle(
    throttle_rates: Callable[..., None], settings: Any, num_proxies: int, forwarded_for: str
) -> None:
    """With DRF's default NUM_PROXIES=None the header would *be* the identity: rotate it, never throttled.
    Behind one proxy only the entry that proxy appended (the real peer) counts."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    throttle_rates(login="2/min")

    responses = [
        attempt(f"u{n}@example.com", "10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded_for.format(n=n)) for n in range(1, 5)
    ]
    assert [r.status_code for r in responses[:2]] == [401, 401]
    assert_throttled(responses[2])


def test_register_login_and_password_reset_each_have_their_own_limit(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    """Spending one budget from an IP leaves the others whole: a burst of sign-ups does not stop a
    sign-in, and failed sign-ins do not stop a reset request."""
    throttle_rates(login="2/min", register="2/min", password_reset="2/min")
    user = make_user()
    ip = "10.0.3.1"

    for n in range(2):
        assert attempt(f"nobody{n}@example.com", ip).status_code == 401
    assert_throttled(attempt(user.email, ip, PASSWORD))

    signup = {"password": "a-long-enough-passphrase-1", "full_name": "New"}
    for n in range(2):
        response = APIClient().post(REGISTER, {**signup, "email": f"new{n}@example.com"}, REMOTE_ADDR=ip)
        assert response.status_code == 201, response.content
    assert_throttled(APIClient().post(REGISTER, {**signup, "email": "new9@example.com"}, REMOTE_ADDR=ip))

    for _ in range(2):
        assert APIClient().post(RESET, {"email": user.email}, REMOTE_ADDR=ip).status_code == 202
    assert_throttled(APIClient().post(RESET, {"email": user.email}, REMOTE_ADDR=ip))


# --- per account: bounded, and no lever for strangers ------------------------------------------------------
def test_a_stranger_failing_for_an_account_does_not_lock_its_owner_out(make_user: Callable[..., Any]) -> None:
    """The default rates. The attacker's IP is held to its per-account budget; the owner, signing in
    or asking for a reset from anywhere else, never sees a 429 because of it."""
    victim = make_user(email="victim@example.com")
    attacker = "198.51.100.7"

    answers = [attempt("Victim@Example.com ", attacker).status_code for _ in range(8)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}  # one source cannot grind the account

    assert attempt(victim.email, "10.0.1.2", PASSWORD).status_code == 200
    reset = APIClient().post(RESET, {"email": victim.email}, REMOTE_ADDR="10.0.1.3")
    assert reset.status_code == 202, reset.content


def test_one_source_is_also_held_to_an_hourly_budget_per_account(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    throttle_rates(login_account="100/min", login_account_hour="3/hour")
    victim = make_user()
    assert [attempt(victim.email, "198.51.100.8").status_code for _ in range(3)] == [401] * 3
    assert_throttled(attempt(victim.email, "198.51.100.8"), window_s=3600)
    assert attempt(victim.email, "198.51.100.9", PASSWORD).status_code == 200


def test_brute_force_on_one_account_is_bounded_but_its_owners_usual_client_still_signs_in(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    """Many IPs, few tries each: past the account's ceiling of failures, strangers are refused before any
    password is checked; the client the owner signed in with before (its device cookie) is not."""
    throttle_rates(login_failures="6/hour")
    victim = make_user(email="target@example.com")
    usual = APIClient()
    assert attempt(victim.email, "10.0.2.1", PASSWORD, client=usual).status_code == 200
    assert DEVICE_COOKIE in usual.cookies

    answers = [attempt(victim.email, f"203.0.113.{n}").status_code for n in range(1, 21)]
    assert answers.count(401) == 6  # passwords actually tried by strangers: the ceiling, no more
    assert set(answers[6:]) == {429}
    assert_throttled(attempt(victim.email, "203.0.113.99", PASSWORD), window_s=3600)  # a new client waits

    assert attempt(victim.email, "10.0.2.1", PASSWORD, client=usual).status_code == 200
    assert attempt(victim.email, "10.0.9.9", PASSWORD, client=usual).status_code == 200  # travelling: same device


def test_a_device_cookie_counts_only_for_its_own_account(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    throttle_rates(login_failures="1/hour")
    mine, other = make_user(), make_user()
    client = APIClient()
    assert attempt(mine.email, "10.0.4.1", PASSWORD, client=client).status_code == 200
    assert attempt(other.email, "203.0.113.50").status_code == 401  # other's ceiling is reached

    assert_throttled(attempt(other.email, "10.0.4.1", PASSWORD, client=client), window_s=3600)
    client.cookies[DEVICE_COOKIE] = client.cookies[DEVICE_COOKIE].value[:-2] + "xx"  # tampered: not a device
    assert_throttled(attempt(other.email, "10.0.4.1", PASSWORD, client=client), window_s=3600)


def test_throttled_attempts_are_refused_before_any_password_is_checked(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    """Throttling is also an availability control: a refused attempt costs no query and no hash."""
    throttle_rates(login="1/min")
    user = make_user()
    attempt(user.email, "10.0.2.1")
    with django_assert_num_queries(0, connection=connection_of("users")):
        assert_throttled(attempt(user.email, "10.0.2.1", PASSWORD))


# --- Redis outage ---------------------------------------------------------------------------------------
@pytest.fixture
def redis_link(settings: Any) -> Iterator[TcpProxy]:
    """The cache reached through a loopback proxy in front of the real Redis, which a test can cut."""
    location = urlparse(django_settings.CACHES["default"]["LOCATION"])
    proxy = TcpProxy(location.hostname or "127.0.0.1", location.port or 6379)
    proxy.restore()
    config = settings.CACHES["default"]
    settings.CACHES = {"default": {**config, "LOCATION": location._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()}}
    try:
        yield proxy
    finally:
        proxy.cut()


def test_reads_stay_limited_while_redis_is_down(throttle_rates: Callable[..., None], redis_link: TcpProxy) -> None:
    throttle_rates(anon="5/min")
    client = APIClient()

    assert [client.get(PRODUCTS, REMOTE_ADDR="10.0.5.1").status_code for _ in range(3)] == [200] * 3
    redis_link.cut()
    answers = [client.get(PRODUCTS, REMOTE_ADDR="10.0.5.1") for _ in range(8)]
    # This process counts on its own from the cut: a full budget, then refusals.
    assert [r.status_code for r in answers[:5]] == [200] * 5
    for refused in answers[5:]:
        assert_throttled(refused)

    redis_link.restore()
    counters.shared.reset()  # as if the pause after the error had passed
    answers = [client.get(PRODUCTS, REMOTE_ADDR="10.0.5.1").status_code for _ in range(3)]
    assert answers == [200, 200, 429]  # back on the shared counter, which had kept its 3


def test_login_stays_limited_while_redis_is_down(
    throttle_rates: Callable[..., None], redis_link: TcpProxy, make_user: Callable[..., Any]
) -> None:
    """The adversarial run: 15 wrong passwords for one email during the outage were all 401."""
    victim = make_user()
    redis_link.cut()
    answers = [attempt(victim.email, "198.51.100.20").status_code for _ in range(15)]
    assert answers[:5] == [401] * 5
    assert set(answers[5:]) == {429}
    assert attempt(victim.email, "10.0.6.1", PASSWORD).status_code == 200


def test_counters_live_in_redis_when_it_is_up(throttle_rates: Callable[..., None]) -> None:
    """Shared by every process: the count is in Redis, under the cache's prefix, and expires."""
    throttle_rates(anon="5/min")
    APIClient().get(PRODUCTS, REMOTE_ADDR="10.0.7.1")
    key = cache.make_key("throttle_anon_10.0.7.1")
    client = redis.Redis.from_url(django_settings.CACHES["default"]["LOCATION"])
    assert client.get(key) == b"1"
    assert 0 < client.pttl(key) <= 60_000


def test_the_per_process_store_is_bounded() -> None:
    store = counters.LocalCounters(max_keys=100)
    for n in range(1000):
        store.hit(f"k{n}", window_s=60)
    assert len(store._windows) <= 100
    assert store.hit("k999", window_s=60).hits == 2  # recent keys survive eviction
