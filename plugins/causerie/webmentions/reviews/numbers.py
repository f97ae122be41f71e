"""Ratings written for people (pure): stars and numbers in a language."""

from __future__ import annotations

from babel.numbers import format_decimal


def stars_text(stars: float, best: int = 5) -> str:
    """ "★★★★☆" for 4.3: full stars rounded to the nearest (half up)."""
    full = max(0, min(best, int(stars + 0.5)))
    return "★" * full + "☆" * (best - full)


def decimal(value: float, lang: str) -> str:
    """4.25 → "4,3" in French, "4.3" in English (one decimal, half up)."""
    try:
        return format_decimal(round(value + 1e-9, 1), format="0.0", locale=lang)
    except (ValueError, LookupError):  # an unknown language code
        return f"{round(value + 1e-9, 1):.1f}"


def number(value: float, lang: str) -> str:
    """A rating as written: 4 → "4", 4.5 → "4,5" in French, "4.5" in English."""
    if float(value).is_integer():
        return str(int(value))
    try:
        return format_decimal(value, format="0.##", locale=lang)
    except (ValueError, LookupError):
        return f"{value:g}"
