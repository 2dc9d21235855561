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


def periodic_jobs() -> list[tuple[str, str]]:
    import importlib

    from shop.registry.contexts import CONTEXTS

    jobs = []
    for context in CONTEXTS:
        module = importlib.import_module(f"shop.{context}.periodic")
        for name, (task, _) in {**module.PERIODIC, **getattr(module, "WITH_SIMULATED_GATEWAY", {})}.items():
            jobs.append((name, task))
    return jobs


@pytest.mark.parametrize(("job", "name"), periodic_jobs())
def test_every_periodic_job_a_context_declares_runs_a_registered_task(job: str, name: str) -> None:
    assert registry.task(name).name == name, job


def test_the_beat_schedule_is_built_from_the_contexts_declarations() -> None:
    from django.conf import settings as django_settings

    declared = {job for job, _ in periodic_jobs()}
    assert declared <= set(django_settings.CELERY_BEAT_SCHEDULE)
    assert django_settings.CELERY_BEAT_SCHEDULE["retry-owed-refunds"]["task"] == "shop.orders.retry_owed_refunds"
