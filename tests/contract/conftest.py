import asyncio
import concurrent.futures

import pytest

from app.main import create_app
from app.settings import Settings
from tests.conftest import TenantKeys, new_tenant


@pytest.fixture(scope="session")
def openapi_document() -> dict:
    """The app's OpenAPI document, as `loyalty openapi` writes it (no database needed)."""
    return create_app(Settings(database_url="postgresql://unused@localhost/unused")).openapi()


@pytest.fixture(scope="session")
def fuzzed_tenant(database_url: str) -> TenantKeys:
    """A tenant of the fuzzer's own: what it writes (classes, settings) stays out of the demo
    tenant, which the live server's bootstrap key belongs to and `seed-demo` tests read."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, new_tenant(database_url)).result()
