# ruff: noqa: DJ008  (throwaway models declared inside tests need no __str__)
"""Runtime boundary checks (ARCHITECTURE §2.3, §2.5): relations, migration dependencies and signal
receivers across contexts, which no import shows. Each check passes on the real project and fails on
a planted violation, so it is known to look at the right thing.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db import migrations, models
from django.db.migrations.loader import MigrationLoader
from django.test.utils import isolate_apps

from shop.registry import router
from shop.registry.contexts import CONTEXTS
from tests.architecture.checks import (
    ANY_MODEL,
    MigrationDependency,
    Relation,
    cross_context_migration_dependencies,
    cross_context_relations,
    cross_context_signal_receivers,
)
from tests.architecture.tree import ROOT, plant


@pytest.fixture
def catalog_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend a second context, catalog, is registered (as it will be once it exists)."""
    monkeypatch.setattr(router, "CONTEXTS", (*CONTEXTS, "catalog"))


# --- relations --------------------------------------------------------------------------------------


def test_real_models_have_no_cross_context_relations() -> None:
    assert cross_context_relations(apps.get_models(include_auto_created=True)) == []


def test_framework_apps_count_as_users_context() -> None:
    """auth, admin and contenttypes point at users.User and at each other: all one context, so clean."""
    framework = [m for m in apps.get_models(include_auto_created=True) if m._meta.app_label in router.WITH_USERS]
    assert framework, "expected Django's auth/admin/contenttypes models to be installed"
    assert cross_context_relations(framework) == []


@isolate_apps("shop.users")
def test_string_foreign_key_into_another_context_is_reported(catalog_registered: None) -> None:
    class Wishlist(models.Model):
        owner = models.ForeignKey("users.User", on_delete=models.CASCADE)
        fans = models.ManyToManyField("users.User", related_name="+")
        sku = models.CharField(max_length=32)

        class Meta:
            app_label = "catalog"

    assert cross_context_relations([Wishlist]) == [
        Relation("catalog.Wishlist", "fans", "users.User"),
        Relation("catalog.Wishlist", "owner", "users.User"),
    ]


@isolate_apps("shop.users")
def test_relation_inside_one_context_is_not_reported(catalog_registered: None) -> None:
    class Product(models.Model):
        class Meta:
            app_label = "catalog"

    class Variant(models.Model):
        product = models.ForeignKey(Product, on_delete=models.CASCADE)
        owner_id = models.BigIntegerField()  # the right way: the other context's id, no constraint

        class Meta:
            app_label = "catalog"

    assert cross_context_relations([Product, Variant]) == []


@isolate_apps("shop.users")
def test_allow_set_tolerates_exactly_the_listed_relation(catalog_registered: None) -> None:
    class Review(models.Model):
        author = models.ForeignKey("users.User", on_delete=models.CASCADE)
        editor = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="+")

        class Meta:
            app_label = "catalog"

    allowed = {("catalog.Review", "author", "users.User")}
    assert cross_context_relations([Review], allowed=allowed) == [Relation("catalog.Review", "editor", "users.User")]


@isolate_apps("shop.users")
def test_generic_foreign_key_is_reported(catalog_registered: None) -> None:
    class Tag(models.Model):
        content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
        object_id = models.PositiveBigIntegerField()
        target = GenericForeignKey("content_type", "object_id")

        class Meta:
            app_label = "catalog"

    assert cross_context_relations([Tag]) == [
        Relation("catalog.Tag", "content_type", "contenttypes.ContentType"),
        Relation("catalog.Tag", "target", ANY_MODEL),
    ]


@isolate_apps("shop.users")
def test_generic_relation_into_another_context_is_reported(catalog_registered: None) -> None:
    class Comment(models.Model):
        content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
        object_id = models.PositiveBigIntegerField()
        target = GenericForeignKey("content_type", "object_id")

        class Meta:
            app_label = "users"

    class Product(models.Model):
        comments = GenericRelation(Comment)

        class Meta:
            app_label = "catalog"

    assert Relation("catalog.Product", "comments", "users.Comment") in cross_context_relations([Product])


