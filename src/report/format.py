"""Numbers as the report prints them: integers with separators, floats to a sensible precision."""

from __future__ import annotations

import math


def fmt_value(value: object) -> str:
    """`28,356`, `0.412`, `12.3`, `n/a` for NaN; what is not a number as it is."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    v = float(value)
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3f}"


def fmt_minutes(seconds: float) -> str:
    """`3:07` for a track length."""
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"
