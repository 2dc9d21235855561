"""Notifications test kit: a real SMTP server on loopback, and the real Celery worker of the event-bus
kit (``tests/registry/conftest.py``) also running the send task.

``shop.notifications.send_notification`` goes where the Celery routes say (``CELERY_TASK_ROUTES``: a
context's tasks on its queue, ``<SHOP_EVENT_QUEUE_PREFIX><context>``), else to the default queue. Both
are computed when settings load, so overriding ``SHOP_EVENT_QUEUE_PREFIX`` does not move them:
``run_queues`` points them at the run-unique queues the test's worker consumes, so a send (and its
retries) reaches that worker and never a shared queue on the broker that another process consumes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import Client

from shop.celery import app as celery_app
from tests.notifications.smtp import SmtpSink
from tests.orders.conftest import stocked as stocked  # noqa: PLC0414 (a fixture, re-exported)
from tests.registry.conftest import LiveBus
from tests.registry.conftest import _live_worker as _live_worker  # noqa: PLC0414 (a fixture, re-exported)
from tests.registry.conftest import live_bus as live_bus  # noqa: PLC0414 (a fixture, re-exported)
from tests.registry.conftest import retry_sweeper as retry_sweeper  # noqa: PLC0414 (a fixture, re-exported)

SEND_TASK = "shop.notifications.send_notification"
STAFF_PASSWORD = "a-long-enough-pass-42"


def smtp_settings(settings: Any, sink: SmtpSink) -> None:
    """Point Django's email at the sink, as ``EMAIL_URL=smtp://127.0.0.1:<port>`` would."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.release()
    sink.stop()


@pytest.fixture
def mail(smtp_sink: SmtpSink, settings: Any) -> SmtpSink:
    """The sink, with Django sending to it; retries fast (tests raise or lower the attempts)."""
    smtp_settings(settings, smtp_sink)
    settings.SHOP_EMAIL_RETRY_BACKOFF_S = 0.1
    settings.SHOP_EMAIL_MAX_ATTEMPTS = 5
    return smtp_sink


@contextmanager
def run_queues(prefix: str, default_queue: str) -> Iterator[None]:
    """Route this process's task messages to the run's queues: ``<queue>`` becomes ``<prefix><queue>``."""
    conf = celery_app.conf
    saved = {"task_routes": conf.task_routes, "task_default_queue": conf.task_default_queue}
    deployed = os.environ.get("SHOP_EVENT_QUEUE_PREFIX", "")  # what settings prefixed the routes with
    routes = conf.task_routes
    if isinstance(routes, dict):
        routes = {
            pattern: {**route, "queue": prefix + route["queue"].removeprefix(deployed)}
            if isinstance(route, dict) and isinstance(route.get("queue"), str)
            else route
            for pattern, route in routes.items()
        }
    conf.update(task_routes=routes, task_default_queue=default_queue)  # rebuilds the router
    try:
        yield
    finally:
        conf.update(saved)


@pytest.fixture(scope="module")
def _send_queue(_live_worker: LiveBus) -> Iterator[None]:
    with run_queues(_live_worker.prefix, _live_worker.default_queue):
        yield


@pytest.fixture
def live(live_bus: LiveBus, _send_queue: None, mail: SmtpSink, retry_sweeper: None) -> LiveBus:
    """The real broker and worker (queues purged), with email going to the sink and failed sends retried."""
    return live_bus


@pytest.fixture
def staff_client(client: Client, django_user_model: Any) -> Client:
    staff = django_user_model.objects.create_superuser("ops@example.com", STAFF_PASSWORD)
    client.force_login(staff)
    return client
