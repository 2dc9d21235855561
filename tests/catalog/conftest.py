"""Fixtures shared by the catalog tests."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.test import Client

from shop.registry.router import alias_for_context
from shop.users.models import User


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[[], AbstractContextManager[Any]]:
    """Run what a write registered for "after commit" (the cache bump, the outbox relay), as a real
    commit would: the test's own transaction never commits."""

    def run() -> AbstractContextManager[Any]:
        return django_capture_on_commit_callbacks(using=alias_for_context("catalog"), execute=True)

    return run


@pytest.fixture
def staff_user() -> User:
    return User.objects.create_superuser("staff@example.com", "staff-pass-123456")


@pytest.fixture
def browser(staff_user: User) -> Client:
    """A staff member logged in to the admin."""
    client = Client()
    client.force_login(staff_user)
    return client
