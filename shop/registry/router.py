"""Keep each context's tables on its own database (``SHOP_DB_<CTX>``) when one is configured.

Framework apps (auth, admin, sessions, token blacklist, contenttypes) live with ``users``,
whose model they point at; the registry's outbox/inbox/dead-letter tables live everywhere,
because every publisher writes its outbox in its own transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model

from shop.registry.contexts import CONTEXTS

EVERYWHERE = {"registry"}
WITH_USERS = {"auth", "admin", "contenttypes", "sessions", "token_blacklist"}


def context_of_app(app_label: str) -> str | None:
    if app_label in CONTEXTS:
        return app_label
    if app_label in WITH_USERS:
        return "users"
    return None


def alias_for_context(context: str) -> str:
    return context if context in settings.DATABASES else "default"


def alias_for_app(app_label: str) -> str:
    context = context_of_app(app_label)
    return alias_for_context(context) if context else "default"


def atomic(context: str) -> transaction.Atomic:
    """A transaction on ``context``'s own database: never one that spans two contexts."""
    return transaction.atomic(using=alias_for_context(context))


def context_aliases() -> list[str]:
    """Every database alias in use (default first), for sweeps and health checks."""
    return list(settings.DATABASES)


class ContextRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if model._meta.app_label in EVERYWHERE:
            return None
        return alias_for_app(model._meta.app_label)

    db_for_write = db_for_read

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        """Refuse relations across contexts at runtime too (ARCHITECTURE §2.3)."""
        a = context_of_app(obj1._meta.app_label)
        b = context_of_app(obj2._meta.app_label)
        if a and b and a != b:
            return False
        return None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        if app_label in EVERYWHERE:
            return True
        return db == alias_for_app(app_label)
