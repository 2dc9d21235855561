"""Read queries of the users context, and the mapping from rows to public DTOs."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet

from shop.users import api
from shop.users.models import Address, User


def to_user_dto(user: User) -> api.User:
    return api.User(
        id=user.pk,
        email=user.email,
        full_name=user.full_name,
        is_active=user.is_active,
        is_staff=user.is_staff,
        date_joined=user.date_joined,
    )


def to_address_dto(address: Address) -> api.Address:
    return api.Address(
        id=address.pk,
        user_id=address.user_id,
        label=address.label,
        full_name=address.full_name,
        line1=address.line1,
        line2=address.line2,
        city=address.city,
        postal_code=address.postal_code,
        region=address.region,
        country=address.country,
        phone=address.phone,
        is_default=address.is_default,
    )


def user_by_id(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def users_by_ids(*, user_ids: Sequence[int]) -> list[User]:
    found = {u.pk: u for u in User.objects.filter(pk__in=list(user_ids))}
    return [found[i] for i in dict.fromkeys(user_ids) if i in found]


def users_with_email_containing(*, text: str, limit: int) -> list[User]:
    """Staff search (e.g. carts or orders by customer email): case-insensitive, newest first, bounded."""
    return list(User.objects.filter(email__icontains=text.strip()).order_by("-date_joined", "-pk")[:limit])


def addresses_of(*, user_id: int) -> QuerySet[Address]:
    return Address.objects.filter(user_id=user_id)


def address_of(*, user_id: int, address_id: int) -> Address | None:
    return addresses_of(user_id=user_id).filter(pk=address_id).first()
