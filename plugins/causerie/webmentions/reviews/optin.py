"""Which posts take ratings (pure): ``Reviews: on`` / ``off`` in a post's
metadata, else its category in WEBMENTIONS["reviews"]."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

ON = frozenset({"on", "yes", "true", "1", "oui"})
OFF = frozenset({"off", "no", "false", "0", "non"})


def takes_reviews(post: Any, categories: Collection[str]) -> bool:
    """Does ``post`` (a Pelican article) offer a rating in its form?

    A value of ``Reviews:`` that is neither on nor off is ignored (the
    linter names it), so the category decides.
    """
    value = str(getattr(post, "reviews", "") or "").strip().lower()
    if value in ON:
        return True
    if value in OFF:
        return False
    category = getattr(post, "category", None)
    name = str(getattr(category, "name", category or ""))
    wanted = {c.casefold() for c in categories}
    return bool(name) and name.casefold() in wanted
