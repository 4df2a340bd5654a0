"""Number formats for the insight pages: percentages, signed values, credits and odds."""

from __future__ import annotations

from typing import Any

from django import template

from portal.formatting import format_number, number_or_none

register = template.Library()


@register.filter
def metric(value: Any, kind: str) -> str:
    """``{{ value|metric:"pct" }}``: pct, signed_pct, signed, money, odds, int or num; '—' when missing."""
    return format_number(value, kind)


@register.filter
def sign_class(value: Any) -> str:
    """'good' above zero, 'bad' below, '' otherwise (for colouring ROI and profit)."""
    number = number_or_none(value)
    if number is None or number == 0:
        return ""
    return "good" if number > 0 else "bad"
