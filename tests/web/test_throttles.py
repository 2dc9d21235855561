"""Login is throttled per client IP and per submitted email: neither one IP trying many accounts nor
many IPs trying one account get more than the configured attempts (counters live in real Redis)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.kernel.problems import PROBLEM_CONTENT_TYPE
from tests.factories import UserFactory
from tests.helpers import connection_of

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

LOGIN = "/api/v1/auth/token/"
PASSWORD: str = UserFactory.PASSWORD  # type: ignore[attr-defined]


def attempt(email: str, ip: str, password: str = "wrong-password-123", **headers: Any) -> Any:
    return APIClient().post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=ip, **headers)


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_one_ip_gets_the_configured_attempts_across_any_emails(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    throttle_rates(login="3/min", login_identity="1000/min")
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
    throttle_rates(login="2/min", login_identity="1000/min")

    responses = [
        attempt(f"u{n}@example.com", "10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded_for.format(n=n)) for n in range(1, 5)
    ]
    assert [r.status_code for r in responses[:2]] == [401, 401]
    assert_throttled(responses[2])


def test_one_email_gets_the_configured_attempts_across_any_ips(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any]
) -> None:
    throttle_rates(login="1000/min", login_identity="2/min")
    victim, bystander = make_user(email="victim@example.com"), make_user()

    assert attempt("victim@example.com", "10.0.1.1").status_code == 401
    assert attempt(" Victim@Example.COM ", "10.0.1.2").status_code in {400, 401}  # same identity, normalised
    assert_throttled(attempt(victim.email, "10.0.1.3", PASSWORD))

    assert attempt(bystander.email, "10.0.1.4", PASSWORD).status_code == 200


def test_throttled_attempts_are_refused_before_any_password_is_checked(
    throttle_rates: Callable[..., None], make_user: Callable[..., Any], django_assert_num_queries: Any
) -> None:
    """Throttling is also an availability control: a refused attempt costs no query and no hash."""
    throttle_rates(login="1/min", login_identity="1000/min")
    user = make_user()
    attempt(user.email, "10.0.2.1")
    with django_assert_num_queries(0, connection=connection_of("users")):
        assert_throttled(attempt(user.email, "10.0.2.1", PASSWORD))
