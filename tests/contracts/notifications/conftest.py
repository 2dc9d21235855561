from __future__ import annotations

import pytest

from shop.notifications.api import NotificationsAPI
from tests.contracts.kit import bound


@pytest.fixture
def notifications_api(binding: str, db: None) -> NotificationsAPI:
    return bound(NotificationsAPI, binding)
