"""The daily token housekeeping removes expired refresh tokens and keeps live ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from shop.users.tasks import flush_expired_tokens
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_flush_expired_tokens_drops_only_expired_ones(api_client):
    user = UserFactory()
    api_client.post("/api/v1/auth/token/", {"email": user.email, "password": UserFactory.PASSWORD})
    api_client.post("/api/v1/auth/token/", {"email": user.email, "password": UserFactory.PASSWORD})
    expired, live = OutstandingToken.objects.filter(user=user).order_by("id")
    expired.expires_at = timezone.now() - timedelta(days=1)
    expired.save(update_fields=["expires_at"])
    flush_expired_tokens.delay()
    assert list(OutstandingToken.objects.filter(user=user)) == [live]
