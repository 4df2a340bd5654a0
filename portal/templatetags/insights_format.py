"""Number formats for the insight pages: percentages, signed values, credits and odds."""

from __future__ import annotations

import math
from typing import Any

from django import template

register = template.Library()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


@register.filter
def metric(value: Any, kind: str) -> str:
    """``{{ value|metric:"pct" }}``: pct, signed_pct, signed, money, odds, int or num; '—' when missing."""
    number = _number(value)
    if number is None:
        return "—"
    formats = {
        "pct": lambda v: f"{v:.1%}",
        "signed_pct": lambda v: f"{v:+.1%}",
        "signed": lambda v: f"{v:+,.2f}",
        "money": lambda v: f"{v:,.2f}",
        "odds": lambda v: f"{v:.2f}",
        "int": lambda v: f"{v:,.0f}",
        "num": lambda v: f"{v:.4f}",
    }
    return formats.get(kind, formats["num"])(number)


@register.filter
def sign_class(value: Any) -> str:
    """'good' above zero, 'bad' below, '' otherwise (for colouring ROI and profit)."""
    number = _number(value)
    if number is None or number == 0:
        return ""
    return "good" if number > 0 else "bad"
