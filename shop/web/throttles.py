"""Rate limits, counted in ``shop.web.counters`` (Redis, or per process while Redis is away).

Every scope has its own limit: anonymous and signed-in reads and writes, registration, login,
password reset, webhooks. Login is limited so that no stranger holds a lever over someone else's
account (hashing costs ~100 ms a try, so throttling is also an availability control):

* per client IP, across every account (``login``);
* per account *and* client, by minute and by hour (``login_account``, ``login_account_hour``): the
  client is the IP, or the device cookie an earlier sign-in to that account left, so one source
  cannot grind an account while its owner signs in from anywhere else;
* per account, failed sign-ins from clients without that account's device cookie
  (``login_failures``, generous): past it, a distributed guessing run is over for strangers, while
  the owner's usual client keeps signing in. Brute force on one account stays bounded by it.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core import signing
from django.http import HttpResponse
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from shop.web import counters

if TYPE_CHECKING:  # DRF imports these classes while rest_framework.views is still loading
    from rest_framework.views import APIView

DEVICE_COOKIE = "shop_login_device"
DEVICE_COOKIE_PATH = "/api/v1/auth/"
DEVICE_COOKIE_MAX_AGE_S = 365 * 24 * 3600
_DEVICE_SALT = "shop.web.throttles.login-device"


class CounterThrottle(SimpleRateThrottle):
    """A DRF throttle on a window counter: one round trip per request. A refused request counts
    too, so a client that keeps hammering stays refused until its window ends (``Retry-After``)."""

    num_requests: int  # set by DRF from the scope's rate (read only when a rate is set)
    duration: int
    resets_in: float = 0.0

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count = counters.hit(self.key, window_s=self.duration)
        self.resets_in = count.resets_in
        return count.hits <= self.num_requests

    def wait(self) -> float:
        return float(max(1, math.ceil(self.resets_in)))

    def key_for(self, ident: str) -> str:
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonRateThrottle(CounterThrottle):
    """Requests without a signed-in user, per client IP."""

    scope = "anon"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.key_for(self.get_ident(request))


class UserRateThrottle(CounterThrottle):
    """Requests per signed-in user (per IP for anonymous ones, like DRF's)."""

    scope = "user"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return self.key_for(f"u{request.user.pk}")
        return self.key_for(self.get_ident(request))


class ClientIPThrottle(CounterThrottle):
    """Per client IP (``NUM_PROXIES`` decides which ``X-Forwarded-For`` entry is the client)."""

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.key_for(self.get_ident(request))


class VoucherRateThrottle(CounterThrottle):
    """Voucher codes tried, per signed-in customer, else per client IP: guessing codes is slow, and a stranger
    spends only their own allowance, never a customer's."""

    scope = "voucher"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if request.user and request.user.is_authenticated:
            return self.key_for(f"u{request.user.pk}")
        return self.key_for(self.get_ident(request))


class LoginRateThrottle(ClientIPThrottle):
    scope = "login"


class RegisterRateThrottle(ClientIPThrottle):
    scope = "register"


class PasswordResetRateThrottle(ClientIPThrottle):
    scope = "password_reset"


class PasswordResetConfirmRateThrottle(ClientIPThrottle):
    scope = "password_reset_confirm"


class WebhookRateThrottle(ClientIPThrottle):
    """Payment providers post in bursts from few IPs: their own, higher limit per IP, so a burst
    is not refused (they would retry anyway) while a flood from one address still is."""

    scope = "webhook"


# --- login: per account and client, and the account's ceiling --------------------------------------
def submitted_account(request: Request) -> str | None:
    """The account a sign-in names (its email, normalised), as a digest: no address in a cache key."""
    data: Any = request.data
    email = data.get("email") if hasattr(data, "get") else None
    if not isinstance(email, str) or not email.strip():
        return None
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]


def login_device(request: Request | Any, account: str) -> str | None:
    """The id of the device cookie a sign-in to ``account`` left on this client, if any (signed)."""
    raw = request.COOKIES.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        value = signing.loads(raw, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE_S)
    except signing.BadSignature:
        return None
    if not isinstance(value, dict) or value.get("a") != account or not isinstance(value.get("d"), str):
        return None
    device: str = value["d"]
    return device


def remember_login_device(request: Request, response: HttpResponse) -> None:
    """After a successful sign-in: this client is the account's device from now on."""
    account = submitted_account(request)
    if account is None:
        return
    device = login_device(request, account) or secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps({"a": account, "d": device}, salt=_DEVICE_SALT),
        max_age=DEVICE_COOKIE_MAX_AGE_S,
        path=DEVICE_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


class LoginAccountRateThrottle(CounterThrottle):
    """Sign-ins per account and client: the account's device cookie, else the client IP."""

    scope = "login_account"

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        account = submitted_account(request)
        if account is None:
            return None
        device = login_device(request, account)
        client = f"d:{device}" if device else f"ip:{self.get_ident(request)}"
        return self.key_for(f"{account}:{client}")


class LoginAccountHourlyRateThrottle(LoginAccountRateThrottle):
    """The same per hour: one source stays well under the account's ceiling below."""

    scope = "login_account_hour"


class LoginFailureCeiling(CounterThrottle):
    """Failed sign-ins per account from clients without its device cookie. Checked before the
    password (without counting), counted by the view after a wrong one (``record_failure``)."""

    scope = "login_failures"

    def get_cache_key(self, request: Request, view: APIView | None) -> str | None:
        account = submitted_account(request)
        if account is None or login_device(request, account):
            return None  # the owner's usual client is never held back by strangers' failures
        return self.key_for(account)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        count = counters.hit(self.key, window_s=self.duration, amount=0)
        self.resets_in = count.resets_in
        return count.hits < self.num_requests

    def record_failure(self, request: Request) -> None:
        key = self.get_cache_key(request, None)
        if self.rate is not None and key is not None:
            counters.hit(key, window_s=self.duration)


LOGIN_THROTTLES = [LoginRateThrottle, LoginAccountRateThrottle, LoginAccountHourlyRateThrottle, LoginFailureCeiling]
