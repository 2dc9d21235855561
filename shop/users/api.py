"""What every other context may know about users: the ``UsersAPI`` Protocol, its DTOs, errors
and events. Standard library and ``shop.kernel`` only, so it ships unchanged to a split-out service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from shop.kernel import Conflict, Event, NotFound, PermissionDenied, ValidationFailed, idempotent

MAX_ADDRESSES_PER_USER = 20
MAX_FOUND_USERS = 500


@dataclass(frozen=True, kw_only=True, slots=True)
class User:
    id: int
    email: str
    full_name: str
    is_active: bool
    is_staff: bool
    date_joined: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class Address:
    id: int
    user_id: int
    label: str
    full_name: str
    line1: str
    line2: str
    city: str
    postal_code: str
    region: str
    country: str
    phone: str
    is_default: bool


class UserNotFound(NotFound):
    resource = "user"
    title = "No such user"


class AddressNotFound(NotFound):
    resource = "address"
    title = "No such address in this customer's address book"


class EmailTaken(Conflict):
    code = "email_taken"
    title = "An account with this email already exists"


class WrongPassword(PermissionDenied):
    code = "wrong_password"
    title = "The current password is not correct"


class InvalidResetToken(ValidationFailed):
    code = "invalid_reset_token"
    title = "The password reset link is invalid or has expired"


class InvalidRefreshToken(ValidationFailed):
    code = "invalid_refresh_token"
    title = "The refresh token is invalid or already used"


class WeakPassword(ValidationFailed):
    code = "weak_password"
    title = "The password does not meet the password rules"


class AddressBookFull(Conflict):
    code = "address_book_full"
    title = f"An address book holds at most {MAX_ADDRESSES_PER_USER} addresses"


@dataclass(frozen=True, kw_only=True, slots=True)
class UserRegistered(Event):
    user_id: int
    email: str
    full_name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordResetAsked(Event):
    """Someone asked for a reset link for ``email`` (an account or not). The users context handles
    it off the request, so the answer takes the same time whether the account exists; other
    contexts want ``PasswordResetRequested``, published when there is an account to reset."""

    email: str


@dataclass(frozen=True, kw_only=True, slots=True)
class PasswordResetRequested(Event):
    """Carries what the reset email needs: the link with its single-use token, never a password."""

    user_id: int
    email: str
    full_name: str
    reset_url: str
    expires_in_s: int


class UsersAPI(Protocol):
    context: ClassVar[str] = "users"

    @idempotent
    def get_user(self, *, user_id: int) -> User:
        """The user with this id; ``UserNotFound`` otherwise."""
        ...

    @idempotent
    def get_users(self, *, user_ids: Sequence[int]) -> list[User]:
        """The users that exist among ``user_ids`` (one query, order of ``user_ids``)."""
        ...

    @idempotent
    def find_users(self, *, email_contains: str, limit: int = MAX_FOUND_USERS) -> list[User]:
        """Users whose email contains the text (case-insensitive), newest first, at most ``limit``
        (capped at ``MAX_FOUND_USERS``); none for blank text. For staff search in other contexts' admin."""
        ...

    @idempotent
    def get_address(self, *, user_id: int, address_id: int) -> Address:
        """An address of this user's book; ``AddressNotFound`` if it is not theirs."""
        ...

    @idempotent
    def get_default_address(self, *, user_id: int) -> Address | None: ...
