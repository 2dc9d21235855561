"""``manage.py contexts``: what an operator sees for each context's binding, database, health and breaker."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from shop.kernel import ContextUnavailable
from shop.registry.contexts import CONTEXTS
from shop.registry.router import alias_for_context
from shop.registry.transport import lookup
from shop.users.api import UsersAPI
from tests.contracts.kit import LoopbackServer, closed_port


def _run() -> dict[str, list[str]]:
    """The command's rows keyed by context, each split into its columns."""
    out = io.StringIO()
    call_command("contexts", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:4] == ["context", "binding", "database", "breaker"]
    return {line.split()[0]: line.split() for line in lines[1:]}


@override_settings(SHOP_CONTEXTS={})  # every context local by default, also under SHOP_REMOTE_CONTEXTS=all
def test_local_bindings_are_listed_with_their_database() -> None:
    rows = _run()

    assert set(rows) == set(CONTEXTS)
    assert rows["users"] == ["users", "local", alias_for_context("users"), "-"]


def test_a_remote_binding_shows_health_per_url_and_a_closed_breaker() -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    with LoopbackServer(status=503) as sick:
        config = {"BACKEND": "remote", "URLS": [dead, sick.url], "CONNECT_TIMEOUT": 0.5}
        with override_settings(SHOP_CONTEXTS={"users": config}):
            row = " ".join(_run()["users"])

    assert row.startswith("users remote - closed ")
    assert f"{dead} [down (ConnectError)]" in row
    assert f"{sick.url} [HTTP 503]" in row


def test_a_remote_binding_served_in_process_is_up() -> None:
    config = {"BACKEND": "remote", "URLS": ["http://testserver"], "TRANSPORT": "wsgi"}
    with override_settings(SHOP_CONTEXTS={"users": config}):
        row = _run()["users"]
    assert row == ["users", "remote", "-", "closed", "http://testserver", "[up]"]


def test_an_open_breaker_is_shown() -> None:
    config = {"BACKEND": "remote", "URLS": [f"http://127.0.0.1:{closed_port()}"], "RETRIES": 1, "BREAKER_FAIL_MAX": 1}
    with override_settings(SHOP_CONTEXTS={"users": config}):
        with pytest.raises(ContextUnavailable):
            lookup.get(UsersAPI).get_user(user_id=1)

        assert _run()["users"][:4] == ["users", "remote", "-", "open"]
