"""Data the scenarios need, written once per run into the bench database (idempotent: re-runs reuse rows).

Runs in the orchestrating process after ``django.setup()`` with ``bench.settings``. Later scenarios seed their own
rows here and hand ids to their requests through ``Seeded.extra`` (then ``Fixture.extra``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EMAIL = "bench@example.com"
PASSWORD = "bench-password-0123456789"  # a throwaway account in the throwaway bench database


@dataclass(frozen=True, slots=True)
class Seeded:
    user_id: int
    email: str
    password: str
    extra: dict[str, Any] = field(default_factory=dict)


def seed() -> Seeded:
    from shop.users.models import User

    user = User.objects.filter(email=EMAIL).first()
    if user is None:
        user = User.objects.create_user(EMAIL, PASSWORD, full_name="Bench User")
    elif not user.check_password(PASSWORD):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return Seeded(user_id=user.pk, email=EMAIL, password=PASSWORD)
