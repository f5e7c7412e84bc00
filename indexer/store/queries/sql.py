"""Small dialect differences of the hand-written lineage SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["MAX_DEPTH", "dialect_name", "position_function"]

#: the longest chain walked up or down; a cycle in bad data ends earlier, with a note
MAX_DEPTH = 32


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def position_function(session: AsyncSession) -> str:
    """The 1-based substring position function: ``strpos`` (PostgreSQL) or ``instr`` (SQLite)."""
    return "strpos" if dialect_name(session) == "postgresql" else "instr"
