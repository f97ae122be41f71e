"""Assembling and running the receiver: ``publish mentions serve`` and ``work``."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from . import config, open_store, var_dir
from .app import Service, create_app
from .fetch import FetchPolicy
from .receive import RateLimiter
from .settings import ENV_ADMIN_SECRET
from .worker import Worker

log = logging.getLogger(__name__)


def fetch_policy(settings: dict[str, Any]) -> FetchPolicy:
    """The fetch policy of this site: the defaults, plus allowed networks."""
    return FetchPolicy(allow_networks=tuple(config(settings).fetch_allow_networks))


def make_notifier(settings: dict[str, Any], store: Any) -> Any:
    """The e-mail notifier, or None when e-mails are off or unconfigured."""
    cfg = config(settings)
    if not (cfg.notify and cfg.smtp_host):
        return None
    from .notify import Notifier

    return Notifier(cfg, store, settings)


def make_worker(settings: dict[str, Any], store: Any) -> Worker:
    return Worker(
        store,
        config(settings),
        Path(var_dir(settings)) / "avatars",
        fetch_policy(settings),
        make_notifier(settings, store),
    )


def make_service(settings: dict[str, Any], store: Any | None = None) -> Service:
    cfg = config(settings)
    store = store or open_store(settings)
    from .hooks import approval_hook

    return Service(
        store=store,
        settings=cfg,
        limiter=RateLimiter(cfg.rate_limit_per_minute),
        admin_secret=os.environ.get(ENV_ADMIN_SECRET) or None,
        notify=make_notifier(settings, store),
        on_approve=approval_hook(cfg, settings),
        clock=store.clock,
    )


def serve(
    settings: dict[str, Any],
    host: str,
    port: int,
    with_worker: bool = True,
    threads: int = 8,
) -> None:
    """Serve the endpoint (waitress) until Ctrl-C; verify in a thread too."""
    from waitress.server import create_server

    service = make_service(settings)
    app = create_app(service, config(settings).proxies)
    server = create_server(app, host=host, port=port, threads=threads, ident="Causerie")
    stop = threading.Event()
    worker_thread = None
    if with_worker:
        worker = make_worker(settings, service.store)
        worker_thread = threading.Thread(
            target=worker.run_forever, args=(stop,), daemon=True, name="verify"
        )
        worker_thread.start()
    try:
        server.run()
    finally:
        stop.set()
        if worker_thread:
            worker_thread.join(timeout=10)
