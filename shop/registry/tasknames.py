"""A task by its name, for the module below it that must enqueue it.

A context's tasks import its services (a task is an entry point above them), so a service that enqueues
one of its own context's tasks names it instead of importing it; the bus does the same for its delivery
task. That keeps every package acyclic (import-linter C4). ``RegistryConfig.ready`` imports every
context's ``tasks`` module, so each name is registered in every process, web and worker alike.
"""

from __future__ import annotations

from typing import Any

from shop.celery import app


def task(name: str) -> Any:
    """The registered Celery task called ``name`` (``KeyError`` for a name no task declares)."""
    return app.tasks[name]
