"""Tasks enqueued by name (``registry.task``) exist under that name in every process: a typo would
otherwise surface only as a queued email or webhook that nobody sends until a sweep."""

from __future__ import annotations

import pytest

from shop import registry
from shop.notifications.services import SEND_TASK
from shop.payments.services.webhooks import PROCESS_TASK
from shop.registry.bus import DELIVER_TASK


@pytest.mark.parametrize("name", [SEND_TASK, PROCESS_TASK, DELIVER_TASK])
def test_every_task_named_by_a_module_below_it_is_registered(name: str) -> None:
    assert registry.task(name).name == name


def test_an_unknown_name_is_an_error_not_a_silent_send() -> None:
    with pytest.raises(KeyError):
        registry.task("shop.notifications.no_such_task")
