"""The endpoint's SQLite writes in a process of their own.

``publish mentions serve`` answers ``POST /webmention`` with 202 only once
the mention's row is committed. Committed in the service process, a batch
took 2.5-6 ms under load, against ~0.3 ms in a quiet process: the committing
thread gave up the GIL at each SQLite call and had to win it back from
waitress's threads (docs/PERFORMANCE.md). Here the commits happen in a
writer process, which has a GIL of its own:

- each request thread of the service keeps its own connection to the writer
  (:class:`WriterClient`), sends (source, target, client) and blocks on the
  answer, the GIL released: no hand-off between threads of the service;
- the writer (:func:`run`) waits on all its connections at once, stores every
  request that is ready with one multi-row upsert and commit
  (:meth:`Store.enqueue_many`), then answers each with its id, or with an
  error (the endpoint then answers 503). It logs the "queued" lines;
- it exits when the service closes its stdin, which the kernel also does
  when the service dies, even by SIGKILL: no orphan writing forever;
- a writer that died makes requests fail (503, never a 202 for an unstored
  mention) and is started again by the first request that finds it dead
  (:meth:`WriterProcess.revive`).

Run as ``python -m causerie.webmentions.store.writer_process STORE_URL SOCKET`` by
:class:`WriterProcess`, the authentication key on its stdin.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Client, Connection, Listener, wait
from pathlib import Path
from typing import Any

from causerie.webmentions.errors import StoreError
from causerie.webmentions.logtext import loggable

# By name: run with -m, this module's __name__ is "__main__".
log = logging.getLogger("causerie.webmentions.store.writer_process")
#: The "queued" lines keep the logger name they had in the service process.
queued_log = logging.getLogger("causerie.webmentions.receiver.app")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: AF_UNIX paths are limited to 108 bytes (with the final NUL).
_MAX_SOCKET_PATH = 100
#: The writer is started again at most this often (a store that cannot be
#: opened would otherwise cost a process start per request).
RESTART_INTERVAL = 1.0
#: How long a failed request waits for the writer to exit before deciding it
#: is alive (the error was a passing one) and not starting another.
DEATH_WAIT = 2.0

Item = tuple[str, str, str | None]  # source, target, client
_LENGTH = struct.Struct("!i")  # multiprocessing.connection's message header
#: The writer's log handler (see log_queued).
_handler: logging.StreamHandler[Any] | None = None


# --- in the service process ------------------------------------------------


class WriterProcess:
    """Starts, stops and restarts the writer process of one store."""

    def __init__(self, url: str, socket_dir: Path, start_timeout: float = 60.0) -> None:
        self.url = url
        self.socket_dir = socket_dir
        self.start_timeout = start_timeout
        #: Only processes that know it may connect (the socket may also be
        #: reachable by other users of the machine).
        self.authkey = os.urandom(32)
        self.address: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._restarting = False
        self._started_at = -float("inf")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def _socket_path(self) -> str | None:
        path = str(self.socket_dir / f"writer-{os.getpid()}.sock")
        # None: multiprocessing picks a short path in a temporary directory.
        return path if len(path.encode()) <= _MAX_SOCKET_PATH else None

    def start(self) -> None:
        """Start the writer; return once it accepts connections.

        Raises StoreError if it cannot open the store or does not start.
        """
        self._started_at = time.monotonic()
        path = self._socket_path()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "causerie.webmentions.store.writer_process",
                self.url,
                path or "",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin and proc.stdout
        # The key on stdin, not in argv (which every user can read). stdin
        # then stays open: its end of file tells the writer to exit.
        proc.stdin.write(self.authkey.hex().encode() + b"\n")
        proc.stdin.flush()
        # Its first line on stdout: the address it listens on, once the
        # store is open. Read in a thread, to give up after a while.
        line: list[bytes] = []
        reader = threading.Thread(
            target=lambda: line.append(proc.stdout.readline()),  # type: ignore[union-attr]
            daemon=True,
        )
        reader.start()
        reader.join(self.start_timeout)
        address = line[0].decode().strip() if line else ""
        proc.stdout.close()
        if not address:
            proc.kill()
            proc.wait()
            raise StoreError(
                f"the mention writer did not start (exit code {proc.returncode}; "
                "see its error above)"
            )
        old, self.proc, self.address = self.proc, proc, address
        if old is not None:
            self._reap(old)

    def revive(self) -> None:
        """Start the writer again if it died (called after a failed request).

        In a thread: the request that noticed answers 503 right away.
        """
        with self._lock:
            if self._restarting or self.proc is None:
                return
            self._restarting = True
        threading.Thread(target=self._restart, daemon=True, name="writer").start()

    def _restart(self) -> None:
        try:
            proc = self.proc
            assert proc is not None
            # Dead, or a passing error? Wait a moment for it to exit rather
            # than trust one poll(): poll() answers None ("running") while
            # another thread holds Popen's waitpid lock, and a request can
            # fail just before the kernel has the process reaped (CI saw a
            # killed writer never started again).
            try:
                proc.wait(timeout=DEATH_WAIT)
            except subprocess.TimeoutExpired:
                return  # alive: a passing error
            log.error(
                "the mention writer (pid %s) exited with code %s: starting it again",
                proc.pid,
                proc.returncode,
            )
            time.sleep(max(0.0, self._started_at + RESTART_INTERVAL - time.monotonic()))
            self.start()
        except Exception:
            log.exception("the mention writer could not be started again")
        finally:
            with self._lock:
                self._restarting = False

    def close(self) -> None:
        """Stop the writer: it finishes the batch it is storing, then exits."""
        if self.proc is not None:
            self._reap(self.proc)

    @staticmethod
    def _reap(proc: subprocess.Popen[bytes]) -> None:
        if proc.stdin:
            with contextlib.suppress(OSError):  # it died: nothing to tell it
                proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class WriterClient:
    """The endpoint's side: queue a mention through the writer process.

    Each request thread has its own connection, opened on first use: a
    thread sends its request and blocks (GIL released) until the writer
    answers, with nothing shared between threads.
    """

    def __init__(self, process: WriterProcess, timeout: float = 60.0) -> None:
        self.process = process
        self.timeout = timeout
        self._local = threading.local()

    def _connect(self) -> socket.socket:
        address = self.process.address
        if address is None:
            raise StoreError("the mention writer is not running")
        # multiprocessing's handshake (the key), then the bare socket: its
        # recv() takes two system calls per message, and each gives up the
        # GIL and must win it back from the other threads (bench/mentions.py).
        conn = Client(address, family="AF_UNIX", authkey=self.process.authkey)
        sock = socket.socket(fileno=conn.fileno())
        conn._handle = None  # type: ignore[attr-defined]  # the socket owns it now
        # A timeout in the kernel rather than settimeout(), which would make
        # every call a poll() and a recv().
        seconds = int(self.timeout)
        micros = int((self.timeout - seconds) * 1e6)
        sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, micros)
        )
        return sock

    def enqueue(self, source: str, target: str, client: str | None = None) -> int:
        """Queue one webmention; its id once committed (raises if not stored)."""
        sock: socket.socket | None = getattr(self._local, "sock", None)
        try:
            if sock is None:
                sock = self._local.sock = self._connect()
            # Connection's framing (a 4-byte length, then a pickle): the
            # writer reads with Connection.recv().
            payload = pickle.dumps((source, target, client))
            sock.sendall(_LENGTH.pack(len(payload)) + payload)
            data = sock.recv(4096)
            while len(data) < 4 or len(data) < 4 + _LENGTH.unpack_from(data)[0]:
                more = sock.recv(4096)
                if not more:
                    raise EOFError("the mention writer closed the connection")
                data += more
            answer = pickle.loads(data[4:])
        except Exception as exc:
            # The writer died, or timed out (its answer may still come, to
            # a request that is no longer this one): a new connection next
            # time. The mention may have been stored; the sender, told 503,
            # sends it again, and the upsert makes that harmless.
            self._local.sock = None
            if sock is not None:
                sock.close()
            self.process.revive()
            raise StoreError(f"the mention writer did not answer: {exc!r}") from exc
        if isinstance(answer, int):
            return answer
        raise StoreError(f"the webmention was not stored: {answer}")


# --- the writer process -----------------------------------------------------


def log_queued(items: Sequence[Item], ids: Sequence[int]) -> None:
    """The "queued" lines of a batch, as the service logged them, in one write.

    One write per batch instead of one per line (each a lock, a system call
    and a flush): the writer stores the next batch sooner.
    """
    if not queued_log.isEnabledFor(logging.INFO):
        return
    records = [
        queued_log.makeRecord(
            queued_log.name,
            logging.INFO,
            __file__,
            0,
            "webmention %s queued: %s -> %s",
            (mention_id, loggable(source), loggable(target)),
            None,
        )
        for (source, target, _client), mention_id in zip(items, ids, strict=True)
    ]
    handler = _handler
    if (
        handler is None or handler.lock is None
    ):  # someone else set up logging: go through it
        for record in records:
            queued_log.handle(record)
        return
    text = "".join(handler.format(r) + handler.terminator for r in records)
    with handler.lock:
        handler.stream.write(text)
        handler.stream.flush()


def _setup_logging() -> None:
    """Log to stderr (the service's) as the service does (service_logging)."""
    global _handler
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter(LOG_FORMAT))
    top = logging.getLogger("causerie.webmentions")
    top.setLevel(logging.INFO)
    top.addHandler(_handler)
    top.propagate = False


