"""The guarded fetch, against a real HTTP server on 127.0.0.2.

Only loopback is ever contacted: every refused address below is refused
before any connection (the exact reason proves it — a connection attempt
would give "cannot connect" or a timeout instead).
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from causerie.errors import UserError
from causerie.webmentions.errors import WebmentionError
from causerie.webmentions.fetch import FetchError, FetchPolicy, FetchResult, fetch

HOST = "127.0.0.2"
ALLOW = FetchPolicy(allow_networks=(f"{HOST}/32",))

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.owner.seen.append(
            (self.command, self.path, dict(self.headers), body)
        )
        self.request_body = body
        route = self.server.owner.routes.get(self.path.split("?")[0])
        try:
            if route is None:
                self.send(404, b"not found", "text/plain")
            else:
                route(self)
        except OSError:  # the client hung up on purpose (size and time caps)
            self.close_connection = True

    do_GET = do_POST = do_HEAD = _dispatch

    def send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(status, b"", headers={"Location": location})

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Loopback

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (the caps at work) are expected; anything else
        # is a bug in a route and must show.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Loopback:
    """A real threaded HTTP server on 127.0.0.2; routes are Python functions."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        self.server = _Server((HOST, 0), Handler)
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def page(
        self,
        path: str,
        body: str | bytes,
        status: int = 200,
        content_type: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = lambda h: h.send(status, data, content_type, headers)
        return self.url(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _trickle(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    h.send_header("Content-Length", "100")
    h.end_headers()
    for _ in range(100):  # 100 bytes over 20 s: no single read ever waits 1 s
        h.wfile.write(b"x")
        h.wfile.flush()
        time.sleep(0.2)


def _stall(h: Handler) -> None:
    h.send_response(200)
    h.send_header("Content-Length", "10")
    h.end_headers()
    h.wfile.write(b"x")
    h.wfile.flush()
    time.sleep(5)


def _slow_headers(h: Handler) -> None:
    time.sleep(5)
    h.send(200, b"late")


def _huge(h: Handler, *, length: bool, chunked: bool = False) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/plain")
    if length:
        h.send_header("Content-Length", "2000000")
    elif chunked:
        h.send_header("Transfer-Encoding", "chunked")
    else:
        h.close_connection = True  # the body ends when the connection does
        h.send_header("Connection", "close")
    h.end_headers()
    block = b"y" * 10_000
    for _ in range(200):
        h.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
    if chunked:
        h.wfile.write(b"0\r\n\r\n")


def _echo(h: Handler) -> None:
    seen = {
        "method": h.command,
        "headers": dict(h.headers),
        "body": h.request_body.decode(),
    }
    h.send(200, json.dumps(seen).encode(), "application/json")


@pytest.fixture(scope="module")
def web() -> Iterator[Loopback]:
    server = Loopback()
    r = server.routes
    server.page("/page", "<p>hello</p>")
    r["/echo"] = _echo
    r["/redirect/relative"] = lambda h: h.redirect("../page")
    r["/redirect/rooted"] = lambda h: h.redirect("/page", 301)
    r["/redirect/absolute"] = lambda h: h.redirect(server.url("/page"), 308)
    r["/redirect/scheme-relative"] = lambda h: h.redirect(
        f"//{HOST}:{server.port}/page"
    )
    r["/loop"] = lambda h: h.redirect("/loop")
    r["/to-ftp"] = lambda h: h.redirect(f"ftp://{HOST}/file")
    r["/to-javascript"] = lambda h: h.redirect("javascript:alert(1)")
    r["/to-loopback"] = lambda h: h.redirect(f"http://127.0.0.1:{server.port}/page")
    r["/to-private"] = lambda h: h.redirect("http://10.1.2.3/")
    r["/to-credentials"] = lambda h: h.redirect(f"http://u:p@{HOST}:{server.port}/page")
    for n in range(12):
        target = f"/chain/{n - 1}" if n else "/page"
        r[f"/chain/{n}"] = lambda h, t=target: h.redirect(t)  # type: ignore[misc]
    r["/post-303"] = lambda h: h.redirect("/echo", 303)
    r["/post-307"] = lambda h: h.redirect("/echo", 307)
    r["/trickle"] = _trickle
    r["/stall"] = _stall
    r["/slow-headers"] = _slow_headers
    r["/huge-length"] = lambda h: _huge(h, length=True)
    r["/huge-chunked"] = lambda h: _huge(h, length=False, chunked=True)
    r["/huge-close"] = lambda h: _huge(h, length=False)
    bomb = gzip.compress(b"\0" * 5_000_000)
    server.page(
        "/gzip-bomb",
        bomb,
        content_type="text/plain",
        headers={"Content-Encoding": "gzip"},
    )
    server.page("/exact", b"z" * 1000, content_type="text/plain")
    server.page(
        "/gzipped",
        gzip.compress(b"small"),
        content_type="text/plain",
        headers={"Content-Encoding": "gzip"},
    )
    # http.server writes headers as Latin-1: these are the UTF-8 bytes of "/café".
    r["/to-utf8"] = lambda h: h.redirect("/caf\u00c3\u00a9")
    server.page("/caf%C3%A9", "<p>café</p>")
    yield server
    server.close()


def _refusal(url: str, policy: FetchPolicy = ALLOW, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as info:
        fetch(url, policy, **kwargs)
    assert info.value.url == url
    return info.value


# --- what is allowed -------------------------------------------------------


def test_allowed_network_is_fetched(web: Loopback) -> None:
    result = fetch(web.url("/page"), ALLOW)
    assert isinstance(result, FetchResult)
    assert (result.status, result.body, result.url) == (
        200,
        b"<p>hello</p>",
        web.url("/page"),
    )
    assert (result.content_type, result.charset, result.redirects) == (
        "text/html",
        "utf-8",
        (),
    )
    assert result.headers["content-type"] == result.headers["Content-Type"]
    assert result.text() == "<p>hello</p>"


def test_without_allow_networks_even_the_test_server_is_refused(web: Loopback) -> None:
    error = _refusal(web.url("/page"), FetchPolicy())
    assert error.reason == "refused: 127.0.0.2 is a loopback address"
    assert not error.transient


def test_headers_sent_name_causerie(web: Loopback) -> None:
    seen = json.loads(fetch(web.url("/echo"), ALLOW).body)
    headers = seen["headers"]
    assert headers["User-Agent"].startswith("Causerie/")
    assert headers["Accept"] == ALLOW.accept
    # The connection is pinned to the IP, but the Host header keeps the name.
    assert headers["Host"] == f"{HOST}:{web.port}"


def test_caller_headers_and_form_data(web: Loopback) -> None:
    seen = json.loads(
        fetch(
            web.url("/echo"),
            ALLOW,
            method="POST",
            data={"source": "https://a.example/", "target": "https://b.example/"},
            headers={"Accept": "application/json"},
        ).body
    )
    assert seen["method"] == "POST"
    assert seen["headers"]["Accept"] == "application/json"
    assert (
        seen["body"]
        == "source=https%3A%2F%2Fa.example%2F&target=https%3A%2F%2Fb.example%2F"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/redirect/relative",
        "/redirect/rooted",
        "/redirect/absolute",
        "/redirect/scheme-relative",
    ],
)
def test_redirects_are_followed(web: Loopback, path: str) -> None:
    result = fetch(web.url(path), ALLOW)
    assert (result.status, result.url, result.redirects) == (
        200,
        web.url("/page"),
        (web.url(path),),
    )


def test_ten_redirects_are_allowed(web: Loopback) -> None:
    result = fetch(web.url("/chain/9"), ALLOW)
    assert result.status == 200 and len(result.redirects) == 10
    assert result.redirects[0] == web.url("/chain/9")


def test_follow_redirects_false_returns_the_redirect(web: Loopback) -> None:
    result = fetch(web.url("/redirect/rooted"), ALLOW, follow_redirects=False)
    assert (result.status, result.headers["Location"], result.redirects) == (
        301,
        "/page",
        (),
    )


def test_303_after_post_is_a_get_without_body(web: Loopback) -> None:
    result = fetch(web.url("/post-303"), ALLOW, method="POST", data={"a": "1"})
    seen = json.loads(result.body)
    assert (seen["method"], seen["body"]) == ("GET", "")
    assert [s[0] for s in web.seen[-2:]] == ["POST", "GET"]


def test_307_after_post_keeps_post_and_body(web: Loopback) -> None:
    seen = json.loads(
        fetch(web.url("/post-307"), ALLOW, method="POST", data={"a": "1"}).body
    )
    assert (seen["method"], seen["body"]) == ("POST", "a=1")


def test_utf8_location_is_understood(web: Loopback) -> None:
    result = fetch(web.url("/to-utf8"), ALLOW)
    assert (result.status, result.url) == (200, web.url("/café"))


def test_compressed_body_is_decoded(web: Loopback) -> None:
    assert fetch(web.url("/gzipped"), ALLOW).body == b"small"


def test_body_of_exactly_max_bytes_is_fine(web: Loopback) -> None:
    assert (
        len(
            fetch(
                web.url("/exact"), FetchPolicy(ALLOW.allow_networks, max_bytes=1000)
            ).body
        )
        == 1000
    )


# --- redirects that are refused --------------------------------------------


def test_eleven_redirects_are_too_many(web: Loopback) -> None:
    error = _refusal(web.url("/chain/10"))
    assert (error.reason, error.transient) == ("too many redirects (11)", False)


def test_max_redirects_is_the_policys(web: Loopback) -> None:
    policy = FetchPolicy(ALLOW.allow_networks, max_redirects=0)
    assert (
        _refusal(web.url("/redirect/rooted"), policy).reason == "too many redirects (1)"
    )


def test_redirect_loop(web: Loopback) -> None:
    error = _refusal(web.url("/loop"))
    assert error.reason == f"redirect loop: {web.url('/loop')} was already visited"
    assert not error.transient


@pytest.mark.parametrize(
    ("path", "target"),
    [("/to-ftp", f"ftp://{HOST}/file"), ("/to-javascript", "javascript:alert(1)")],
)
def test_redirect_to_another_scheme(web: Loopback, path: str, target: str) -> None:
    error = _refusal(web.url(path))
    assert (error.reason, error.transient) == (
        f"redirect to a non-http(s) URL {target}",
        False,
    )


def test_redirect_to_127_0_0_1_is_refused_although_127_0_0_2_is_allowed(
    web: Loopback,
) -> None:
    error = _refusal(web.url("/to-loopback"))
    assert error.reason == (
        "refused: 127.0.0.1 is a loopback address "
        f"(after a redirect to http://127.0.0.1:{web.port}/page)"
    )
    assert not error.transient


def test_redirect_to_a_private_address_is_refused(web: Loopback) -> None:
    error = _refusal(web.url("/to-private"))
    assert error.reason.startswith(
        "refused: 10.1.2.3 is a private address (after a redirect"
    )


def test_redirect_with_credentials_is_refused(web: Loopback) -> None:
    error = _refusal(web.url("/to-credentials"))
    assert error.reason.startswith(
        "refused: the URL contains credentials (user:password@)"
    )


# --- addresses and URLs refused before connecting --------------------------

REFUSED = [
    ("http://127.0.0.1/", "refused: 127.0.0.1 is a loopback address"),
    ("http://127.1.2.3:8080/x", "refused: 127.1.2.3 is a loopback address"),
    ("http://[::1]/", "refused: ::1 is a loopback address"),
    (
        "http://localhost/",
        "refused: localhost resolves to 127.0.0.1, a loopback address",
    ),
    ("http://10.0.0.1/", "refused: 10.0.0.1 is a private address"),
    ("http://172.16.0.1/", "refused: 172.16.0.1 is a private address"),
    ("http://172.31.255.255/", "refused: 172.31.255.255 is a private address"),
    ("http://192.168.1.1/", "refused: 192.168.1.1 is a private address"),
    ("http://[fc00::1]/", "refused: fc00::1 is a private address"),
    (
        "http://169.254.169.254/latest/meta-data/",
        "refused: 169.254.169.254 is a cloud metadata address",
    ),
    ("http://[fd00:ec2::254]/", "refused: fd00:ec2::254 is a cloud metadata address"),
    ("http://169.254.1.1/", "refused: 169.254.1.1 is a link-local address"),
    ("http://[fe80::1]/", "refused: fe80::1 is a link-local address"),
    ("http://224.0.0.1/", "refused: 224.0.0.1 is a multicast address"),
    ("http://[ff02::1]/", "refused: ff02::1 is a multicast address"),
    ("http://0.0.0.0/", "refused: 0.0.0.0 is an unspecified address"),
    ("http://[::]/", "refused: :: is an unspecified address"),
    ("http://100.64.0.1/", "refused: 100.64.0.1 is a shared (CG-NAT) address"),
    ("http://240.0.0.1/", "refused: 240.0.0.1 is a reserved address"),
    ("http://192.0.2.1/", "refused: 192.0.2.1 is a reserved address"),
    ("http://[2002:7f00:1::]/", "refused: 2002:7f00:1:: is a reserved address"),
    ("http://[64:ff9b::7f00:1]/", "refused: 64:ff9b::7f00:1 is a reserved address"),
    # IPv4-mapped IPv6: the kernel connects to the IPv4 address.
    ("http://[::ffff:127.0.0.1]/", "refused: ::ffff:127.0.0.1 is a loopback address"),
    ("http://[::ffff:10.0.0.1]/", "refused: ::ffff:10.0.0.1 is a private address"),
    (
        "http://[::ffff:169.254.169.254]/",
        "refused: ::ffff:169.254.169.254 is a cloud metadata address",
    ),
    # Legacy IPv4 spellings: resolved, then checked like any name.
    (
        "http://2130706433/",
        "refused: 2130706433 resolves to 127.0.0.1, a loopback address",
    ),
    ("http://0x7f.1/", "refused: 0x7f.1 resolves to 127.0.0.1, a loopback address"),
    (
        "http://017700000001/",
        "refused: 017700000001 resolves to 127.0.0.1, a loopback address",
    ),
    (
        "http://0177.0.0.1/",
        "refused: 0177.0.0.1 resolves to 127.0.0.1, a loopback address",
    ),
    (
        "http://0xa9fea9fe/",
        "refused: 0xa9fea9fe resolves to 169.254.169.254, a cloud metadata address",
    ),
    # Not http(s), or not a usable URL.
    (
        "ftp://127.0.0.2/file",
        "refused: only http and https URLs are fetched, not ftp: URLs",
    ),
    (
        "file:///etc/passwd",
        "refused: only http and https URLs are fetched, not file: URLs",
    ),
    (
        "javascript:alert(1)",
        "refused: only http and https URLs are fetched, not javascript: URLs",
    ),
    (
        "gopher://127.0.0.2:70/",
        "refused: only http and https URLs are fetched, not gopher: URLs",
    ),
    (
        "/relative/path",
        "refused: only http and https URLs are fetched, not relative URLs",
    ),
    (
        "http://user:pass@127.0.0.2/",
        "refused: the URL contains credentials (user:password@)",
    ),
    (
        "http://user@127.0.0.2/",
        "refused: the URL contains credentials (user:password@)",
    ),
    ("http:///path", "refused: the URL has no host"),
    ("http://", "refused: the URL has no host"),
    ("http://127.0.0.2:99999/", "refused: not a valid URL: http://127.0.0.2:99999/"),
    ("http://127.0.0.2/a b", "refused: the URL contains spaces or control characters"),
    (
        "http://127.0.0.2/\r\nX-Injected: 1",
        "refused: the URL contains spaces or control characters",
    ),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED, ids=[u for u, _ in REFUSED])
def test_refused_before_connecting(url: str, reason: str) -> None:
    error = _refusal(url)
    assert (error.reason, error.transient) == (reason, False)
    assert str(error).endswith(reason)


def test_allow_networks_does_not_open_metadata() -> None:
    policy = FetchPolicy(allow_networks=("169.254.0.0/16",))
    error = _refusal("http://169.254.169.254/", policy)
    assert error.reason == "refused: 169.254.169.254 is a cloud metadata address"


def test_refusals_are_logged_with_url_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="causerie.webmentions.fetch"):
        _refusal("http://10.9.8.7/secret")
    assert "http://10.9.8.7/secret" in caplog.text
    assert "refused: 10.9.8.7 is a private address" in caplog.text


def test_fetch_error_is_a_user_error() -> None:
    error = _refusal("http://127.0.0.1/")
    assert isinstance(error, WebmentionError) and isinstance(error, UserError)
    assert (
        str(error)
        == "cannot fetch http://127.0.0.1/: refused: 127.0.0.1 is a loopback address"
    )


def test_bad_policy_says_what_to_fix() -> None:
    with pytest.raises(
        WebmentionError,
        match=re.escape("'not-a-net' is not a network such as 10.0.0.0/8"),
    ):
        FetchPolicy(allow_networks=("not-a-net",))


# --- size and time caps ----------------------------------------------------


def test_content_length_above_the_cap_is_refused_before_reading(web: Loopback) -> None:
    error = _refusal(web.url("/huge-length"))
    assert (error.reason, error.transient) == (
        "larger than 1 MB (Content-Length: 2000000)",
        False,
    )


@pytest.mark.parametrize("path", ["/huge-chunked", "/huge-close", "/gzip-bomb"])
def test_body_above_the_cap_is_cut_while_streaming(web: Loopback, path: str) -> None:
    error = _refusal(web.url(path))
    assert (error.reason, error.transient) == ("larger than 1 MB", False)


def test_small_caps_are_named_in_their_unit(web: Loopback) -> None:
    policy = FetchPolicy(ALLOW.allow_networks, max_bytes=500)
    assert _refusal(web.url("/exact"), policy).reason.startswith(
        "larger than 500 bytes"
    )


def _timed_out(error: FetchError, deadline: str) -> bool:
    """The reason names the time spent and the deadline (issue 13 item 3)."""
    pattern = rf"timed out after \d+\.\d s \(the deadline is {re.escape(deadline)} s\)"
    return error.transient and re.fullmatch(pattern, error.reason) is not None


def test_trickling_body_hits_the_total_deadline(web: Loopback) -> None:
    # Each byte comes within 0.2 s, so no read times out: only the deadline
    # of the whole fetch can stop it.
    error = _refusal(web.url("/trickle"), FetchPolicy(ALLOW.allow_networks, timeout=1))
    assert _timed_out(error, "1"), error.reason


@pytest.mark.parametrize("path", ["/stall", "/slow-headers"])
def test_silent_server_times_out(web: Loopback, path: str) -> None:
    error = _refusal(web.url(path), FetchPolicy(ALLOW.allow_networks, timeout=0.5))
    assert _timed_out(error, "0.5"), error.reason


class Trickler:
    """A raw TCP server on 127.0.0.2 that answers one connection with
    ``head`` at once, then ``slow`` one byte every 0.5 s: each read gets a
    byte well within any read timeout. It stops when the client hangs up,
    and records how many bytes it had still to send."""

    def __init__(self, head: bytes, slow: bytes) -> None:
        import socket

        self.head, self.slow = head, slow
        self.listener = socket.create_server((HOST, 0))
        self.port = self.listener.getsockname()[1]
        self.left: int | None = None  # bytes unsent when the client hung up
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        import select

        conn, _ = self.listener.accept()
        with conn:
            conn.recv(65536)  # the request (or the TLS ClientHello)
            try:
                conn.sendall(self.head)
                for sent in range(len(self.slow)):
                    readable, _, _ = select.select([conn], [], [], 0.5)
                    if readable and not conn.recv(65536):
                        self.left = len(self.slow) - sent  # the client closed
                        return
                    conn.sendall(self.slow[sent : sent + 1])
            except OSError:  # reset by the client
                self.left = len(self.slow) - sent
                return
            self.left = 0

    def close(self) -> None:
        self.thread.join(timeout=60)  # bounded: 100 bytes at most
        self.listener.close()


@pytest.mark.parametrize(
    ("scheme", "head", "slow"),
    [
        # The status line itself, a byte at a time.
        ("http", b"", b"HTTP/1.1 200 OK\r\n" + b"X" * 83),
        # A complete status line, then a header that never ends.
        (
            "http",
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n",
            b"X-Slow: " + b"a" * 92,
        ),
        # A TLS record header announcing 16 kB, then its bytes one by one:
        # the handshake is inside the deadline too.
        ("https", b"\x16\x03\x03\x40\x00", b"\x00" * 100),
    ],
)
def test_trickling_status_line_headers_and_handshake_end_by_the_deadline(
    scheme: str, head: bytes, slow: bytes
) -> None:
    # Issue 13 item 3: a server trickling header bytes held fetch() for 40 s
    # with a 5 s timeout. Now the fetch gives up at its deadline and hangs
    # up while the server still has most of its 100 slow bytes to send.
    server = Trickler(head, slow)
    try:
        error = _refusal(
            f"{scheme}://{HOST}:{server.port}/",
            FetchPolicy(ALLOW.allow_networks, timeout=1),
        )
    finally:
        server.close()
    assert _timed_out(error, "1"), error.reason
    assert server.left is not None and server.left >= 90, server.left


def test_closed_port_is_a_transient_connection_error(web: Loopback) -> None:
    import socket

    with socket.socket() as s:  # a port that nothing listens on
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    error = _refusal(f"http://{HOST}:{port}/")
    assert error.reason == f"cannot connect to {HOST}:{port}: connection refused"
    assert error.transient


# --- decoding --------------------------------------------------------------


def _result(body: bytes, content_type: str, charset: str | None = None) -> FetchResult:
    return FetchResult("http://x.example/", 200, {}, body, content_type, charset)


@pytest.mark.parametrize(
    ("header", "media", "charset"),
    [
        ('text/HTML; Charset="ISO-8859-1"', "text/html", "iso-8859-1"),
        ("application/json", "application/json", None),
        ("text/plain; charset=no-such-charset", "text/plain", None),
        ("", "", None),
    ],
)
def test_content_type_is_split(
    web: Loopback, header: str, media: str, charset: str | None
) -> None:
    url = web.page(f"/ct/{media or 'none'}", b"x", content_type=header)
    result = fetch(url, ALLOW)
    assert (result.content_type, result.charset) == (media, charset)


def test_text_uses_http_charset_then_meta_then_utf8_then_1252() -> None:
    assert _result("é".encode("latin-1"), "text/plain", "iso-8859-1").text() == "é"
    meta = b'<meta charset="windows-1252"><p>\x93ok\x94</p>'
    assert (
        _result(meta, "text/html").text() == '<meta charset="windows-1252"><p>“ok”</p>'
    )
    assert _result("é".encode(), "text/html").text() == "é"
    assert _result(b"caf\xe9", "text/plain").text() == "café"
    assert _result(b"\xef\xbb\xbfbom", "text/plain", "iso-8859-1").text() == "bom"