@isolate_apps("shop.users")
def test_inheriting_another_contexts_model_is_reported(catalog_registered: None) -> None:
    class Base(models.Model):
        class Meta:
            app_label = "users"

    class Child(Base):
        class Meta:
            app_label = "catalog"

    class Proxy(Base):
        class Meta:
            app_label = "catalog"
            proxy = True

    assert cross_context_relations([Child, Proxy]) == [
        Relation("catalog.Child", "base_ptr", "users.Base"),
        Relation("catalog.Proxy", "<proxy>", "users.Base"),
    ]


@isolate_apps("shop.users")
def test_app_outside_every_context_owns_its_tables() -> None:
    """The registry's outbox lives on every database: a key from it into a context would break a split."""

    class Outbox(models.Model):
        user = models.ForeignKey("users.User", on_delete=models.CASCADE)

        class Meta:
            app_label = "registry"

    assert cross_context_relations([Outbox]) == [Relation("registry.Outbox", "user", "users.User")]


# --- migrations -------------------------------------------------------------------------------------


def test_real_migrations_have_no_cross_context_dependencies() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    assert loader.disk_migrations, "no migrations found: the check would prove nothing"
    assert cross_context_migration_dependencies(loader) == []


def _migration(app_label: str, name: str, dependencies: list[Any], run_before: list[Any] | None = None) -> Any:
    """A Migration as makemigrations would write it: dependencies are class attributes."""
    attrs = {"dependencies": dependencies, "run_before": run_before or []}
    return type("Migration", (migrations.Migration,), attrs)(name, app_label)


def _loader(*migration_list: migrations.Migration) -> SimpleNamespace:
    return SimpleNamespace(disk_migrations={(m.app_label, m.name): m for m in migration_list})


def test_migration_depending_on_another_context_is_reported(catalog_registered: None) -> None:
    planted = _migration(
        "catalog",
        "0001_initial",
        [("catalog", "0000_base"), ("users", "0001_initial"), ("auth", "__first__")],
        run_before=[("users", "0002_next")],
    )

    assert cross_context_migration_dependencies(_loader(planted)) == [
        MigrationDependency("catalog.0001_initial", "auth.__first__", "dependencies"),
        MigrationDependency("catalog.0001_initial", "users.0001_initial", "dependencies"),
        MigrationDependency("catalog.0001_initial", "users.0002_next", "run_before"),
    ]


def test_swappable_user_dependency_is_resolved(catalog_registered: None) -> None:
    """``migrations.swappable_dependency(settings.AUTH_USER_MODEL)`` and its legacy ``__setting__`` form."""
    modern = _migration("catalog", "0002_owner", [migrations.swappable_dependency("users.User")])
    legacy = _migration("catalog", "0003_owner", [("__setting__", "AUTH_USER_MODEL")])

    found = cross_context_migration_dependencies(_loader(modern, legacy))

    assert [(d.migration, d.depends_on) for d in found] == [
        ("catalog.0002_owner", "users.__first__"),
        ("catalog.0003_owner", "users.__first__"),
    ]


# --- signals ----------------------------------------------------------------------------------------


def test_no_context_receives_another_contexts_model_signals() -> None:
    assert cross_context_signal_receivers(ROOT / "shop", CONTEXTS) == []


RECEIVERS = {
    "lazy string": (
        "from django.db.models.signals import post_save\nfrom django.dispatch import receiver\n\n"
        '@receiver(post_save, sender="users.User")\ndef on_user(**kwargs): ...'
    ),
    "imported model": (
        "from django.db.models.signals import post_save\nfrom shop.users.models import User\n\n"
        "def on_user(**kwargs): ...\npost_save.connect(on_user, sender=User)"
    ),
    "auth user model": (
        "from django.conf import settings\nfrom django.db.models.signals import pre_delete\n"
        "from django.dispatch import receiver\n\n"
        "@receiver(pre_delete, sender=settings.AUTH_USER_MODEL)\ndef on_user(**kwargs): ..."
    ),
}


@pytest.mark.parametrize("code", RECEIVERS.values(), ids=RECEIVERS.keys())
def test_receiver_on_another_contexts_model_is_reported(tmp_path: Path, code: str, catalog_registered: None) -> None:
    plant(tmp_path, "shop/catalog/handlers.py", code)
    plant(tmp_path, "shop/users/handlers.py", code)  # its own model: fine

    found = cross_context_signal_receivers(tmp_path / "shop", ["users", "catalog"])

    assert [(r.path, r.context) for r in found] == [("catalog/handlers.py", "catalog")]
