"""Every contract suite runs twice: against the in-process implementation and over HTTP."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["local", "http"])
def binding(request: pytest.FixtureRequest) -> str:
    """Which side of the contract a suite's API fixture hands out (see ``kit.bound``)."""
    return str(request.param)
