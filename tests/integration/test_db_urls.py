import pytest

from app.db import async_url, plain_url


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://u:p@h:5432/d",
        "postgresql+asyncpg://u:p@h:5432/d",
        "postgres://u:p@h:5432/d",
    ],
)
def test_database_urls_are_accepted_in_every_form(given):
    assert async_url(given) == "postgresql+asyncpg://u:p@h:5432/d"
    assert plain_url(given) == "postgresql://u:p@h:5432/d"


def test_socket_urls_keep_their_host_parameter():
    url = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert async_url(url) == "postgresql+asyncpg://postgres:@/postgres?host=%2Ftmp%2Fpg"


def test_other_databases_are_refused():
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        async_url("mysql://u@h/d")