def _valid(item: Any) -> bool:
    return (
        isinstance(item, tuple)
        and len(item) == 3
        and isinstance(item[0], str)
        and isinstance(item[1], str)
        and (item[2] is None or isinstance(item[2], str))
    )


def run(store: Any, listener: Listener, stdin: int) -> None:
    """Store what the connections send, until ``stdin`` reaches its end."""
    # New connections, from the accept thread; a byte on the pipe wakes the
    # loop to take them.
    incoming: list[Connection] = []
    wake_r, wake_w = os.pipe()

    def accept() -> None:
        while True:
            try:
                conn = listener.accept()
            except OSError:  # the listener was closed: we are exiting
                return
            except Exception:  # a client without the key: not ours
                continue
            incoming.append(conn)
            os.write(wake_w, b".")

    threading.Thread(target=accept, daemon=True, name="accept").start()
    conns: list[Connection] = []
    while True:
        ready = wait([stdin, wake_r, *conns])
        batch: list[tuple[Connection, Item]] = []
        for obj in ready:
            if obj == stdin:
                if not os.read(stdin, 4096):  # the service closed or died
                    return
            elif obj == wake_r:
                os.read(wake_r, 4096)
                while incoming:
                    conns.append(incoming.pop())
            else:
                assert isinstance(obj, Connection)
                try:
                    item = obj.recv()
                except Exception:  # closed (its thread went), or garbage
                    item = None
                if _valid(item):
                    batch.append((obj, item))
                else:
                    conns.remove(obj)
                    obj.close()
        if batch:
            _store(store, batch, conns)


