"""compose.yaml passes the Compose Specification's schema, and its split profile is wired as the design says."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shop.registry.transport import gateway
from tests.deploy.conftest import ROOT, tool

COMPOSE = ROOT / "compose.yaml"
SPLIT_ENV = ROOT / "deploy" / "compose" / "split.env"


def schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema with the copy of the Compose Specification schema it ships (vendor.compose-spec)."""
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def split_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in SPLIT_ENV.read_text().splitlines() if line and not line.startswith("#"))
    return {key: value.strip("'") for key, value in pairs}


def test_compose_file_passes_the_compose_schema() -> None:
    result = schema_check(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_wrong_compose_file(tmp_path: Path) -> None:
    """Proves the check above can fail: an unknown restart policy and a misspelled key."""
    broken = compose()
    broken["services"]["web"]["restart"] = 3
    broken["services"]["worker"]["comand"] = ["worker"]
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(broken))
    result = schema_check(tmp_path / "compose.yaml")
    assert result.returncode != 0 and "comand" in result.stdout + result.stderr


def test_every_secret_file_a_service_reads_is_mounted_there() -> None:
    document = compose()
    defined = set(document["secrets"])
    for name, service in document["services"].items():
        mounted = set(service.get("secrets", []))
        assert mounted <= defined, name
        for variable, value in (service.get("environment") or {}).items():
            if variable.endswith("_FILE"):
                assert value.removeprefix("/run/secrets/") in mounted, (name, variable)


def test_split_profile_gives_payments_and_notifications_their_own_services_and_databases() -> None:
    services = compose()["services"]
    split = {name for name, service in services.items() if "split" in service.get("profiles", [])}
    for context in ("payments", "notifications"):
        roles = {f"{context}-{role}" for role in ("migrate", "web", "internal", "worker", "beat")}
        assert roles <= split
        for role in roles:
            environment = services[role]["environment"]
            assert environment["SHOP_SERVE"] == context
            assert environment[f"SHOP_DB_{context.upper()}_FILE"] == f"/run/secrets/{context}_database_url"
            assert "JWT_PRIVATE_KEY_FILE" not in environment  # verify only: the public keys
        assert services[f"{context}-migrate"]["command"] == ["migrate", context]
    assert "JWT_PRIVATE_KEY_FILE" in services["web"]["environment"]
    assert split_env()["COMPOSE_PROFILES"] == "split"


def bindings(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(service, URL) of every remote binding in the file and in the split env file."""
    found = [("web", url) for b in json.loads(split_env()["SHOP_MAIN_CONTEXTS"]).values() for url in b["URLS"]]
    for name, service in document["services"].items():
        raw = (service.get("environment") or {}).get("SHOP_CONTEXTS", "")
        if raw and not raw.startswith("$"):
            found += [(name, url) for b in json.loads(raw).values() for url in b["URLS"]]
    return found


def test_remote_bindings_name_internal_listeners_that_exist() -> None:
    document = compose()
    found = bindings(document)
    assert len(found) >= 12
    for name, url in found:
        host = re.fullmatch(r"http://([a-z-]+):8000", url)
        assert host and host.group(1) in document["services"], (name, url)
        assert document["services"][host.group(1)]["command"] == ["internal"], (name, url)


def test_the_compose_gateway_is_the_one_generated_from_the_urlconf() -> None:
    expected = gateway.nginx(
        gateway.context_routes(),
        gateway.Topology(
            default="web:8000", upstreams={"payments": "payments-web:8000", "notifications": "notifications-web:8000"}
        ),
        listen="8080",
    )
    assert (ROOT / "deploy" / "compose" / "gateway.conf").read_text() == expected, (
        "deploy/compose/gateway.conf is stale: make gateway-files"
    )


@pytest.mark.parametrize("secret", ["jwt_private_key", "database_url", "secret_key"])
def test_secrets_are_generated_never_committed(secret: str) -> None:
    path = Path(compose()["secrets"][secret]["file"])
    assert path.parts[:3] == ("deploy", "compose", "secrets")
    ignored = subprocess.run(["git", "check-ignore", "-q", str(path)], cwd=ROOT, check=False)
    assert ignored.returncode == 0, f"{path} must be git-ignored"
