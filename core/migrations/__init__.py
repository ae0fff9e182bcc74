"""Alembic migrations of every twinning table (SQLite and PostgreSQL)."""
