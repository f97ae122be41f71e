"""Deployment: the built site goes live as a new release, atomically.

- :mod:`.releases` — pure: release ids, order, what a rollback goes to, what is pruned
- :mod:`.local`, :mod:`.remote` — the targets: a directory here, a host over SSH (rsync)
- :mod:`.run` — a deployment and a rollback over a target, one at a time per site
- :mod:`.plugin` — as a Pelican plugin: DEPLOY checked when a build starts

(``publish publish``, mail → build → deploy → webmentions, is
:mod:`causerie.cli.chain`.)
"""

from __future__ import annotations

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


def register() -> None:
    """Pelican's entry point (PLUGINS = ["causerie.deploy"])."""
    from . import plugin

    plugin.register()
