"""Formatting for the betting pages (the dashboard's JavaScript formats the same way)."""

from __future__ import annotations

from typing import Any

from django import template

from portal.formatting import format_number

register = template.Library()


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.4567 -> '45.7%' ('—' for nothing)."""
    return format_number(value, "pct", digits=digits)


@register.filter
def signed_pct(value: Any) -> str:
    """An edge: 0.031 -> '+3.1%'."""
    return format_number(value, "signed_pct")


@register.filter
def odds(value: Any) -> str:
    return format_number(value, "odds")


@register.filter
def credits(value: Any) -> str:
    return format_number(value, "money")


@register.filter
def signed_credits(value: Any) -> str:
    return format_number(value, "signed")


@register.filter
def initials(name: str) -> str:
    parts = [part for part in str(name).split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"
