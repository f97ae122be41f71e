"""Slow and greedy clients cannot stall `publish mentions serve` (issue 13 item 4).

The real receiver process on loopback; the attacker connects from
127.0.0.1, the reader from 127.0.0.2 (Linux routes all of 127/8 to lo).
Before the fix, waitress kept 100 connections and closed an idle one after
120 s: the reader's connection waited behind a thousand idle ones.
"""

from __future__ import annotations

import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from receiver_kit import Receiver, write_site

from causerie.errors import SettingsError
from causerie.webmentions.receiver.http_server import client_key
from causerie.webmentions.settings import WebmentionSettings

ATTACKER, READER = "127.0.0.1", "127.0.0.2"
#: Bound for the reader's answer: generous, so a busy machine passes, and
#: far below what waitress's 120 s channel timeout would have taken.
ANSWER_WITHIN = 30.0


def ask(receiver: Receiver, source: str = READER) -> bytes:
    """GET /healthz from ``source``; the whole answer (Connection: close)."""
    with socket.create_connection(
        ("127.0.0.1", receiver.port), timeout=ANSWER_WITHIN, source_address=(source, 0)
    ) as sock:
        sock.sendall(
            b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def open_idle(receiver: Receiver, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind((ATTACKER, 0))
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", receiver.port))
        sockets.append(sock)
    return sockets


@pytest.fixture
def receiver(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Receiver]:
    settings = getattr(request, "param", {})
    running = Receiver(write_site(tmp_path / "site", **settings)).start()
    yield running
    running.stop()


@pytest.mark.parametrize(
    "receiver",
    # Deadlines far off: the attacker's connections within its cap stay
    # open all along, however slow the machine running the test.
    [{"request_timeout": 300, "idle_timeout": 300}],
    indirect=True,
)
def test_a_thousand_idle_connections_from_one_address_leave_others_served(
    receiver: Receiver,
) -> None:
    idle = open_idle(receiver, 1000)
    try:
        time.sleep(1)  # let the server accept (and refuse) them
        answer = ask(receiver)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        # The attacker's connections beyond its cap were answered 429 and
        # closed; those within it are still open.
        refused = open_idle(receiver, 1)[0]
        refused.setblocking(True)
        refused.settimeout(ANSWER_WITHIN)
        reply = refused.recv(200)
        refused.close()
        assert reply.startswith(b"HTTP/1.1 429"), reply
    finally:
        for sock in idle:
            sock.close()
    assert "max_connections_per_client" in receiver.describe()


@pytest.mark.parametrize(
    "receiver",
    # The cap per client out of the way (as behind a proxy), and few
    # connections in all: only the request deadline can save the reader.
    [{"proxies": 1, "max_connections": 40, "request_timeout": 2}],
    indirect=True,
)
def test_trickled_headers_are_cut_off(receiver: Receiver) -> None:
    stop = threading.Event()
    closed_by_server = []
    trickling = []
    for _ in range(60):  # more than max_connections
        sock = socket.create_connection(
            ("127.0.0.1", receiver.port), timeout=5, source_address=(ATTACKER, 0)
        )
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        trickling.append(sock)

    def trickle() -> None:
        # A header byte every half-second to each: "activity" every time.
        while not stop.is_set() and trickling:
            for sock in list(trickling):
                try:
                    sock.sendall(b"X")
                except OSError:
                    trickling.remove(sock)
                    closed_by_server.append(sock)
            stop.wait(0.5)

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    try:
        answer = ask(receiver)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        deadline = time.monotonic() + ANSWER_WITHIN
        while len(closed_by_server) < 40 and time.monotonic() < deadline:
            time.sleep(0.2)
        # Every connection the server took was cut off, trickle or not.
        assert len(closed_by_server) >= 40
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in trickling + closed_by_server:
            sock.close()


def test_an_idle_connection_is_closed_after_the_idle_timeout(tmp_path: Path) -> None:
    receiver = Receiver(write_site(tmp_path / "site", idle_timeout=1)).start()
    try:
        with socket.create_connection(
            ("127.0.0.1", receiver.port), timeout=ANSWER_WITHIN
        ) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            # Kept alive, then closed by the server: recv() sees the end.
            rest = b""
            while chunk := sock.recv(65536):
                rest += chunk
        assert b"HTTP/1.1" not in rest
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    ("addr", "key"),
    [
        (("192.0.2.7", 5000), "192.0.2.7"),
        (("2001:db8:1:2:aaaa::1", 5000, 0, 0), "2001:db8:1:2::/64"),
        (("2001:db8:1:2:bbbb::9", 6000, 0, 0), "2001:db8:1:2::/64"),
        (("::ffff:192.0.2.7", 5000, 0, 0), "192.0.2.7"),
        (("fe80::1%eth0", 5000, 0, 2), "fe80::/64"),
    ],
)
def test_one_client_is_an_ipv4_address_or_an_ipv6_64(addr: tuple, key: str) -> None:
    # A subscriber usually gets a whole /64: counting single IPv6 addresses
    # would give one attacker 2**64 caps.
    assert client_key(addr) == key


@pytest.mark.parametrize(
    "name",
    [
        "max_connections",
        "max_connections_per_client",
        "request_timeout",
        "idle_timeout",
    ],
)
def test_the_limits_must_be_positive(name: str) -> None:
    zero: dict[str, Any] = {name: 0}
    with pytest.raises(SettingsError, match=name):
        WebmentionSettings(**zero)


def test_the_open_files_limit_is_raised_to_fit() -> None:
    # A process started with a low soft limit (a login shell's 1024, here
    # 256) raises it towards what max_connections needs, up to the hard one.
    code = (
        "import resource;"
        "from causerie.webmentions.receiver.http_server import open_files_limit;"
        "print(open_files_limit(2000), resource.getrlimit(resource.RLIMIT_NOFILE)[1])"
    )

    def low_soft_limit() -> None:
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))

    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        preexec_fn=low_soft_limit,
        timeout=60,
        check=True,
    )
    got, hard = (int(n) for n in result.stdout.split())
    assert got == min(2000, hard) and got > 256
