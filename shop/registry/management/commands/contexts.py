"""``manage.py contexts``: each context, its binding, its database, and for remote ones health and breaker."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from shop.registry import client, lookup
from shop.registry.contexts import CONTEXTS
from shop.registry.router import alias_for_context


class Command(BaseCommand):
    help = "List every context with its binding (local or remote), database, health and breaker state."

    def handle(self, *args: Any, **options: Any) -> None:
        states = client.breaker_states()
        self.stdout.write(f"{'context':<15}{'binding':<9}{'database':<12}{'breaker':<10}urls / health")
        for context in CONTEXTS:
            config = lookup.binding_config(context)
            backend = config["BACKEND"]
            urls = ""
            if backend == "remote":
                impl = lookup.get(lookup.protocol_for(context))
                health = impl.health() if isinstance(impl, client.RemoteContext) else {}
                urls = ", ".join(f"{url} [{status}]" for url, status in health.items())
            breaker = states.get(context, "closed" if backend == "remote" else "-")
            self.stdout.write(f"{context:<15}{backend:<9}{alias_for_context(context):<12}{breaker:<10}{urls}")
