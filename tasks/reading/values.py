"""Missing values out of pandas: NaN (or None) to None, so callers test one thing."""

from __future__ import annotations

import math
from typing import SupportsFloat


def opt_float(x: object) -> float | None:
    """A number, or None where pandas holds NaN or nothing."""
    if x is None:
        return None
    if not isinstance(x, SupportsFloat | str):
        raise TypeError(f"not a number: {type(x).__name__}")
    v = float(x)
    return None if math.isnan(v) else v


def opt_text(x: object) -> str | None:
    """A text cell, or None where pandas holds a missing value."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)
