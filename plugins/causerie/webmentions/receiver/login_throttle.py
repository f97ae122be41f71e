"""Limits on failed /admin log-ins that slow guessing without locking anyone out.

Issue 13 item 7: a per-address limit that also refused the *right* secret let
anyone behind the same address (an office, a proxy) lock the moderators out,
and nothing bounded guesses spread over many addresses. Here:

- The secret is always compared first, in constant time; the limits only
  shape the answer.
- Per address: after ``per_address`` failures within ``window`` seconds, each
  further failure is answered 429 with a ``Retry-After`` that doubles (1, 2,
  4 … seconds, at most the window), and until that time has passed an
  attempt from the address is not tried at all (the same 429, right secret or
  wrong): a delay, never a lock-out. The right secret after the wait logs in
  and clears the count. Guesses from one address are so bounded (about ten
  more in a window), and the attempts it makes while waiting are not counted
  in the global cap: one address, however fast, cannot reach it alone and
  lock out anyone else.
- Globally: at most ``global_failures`` failures per ``window`` are answered
  at all. Past that cap, every attempt from a browser that never logged in is
  answered the same 429, right secret or wrong, so nothing is learnt from it:
  guessing is bounded by the cap, whatever the number of addresses. A browser
  that logged in before (it holds the moderator's signed "device" cookie) is
  still let in with the right secret: the moderators keep their access during
  a flood. (The device cookie is the OWASP "device cookies" defence.)

The counts live in this process's memory: with several service processes
each counts on its own (see docs/webmentions.md, "Log-in limits").
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """How to answer one attempt: ``refused`` (429, say nothing about the
    secret) or, for a failure, the seconds to wait (0: a plain 403)."""

    refused: bool = False
    retry_after: int = 0
    #: Not tried: the address is still waiting out its delay (429, the same
    #: for the right secret and a wrong one).
    delayed: bool = False


class LoginThrottle:
    """Failed log-ins per address, per trusted device and in all (thread-safe)."""

    def __init__(
        self,
        per_address: int = 5,
        global_failures: int = 100,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_address = per_address
        self.global_failures = global_failures
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._by_key: dict[str, deque[float]] = {}
        #: When each limited address may try again.
        self._until: dict[str, float] = {}
        self._all: deque[float] = deque()

    def _recent(self, queue: deque[float], now: float) -> deque[float]:
        while queue and queue[0] <= now - self.window:
            queue.popleft()
        return queue

    def _count(self, key: str, now: float) -> int:
        queue = self._by_key.get(key)
        return len(self._recent(queue, now)) if queue is not None else 0

    def capped(self, device: str | None = None) -> bool:
        """Whether the global cap is reached for this attempt: always False
        for a trusted device that has not failed too often itself."""
        now = self.clock()
        with self._lock:
            if device is not None and self._count(f"device:{device}", now) < (
                self.per_address
            ):
                return False
            return len(self._recent(self._all, now)) >= self.global_failures

    def judge(self, address: str, right: bool, device: str | None = None) -> Answer:
        """Record one attempt (after the secret was compared) and say how to
        answer it. ``device``: the trusted-device cookie's id, if valid."""
        if self.capped(device):
            # Not counted: it was not answered, so it taught nothing.
            return Answer(refused=True, retry_after=self.retry_global())
        now = self.clock()
        with self._lock:
            # A browser that logged in before is limited by its own failures,
            # not by its address's: a guesser behind the same proxy does not
            # make a moderator wait.
            trusted = device is not None and (
                self._count(f"device:{device}", now) < self.per_address
            )
            limiter = f"device:{device}" if trusted else f"address:{address}"
            until = self._until.get(limiter, 0.0)
            if now < until:
                # Not tried, not counted: waiting is the only way forward.
                return Answer(retry_after=max(1, math.ceil(until - now)), delayed=True)
            self._until.pop(limiter, None)
            if right:
                self._by_key.pop(limiter, None)
                return Answer()
            self._all.append(now)
            keys = [f"address:{address}"]
            if device is not None:
                keys.append(f"device:{device}")
            for key in keys:
                self._by_key.setdefault(key, deque()).append(now)
            failures = self._count(limiter, now)
            if len(self._by_key) > 100_000:  # forget idle keys: bounded memory
                for key in [k for k, q in self._by_key.items() if not q]:
                    del self._by_key[key]
            over = failures - self.per_address
            if over <= 0:
                return Answer()
            delay = int(min(2 ** (over - 1), self.window))
            self._until[limiter] = now + delay
            if len(self._until) > 100_000:  # bounded memory
                for key in [k for k, t in self._until.items() if t <= now]:
                    del self._until[key]
        return Answer(retry_after=delay)

    def retry_global(self) -> int:
        """Seconds until the oldest counted failure leaves the window."""
        now = self.clock()
        with self._lock:
            queue = self._recent(self._all, now)
            if not queue:
                return 1
            return max(1, int(queue[0] + self.window - now) + 1)
