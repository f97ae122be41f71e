"""Receiving a webmention: the request checks of §3.2.1, and flood control (pure).

The HTTP adapter (:mod:`causerie.webmentions.receiver.app`) calls :func:`check_request`; a refusal carries a
reason written for the person (or program) that sent the request.
"""

from __future__ import annotations

import ipaddress
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
#: C0 and C1 controls and DEL (NUL, BEL, ESC…): no URL contains them raw
#: (RFC 3986 §2 has no place for them), and printed in a log they are
#: terminal escapes (issue 13 item 6).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A host name's characters once split from the URL: letters and digits of
#: any script (IDN), "-", "_" (seen in the wild) and the dots between labels.
#: No "%": a percent-encoded host is refused, as browsers refuse one that
#: does not decode to a valid name.
_HOST_LABEL = re.compile(r"[\w-]+")


def _url(value: str | None, name: str) -> tuple[str, SplitResult] | Refused:
    if not value or not value.strip():
        return Refused(f"missing {name}: send both source and target, form-encoded")
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        return Refused(f"{name} is longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(value):
        return Refused(
            f"{name} contains control characters (NUL, ESC, DEL…): "
            f"send the URL as it is written, percent-encoded: {value!r}"
        )
    if "\ufffd" in value:
        # The form decoder puts U+FFFD where the body's bytes (raw or
        # %-escaped) were not UTF-8; a real URL never contains it.
        return Refused(
            f"{name} is not valid UTF-8: encode the form as UTF-8 "
            f"(application/x-www-form-urlencoded): {value!r}"
        )
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
    # The port as written: urlsplit().port accepts "8_0" and non-ASCII digits
    # (int() does) and raises for 65536; say which ports are valid instead.
    port = parts.netloc.rpartition("@")[2].rpartition("]")[2].partition(":")[2]
    if port and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        return Refused(
            f"{name} has an invalid port (a number from 1 to 65535): {value!r}"
        )
    problem = host_problem(parts.hostname)
    if problem:
        return Refused(f"{name} is not a valid URL: {problem}: {value!r}")
    return value, parts


def host_problem(host: str) -> str | None:
    """Why ``host`` (as urlsplit gives it) is not a host name, or None."""
    if ":" in host:  # an IPv6 literal; urlsplit checked its brackets
        address = host.split("%", 1)[0]  # fe80::1%eth0: a zone is allowed
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            return f"{host} is not an IPv6 address"
        return None
    name = host.removesuffix(".")
    # RFC 1035 §2.3.4: 253 characters, 63 per label (checked on the name as
    # written; punycode makes an IDN label longer, and DNS refuses it later).
    if len(name) > 253:
        return "the host name is longer than 253 characters"
    for label in name.split("."):
        if len(label) > 63:
            return "a label of the host name is longer than 63 characters"
        if not _HOST_LABEL.fullmatch(label):
            return f"{host} is not a host name"
    return None


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
