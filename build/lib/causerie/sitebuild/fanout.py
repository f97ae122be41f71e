"""A build's pages rendered on every core.

Pelican renders and writes its pages one after another in one process, and
at 8,000 posts that is about half of a clean build (docs/PERFORMANCE.md,
"Building"). Once the site's model is built, every page is independent of
the others: :class:`~.writer.CauserieWriter` then collects each page (and
feed) as a task instead of rendering it, and :func:`run` forks worker
processes that inherit the whole model, copy-on-write, and share the tasks
with the build's own process. Nothing has to be sent to a worker; a worker
sends back only the log records it made, when it is done.

The output does not depend on the split. A task failing in a worker (a
template error) is run again in the build's process, which raises the very
error a serial build would; a worker that dies (killed, out of memory) has
its whole share run again in the build's process, with a warning. Warnings a
worker logs (a link to a missing file, found when a post's content is first
rendered) reach the build's handlers as if made there, so ``--strict`` sees
them.

Workers are forked only by a process with no other thread (forking a
threaded process can copy a lock that another thread holds: ``publish
serve`` renders in its own process, one page at a time).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any

log = logging.getLogger(__name__)

#: A page or a feed to write: everything it needs is in its closure.
Task = Callable[[], None]

#: Fewer tasks than this are run in the build's process (a fork and its
#: copy-on-write cost more than a few dozen small pages).
MIN_TASKS = 200


def usable_jobs(jobs: int) -> int:
    """``jobs`` if this process may fork workers, else 1."""
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    return jobs


class _Records(logging.Handler):
    """A worker's log records, kept to be sent when it is done (sending them
    one by one could fill the pipe while the build's process is busy with its
    own share, and stall the worker)."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Made picklable: the message formatted, the traceback as text.
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = record.getMessage(), None
        record.exc_info = None
        self.records.append(record)


def _keep_records() -> _Records:
    """In a worker: every logger's output goes to one list instead."""
    handler = _Records()
    for logger in logging.root.manager.loggerDict.values():
        if isinstance(logger, logging.Logger) and logger.handlers:
            logger.handlers = []
            # Its records reach the root's handler here, and its own
            # handlers again when the build's process replays them.
            logger.propagate = True
    logging.root.handlers = [handler]
    return handler


def _work(conn: Connection, share: list[tuple[int, Task]]) -> None:
    records = _keep_records()
    # The model is the parent's: never scan it for cycles again here (a
    # collection would also touch, and so copy, every page of it).
    gc.freeze()
    failed: tuple[int, str] | None = None
    for index, task in share:
        try:
            task()
        except Exception:
            failed = (index, traceback.format_exc())
            break
    conn.send((records.records, failed))
    conn.close()


def run(tasks: Sequence[Task], jobs: int, what: str = "pages") -> None:
    """Run every task once, shared between this process and ``jobs - 1``
    forked workers; return when all are done."""
    jobs = min(usable_jobs(jobs), len(tasks))
    if jobs < 2 or len(tasks) < MIN_TASKS:
        for task in tasks:
            task()
        return
    log.debug("sitebuild: %d %s rendered by %d processes", len(tasks), what, jobs)
    ctx = multiprocessing.get_context("fork")
    numbered = list(enumerate(tasks))
    workers: list[tuple[Connection, Any, list[tuple[int, Task]]]] = []
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the workers would print what is buffered again
    # Objects that exist now are left alone by the workers' collections, so
    # the pages holding them stay shared (gc.freeze's documented use).
    gc.freeze()
    try:
        for w in range(1, jobs):
            receiver, sender = ctx.Pipe(duplex=False)
            # Every jobs-th task: list pages and post pages are mixed evenly.
            share = numbered[w::jobs]
            process = ctx.Process(
                target=_work,
                args=(sender, share),
                name=f"sitebuild-render-{w}",
                daemon=True,
            )
            process.start()
            sender.close()  # the worker holds the only write end
            workers.append((receiver, process, share))
    finally:
        gc.unfreeze()
    try:
        for _index, task in numbered[0::jobs]:
            task()
    except BaseException:
        for receiver, process, _share in workers:
            process.terminate()
            process.join()
            receiver.close()
        raise
    for receiver, process, share in workers:
        _finish(receiver, process, share, tasks, what)


def _finish(
    receiver: Connection,
    process: Any,
    share: list[tuple[int, Task]],
    tasks: Sequence[Task],
    what: str,
) -> None:
    try:
        records, failed = receiver.recv()
    except (EOFError, OSError):
        records, failed = None, None
    receiver.close()
    process.join()
    for record in records or ():
        logging.getLogger(record.name).handle(record)
    if records is None:
        log.warning(
            "sitebuild: a process rendering %s stopped (exit code %s); its "
            "share is rendered again in the build's process",
            what,
            process.exitcode,
        )
        for _index, task in share:
            task()
        return
    if failed is not None:
        index, worker_traceback = failed
        # The same task, here: raises the error a serial build would have.
        tasks[index]()
        raise RuntimeError(
            f"rendering {what} failed in a worker process, but not again in "
            f"the build's process:\n{worker_traceback}"
        )
