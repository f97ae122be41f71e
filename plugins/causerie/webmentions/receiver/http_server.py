"""The receiver's HTTP server: waitress, guarded against slow and greedy clients.

Waitress as it comes keeps at most 100 connections (``connection_limit``),
takes them first come, first served, and closes an idle one only after
``channel_timeout`` (120 s), checked every ``cleanup_interval`` (30 s). So
100 idle sockets from one client, or 100 clients trickling a header byte
now and then (slowloris: each byte counts as activity), stop it answering
anyone for minutes (issue 13 item 4). Here:

- **per client**: a client address (an IPv6 /64, which one subscriber
  usually has whole) may hold ``max_connections_per_client`` connections;
  the ones it opens beyond are answered 429 and closed at once, so one
  client cannot fill the server. Not applied behind a proxy (``proxies``
  >= 1): every connection then comes from the proxy, whose own per-client
  limit applies (nginx's ``limit_conn``, docs/deployment.md);
- **whole requests in time**: a request must arrive whole, headers and
  body, within ``request_timeout`` seconds of its first byte (of the
  connection, for the first request): trickling bytes does not keep a
  connection; an idle keep-alive connection is closed after
  ``idle_timeout``; both are checked every second;
- **room**: up to ``max_connections`` at once (the kernel queues the next),
  with ``poll()`` rather than ``select()``, which cannot watch a socket
  numbered 1024 or above, and the open-files limit raised to fit.
"""

from __future__ import annotations

import collections
import ipaddress
import logging
import socket
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import MultiSocketServer, TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from causerie.webmentions.settings import WebmentionSettings

log = logging.getLogger(__name__)

#: File descriptors kept for everything but client connections: the store,
#: the log, outgoing fetches, the writer's pipes, waitress's trigger.
RESERVED_FILES = 128
#: Seconds between two "too many connections from …" lines for one client.
LOG_EVERY = 60.0
#: What a client over its connection cap gets before the close. Sent
#: without reading its request: RFC 9110 §15.6.4 lets a server answer and
#: close; RFC 6585 §4 for 429.
TOO_MANY = (
    b"HTTP/1.1 429 Too Many Requests\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Retry-After: 10\r\n"
    b"Connection: close\r\n"
    b"Content-Length: 47\r\n\r\n"
    b"Too many connections from your address at once\n"
)


def client_key(addr: Any) -> str:
    """The address a per-client cap counts under: the IPv4 address, or the
    /64 of an IPv6 one (an IPv4-mapped IPv6 address counts as IPv4)."""
    host = addr[0] if isinstance(addr, tuple) else str(addr)
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Guard:
    """What every listening socket of one server shares: the connections
    each client holds, and the limits."""

    def __init__(self, per_client: int | None, request_timeout: float) -> None:
        #: None: no per-client cap (behind a proxy).
        self.per_client = per_client
        self.request_timeout = request_timeout
        self.open: collections.Counter[str] = collections.Counter()
        self.refused: collections.Counter[str] = collections.Counter()
        self._logged: dict[str, float] = {}

    def admit(self, key: str) -> bool:
        return self.per_client is None or self.open[key] < self.per_client

    def refuse(self, conn: socket.socket, key: str) -> None:
        """Answer 429 (best effort, never waiting) and close."""
        try:
            conn.setblocking(False)
            conn.send(TOO_MANY)
        except OSError:
            pass
        finally:
            conn.close()
        self.refused[key] += 1
        now = time.monotonic()
        if now - self._logged.get(key, -LOG_EVERY) >= LOG_EVERY:
            self._logged[key] = now
            log.warning(
                "%s holds %d connections, the most one client may "
                "(WEBMENTIONS['max_connections_per_client']): its new ones are "
                "answered 429 and closed (%d so far)",
                key,
                self.open[key],
                self.refused[key],
            )
            if len(self._logged) > 10_000:  # forget old clients
                self._logged = {key: now}


