"""Database URLs in whatever form an operator writes them, mapped to the asyncio drivers."""

_ASYNC_DRIVERS = (
    ("postgres://", "postgresql+asyncpg://"),
    ("postgresql://", "postgresql+asyncpg://"),
    ("postgresql+psycopg2://", "postgresql+asyncpg://"),
    ("postgresql+psycopg://", "postgresql+asyncpg://"),
    ("sqlite:///", "sqlite+aiosqlite:///"),
)


def async_url(url: str) -> str:
    """The same database, through the asyncio driver the bot uses (asyncpg or aiosqlite)."""
    for plain, driver in _ASYNC_DRIVERS:
        if url.startswith(plain):
            return driver + url[len(plain):]
    return url
