"""The public entry point of a split shop, generated from the URLconf (``manage.py gateway_config``).

Which context serves a path is read from the root URLconf itself: each ``include()`` of ``shop.<ctx>.urls…``
and each context's admin pages (``/admin/<ctx>/``); everything else (landing page, health, JWKS, schema, admin
index and login, static files) goes to the default service. Where a context's prefix is a prefix of another's
(users' ``/api/v1/``), its routes are listed one segment deeper (``/api/v1/auth/``, ``/api/v1/users/``). The
deployment says only which address serves which context. ``/internal/`` is never routed from outside.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from django.urls import URLPattern, URLResolver, get_resolver

from shop.kernel.errors import ContextUnavailable
from shop.kernel.problems import problem, problem_for_unavailable
from shop.registry.contexts import CONTEXTS

RETRY_AFTER_S = 5
_ADDRESS = re.compile(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")  # a Kubernetes Service name (RFC 1035 label)


@dataclass(frozen=True, order=True)
class Route:
    prefix: str  # "/api/v1/catalog/"
    context: str


def context_of_include(resolver: URLResolver) -> str | None:
    urlconf = resolver.urlconf_name
    name = urlconf if isinstance(urlconf, str) else getattr(urlconf, "__name__", "")
    parts = name.split(".")
    return parts[1] if len(parts) >= 3 and parts[0] == "shop" and parts[1] in CONTEXTS else None


def _head(route: str) -> str | None:
    """The first literal segment of a route ("auth/register/" → "auth/"), or None if it starts with a converter."""
    segment = route.split("/", 1)[0]
    return f"{segment}/" if segment and "<" not in segment and "/" in route else None


def context_routes(patterns: Iterable[URLPattern | URLResolver] | None = None) -> list[Route]:
    """Every path prefix of a context, from the URLconf of a process serving every context."""
    from django.conf import settings

    if patterns is None:
        if settings.SHOP_SERVE:
            raise ValueError("read the routes where every context is served: unset SHOP_SERVE")
        patterns = get_resolver().url_patterns
    includes: list[tuple[str, str, URLResolver]] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver) and (context := context_of_include(pattern)) is not None:
            includes.append((str(pattern.pattern), context, pattern))
    routes: set[Route] = {Route(f"/admin/{context}/", context) for context in CONTEXTS}
    for prefix, context, resolver in includes:
        shadows = any(other != prefix and other.startswith(prefix) for other, _, _ in includes)
        heads = {_head(str(child.pattern)) for child in resolver.url_patterns} if shadows else {None}
        if None in heads:  # a child starting with a converter: the whole prefix is this context's
            heads = {""}
        routes |= {Route(f"/{prefix}{head}", context) for head in heads if head is not None}
    return sorted(routes)


@dataclass(frozen=True)
class Topology:
    """Where each context is served: ``default`` for every context not named in ``upstreams`` and for the
    shop's own edge; addresses are ``host:port`` (a Kubernetes Service name and port for an Ingress)."""

    default: str
    upstreams: Mapping[str, str]

    def __post_init__(self) -> None:
        for context, address in {"default": self.default, **self.upstreams}.items():
            if context != "default" and context not in CONTEXTS:
                raise ValueError(f"unknown context {context!r}: one of {', '.join(CONTEXTS)}")
            if not _ADDRESS.match(address):
                raise ValueError(f"{context}: {address!r} is not host:port")

    def address(self, context: str | None) -> str:
        return self.upstreams.get(context or "", self.default)

    def upstream_name(self, context: str | None) -> str:
        """One upstream per address, named after the first context served there (or ``default``)."""
        address = self.address(context)
        if address == self.default:
            return "shop_default"
        first = next(ctx for ctx in CONTEXTS if self.upstreams.get(ctx) == address)
        return f"shop_{first}"


def _nginx_string(value: dict[str, Any]) -> str:
    text = json.dumps(value, separators=(",", ":"))
    assert "'" not in text and "$" not in text and "\\" not in text, text  # our own problem bodies: plain text
    return f"'{text}'"


def _unavailable(context: str | None) -> dict[str, Any]:
    if context is None:
        return problem(
            status=503,
            code="service_unavailable",
            title="The shop is temporarily unavailable",
            detail=f"Please retry in {RETRY_AFTER_S} seconds.",
        )
    return problem_for_unavailable(ContextUnavailable(context, "gateway: no answer", retry_after=RETRY_AFTER_S))


