"""Use cases of the users context, and ``UsersService``, the in-process ``UsersAPI``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError
from django.urls import reverse
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlencode, urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from shop import registry
from shop.users import api, selectors
from shop.users.api import AddressBookFull, EmailTaken, InvalidResetToken, WeakPassword, WrongPassword
from shop.users.models import Address, User, normalize_email
from shop.web import counters
from shop.web.links import absolute_url

logger = logging.getLogger(__name__)


def _validate_password(password: str, user: User | None = None) -> None:
    from django.core.exceptions import ValidationError

    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise WeakPassword("; ".join(exc.messages), errors={"password": exc.messages}) from exc


# --- accounts ---------------------------------------------------------------------------------
def register_user(*, email: str, password: str, full_name: str = "") -> User:
    email = normalize_email(email)
    _validate_password(password, User(email=email, full_name=full_name))
    if User.objects.filter(email=email).exists():
        raise EmailTaken()
    try:
        with registry.atomic("users"):
            user = User.objects.create_user(email, password, full_name=full_name)
            registry.publish(api.UserRegistered(user_id=user.pk, email=user.email, full_name=user.full_name))
    except IntegrityError as exc:  # a concurrent registration won the race
        raise EmailTaken() from exc
    return user


def update_profile(
    *, user: User, full_name: str | None = None, email: str | None = None, current_password: str | None = None
) -> User:
    fields: list[str] = []
    if full_name is not None:
        user.full_name = full_name
        fields.append("full_name")
    if email is not None and normalize_email(email) != user.email:
        if not current_password or not user.check_password(current_password):
            raise WrongPassword("Changing the email needs the current password.")
        email = normalize_email(email)
        if User.objects.filter(email=email).exclude(pk=user.pk).exists():
            raise EmailTaken()
        user.email = email
        fields.append("email")
    if fields:
        try:
            with registry.atomic("users"):
                user.save(update_fields=fields)
        except IntegrityError as exc:
            raise EmailTaken() from exc
    return user


def issue_tokens(*, user: User) -> dict[str, str]:
    refresh = RefreshToken.for_user(user)
    return {"refresh": str(refresh), "access": str(refresh.access_token)}


def revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of ``user`` (password change, reset)."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    tokens = list(outstanding)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=t) for t in tokens], ignore_conflicts=True)
    return len(tokens)


def _set_password_and_revoke_sessions(*, user: User, new_password: str) -> None:
    """A new password ends every session: refresh tokens are blacklisted, and access tokens die with
    the old password hash (simplejwt ``CHECK_REVOKE_TOKEN``)."""
    _validate_password(new_password, user)
    with registry.atomic("users"):
        user.set_password(new_password)
        user.save(update_fields=["password"])
        revoke_refresh_tokens(user=user)


def change_password(*, user: User, current_password: str, new_password: str) -> dict[str, str]:
    """Set a new password, revoke every other session, and hand this one a fresh token pair."""
    if not user.check_password(current_password):
        raise WrongPassword()
    _set_password_and_revoke_sessions(user=user, new_password=new_password)
    return issue_tokens(user=user)


def logout(*, refresh: str) -> None:
    from rest_framework_simplejwt.exceptions import TokenError

    try:
        RefreshToken(refresh).blacklist()  # type: ignore[arg-type]
    except TokenError as exc:
        raise api.InvalidRefreshToken() from exc


# --- password reset -----------------------------------------------------------------------------
def request_password_reset(*, email: str) -> None:
    """Hand the request to the users worker (``send_password_reset``) and answer: the same work for
    every address, so neither the answer nor its timing tells whether an account exists."""
    with registry.atomic("users"):
        registry.publish(api.PasswordResetAsked(email=normalize_email(email)))


def send_password_reset(*, email: str) -> None:
    """Publish a reset link if the account exists, at most ``SHOP_PASSWORD_RESET_EMAILS_PER_HOUR``
    an hour: past it nothing is sent (the links already sent stay valid), so nobody can mail-bomb a
    customer through this, nor make the customer's own request fail."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None or not user.has_usable_password():
        return
    if (
        counters.hit(f"password_reset_emails:{user.pk}", window_s=3600).hits
        > settings.SHOP_PASSWORD_RESET_EMAILS_PER_HOUR
    ):
        logger.info("password reset email skipped: hourly budget spent", extra={"user_id": user.pk})
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    with registry.atomic("users"):
        registry.publish(
            api.PasswordResetRequested(
                user_id=user.pk,
                email=user.email,
                full_name=user.full_name,
                reset_url=reset_link(uid=uid, token=token),
                expires_in_s=settings.PASSWORD_RESET_TIMEOUT,
            )
        )


