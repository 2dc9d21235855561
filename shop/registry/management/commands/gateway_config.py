"""``manage.py gateway_config``: the public entry point's configuration, generated from the URLconf.

    manage.py gateway_config --format nginx --default 127.0.0.1:8100 \\
        --upstream payments=127.0.0.1:8101 --upstream notifications=127.0.0.1:8102 > /etc/nginx/conf.d/shop.conf
    manage.py gateway_config --format ingress --default web:8000 --upstream payments=payments-web:8000

Run it where every context is served (no SHOP_SERVE): the routes are read from that URLconf.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from shop.registry.transport import gateway


class Command(BaseCommand):
    help = "Print the gateway configuration (nginx or a Kubernetes Ingress) routing each context's paths."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=["nginx", "ingress"], required=True)
        parser.add_argument("--default", required=True, help="host:port serving every context not named below")
        parser.add_argument(
            "--upstream", action="append", default=[], metavar="CONTEXT=HOST:PORT", help="where a context is served"
        )
        parser.add_argument("--listen", default="8080", help="nginx: the listen directive's address")
        parser.add_argument("--server-name", default="_", help="nginx: server_name")
        parser.add_argument("--connect-timeout", type=float, default=2.0, help="nginx: seconds to connect upstream")
        parser.add_argument("--read-timeout", type=float, default=60.0, help="nginx: seconds to wait for an answer")
        parser.add_argument("--host", default=None, help="ingress: the rule's host")
        parser.add_argument("--ingress-class", default=None, help="ingress: spec.ingressClassName")
        parser.add_argument("--name", default="shop", help="ingress: metadata.name")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            upstreams = dict(item.split("=", 1) for item in options["upstream"])
            topology = gateway.Topology(default=options["default"], upstreams=upstreams)
            routes = gateway.context_routes()
            if options["format"] == "nginx":
                text = gateway.nginx(
                    routes,
                    topology,
                    listen=options["listen"],
                    server_name=options["server_name"],
                    connect_timeout_s=options["connect_timeout"],
                    read_timeout_s=options["read_timeout"],
                )
            else:
                text = gateway.ingress(
                    routes, topology, name=options["name"], host=options["host"], ingress_class=options["ingress_class"]
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(text, ending="")
