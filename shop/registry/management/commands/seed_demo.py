"""``manage.py seed_demo``: demo data for every context, in dependency order.

Each context that has demo data provides a ``demo_<context>`` command; this one runs them by name
(contexts never import each other's commands), so a new context joins by adding its own.
"""

from __future__ import annotations

from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from shop.registry.contexts import CONTEXTS


class Command(BaseCommand):
    help = "Load demo data for every context (safe to run twice); prints the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        available = get_commands()
        for context in CONTEXTS:
            name = f"demo_{context}"
            if name in available:
                call_command(name, stdout=self.stdout, stderr=self.stderr)
