"""The gateway configuration cannot drift from the code: every route of the URLconf, walked here one by one,
is sent by the generated nginx file to the service that serves the route's context (``make e2e`` then runs
the journey through that very file)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from django.urls.resolvers import RegexPattern

from shop.registry.contexts import CONTEXTS
from shop.registry.transport import gateway

SPLIT = gateway.Topology(
    default="127.0.0.1:8100", upstreams={"payments": "127.0.0.1:8101", "notifications": "127.0.0.1:8102"}
)
NGINX = Path("/usr/sbin/nginx")
CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(sample path, pattern, callback) of every view; converters filled with plausible values."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            sample = CONVERTER.sub(lambda m: "1" if m.group(1) in ("int", None) else "sample-value", route)
            yield "/" + sample, pattern, pattern.callback


def context_of_view(callback: Any) -> str | None:
    model_admin = getattr(callback, "model_admin", None)
    if model_admin is not None:
        label = model_admin.model._meta.app_label
        return label if label in CONTEXTS else None
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback
    parts = view.__module__.split(".")
    return parts[1] if parts[0] == "shop" and parts[1] in CONTEXTS else None


def parse(config: str) -> tuple[dict[str, str], dict[str, str]]:
    """(upstream name → address, location prefix → upstream name or the literal answer)."""
    upstreams = dict(re.findall(r"upstream (\w+) \{\s+server (\S+);", config))
    locations: dict[str, str] = {}
    for prefix, body in re.findall(r"location (/\S*) \{(.*?)\n    \}", config, re.S):
        target = re.search(r"proxy_pass http://(\w+);", body)
        locations[prefix] = target.group(1) if target else re.search(r"return (\d+)", body).group(1)  # type: ignore[union-attr]
    return upstreams, locations


def routed_to(config: str, url: str) -> str:
    """Where nginx sends ``url``: the longest matching prefix location (no regex locations are generated)."""
    upstreams, locations = parse(config)
    prefix = max((p for p in locations if url.startswith(p)), key=len)
    target = locations[prefix]
    return upstreams.get(target, f"answers {target}")


def test_every_route_goes_to_the_service_of_its_context() -> None:
    config = gateway.nginx(gateway.context_routes(), SPLIT)
    checked: dict[str | None, int] = {}
    for url, pattern, callback in walk(get_resolver().url_patterns):
        if isinstance(pattern.pattern, RegexPattern):  # the admin's app index and catch-all: checked below
            continue
        if pattern.name == "internal-call":
            assert routed_to(config, url) == "answers 404", url
            continue
        context = context_of_view(callback)
        assert routed_to(config, url) == SPLIT.address(context), (url, context)
        checked[context] = checked.get(context, 0) + 1
    # The walk saw the routes it is about: each context with a public API or admin pages, and the edge's own.
    assert set(checked) == {None, *CONTEXTS}, checked
    assert routed_to(config, "/admin/payments/") == "127.0.0.1:8101"
    assert routed_to(config, "/admin/") == routed_to(config, "/static/admin/css/base.css") == "127.0.0.1:8100"


def test_a_route_added_to_the_urlconf_is_routed_without_touching_the_generator() -> None:
    """The routes come from include()s, and a context's broad prefix is listed one segment deeper."""
    patterns = [
        path("api/v1/", include("shop.users.urls")),
        path("api/v1/catalog/", include("shop.catalog.urls")),
        path("api/v2/payments/", include("shop.payments.urls")),
        path("healthz", lambda request: None),
    ]
    routes = gateway.context_routes(patterns)
    api = sorted((r.prefix, r.context) for r in routes if r.prefix.startswith("/api/"))
    assert api == [
        ("/api/v1/auth/", "users"),
        ("/api/v1/catalog/", "catalog"),
        ("/api/v1/users/", "users"),
        ("/api/v2/payments/", "payments"),
    ]
    assert routed_to(gateway.nginx(routes, SPLIT), "/api/v2/payments/1/") == "127.0.0.1:8101"


def test_a_split_service_that_does_not_answer_gets_the_shops_own_problem() -> None:
    """The body nginx returns is the one the app gives for ContextUnavailable (kernel.problems)."""
    config = gateway.nginx(gateway.context_routes(), SPLIT)
    block = re.search(r"location @unavailable_payments \{(.*?)\n    \}", config, re.S)
    assert block is not None
    assert "default_type application/problem+json;" in block.group(1)
    assert "add_header Retry-After 5 always;" in block.group(1)
    assert '"code":"context_unavailable"' in block.group(1) and '"context":"payments"' in block.group(1)
    assert re.search(r"location /api/v1/payments/ \{[^}]*error_page 502 503 504 =503 @unavailable_payments;", config)


def test_the_generated_file_is_valid_nginx(tmp_path: Path) -> None:
    if not NGINX.exists():
        if os.environ.get("SHOP_REQUIRE_SERVICES") == "1":
            pytest.fail("Debian's nginx is missing (make gateway-nginx installs it)")
        pytest.skip("Debian's nginx is missing (make gateway-nginx installs it)")
    (tmp_path / "gateway.conf").write_text(gateway.nginx(gateway.context_routes(), SPLIT, listen="127.0.0.1:1"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{ include {tmp_path}/gateway.conf; }}\n"
    )
    result = subprocess.run(
        [str(NGINX), "-t", "-q", "-e", "stderr", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_command_refuses_an_unknown_context_and_a_process_serving_only_some_contexts(settings: Any) -> None:
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="unknown context 'pricing-engine'"):
        call_command("gateway_config", "--format=nginx", "--default=main:8000", "--upstream=pricing-engine=x:1")
    settings.SHOP_SERVE = ["payments"]
    with pytest.raises(CommandError, match="unset SHOP_SERVE"):
        call_command("gateway_config", "--format=nginx", "--default=main:8000")
