"""Assembly: the pipeline of a site, from its Pelican settings and the
environment (the CLI's one call; the adapters get it as their ``Ingest``)."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from causerie.authoring import registry_for
from causerie.settings import site_dir
from causerie.smtp import smtp_password, smtp_settings

from .ledger import Ledger
from .pipeline import Pipeline, site_from_settings
from .reply import smtp_mailer
from .scrub import Scrubber
from .settings import MailSettings, config

log = logging.getLogger(__name__)

#: One line per event, with its time: what a service's log needs.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Hidden(logging.Filter):
    """Removes the authors' secrets from every line the handler writes (the
    pipeline's own lines are scrubbed already; this guards the others)."""

    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a bad format: the handler reports it itself
            return True
        hidden = self.scrubber.text(text)
        if hidden != text:
            record.msg, record.args = hidden, None
        return True


def service_logging(
    level: int = logging.INFO, environ: Mapping[str, str] | None = None
) -> logging.Handler:
    """Log posting by e-mail to stderr at ``level``, for the long-running
    commands (`mail serve`): one INFO line per mail handled ("mail <id>:
    published posts/… (url)"), warnings for what is held or refused.

    Without it only warnings would show (Python's last-resort handler), and
    Pelican's logger class, set when Pelican is imported, drops a message
    it has seen before: right for a build, wrong for a service. Our own
    handler on "causerie.mailposts", not the root's: a build in the same process
    keeps Pelican's console. The secrets of ``environ`` (default: the
    process's) never appear in a line. Returns the handler (a test removes
    it)."""
    top = logging.getLogger("causerie.mailposts")
    top.setLevel(level)
    handler = next(
        (h for h in top.handlers if getattr(h, "_causerie_service", False)), None
    )
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._causerie_service = True  # type: ignore[attr-defined]
        top.addHandler(handler)
    for old in list(handler.filters):
        handler.removeFilter(old)
    env = os.environ if environ is None else environ
    handler.addFilter(_Hidden(Scrubber.from_environ(env)))
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("causerie.mailposts") and isinstance(logger, logging.Logger):
            for flt in list(logger.filters):
                logger.removeFilter(flt)
    return handler


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
        mailer=smtp_mailer(
            smtp_settings(settings, cfg, "MAILPOSTS"), smtp_password(env)
        ),
        hook=publish_hook(cfg, root),
        environ=env,
    )
