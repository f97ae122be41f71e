"""Assembly: the pipeline of a site, from its Pelican settings and the
environment (the CLI's one call; the adapters get it as their ``Ingest``)."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from authoring import registry_for
from causerie_settings import site_dir

from . import config
from .ledger import Ledger
from .pipeline import Pipeline, site_from_settings
from .reply import smtp_mailer
from .settings import ENV_SMTP_PASSWORD, MailSettings

log = logging.getLogger(__name__)


def publish_hook(cfg: MailSettings, cwd: str) -> Callable[[], None] | None:
    """Runs ``on_publish`` (no shell) in the site's directory, or None."""
    if not cfg.on_publish:
        return None
    command = list(cfg.on_publish)

    def run() -> None:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=900
        )
        if result.returncode:
            log.error(
                "mail: on_publish %s exited %s: %s",
                command[0],
                result.returncode,
                result.stderr[-2000:],
            )

    return run


def make_pipeline(
    settings: dict[str, Any], environ: Mapping[str, str] | None = None
) -> Pipeline:
    """The pipeline of the site whose Pelican ``settings`` are given."""
    env = dict(os.environ if environ is None else environ)
    cfg = config(settings)
    root = site_dir(settings)
    site = site_from_settings(settings, root)
    return Pipeline(
        cfg,
        site,
        registry_for(settings),
        Ledger(Path(root) / "var" / "mail" / "ledger.sqlite3"),
        mailer=smtp_mailer(cfg, env.get(ENV_SMTP_PASSWORD)),
        hook=publish_hook(cfg, root),
        environ=env,
    )
