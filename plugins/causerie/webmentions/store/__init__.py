"""The mention store: its tables, migrations, writer process and imports."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any

from causerie.settings import site_dir
from causerie.webmentions.settings import config
from causerie.webmentions.store.mention_store import Store, _now

__all__ = ["Store", "open_store"]


def open_store(
    settings: dict[str, Any], clock: Callable[[], dt.datetime] | None = None
) -> Store:
    """Open (and migrate) the mention store named by Pelican ``settings``."""
    url = config(settings).database_url(site_dir(settings))
    if url.startswith("sqlite:///"):
        os.makedirs(os.path.dirname(url[len("sqlite:///") :]) or ".", exist_ok=True)
    return Store.open(url, clock or _now)
