"""``manage.py seed_demo``: demo data for every installed app that has some, in ``INSTALLED_APPS`` order.

Each context with demo data provides a ``demo_<app label>`` command; this one runs them by name (contexts
never import each other's commands), and settings list the contexts bottom-up, so users and catalog are
seeded before what refers to them. A new context joins by adding its own command. Lives at the shared
edge, not in the registry: it is an operator's convenience, not part of how contexts reach each other.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load demo data for every context (safe to run twice); prints the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        available = get_commands()
        for config in apps.get_app_configs():
            name = f"demo_{config.label}"
            if name in available:
                call_command(name, stdout=self.stdout, stderr=self.stderr)
