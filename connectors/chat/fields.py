"""Reading fields of a platform's JSON where any value may arrive: a field of the wrong type reads
as absent, never as an exception (the fuzz tests feed every reader arbitrary JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def scalar(value: Any) -> str | None:
    """A scalar as text (ids and timestamps are strings; numbers are accepted); else None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value) or None


def text(value: Any) -> str | None:
    """A non-empty string; anything else is None."""
    return value if isinstance(value, str) and value else None


def mapping(value: Any) -> dict[str, Any]:
    """An object, or an empty one."""
    return value if isinstance(value, dict) else {}


def count(value: Any) -> int:
    """A non-negative integer, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def iso_time(value: Any) -> datetime | None:
    """An ISO-8601 string (``Z`` read as UTC) as a datetime, naive when it names no zone; else None.
    What a naive moment means is the platform's to say."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
