from __future__ import annotations

import pytest

from shop.catalog.api import CatalogAPI
from tests.contracts.kit import bound


@pytest.fixture
def catalog_api(binding: str, db: None) -> CatalogAPI:
    return bound(CatalogAPI, binding)
