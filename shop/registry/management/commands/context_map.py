"""``manage.py context_map``: the context map, read from the code, as Markdown.

Calls are the imports of another context's ``api`` module (the only way one context may know
another, rule C2), read from the source with ``ast`` (no development tool at run time); events
are the registered subscriptions (``handlers.py``). ``--check`` compares with a written file, so a
test keeps ``docs/context-map.md`` true.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import shop
from shop.registry import bus
from shop.registry.contexts import CONTEXTS, api_module


def _imported(tree: ast.Module) -> set[str]:
    """Every module an import statement names (``from a import b`` names ``a`` and ``a.b``)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _calls() -> dict[tuple[str, str], list[str]]:
    package = Path(shop.__file__).parent
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for caller in CONTEXTS:
        for path in sorted((package / caller).rglob("*.py")):
            relative = path.relative_to(package / caller).with_suffix("").parts
            module = ".".join(relative[:-1] if relative[-1] == "__init__" else relative) or "(package)"
            imported = _imported(ast.parse(path.read_text(encoding="utf-8")))
            for callee in CONTEXTS:
                if callee != caller and api_module(callee) in imported:
                    found[(caller, callee)].append(module)
    return found


def _events() -> list[tuple[str, str, str, str]]:
    rows = []
    for subscription in bus._by_name.values():  # the registry's own table of subscriptions
        publisher = subscription.event_type.__module__.split(".")[1]
        handler = subscription.name.rsplit(".", 1)[-1]
        rows.append((publisher, subscription.event_type.__name__, subscription.context, handler))
    return sorted(rows)


def render() -> str:
    calls = _calls()
    events = _events()
    lines = [
        "# Context map",
        "",
        "Generated from the code by `python manage.py context_map --output docs/context-map.md`; do not edit by",
        "hand (a test fails when this file and the code disagree).",
        "",
        "## Calls: who uses whose API",
        "",
        "A call is an import of the callee's `api` module (its Protocol, DTOs, errors or events) and a",
        "`registry.get(<Ctx>API)` at run time: in-process, or HTTP when the callee is split out.",
        "",
        "| caller | callee | from modules |",
        "|---|---|---|",
    ]
    lines += [
        f"| {caller} | {callee} | {', '.join(f'`{m}`' for m in modules)} |"
        for (caller, callee), modules in sorted(calls.items())
    ]
    lines += [
        "",
        "## Events: who listens to what",
        "",
        "Published in the publisher's transaction (outbox), delivered at least once to the subscriber's",
        "queue, handled once (inbox).",
        "",
        "| event | published by | handled by | handler |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| `{event}` | {publisher} | {subscriber} | `{handler}` |" for publisher, event, subscriber, handler in events
    ]
    lines += [
        "",
        "## Picture",
        "",
        "Solid: calls. Dashed: events (publisher to subscriber).",
        "",
        "```mermaid",
        "flowchart TD",
    ]
    lines += [f"    {caller} --> {callee}" for caller, callee in sorted(calls)]
    event_edges = sorted({(publisher, subscriber) for publisher, _, subscriber, _ in events})
    lines += [f"    {publisher} -.-> {subscriber}" for publisher, subscriber in event_edges]
    lines += ["```", ""]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Write the context map (calls and events between contexts, read from the code) as Markdown."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", help="write to this file instead of standard output")
        parser.add_argument("--check", help="exit with an error if this file is not what the code says")

    def handle(self, *args: Any, **options: Any) -> None:
        text = render()
        if options["check"]:
            if Path(options["check"]).read_text() != text:
                raise CommandError(
                    f"{options['check']} is out of date: run manage.py context_map --output {options['check']}"
                )
            self.stdout.write("context map is up to date")
        elif options["output"]:
            Path(options["output"]).write_text(text)
        else:
            self.stdout.write(text, ending="")
