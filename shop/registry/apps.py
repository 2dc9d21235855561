from __future__ import annotations

import importlib
import logging

from django.apps import AppConfig
from django.conf import settings

from shop.registry.contexts import CONTEXTS

logger = logging.getLogger("shop.registry")


class RegistryConfig(AppConfig):
    name = "shop.registry"
    label = "registry"
    verbose_name = "Registry and event bus"

    def ready(self) -> None:
        from shop.registry import checks  # noqa: F401  (registers the system checks)

        for module in ("shop.registry.bus.tasks", "shop.registry.transport.tasks"):  # enqueued by name (registry.task)
            importlib.import_module(module)
        for context in CONTEXTS:
            for module in (f"shop.{context}.handlers", f"shop.{context}.tasks"):  # tasks: registered by name
                try:
                    importlib.import_module(module)
                except ModuleNotFoundError as exc:
                    if exc.name != module:
                        raise
        if settings.CELERY_TASK_ALWAYS_EAGER:
            logger.info("no CELERY_BROKER_URL: Celery tasks run eagerly, in-process (embedded default)")
