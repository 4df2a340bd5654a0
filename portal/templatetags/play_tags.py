"""Formatting for the betting pages (the dashboard's JavaScript formats the same way)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def pct(value: Any, digits: int = 1) -> str:
    """0.4567 -> '45.7%' ('—' for nothing)."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def signed_pct(value: Any) -> str:
    """An edge: 0.031 -> '+3.1%'."""
    if value is None or value == "":
        return "—"
    return f"{float(value) * 100:+.1f}%"


@register.filter
def odds(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):.2f}"


@register.filter
def credits(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.2f}"


@register.filter
def signed_credits(value: Any) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):+,.2f}"


@register.filter
def initials(name: str) -> str:
    parts = [part for part in str(name).split() if part]
    return "".join(part[0] for part in parts[:2]).upper() or "?"