def reset_link(*, uid: str, token: str) -> str:
    """The storefront's page (``SHOP_PASSWORD_RESET_URL``, with ``{uid}`` and ``{token}``), else the
    built-in page on ``SHOP_PUBLIC_URL``."""
    if settings.SHOP_PASSWORD_RESET_URL:
        return settings.SHOP_PASSWORD_RESET_URL.format(uid=uid, token=token)
    return f"{absolute_url(reverse('password-reset-page'))}?{urlencode({'uid': uid, 'token': token})}"


def reset_link_is_valid(*, uid: str, token: str) -> bool:
    """Whether the link's uid and token would reset a password now (the page asks before showing its form)."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return False
    if not 0 < user_id < 2**63:  # a forged uid must not reach the database as an out-of-range id
        return False
    user = selectors.user_by_id(user_id=user_id)
    return user is not None and default_token_generator.check_token(user, token)


def confirm_password_reset(*, uid: str, token: str, new_password: str) -> None:
    """Single use: the token hashes the current password, so setting one voids it."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        raise InvalidResetToken() from None
    user = selectors.user_by_id(user_id=user_id)
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidResetToken()
    _set_password_and_revoke_sessions(user=user, new_password=new_password)


# --- address book -------------------------------------------------------------------------------
def _unset_other_defaults(*, user_id: int, keep: int | None) -> None:
    others = Address.objects.filter(user_id=user_id, is_default=True)
    if keep is not None:
        others = others.exclude(pk=keep)
    others.update(is_default=False)


def create_address(*, user: User, **fields: Any) -> Address:
    with registry.atomic("users"):
        User.objects.select_for_update().filter(pk=user.pk).first()  # serialises this user's book
        if selectors.addresses_of(user_id=user.pk).count() >= api.MAX_ADDRESSES_PER_USER:
            raise AddressBookFull()
        if fields.get("is_default") or not selectors.addresses_of(user_id=user.pk).exists():
            _unset_other_defaults(user_id=user.pk, keep=None)
            fields["is_default"] = True
        return Address.objects.create(user=user, **fields)


def update_address(*, address: Address, **fields: Any) -> Address:
    with registry.atomic("users"):
        if fields.get("is_default"):
            _unset_other_defaults(user_id=address.user_id, keep=address.pk)
        for name, value in fields.items():
            setattr(address, name, value)
        address.save()
    return address


def delete_address(*, address: Address) -> None:
    with registry.atomic("users"):
        was_default = address.is_default
        user_id = address.user_id
        address.delete()
        if was_default:
            successor = selectors.addresses_of(user_id=user_id).order_by("id").first()
            if successor is not None:
                successor.is_default = True
                successor.save(update_fields=["is_default"])


# --- the public service ---------------------------------------------------------------------
class UsersService:
    """In-process implementation of ``api.UsersAPI``."""

    context: ClassVar[str] = api.UsersAPI.context  # a member of the Protocol, so mypy can match it

    def get_user(self, *, user_id: int) -> api.User:
        user = selectors.user_by_id(user_id=user_id)
        if user is None:
            raise api.UserNotFound(user_id=user_id)
        return selectors.to_user_dto(user)

    def get_users(self, *, user_ids: Sequence[int]) -> list[api.User]:
        return [selectors.to_user_dto(u) for u in selectors.users_by_ids(user_ids=user_ids)]

    def find_users(self, *, email_contains: str, limit: int = api.MAX_FOUND_USERS) -> list[api.User]:
        if not email_contains.strip():
            return []
        limit = max(1, min(limit, api.MAX_FOUND_USERS))
        return [
            selectors.to_user_dto(u) for u in selectors.users_with_email_containing(text=email_contains, limit=limit)
        ]

    def get_address(self, *, user_id: int, address_id: int) -> api.Address:
        address = selectors.address_of(user_id=user_id, address_id=address_id)
        if address is None:
            raise api.AddressNotFound(user_id=user_id, address_id=address_id)
        return selectors.to_address_dto(address)

    def get_default_address(self, *, user_id: int) -> api.Address | None:
        address = selectors.addresses_of(user_id=user_id).filter(is_default=True).first()
        return selectors.to_address_dto(address) if address else None
