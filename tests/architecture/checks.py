"""Boundary checks for what import-linter cannot see (ARCHITECTURE §2.3, §2.5; docs/boundaries.md).

A string ``ForeignKey("users.User")``, a migration dependency, a ``GenericForeignKey`` or a signal
receiver with a lazy ``sender="users.User"`` couple two contexts without a single import. These pure
functions take what they inspect as arguments, so tests can feed them the real project or a planted
violation alike, and return what they found (empty = clean).

Apps map to contexts with ``shop.registry.router.context_of_app`` (framework apps such as auth,
admin, contenttypes live with ``users``); an app it does not know (``registry``, a third-party app)
is its own owner, so a relation between it and a context is reported too.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Model

from shop.registry import router

ANY_MODEL = "*"

# Tolerated cross-context relations as (model label, field name, related label). Keep it empty: store
# the other context's id instead. An entry is a debt with an owner, like an `ignore_imports` line.
ALLOWED_RELATIONS: frozenset[tuple[str, str, str]] = frozenset()
# Tolerated cross-context migration dependencies as (migration, dependency), both "app_label.name".
ALLOWED_MIGRATION_DEPENDENCIES: frozenset[tuple[str, str]] = frozenset()


class Relation(NamedTuple):
    model: str
    field: str
    related: str


class MigrationDependency(NamedTuple):
    migration: str
    depends_on: str
    kind: str  # "dependencies" or "run_before"


class SignalReceiver(NamedTuple):
    path: str
    line: int
    context: str
    sender: str


def owner_of(app_label: str) -> str:
    """The context owning an app's tables; an app outside every context owns itself."""
    return router.context_of_app(app_label) or f"app:{app_label}"


def _label(model: type[Model] | str) -> str:
    """``app_label.ModelName`` for a model class or a lazy reference (unresolved in isolated registries)."""
    if isinstance(model, str):
        if "." in model:
            return model
        raise ValueError(f"relative lazy reference {model!r}: write 'app_label.Model'")
    return model._meta.label


def cross_context_relations(
    models: Iterable[type[Model]],
    *,
    allowed: Collection[tuple[str, str, str]] = ALLOWED_RELATIONS,
    owner: Callable[[str], str] = owner_of,
) -> list[Relation]:
    """Relations (FK, O2O, M2M, generic, inheritance) from a model to a model owned by another context.

    A ``GenericForeignKey`` is always reported (related ``"*"``): its target is any model of any context,
    so no static check could confine it to its own context.
    """
    found: list[Relation] = []
    for model in models:
        opts = model._meta
        own = owner(opts.app_label)
        fields: list[Any] = [*opts.local_fields, *opts.local_many_to_many, *opts.private_fields]
        for field in fields:
            if not field.is_relation:
                continue
            if field.related_model is None:
                relation = Relation(opts.label, field.name, ANY_MODEL)
            else:
                related = _label(field.related_model)
                if owner(related.partition(".")[0]) == own:
                    continue
                relation = Relation(opts.label, field.name, related)
            if (relation.model, relation.field, relation.related) not in allowed:
                found.append(relation)
        if opts.proxy and opts.proxy_for_model is not None:
            base = opts.proxy_for_model._meta
            relation = Relation(opts.label, "<proxy>", base.label)
            if owner(base.app_label) != own and tuple(relation) not in allowed:
                found.append(relation)
    return sorted(set(found))


def cross_context_migration_dependencies(
    loader: Any,
    *,
    allowed: Collection[tuple[str, str]] = ALLOWED_MIGRATION_DEPENDENCIES,
    owner: Callable[[str], str] = owner_of,
) -> list[MigrationDependency]:
    """``dependencies``/``run_before`` entries of on-disk migrations that point into another context.

    ``loader`` is a ``MigrationLoader`` (or anything with ``disk_migrations``: {(app, name): Migration}).
    """
    found: list[MigrationDependency] = []
    disk_migrations: Mapping[tuple[str, str], Any] = loader.disk_migrations
    for (app_label, name), migration in disk_migrations.items():
        own = owner(app_label)
        for kind in ("dependencies", "run_before"):
            for raw_app, raw_name in getattr(migration, kind, ()):
                dep_app, dep_name = raw_app, raw_name
                if raw_app == "__setting__":  # legacy form of swappable_dependency()
                    dep_app, dep_name = getattr(settings, raw_name).partition(".")[0], "__first__"
                if owner(dep_app) == own:
                    continue
                entry = MigrationDependency(f"{app_label}.{name}", f"{dep_app}.{dep_name}", kind)
                if (entry.migration, entry.depends_on) not in allowed:
                    found.append(entry)
    return sorted(found)


_SIGNAL_DECORATOR = "receiver"
_CONNECT = "connect"


def _imported_contexts(tree: ast.Module) -> dict[str, str]:
    """Local name -> context for names imported from ``shop.<ctx>`` (``from shop.users.models import User``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shop."):
            ctx = node.module.split(".")[1]
            for alias in node.names:
                names[alias.asname or alias.name] = ctx
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("shop.") and alias.asname:
                    names[alias.asname] = alias.name.split(".")[1]
    return names


def _sender_context(sender: ast.expr, imported: Mapping[str, str]) -> tuple[str, str] | None:
    """(context, source text) of a signal's ``sender=``, when it can be told statically."""
    text = ast.unparse(sender)
    if isinstance(sender, ast.Constant) and isinstance(sender.value, str) and "." in sender.value:
        return owner_of(sender.value.partition(".")[0]), text
    if text == "settings.AUTH_USER_MODEL":
        return owner_of(settings.AUTH_USER_MODEL.partition(".")[0]), text
    root = text.split(".")[0]
    if root in imported:
        return imported[root], text
    return None


def cross_context_signal_receivers(package_dir: Path, contexts: Iterable[str]) -> list[SignalReceiver]:
    """Receivers in ``<package_dir>/<ctx>/`` connected to a signal whose sender belongs to another context.

    Sees ``@receiver(sig, sender=…)`` and ``sig.connect(fn, sender=…)`` with a lazy ``"app.Model"``
    string, ``settings.AUTH_USER_MODEL`` or a name imported from ``shop.<other>``. A sender computed at
    runtime is not seen; C2 already forbids importing another context's models.
    """
    found: list[SignalReceiver] = []
    for ctx in contexts:
        for path in sorted((package_dir / ctx).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            imported = _imported_contexts(tree)
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name not in (_SIGNAL_DECORATOR, _CONNECT):
                    continue
                for keyword in node.keywords:
                    if keyword.arg != "sender":
                        continue
                    sender = _sender_context(keyword.value, imported)
                    if sender and sender[0] != ctx:
                        found.append(SignalReceiver(str(path.relative_to(package_dir)), node.lineno, ctx, sender[1]))
    return found
