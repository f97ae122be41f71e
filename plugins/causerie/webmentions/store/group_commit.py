"""Group commit: many request threads, one transaction and one disk sync.

The endpoint's hot path (bench/mentions.py): each ``POST /webmention`` waits
until its row is committed, since a 202 is only sent for a stored mention;
batching those commits is what makes the receiver fast.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from causerie.webmentions.errors import StoreError
from causerie.webmentions.store.mention_store import Store

log = logging.getLogger(__name__)

Item = tuple[str, str, str | None]  # source, target, client
_WAITING, _LEAD, _DONE = 0, 1, 2


class _Waiter:
    """One caller's place in a group commit."""

    __slots__ = ("error", "item", "mention_id", "state", "wake")

    def __init__(self, item: Item) -> None:
        self.item = item
        # Held from the start; released once, by whoever settles this
        # waiter or makes it the leader: the cheapest wake-up there is.
        self.wake = threading.Lock()
        self.wake.acquire()
        self.state = _WAITING
        self.mention_id = 0
        self.error: BaseException | None = None


class GroupCommit:
    """Queues webmentions from many request threads with few disk syncs.

    Each caller waits until its row is committed (a 202 is only ever sent for
    a stored mention). There is no writer thread: a caller that finds no
    commit in progress becomes the leader, commits everything waiting
    (its own row included) in one transaction, wakes the callers it
    committed for, and hands the lead to the first caller that arrived
    meanwhile, if any. Under load one sync serves several requests; alone,
    a request commits its own row in its own thread, with no hand-off.

    (A writer thread with a Future per request cost two thread wake-ups and
    as many GIL hand-offs per request: bench/mentions.py.)
    """

    def __init__(
        self,
        store: Store,
        batch: int = 256,
        on_commit: Callable[[list[Item], list[int]], None] | None = None,
    ) -> None:
        self.store = store
        self.batch = batch
        #: Called by the leader with each committed batch and its ids, once
        #: its callers are woken (the endpoint logs them there).
        self.on_commit = on_commit
        self._lock = threading.Lock()  # guards the three below
        self._pending: list[_Waiter] = []
        self._leading = False  # a leader is committing, or has been named

    def enqueue(
        self, source: str, target: str, client: str | None = None, timeout: float = 30.0
    ) -> int:
        """Queue one webmention; its id once committed (raises if not stored).

        ``timeout``: how long to wait for another caller's commit; then
        TimeoutError (the mention may or may not have been stored).
        """
        me = _Waiter((source, target, client))
        with self._lock:
            self._pending.append(me)
            lead = not self._leading
            self._leading = True
        if not lead:
            if not me.wake.acquire(timeout=timeout):
                with self._lock:
                    if me.state == _WAITING:
                        if me in self._pending:  # never taken: never stored
                            self._pending.remove(me)
                        raise TimeoutError("the group commit took too long")
                # Settled or made leader just as the wait ended: go on.
            if me.state == _DONE:
                if me.error is not None:
                    # A new exception per caller, the commit's as its cause:
                    # raising the one object in many threads would grow its
                    # traceback concurrently.
                    raise StoreError(
                        f"the webmention was not stored: {me.error}"
                    ) from me.error
                return me.mention_id
        self._lead(me)
        if me.error is not None:
            raise me.error
        return me.mention_id

    def _lead(self, me: _Waiter) -> None:
        """Commit what is waiting (``me``, the caller, among it), settle it."""
        with self._lock:
            batch = self._pending[: self.batch]
            del self._pending[: self.batch]
        error: BaseException | None = None
        ids: list[int] = []
        try:
            ids = self.store.enqueue_many([w.item for w in batch])
        except BaseException as exc:  # every waiting caller learns it failed
            error = exc
        with self._lock:
            for position, waiter in enumerate(batch):
                if error is None:
                    waiter.mention_id = ids[position]
                waiter.error = error
                waiter.state = _DONE
            successor = self._pending[0] if self._pending else None
            if successor is None:
                self._leading = False
            else:
                successor.state = _LEAD
        for waiter in batch:
            if waiter is not me:  # the leader is awake
                waiter.wake.release()
        if successor is not None:
            successor.wake.release()
        if error is None and self.on_commit is not None:
            try:
                self.on_commit([w.item for w in batch], ids)
            except Exception:  # the rows are stored: the leader's reply stands
                log.exception("group commit: on_commit failed")
