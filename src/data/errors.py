"""One exception type for bad input, so entry points can print a clear message instead of a traceback."""

from __future__ import annotations

from collections.abc import Sequence


class DataError(ValueError):
    """Input that cannot be used; the message names the file, the column and the rows."""


def format_rows(rows: Sequence[int], limit: int = 8) -> str:
    """Human-readable list of 1-based file line numbers (header is line 1)."""
    rows = list(rows)
    shown = ", ".join(str(r) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"{shown}{more}"