def _store(
    store: Any, batch: list[tuple[Connection, Item]], conns: list[Connection]
) -> None:
    """Commit one batch, then answer each request in it."""
    items = [item for _conn, item in batch]
    answers: Sequence[int | str]
    try:
        ids = store.enqueue_many(items)
        answers = ids
    except Exception as exc:  # every request learns it was not stored
        log.exception("mention writer: a batch of %d was not stored", len(items))
        answers = [str(exc) or type(exc).__name__] * len(items)
        ids = None
    for (conn, _item), answer in zip(batch, answers, strict=True):
        try:
            conn.send(answer)
        except OSError:  # its thread gave up waiting, or the service died
            conns.remove(conn)
            conn.close()
    if ids is not None:
        log_queued(items, ids)


def main(argv: list[str]) -> None:
    url, path = argv
    authkey = bytes.fromhex(sys.stdin.buffer.readline().decode().strip())
    _setup_logging()
    from causerie.webmentions.store.mention_store import Store

    store = Store.open(url, migrate_now=False)
    if path:
        # Left by a writer of this service that was killed.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    listener = Listener(path or None, family="AF_UNIX", backlog=128, authkey=authkey)
    address = str(listener.address)
    log.info("mention writer %d listening on %s", os.getpid(), address)
    # The service waits for this line: the store is open, requests may come.
    sys.stdout.write(address + "\n")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        run(store, listener, sys.stdin.fileno())
    finally:
        listener.close()  # and removes the socket file


if __name__ == "__main__":
    main(sys.argv[1:])
