"""Small dialect differences of the hand-written lineage SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

__all__ = ["MAX_DEPTH", "position_function"]

#: the longest chain walked up or down; a cycle in bad data ends earlier, with a note
MAX_DEPTH = 32


def position_function(dialect: str) -> str:
    """The 1-based substring position function: ``strpos`` (PostgreSQL) or ``instr`` (SQLite)."""
    return "strpos" if dialect == "postgresql" else "instr"