class GuardedChannel(HTTPChannel):
    """A waitress connection that knows its client and when its current
    request started arriving."""

    client: str | None = None

    def __init__(
        self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None
    ) -> None:
        super().__init__(server, sock, addr, adj, map)
        #: When the request being received started (its first byte; for the
        #: first request, the connection); None between requests.
        self.receiving_since: float | None = self.creation_time

    def received(self, data: bytes) -> bool:
        done: bool = super().received(data)
        if self.request is None:  # nothing partial left: requests whole
            self.receiving_since = None
        elif self.receiving_since is None:
            self.receiving_since = time.time()
        return done

    def del_channel(self, map: Any = None) -> None:
        super().del_channel(map)
        # close() may run more than once: count the connection out once.
        if self.client is not None:
            guard: Guard = self.server.guard
            guard.open[self.client] -= 1
            if guard.open[self.client] <= 0:
                del guard.open[self.client]
            self.client = None


class GuardedServer(TcpWSGIServer):
    """TcpWSGIServer with a per-client cap at accept and a whole-request
    deadline in its periodic maintenance."""

    channel_class = GuardedChannel

    def __init__(self, *args: Any, guard: Guard, **kw: Any) -> None:
        self.guard = guard
        super().__init__(*args, **kw)

    def handle_accept(self) -> None:
        # As waitress's own, plus the per-client cap.
        try:
            accepted = self.accept()
            if accepted is None:
                return
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:
            if self.adj.log_socket_errors:
                self.logger.warning("server accept() threw an exception", exc_info=True)
            return
        addr = self.fix_addr(addr)
        key = client_key(addr)
        if not self.guard.admit(key):
            self.guard.refuse(conn, key)
            return
        channel = self.channel_class(self, conn, addr, self.adj, map=self._map)
        channel.client = key
        self.guard.open[key] += 1

    def maintenance(self, now: float) -> None:
        super().maintenance(now)  # idle connections (channel_timeout)
        cutoff = now - self.guard.request_timeout
        for channel in list(self.active_channels.values()):
            since = getattr(channel, "receiving_since", None)
            if since is not None and since < cutoff and not channel.requests:
                channel.will_close = True


def open_files_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards ``wanted`` (at
    most the hard limit, which only root may raise); return the soft limit."""
    try:
        import resource
    except ImportError:  # not on this system (Windows): nothing to raise
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return wanted if soft == resource.RLIM_INFINITY else int(soft)


def create_server(
    app: Any, host: str, port: int, threads: int, cfg: WebmentionSettings
) -> Any:
    """A waitress server for ``app`` on host:port with ``cfg``'s limits (see
    the module's docstring); ``run()`` serves, ``close()`` stops."""
    limit = cfg.max_connections
    files = open_files_limit(limit + RESERVED_FILES)
    if files < limit + RESERVED_FILES:
        limit = max(1, files - RESERVED_FILES)
        log.warning(
            "only %d open files allowed (ulimit -n): serving %d connections at "
            "once, not WEBMENTIONS['max_connections'] = %d; raise the limit "
            "(LimitNOFILE= in a systemd unit) or lower the setting",
            files,
            limit,
            cfg.max_connections,
        )
    adj = Adjustments(
        host=host,
        port=port,
        threads=threads,
        ident="Causerie",
        connection_limit=limit,
        channel_timeout=cfg.idle_timeout,
        # Check the deadlines every second (waitress's default: 30 s).
        cleanup_interval=1,
        # select() cannot watch file descriptors >= 1024 (FD_SETSIZE).
        asyncore_use_poll=True,
    )
    guard = Guard(
        None if cfg.proxies else cfg.max_connections_per_client, cfg.request_timeout
    )
    shared: dict[int, Any] = {}
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    servers = [
        GuardedServer(
            app, shared, dispatcher=dispatcher, adj=adj, sockinfo=info, guard=guard
        )
        for info in adj.listen
    ]
    if len(servers) == 1:
        return servers[0]
    # "localhost" may be two sockets (IPv4 and IPv6): one loop serves both.
    listening = [(s.effective_host, s.effective_port) for s in servers]
    return MultiSocketServer(shared, adj, listening, dispatcher, servers[-1].log_info)
