"""Receiving a webmention: the request checks of §3.2.1, and flood control (pure).

The HTTP adapter (:mod:`.app`) calls :func:`check_request`; a refusal carries a
reason written for the person (or program) that sent the request.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class Refused:
    """A request refused with 400 Bad Request, and why."""

    reason: str


@dataclass(frozen=True)
class Accepted:
    source: str
    target: str
    #: The source's host as :func:`.model.domain_of` gives it (read from the
    #: URL already split here: the endpoint needs it twice).
    source_domain: str = ""


# str.isspace()'s characters, which is what \s matches in a str pattern: one
# search in C rather than a Python generator over every character.
_SPACE = re.compile(r"\s")


def _url(value: str | None, name: str) -> tuple[str, SplitResult] | Refused:
    if not value or not value.strip():
        return Refused(f"missing {name}: send both source and target, form-encoded")
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        return Refused(f"{name} is longer than {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(value)
    except ValueError:
        return Refused(f"{name} is not a valid URL: {value!r}")
    if parts.scheme.lower() not in ("http", "https"):
        # §3.2.1: the receiver MUST check that source and target are valid
        # URLs and are of schemes that are supported (http and https here).
        return Refused(f"{name} must be an http or https URL, not {value!r}")
    if not parts.hostname or _SPACE.search(value):
        return Refused(f"{name} is not a valid URL: {value!r}")
    return value, parts


def without_fragment(url: str) -> str:
    return _unsplit_without_fragment(urlsplit(url))


def _unsplit_without_fragment(parts: SplitResult) -> str:
    return urlunsplit(parts._replace(fragment=""))


def check_request(
    source: str | None, target: str | None, is_target: Callable[[str], bool]
) -> Accepted | Refused:
    """Check a webmention request before it is queued (§3.2.1).

    ``is_target(url)`` tells whether ``url`` is a published post of this site.
    """
    checked_source = _url(source, "source")
    if isinstance(checked_source, Refused):
        return checked_source
    checked_target = _url(target, "target")
    if isinstance(checked_target, Refused):
        return checked_target
    # Each URL is split once (urlsplit was a third of the endpoint's checks).
    source_url, source_parts = checked_source
    # A target is a page of ours whatever its #fragment (a link to a comment).
    bare_target = _unsplit_without_fragment(checked_target[1])
    if _unsplit_without_fragment(source_parts) == bare_target:
        return Refused("source and target are the same URL")
    if not is_target(bare_target):
        return Refused(
            f"target {bare_target} is not a published post of this site; "
            "check the URL (webmentions are accepted for posts only)"
        )
    host = (source_parts.hostname or "").lower()  # as domain_of(source_url)
    return Accepted(source_url, bare_target, host.removeprefix("www."))


class RateLimiter:
    """At most ``limit`` hits per key in any ``window`` seconds (thread-safe).

    Kept in memory, per process: with several workers each counts on its
    own, so the effective limit is ``limit`` times the number of processes.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, *keys: str) -> bool:
        """Count one hit for every key; False if any key is over its limit."""
        now = self.clock()
        with self._lock:
            queues = [self._hits[k] for k in keys]
            for queue in queues:
                while queue and queue[0] <= now - self.window:
                    queue.popleft()
            if any(len(q) >= self.limit for q in queues):
                return False
            for queue in queues:
                queue.append(now)
            if len(self._hits) > 100_000:  # forget idle keys, bound memory
                for key in [k for k, q in self._hits.items() if not q]:
                    del self._hits[key]
            return True
