"""``docs/context-map.md`` is generated from the code (imports of other contexts' APIs, registered
subscriptions) and must stay true: regenerate it when a call or a subscription changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def context_map(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_DB_") and k != "SHOP_REMOTE_CONTEXTS"}
    return subprocess.run(
        [sys.executable, "manage.py", "context_map", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_committed_context_map_is_what_the_code_says() -> None:
    result = context_map("--check", "docs/context-map.md")
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_map_shows_calls_and_events_read_from_the_code(tmp_path: Path) -> None:
    text = context_map().stdout
    assert "| orders | payments |" in text  # orders calls PaymentsAPI (pay, refund)
    assert "| `PaymentSucceeded` | payments | orders | `order_paid` |" in text
    assert "\n| payments | orders |" not in text  # payments never calls up (rule C3): no such call row
    stale = tmp_path / "map.md"
    stale.write_text(text.replace("order_paid", "someone_else"))
    assert context_map("--check", str(stale)).returncode != 0