def nginx(
    routes: list[Route],
    topology: Topology,
    *,
    listen: str = "8080",
    server_name: str = "_",
    connect_timeout_s: float = 2.0,
    read_timeout_s: float = 60.0,
    max_body: str = "10m",
) -> str:
    """An ``http``-level nginx file (``conf.d/``): upstreams, and one server routing by longest prefix; when a
    service does not answer, its routes get problem+json 503 from the gateway itself, the others still work."""
    lines = [
        "# Generated by `manage.py gateway_config --format nginx` from shop's URLconf: regenerate, do not edit.",
        "# Routes: "
        + ", ".join(f"{r.prefix} -> {r.context}" for r in routes if topology.address(r.context) != topology.default),
        "map $http_x_request_id $shop_request_id {",
        '    "~^[A-Za-z0-9._-]{1,128}$" $http_x_request_id;',
        "    default $request_id;",
        "}",
    ]
    upstreams = {topology.upstream_name(None): topology.default}
    upstreams |= {topology.upstream_name(ctx): address for ctx, address in topology.upstreams.items()}
    for name, address in upstreams.items():
        lines += [f"upstream {name} {{", f"    server {address};", "    keepalive 16;", "}"]
    lines += [
        "server {",
        f"    listen {listen};",
        f"    server_name {server_name};",
        f"    client_max_body_size {max_body};",
        "    proxy_http_version 1.1;",
        '    proxy_set_header Connection "";',
        "    proxy_set_header Host $http_host;",
        "    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "    proxy_set_header X-Forwarded-Proto $scheme;",
        "    proxy_set_header X-Request-ID $shop_request_id;",
        f"    proxy_connect_timeout {connect_timeout_s:g}s;",
        f"    proxy_read_timeout {read_timeout_s:g}s;",
        f"    proxy_send_timeout {read_timeout_s:g}s;",
        "    proxy_next_upstream off;  # never send a request twice (a payment): the client retries with its key",
        "",
        "    location /internal/ {  # context-to-context calls never come through the public entry point",
        "        default_type application/problem+json;",
        f"        return 404 {_nginx_string(problem(status=404, code='not_found', title='Not found'))};",
        "    }",
    ]
    located: list[tuple[str, str | None]] = [(route.prefix, route.context) for route in routes]
    for prefix, context in [*located, ("/", None)]:
        fallback = f"@unavailable_{context}" if context else "@unavailable"
        lines += [
            f"    location {prefix} {{",
            f"        proxy_pass http://{topology.upstream_name(context)};",
            f"        error_page 502 503 504 =503 {fallback};",
            "    }",
        ]
    for context in [None, *sorted({ctx for _, ctx in located if ctx})]:
        lines += [
            f"    location {'@unavailable_' + context if context else '@unavailable'} {{",
            "        default_type application/problem+json;",
            f"        add_header Retry-After {RETRY_AFTER_S} always;",
            "        add_header X-Request-ID $shop_request_id always;",
            f"        return 503 {_nginx_string(_unavailable(context))};",
            "    }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def ingress(
    routes: list[Route],
    topology: Topology,
    *,
    name: str = "shop",
    host: str | None = None,
    ingress_class: str | None = None,
) -> str:
    """A networking.k8s.io/v1 Ingress with the same routes, to Services named by the topology's hosts."""

    def backend(context: str | None) -> dict[str, Any]:
        service, port = topology.address(context).rsplit(":", 1)
        if not _SERVICE_NAME.match(service):
            raise ValueError(f"{service!r} is not a Kubernetes Service name")
        return {"service": {"name": service, "port": {"number": int(port)}}}

    # A route to the default Service is what "/" does already: only the others are listed.
    split_out = [r for r in routes if topology.address(r.context) != topology.default]
    paths = [{"path": r.prefix, "pathType": "Prefix", "backend": backend(r.context)} for r in split_out]
    paths.append({"path": "/", "pathType": "Prefix", "backend": backend(None)})
    rule: dict[str, Any] = {"http": {"paths": paths}}
    if host:
        rule = {"host": host, **rule}
    spec: dict[str, Any] = {"rules": [rule]}
    if ingress_class:
        spec = {"ingressClassName": ingress_class, **spec}
    document = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": "shop"}},
        "spec": spec,
    }
    header = (
        "# Generated by `manage.py gateway_config --format ingress` from shop's URLconf: regenerate, do not edit.\n"
        "# /internal/ is not routed: it is not on the public listener (SHOP_LISTENER=public) the backends run.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False)
