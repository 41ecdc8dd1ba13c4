import pytest

from app.main import create_app
from app.settings import Settings


@pytest.fixture(scope="session")
def openapi_document() -> dict:
    """The app's OpenAPI document, as `loyalty openapi` writes it (no database needed)."""
    return create_app(Settings(database_url="postgresql://unused@localhost/unused")).openapi()
