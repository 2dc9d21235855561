from __future__ import annotations

import pytest

from shop.users.api import UsersAPI
from tests.contracts.kit import bound


@pytest.fixture
def users_api(binding: str, db: None) -> UsersAPI:
    return bound(UsersAPI, binding)
