"""Deployment: the built site goes live as a new release, atomically.

- :mod:`.releases` — pure: release ids, order, what a rollback goes to, what is pruned
- :mod:`.local`, :mod:`.remote` — the targets: a directory here, a host over SSH (rsync)
- :mod:`.run` — a deployment and a rollback over a target, one at a time per site
- :mod:`.chain` — ``publish publish``: mail → build → deploy → webmentions
"""

from __future__ import annotations

from typing import Any

from .run import (
    DeployReport,
    config,
    deploy,
    make_target,
    rollback,
    site_dir,
    site_lock,
)
from .settings import DeployError, DeploySettings

__all__ = [
    "DeployError",
    "DeployReport",
    "DeploySettings",
    "config",
    "deploy",
    "make_target",
    "register",
    "rollback",
    "site_dir",
    "site_lock",
]


def _check_settings(pelican: Any) -> None:
    config(pelican.settings)


def register() -> None:
    """As a Pelican plugin: a misspelt DEPLOY key fails the build, not the deploy."""
    from pelican import signals

    signals.initialized.connect(_check_settings)
