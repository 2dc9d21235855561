"""Both Kustomize overlays build, pass the Kubernetes schema (strict), and say what the design says: probes on
/healthz and /readyz, requests, a non-root read-only container, HPA and PDB for web and workers, /internal/
admitted from the shop's pods only, the split services found by Service name, the private key in main only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from shop.registry.transport import gateway
from tests.deploy.conftest import K8S, kustomize

KUBERNETES_VERSION = "1.33.0"  # the oldest release still supported upstream when this was written
OVERLAYS = ("monolith", "split")


@pytest.fixture(scope="module", params=OVERLAYS)
def built(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, kustomize(K8S / "overlays" / request.param)


def of_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def containers(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            pod = doc["spec"]["template"]["spec"]
            for container in pod["containers"]:
                yield doc["metadata"]["name"], pod, container


def env_of(docs: list[dict[str, Any]], container: dict[str, Any]) -> dict[str, str]:
    """A container's settings: its ConfigMaps (envFrom) and its plain env entries."""
    maps = of_kind(docs, "ConfigMap")
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values |= maps[source["configMapRef"]["name"]]["data"]
    values |= {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}
    return values


def test_every_resource_passes_the_kubernetes_schema(built: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = built
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_schema_check_catches_a_misspelled_field() -> None:
    """Proves the check above can fail: strict validation refuses a field the API does not have."""
    docs = kustomize(K8S / "overlays" / "monolith")
    web = of_kind(docs, "Deployment")["web"]
    web["spec"]["replica"] = web["spec"].pop("replicas")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, KUBERNETES_VERSION, strict=True)


def test_every_container_is_probed_sized_and_locked_down(built: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = built
    for name, pod, container in containers(docs):
        assert container["image"] == "registry.example.com/shop:0.1.0", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        role = container["args"][0]
        if role in ("web", "internal"):
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["startupProbe"]["httpGet"]["path"] == "/healthz", name
        if role != "migrate":
            assert env_of(docs, container)["SHOP_WAIT_FOR_MIGRATIONS"], name  # they start after the Job


def test_web_and_workers_scale_and_survive_disruptions(built: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = built
    deployments = of_kind(docs, "Deployment")
    hpas = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in of_kind(docs, "HorizontalPodAutoscaler").values()}
    pdb_selectors = [pdb["spec"]["selector"]["matchLabels"] for pdb in of_kind(docs, "PodDisruptionBudget").values()]
    for name, deployment in deployments.items():
        role = deployment["spec"]["template"]["spec"]["containers"][0]["args"][0]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        protected = any(selector.items() <= labels.items() for selector in pdb_selectors)
        if role in ("web", "internal", "worker"):
            assert name in hpas and protected, name
        if role == "beat":  # exactly one scheduler per service, never two during a rollout
            assert deployment["spec"]["replicas"] == 1 and deployment["spec"]["strategy"]["type"] == "Recreate"
            assert name not in hpas
    for service in of_kind(docs, "Service").values():
        selected = [
            d
            for d in deployments.values()
            if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(selected) == 1, service["metadata"]["name"]


def test_internal_is_reachable_from_the_shops_pods_only(built: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = built
    policy = of_kind(docs, "NetworkPolicy")["internal-from-shop-only"]
    selected = policy["spec"]["podSelector"]["matchLabels"]
    ((peer,),) = [rule["from"] for rule in policy["spec"]["ingress"]]
    internal = [
        d
        for d in of_kind(docs, "Deployment").values()
        if d["spec"]["template"]["spec"]["containers"][0]["args"] == ["internal"]
    ]
    assert internal and all(selected.items() <= d["spec"]["template"]["metadata"]["labels"].items() for d in internal)
    admitted = peer["podSelector"]["matchLabels"]
    for owner in docs:
        if owner["kind"] in ("Deployment", "Job"):
            labels = owner["spec"]["template"]["metadata"]["labels"]
            assert admitted.items() <= labels.items(), owner["metadata"]["name"]
    # The public listener never has /internal/ routes, the internal one has nothing else (shop/urls.py).
    roles = {c["args"][0]: c for _, _, c in containers(docs)}
    assert roles["web"]["args"] == ["web"] and roles["internal"]["args"] == ["internal"]


def test_the_split_services_find_each_other_by_service_name() -> None:
    docs = kustomize(K8S / "overlays" / "split")
    services = {name: svc["spec"]["ports"][0]["port"] for name, svc in of_kind(docs, "Service").items()}
    for name, _, container in containers(docs):
        settings = env_of(docs, container)
        for context, binding in json.loads(settings.get("SHOP_CONTEXTS", "{}")).items():
            for url in binding["URLS"]:
                host, port = url.removeprefix("http://").split(":")
                assert services.get(host) == int(port), (name, context, url)
                assert host.endswith("internal"), (name, context, url)  # the internal listener, not the public one
    migrations = {env_of(docs, c)["SHOP_MIGRATE_DATABASE"] for n, _, c in containers(docs) if c["args"][0] == "migrate"}
    assert migrations == {"default", "payments", "notifications"}
    # Customers' tokens are minted by main alone: the split-out services hold the public keys only.
    for name, _, container in containers(docs):
        files = {e["name"] for e in container["env"]}
        assert "JWT_PUBLIC_KEYS_FILE" in files, name
        assert ("JWT_PRIVATE_KEY_FILE" in files) == (not name.startswith(("payments-", "notifications-"))), name
        own_database = {"payments-": "SHOP_DB_PAYMENTS_FILE", "notifications-": "SHOP_DB_NOTIFICATIONS_FILE"}
        for prefix, variable in own_database.items():
            assert (variable in files) == name.startswith(prefix), name


@pytest.mark.parametrize(
    ("path", "upstreams"),
    [
        ("base/ingress.yaml", {}),
        ("overlays/split/ingress.yaml", {"payments": "payments-web:8000", "notifications": "notifications-web:8000"}),
    ],
)
def test_the_ingress_is_the_one_generated_from_the_urlconf(path: str, upstreams: dict[str, str]) -> None:
    """The routes changed if this fails: `make gateway-files` regenerates the committed files."""
    expected = gateway.ingress(gateway.context_routes(), gateway.Topology(default="web:8000", upstreams=upstreams))
    assert (K8S / path).read_text() == expected, f"{path} is stale: make gateway-files"


def test_the_committed_ingress_routes_to_services_of_the_build() -> None:
    docs = kustomize(K8S / "overlays" / "split")
    services = of_kind(docs, "Service")
    paths = of_kind(docs, "Ingress")["shop"]["spec"]["rules"][0]["http"]["paths"]
    backends = {p["path"]: p["backend"]["service"]["name"] for p in paths}
    assert backends["/api/v1/payments/"] == "payments-web" and backends["/"] == "web"
    assert set(backends.values()) <= set(services)
    assert not any(p.startswith("/internal") for p in backends)


def test_generated_ingress_files_say_how_to_regenerate() -> None:
    for path in (K8S / "base" / "ingress.yaml", K8S / "overlays" / "split" / "ingress.yaml"):
        assert Path(path).read_text().startswith("# Generated by `manage.py gateway_config --format ingress`")
