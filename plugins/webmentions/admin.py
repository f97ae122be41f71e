"""The moderation pages (/admin). Placeholder until the pages are written."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import Rule


def routes() -> list[tuple[Rule, Any]]:
    return []
