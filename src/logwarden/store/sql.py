"""SQL text helpers shared by everything that writes SQL for the case database."""

from __future__ import annotations


def sql_str(value: str) -> str:
    """A SQL string literal: the value, quotes doubled. (Log values are bound as parameters;
    this is for text logwarden itself chose, such as JSON paths and file paths.)"""
    return "'" + value.replace("'", "''") + "'"
