"""``manage.py contexts``: each context, its binding, its database, and for remote ones health and breaker."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from shop.registry.contexts import CONTEXTS
from shop.registry.router import alias_for_context
from shop.registry.transport import client, lookup


class Command(BaseCommand):
    help = "List every context with its binding (local or remote), database, health and breaker state."

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("httpx").setLevel(logging.WARNING)  # its per-request lines would break the table
        self.stdout.write(f"{'context':<15}{'binding':<9}{'database':<15}{'breaker':<11}urls / health")
        for context in CONTEXTS:
            config = lookup.binding_config(context)
            backend = config["BACKEND"]
            urls, breaker = "", "-"
            if backend == "remote":
                impl = lookup.get(lookup.protocol_for(context))
                health = impl.health() if isinstance(impl, client.RemoteContext) else {}
                urls = ", ".join(f"{url} [{status}]" for url, status in health.items())
                # Read after building the binding, which is what creates the context's breaker.
                breaker = client.breaker_states().get(context, "closed")
            database = alias_for_context(context) if backend == "local" else "-"  # a remote one's is the service's
            self.stdout.write(f"{context:<15}{backend:<9}{database:<15}{breaker:<11}{urls}")
