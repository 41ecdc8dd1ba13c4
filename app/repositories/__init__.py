"""Data access: an AsyncSession in, domain objects out. Flush, never commit."""
