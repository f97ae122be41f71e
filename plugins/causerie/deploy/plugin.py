"""As a Pelican plugin: a misspelt DEPLOY key fails the build, not the deploy."""

from __future__ import annotations

from typing import Any

from pelican import signals

from .run import config


def _check_settings(pelican: Any) -> None:
    config(pelican.settings)


def register() -> None:
    signals.initialized.connect(_check_settings)
