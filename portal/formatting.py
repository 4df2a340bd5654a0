"""Number formats shared by the portal's template filters (one place for '—' and the layouts)."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

MISSING = "—"

_FORMATS = {
    "pct": "{:.{d}%}",
    "signed_pct": "{:+.{d}%}",
    "signed": "{:+,.2f}",
    "money": "{:,.2f}",
    "odds": "{:.2f}",
    "int": "{:,.0f}",
    "num": "{:.4f}",
}


def number_or_none(value: Any) -> float | None:
    """A finite number from an int, float, Decimal or numeric string; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(str(value)) if isinstance(value, str) else value)
    except (TypeError, ValueError, InvalidOperation):
        return None
    return number if math.isfinite(number) else None


def format_number(value: Any, kind: str, *, digits: int = 1) -> str:
    """``kind`` is one of pct, signed_pct, signed, money, odds, int, num (the default)."""
    number = number_or_none(value)
    if number is None:
        return MISSING
    return _FORMATS.get(kind, _FORMATS["num"]).format(number, d=int(digits))
