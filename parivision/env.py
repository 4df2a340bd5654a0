"""Typed access to environment variables: the one place settings read the environment.

Every helper raises ``ImproperlyConfigured`` naming the variable when a value cannot be
parsed, so a typo in ``.env`` stops the process at start-up instead of surfacing later.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_dotenv_file(path: Path) -> None:
    """Read ``path`` (if present) into the environment without overriding real variables."""
    if path.is_file():
        from dotenv import load_dotenv

        load_dotenv(path, override=False)


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"The environment variable {name} must be set.")
        return default
    return value


def env_optional(name: str) -> str | None:
    return os.environ.get(name) or None


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false).")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}={number} is outside {minimum}..{maximum}.")
    return number


def env_float(name: str, default: float, *, minimum: float | None = None, maximum: float | None = None) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}={number} is outside {minimum}..{maximum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name) or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}.")
    return value


def env_json(name: str, default: dict[str, Any]) -> dict[str, Any]:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return dict(default)
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object, got {type(parsed).__name__}.")
    return parsed


def secret_key_weakness(key: str) -> str | None:
    """Why ``key`` is too weak for production, or None.

    Length alone is not enough (50 characters drawn from 5 pass it): the key must carry at
    least 192 bits by its character frequencies (Shannon entropy x length) and must not repeat
    itself (at least 90 % of its 4-character windows distinct), which a random key of 50+
    characters always does and a pattern or a phrase typed twice never does.
    """
    import math
    from collections import Counter

    if len(key) < 50:
        return f"it has {len(key)} characters (50 or more are needed)"
    if key.startswith(("insecure", "django-insecure", "change-me", "changeme")):
        return "it is a placeholder"
    counts = Counter(key)
    bits = -sum(n * math.log2(n / len(key)) for n in counts.values())
    if bits < 192:
        return f"it carries about {bits:.0f} bits of entropy ({len(counts)} distinct characters; 192 bits are needed)"
    windows = [key[i : i + 4] for i in range(len(key) - 3)]
    if len(set(windows)) < 0.9 * len(windows):
        return "it repeats itself"
    return None
