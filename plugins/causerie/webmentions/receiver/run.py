"""Assembling and running the receiver: ``publish mentions serve`` and ``work``."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from causerie.settings import site_dir
from causerie.smtp import SmtpClient, smtp_password, smtp_settings
from causerie.webmentions.fetch import FetchPolicy
from causerie.webmentions.receiver.app import Service, create_app
from causerie.webmentions.receiver.request_checks import RateLimiter
from causerie.webmentions.settings import config, moderator_secrets, var_dir
from causerie.webmentions.store import open_store
from causerie.webmentions.store.writer_process import (
    LOG_FORMAT,
    WriterClient,
    WriterProcess,
)
from causerie.webmentions.verify.queue import Worker

log = logging.getLogger(__name__)

#: sys.setswitchinterval() of a process serving the endpoint (see start()).
SWITCH_INTERVAL = 0.0005


def service_logging(level: int = logging.INFO) -> None:
    """Log the service's work to stderr, one timestamped line per event.

    Pelican's logger class (set globally when Pelican is imported) drops any
    message it has seen before and keeps every one in memory: right for a
    build, wrong for a long-running service, where "refused: …" must be
    logged each time. Our loggers get that filter removed.
    """
    # Our own handler, not the root's: a build in the same process (publish
    # serve --mentions) keeps Pelican's quiet console.
    top = logging.getLogger("causerie.webmentions")
    top.setLevel(level)
    if not any(isinstance(h, logging.StreamHandler) for h in top.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        top.addHandler(handler)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if name.startswith("causerie.webmentions") and isinstance(
            logger, logging.Logger
        ):
            for flt in list(logger.filters):
                logger.removeFilter(flt)


def fetch_policy(settings: dict[str, Any]) -> FetchPolicy:
    """The fetch policy of this site: the defaults, plus allowed networks."""
    return FetchPolicy(allow_networks=tuple(config(settings).fetch_allow_networks))


def make_notifier(settings: dict[str, Any], store: Any) -> Any:
    """The e-mail notifier, or None when e-mails are off or unconfigured."""
    cfg = config(settings)
    smtp = smtp_settings(settings, cfg, "WEBMENTIONS")
    if not (cfg.notify and smtp.host):
        return None
    from causerie.webmentions.verify.notify import Notifier

    return Notifier(cfg, store, settings, SmtpClient(smtp, smtp_password()))


def make_worker(settings: dict[str, Any], store: Any) -> Worker:
    return Worker(
        store,
        config(settings),
        Path(var_dir(settings)) / "avatars",
        fetch_policy(settings),
        make_notifier(settings, store),
    )


def make_service(
    settings: dict[str, Any], store: Any | None = None, writer: Any = None
) -> Service:
    cfg = config(settings)
    store = store or open_store(settings)
    from causerie.webmentions.receiver.approval_hook import approval_hook

    return Service(
        store=store,
        settings=cfg,
        limiter=RateLimiter(cfg.rate_limit_per_minute),
        moderators=moderator_secrets(cfg),
        notify=make_notifier(settings, store),
        on_approve=approval_hook(cfg, settings),
        clock=store.clock,
        avatars_dir=Path(var_dir(settings)) / "avatars",
        site_url=settings.get("SITEURL") or None,
        default_lang=str(settings.get("DEFAULT_LANG") or "en"),
        writer=writer,
    )


class Running:
    """A receiver serving from background threads (see :func:`start`)."""

    def __init__(
        self,
        server: Any,
        stop: threading.Event,
        threads: list[threading.Thread],
        writer: WriterProcess | None = None,
    ) -> None:
        self.server = server
        self._stop = stop
        self._threads = threads
        #: The process storing the endpoint's mentions (SQLite), if any.
        self.writer = writer

    def wait(self) -> None:
        """Serve until Ctrl-C (or :meth:`close` from another thread)."""
        self._stop.wait()

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.writer is not None:
            self.writer.close()


def start(
    settings: dict[str, Any],
    host: str,
    port: int,
    with_worker: bool = True,
    threads: int = 8,
    on_approve: Callable[[], None] | None = None,
) -> Running:
    """Start the endpoint (waitress) and, unless told not to, a verifying
    worker, each in a background thread. ``on_approve`` replaces the
    configured hook (``publish serve --mentions`` rebuilds the preview)."""
    from causerie.webmentions.receiver import admin, form  # noqa: F401 (their loggers exist before service_logging)
    from causerie.webmentions.receiver.http_server import create_server

    service_logging()
    # The thread committing a group of mentions gives up the GIL at each
    # SQLite call and must then win it back from threads running Python;
    # only after the default 5 ms may it ask for it. Under load a commit of
    # ~0.3 ms took 5 ms, with the request threads waiting on it
    # (bench/mentions.py, alternating runs: 580-810 requests/s with 5 ms,
    # 1040-1310 with 0.5 ms). The price: more switches between threads
    # running Python.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # Waitress logs a "Task queue depth" warning whenever every thread is
    # busy, which for this service, whose threads wait for their commit, is
    # nearly always under load: a log write (and GIL hand-offs) per request
    # that says nothing new (bench/mentions.py).
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    store = open_store(settings)
    writer = None
    if store.engine.dialect.name == "sqlite":
        # The endpoint's commits in a process of their own (see .writer);
        # PostgreSQL keeps the group commit in this process.
        url = config(settings).database_url(site_dir(settings))
        writer = WriterProcess(url, Path(var_dir(settings)))
        writer.start()
    try:
        service = make_service(settings, store, writer and WriterClient(writer))
        if on_approve:
            service.on_approve = on_approve
        app = create_app(service, config(settings).proxies)
        # Guarded against slow and greedy clients (issue 13 item 4).
        server = create_server(app, host, port, threads, config(settings))
    except BaseException:
        if writer is not None:
            writer.close()
        raise
    stop = threading.Event()
    http = threading.Thread(target=server.run, daemon=True, name="http")
    http.start()
    workers = []
    if with_worker:
        worker = make_worker(settings, service.store)
        workers.append(
            threading.Thread(
                target=worker.run_forever, args=(stop,), daemon=True, name="verify"
            )
        )
        workers[0].start()
    return Running(server, stop, workers, writer)


def serve(
    settings: dict[str, Any],
    host: str,
    port: int,
    with_worker: bool = True,
    threads: int = 8,
) -> None:
    """Serve the endpoint until Ctrl-C; verify in a thread too."""
    running = start(settings, host, port, with_worker, threads)
    try:
        running.wait()
    finally:
        running.close()
