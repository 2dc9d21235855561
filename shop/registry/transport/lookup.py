"""Resolve a context's Protocol to its binding, like Django resolves ``CACHES``.

``SHOP_CONTEXTS = {"payments": {"BACKEND": "remote", "URLS": [...], "TIMEOUT": 2.0}}``;
``"local"`` (the default) means the in-process implementation.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from shop.registry import contexts
from shop.registry.contexts import context_of
from shop.registry.transport import client

T = TypeVar("T")

_lock = threading.Lock()
_bindings: dict[str, Any] = {}
_locals: dict[str, Any] = {}


def binding_config(context: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(settings.SHOP_CONTEXTS.get(context, {}))
    config.setdefault("BACKEND", "local")
    return config


def protocol_for(context: str) -> type[Any]:
    return cast(type[Any], import_string(f"{contexts.api_module(context)}.{contexts.protocol_name(context)}"))


def _build_local(context: str) -> Any:
    config = binding_config(context)
    path = config.get("IMPLEMENTATION", contexts.local_implementation(context))
    return import_string(path)()


def _build(context: str) -> Any:
    config = binding_config(context)
    backend = config["BACKEND"]
    if backend == "local":
        return local_by_name(context)
    if backend == "remote":
        return client.RemoteContext.from_settings(protocol_for(context), config)
    return import_string(backend)(**config.get("OPTIONS", {}))


def local_by_name(context: str) -> Any:
    with _lock:
        if context not in _locals:
            _locals[context] = _build_local(context)
        return _locals[context]


def get(protocol: type[T]) -> T:
    """The implementation bound to ``protocol``'s context: in-process or the HTTP client."""
    context = context_of(protocol)
    impl = _bindings.get(context)
    if impl is None:
        with _lock:
            impl = _bindings.get(context)
        if impl is None:
            impl = _build(context)
            with _lock:
                _bindings.setdefault(context, impl)
                impl = _bindings[context]
    return cast(T, impl)


def local(protocol: type[T]) -> T:
    """Always the in-process implementation (what the internal HTTP endpoint serves)."""
    return cast(T, local_by_name(context_of(protocol)))


def reset() -> None:
    with _lock:
        _bindings.clear()
        _locals.clear()
    client.reset_breakers()


@receiver(setting_changed)
def _on_setting_changed(*, setting: str, **_: Any) -> None:
    if setting in {"SHOP_CONTEXTS", "SHOP_INTERNAL_SECRET"}:
        reset()
