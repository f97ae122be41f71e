"""What happens after moderators approve: run the configured rebuild command.

Approvals come in bursts (a moderator clears the queue); the command runs
once, a few seconds after the last approval, never twice at the same time.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from collections.abc import Callable
from typing import Any

from causerie.webmentions.settings import WebmentionSettings

log = logging.getLogger(__name__)


class Debounced:
    """Calls ``action`` once, ``delay`` seconds after the last ``trigger()``."""

    def __init__(self, action: Callable[[], None], delay: float = 5.0) -> None:
        self.action = action
        self.delay = delay
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()

    def trigger(self) -> None:
        with self._lock:
            if self._timer:
                self._timer.cancel()
            self._timer = threading.Timer(self.delay, self._run)
            self._timer.daemon = True
            self._timer.start()

    def _run(self) -> None:
        with self._running:
            self.action()


def run_command(command: tuple[str, ...], cwd: str) -> None:
    log.info("after approval: running %s", " ".join(command))
    try:
        result = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.error("after approval: %s failed: %s", command[0], exc)
        return
    if result.returncode:
        log.error(
            "after approval: %s exited %s: %s",
            command[0],
            result.returncode,
            result.stderr[-2000:],
        )


def approval_hook(
    cfg: WebmentionSettings, settings: dict[str, Any]
) -> Callable[[], None] | None:
    """The callable the service runs after approvals, or None if not configured."""
    if not cfg.on_approve:
        return None
    from causerie.settings import site_dir

    command, cwd = tuple(cfg.on_approve), site_dir(settings)
    return Debounced(lambda: run_command(command, cwd)).trigger
