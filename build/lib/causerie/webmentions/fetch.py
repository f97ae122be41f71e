"""The one guarded HTTP client of Causerie: every outbound request goes here.

Webmention makes us fetch URLs that strangers choose (§4.2 of the W3C
Recommendation: "the receiver SHOULD take care ... to avoid fetching internal
addresses"), so :func:`fetch` refuses anything but a public http(s) address,
checks the address *after* DNS resolution at every redirect hop and connects
to exactly the address it checked (no DNS-rebinding window), and caps time and
size. What it may reach is a :class:`FetchPolicy` passed by the caller — there
is no global switch that turns the checks off, not even for tests.
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from requests_hardened.ip_filter import EXTRA_BLOCKED_NET_RANGES
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.connection import allowed_gai_family

from .errors import WebmentionError
from .logtext import loggable

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Instance metadata services: credentials live there. They are refused even
#: inside an allowed network unless that network is exactly their address.
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack…
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
PRIVATE = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchPolicy:
    """What :func:`fetch` may reach, and for how long and how much."""

    #: CIDRs reachable although private or loopback, e.g. ("127.0.0.2/32",)
    #: in tests or an intranet's 10.0.0.0/8. Empty on the Internet.
    allow_networks: tuple[str, ...] = ()
    #: Seconds: the connect timeout, the read timeout, and the deadline of the
    #: whole fetch (connect, TLS, status line, headers, redirects and body),
    #: so a trickling server cannot hold a worker.
    timeout: float = 5.0
    max_bytes: int = 1_000_000
    max_redirects: int = 10
    user_agent: str = "Causerie/0.1 (+https://causerie.example; webmention)"
    accept: str = (
        "text/html, application/xhtml+xml;q=0.9, application/json;q=0.8, "
        "text/plain;q=0.7, */*;q=0.1"
    )
    networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        networks = []
        for net in self.allow_networks:
            try:
                networks.append(ipaddress.ip_network(net))
            except ValueError:
                raise WebmentionError(
                    f"allow_networks: {net!r} is not a network such as "
                    "10.0.0.0/8 or 127.0.0.2/32; fix it in the settings"
                ) from None
        object.__setattr__(self, "networks", tuple(networks))
        if self.timeout <= 0 or self.max_bytes <= 0 or self.max_redirects < 0:
            raise WebmentionError(
                "FetchPolicy: timeout and max_bytes must be positive and "
                "max_redirects at least 0"
            )


@dataclass(frozen=True)
class FetchResult:
    """A response, its body read in full (within the policy's caps)."""

    url: str  # the final URL, after redirects
    status: int
    headers: Mapping[str, str]  # case-insensitive
    body: bytes
    content_type: str  # the media type only, lower case: "text/html"
    charset: str | None  # a charset Python knows, or None
    redirects: tuple[str, ...] = ()  # the URLs visited before the final one

    def text(self) -> str:
        """The body as text: BOM, then the HTTP charset, then a <meta>
        declaration (HTML), then UTF-8, then windows-1252 (the HTML default).
        Never a lone surrogate (they cannot be stored or parsed)."""
        return _SURROGATE.sub("\ufffd", self._decoded())

    def _decoded(self) -> str:
        for bom, encoding in (
            (codecs.BOM_UTF8, "utf-8-sig"),
            (codecs.BOM_UTF16_LE, "utf-16"),
            (codecs.BOM_UTF16_BE, "utf-16"),
        ):
            if self.body.startswith(bom):
                return self.body.decode(encoding, errors="replace")
        if self.charset and _known_charset(self.charset):
            return self.body.decode(self.charset, errors="replace")
        if "html" in self.content_type or "xml" in self.content_type:
            from bs4.dammit import EncodingDetector

            declared = EncodingDetector.find_declared_encoding(
                self.body[:4096], is_html="html" in self.content_type
            )
            if declared and _known_charset(declared):
                return self.body.decode(declared, errors="replace")
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            return self.body.decode("windows-1252", errors="replace")


_SURROGATE = re.compile("[\ud800-\udfff]")


class FetchError(WebmentionError):
    """A URL could not be fetched; ``reason`` says why in plain words."""

    def __init__(self, url: str, reason: str, *, transient: bool) -> None:
        super().__init__(f"cannot fetch {_short(url)}: {reason}")
        self.url = url
        self.reason = reason
        #: True when trying again later may work (timeouts, network failures);
        #: False for policy refusals, bad URLs and oversized bodies.
        self.transient = transient


class _Refused(requests.RequestException):
    """Raised inside the adapter, before any connection is made."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    method: str = "GET",
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    follow_redirects: bool = True,
) -> FetchResult:
    """Fetch ``url`` within ``policy``; raise :class:`FetchError` otherwise.

    Any status is returned (a 404 is an answer, not an error). ``data`` is
    sent form-encoded (a Webmention is a form POST, §3.1.3). Redirects are
    followed here, not by requests, so that every hop is checked again.
    """
    run = _Run(url, policy)
    visited: list[str] = []
    current = url
    with run, requests.Session() as session:
        # trust_env=False: with HTTP(S)_PROXY set, the proxy, not the pinned
        # address, would be the peer; and ~/.netrc credentials must never
        # leave with a stranger's URL.
        session.trust_env = False
        for scheme in ("http://", "https://"):
            adapter = _PinningAdapter(scheme == "https://", policy, run.watch)
            session.mount(scheme, adapter)
        while True:
            hop = f" (after a redirect to {_short(current)})" if visited else ""
            problem = _url_problem(current)
            if problem and hop and not current.lower().startswith("http"):
                raise run.fail(f"redirect to a non-http(s) URL {_short(current)}")
            if problem:
                raise run.fail(problem + hop)
            sent = {"User-Agent": policy.user_agent, "Accept": policy.accept}
            response = run.send(
                session, method, current, data, sent | dict(headers or {}), hop
            )
            location = response.headers.get("Location")
            status = response.status_code
            if not (follow_redirects and status in REDIRECTS and location):
                return run.result(current, response, visited)
            response.close()
            visited.append(current)
            # RFC 9110 §10.2.2: Location may be relative to the request URL.
            current = urljoin(current, _header_text(location).strip())
            if len(visited) > policy.max_redirects:
                raise run.fail(f"too many redirects ({len(visited)})")
            if current in visited:
                raise run.fail(f"redirect loop: {_short(current)} was already visited")
            # RFC 9110 §15.4.4: 303 means "GET the other resource"; 301/302
            # after a POST are turned into GET by every browser (§15.4.2-3).
            if (status == 303 and method != "HEAD") or (
                status in (301, 302) and method == "POST"
            ):
                method, data = "GET", None


class _Run:
    """One call of :func:`fetch`: the URL it was given, its policy, its deadline.

    Socket timeouts bound each wait, not their sum: a server sending one
    header byte every half second never lets a read time out, and
    http.client reads the status line and headers with no hook for us
    (issue 13 item 3: 40 s held with a 5 s timeout). So every socket the
    fetch opens is watched, and at the deadline a timer shuts them down:
    whatever read was waiting returns at once, and the fetch fails as
    timed out. Used as a context manager: leaving it stops the timer.
    """

    def __init__(self, url: str, policy: FetchPolicy) -> None:
        self.url, self.policy = url, policy
        self.started = time.monotonic()
        self.deadline = self.started + policy.timeout
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def __enter__(self) -> _Run:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once if it has passed)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                if self._timer is None:
                    # Started with the first connection: a URL refused
                    # before any connect costs no thread.
                    wait = max(0.0, self.deadline - time.monotonic())
                    self._timer = threading.Timer(wait, self._expire)
                    self._timer.daemon = True
                    self._timer.start()
                return
        _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)

    def fail(self, reason: str, *, transient: bool = False) -> FetchError:
        # Refusals are warnings (someone may be probing us); network trouble
        # is routine and retried.
        level = logging.INFO if transient else logging.WARNING
        log.log(
            level, "fetch %s refused: %s", loggable(self.url), loggable(reason, 600)
        )
        return FetchError(self.url, reason, transient=transient)

    def timed_out(self) -> FetchError:
        # The time really spent, and the deadline: should a wait ever escape
        # the deadline again, the message shows it rather than hiding it.
        elapsed = time.monotonic() - self.started
        return self.fail(
            f"timed out after {elapsed:.1f} s (the deadline is {self.policy.timeout:g} s)",
            transient=True,
        )

    def left(self) -> float:
        """Seconds for the next network wait: the timeout, within the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self.timed_out()
        return min(self.policy.timeout, remaining)

    def send(
        self,
        session: requests.Session,
        method: str,
        url: str,
        data: Mapping[str, str] | None,
        headers: dict[str, str],
        hop: str,
    ) -> requests.Response:
        wait = self.left()
        try:
            response = session.request(
                method,
                url,
                data=dict(data) if data is not None else None,
                headers=headers,
                allow_redirects=False,
                stream=True,
                timeout=(wait, wait),
            )
        except (requests.RequestException, ValueError) as exc:
            raise self._failure(exc, url, hop) from None
        if self.expired:
            # Shut down mid-headers, http.client may even have returned a
            # response made of the lines it had: not an answer.
            response.close()
            raise self.timed_out()
        return response

    def _failure(self, exc: Exception, url: str, hop: str) -> FetchError:
        """The FetchError for what ``session.request`` raised."""
        if self.expired:  # our deadline shut the socket: whatever broke
            return self.timed_out()
        if isinstance(exc, _Refused):
            return self.fail(exc.reason + hop, transient=exc.transient)
        if isinstance(exc, requests.Timeout):
            return self.timed_out()
        if isinstance(exc, requests.exceptions.SSLError):
            host = urlsplit(url).hostname
            return self.fail(f"TLS error with {host}: {_cause(exc)}", transient=True)
        if isinstance(exc, requests.ConnectionError):
            host = urlsplit(url).netloc
            return self.fail(f"cannot connect to {host}: {_cause(exc)}", transient=True)
        # InvalidURL, InvalidHeader, an IDNA label too long (UnicodeError)…
        return self.fail(f"not a valid URL: {_cause(exc)}")

    def result(
        self, url: str, response: requests.Response, visited: list[str]
    ) -> FetchResult:
        cap = _size(self.policy.max_bytes)
        with response:
            length = response.headers.get("Content-Length", "").strip()
            if length.isdigit() and int(length) > self.policy.max_bytes:
                raise self.fail(f"larger than {cap} (Content-Length: {int(length)})")
            body = self.read_body(response, cap)
        media, charset = _content_type(response.headers.get("Content-Type", ""))
        return FetchResult(
            url=url,
            status=response.status_code,
            headers=CaseInsensitiveDict(response.headers),
            body=body,
            content_type=media,
            charset=charset,
            redirects=tuple(visited),
        )

    def read_body(self, response: requests.Response, cap: str) -> bytes:
        raw = response.raw
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                # The read timeout was set when the request was sent; bring
                # it within the deadline so one stalled read cannot overrun.
                sock = getattr(getattr(raw, "connection", None), "sock", None)
                wait = self.left()
                if sock is not None:
                    sock.settimeout(wait)
                # read1, not read: it returns what one recv() gives, so a
                # server trickling a byte at a time still meets the deadline
                # check. Decoded bytes are counted: a gzip bomb stops too.
                chunk = raw.read1(CHUNK, decode_content=True)
                if self.expired:  # a read cut short by the deadline
                    raise self.timed_out()
                if not chunk:
                    return b"".join(chunks)
                total += len(chunk)
                if total > self.policy.max_bytes:
                    raise self.fail(f"larger than {cap}")
                chunks.append(chunk)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise self.timed_out() from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            if self.expired:
                raise self.timed_out() from None
            if isinstance(exc, urllib3.exceptions.DecodeError):
                raise self.fail(f"the body cannot be decoded: {_cause(exc)}") from None
            raise self.fail(
                f"the connection broke: {_cause(exc)}", transient=True
            ) from None


class _PinningAdapter(IPFilterAdapter):
    """requests-hardened's adapter with our address filter.

    Its own filter only knows ``allow_loopback``; ours refuses more classes
    and honours :attr:`FetchPolicy.allow_networks`. The mechanism is the same:
    while the connection pool is chosen, the host is resolved once, checked,
    and the pool is keyed on that very IP, so the connection cannot go
    elsewhere; the Host header and TLS SNI/certificate check keep the name.
    """

    def __init__(
        self,
        https: bool,
        policy: FetchPolicy,
        watch: Callable[[socket.socket], None],
    ) -> None:
        self._watch = watch  # before super(): it calls init_poolmanager
        super().__init__(
            is_https_proto=https, allow_loopback=False, tls_sni_support=True
        )
        self._networks = policy.networks

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        # Every connection's socket is handed to the run's deadline watch
        # as soon as it exists (before TLS: a handshake can trickle too).
        self.poolmanager.pool_classes_by_scheme = {
            "http": _watched_pool(HTTPConnectionPool, HTTPConnection, self._watch),
            "https": _watched_pool(HTTPSConnectionPool, HTTPSConnection, self._watch),
        }

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        # Not super(): that would run requests-hardened's filter first.
        host_params, pool_kwargs = HTTPAdapter.build_connection_pool_key_attributes(
            self, request, verify, cert
        )
        request.headers = CaseInsensitiveDict(request.headers or {})
        hostname: str = host_params["host"] or ""
        port: int | None = host_params["port"]
        host_header = f"[{hostname}]" if ":" in hostname else hostname
        if port is not None:
            host_header += f":{port}"
        request.headers["Host"] = host_header
        if self._is_https_proto:
            # Check the certificate against, and send SNI for, the name, not
            # the pinned IP.
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        ip = _resolve_checked(hostname, port, self._networks)
        host_params["host"] = f"[{ip}]" if ip.version == 6 else str(ip)
        return host_params, pool_kwargs


def _watched_pool(
    pool: type[HTTPConnectionPool],
    connection: type[HTTPConnection],
    watch: Callable[[socket.socket], None],
) -> type[HTTPConnectionPool]:
    """``pool`` whose connections give their new sockets to ``watch``."""

    class Watched(connection):  # type: ignore[valid-type,misc]
        def _new_conn(self) -> socket.socket:
            sock = super()._new_conn()
            watch(sock)
            return sock

    return type(f"Watched{pool.__name__}", (pool,), {"ConnectionCls": Watched})


def _shut(sock: socket.socket) -> None:
    """Wake any thread blocked on ``sock`` (its owner still closes it)."""
    with contextlib.suppress(OSError):  # already closed, or never connected
        sock.shutdown(socket.SHUT_RDWR)


def _resolve_checked(
    hostname: str, port: int | None, networks: tuple[IPNetwork, ...]
) -> IPAddress:
    """The address to connect to for ``hostname``; raises :class:`_Refused`.

    A literal IP is checked as written, then everything goes through
    getaddrinfo, which is what turns the legacy spellings (2130706433, 0x7f.1,
    0177.0.0.1) into 127.0.0.1, refused. Only the first address is used, and
    it is the one connected to.
    """
    if not hostname:
        raise _Refused("refused: the URL has no host")
    try:  # a literal IP is checked as written, even without IPv6 support
        literal: IPAddress | None = ipaddress.ip_address(hostname.split("%")[0])
    except ValueError:
        literal = None
    if literal is not None and (label := address_problem(literal, networks)):
        raise _Refused(f"refused: {_show(literal)} is {label}")
    try:
        infos = socket.getaddrinfo(
            hostname, port, family=allowed_gai_family(), type=socket.SOCK_STREAM
        )
    except socket.gaierror as exc:
        # EAI_AGAIN is a resolver outage; a name that does not exist may
        # still appear (a new site), so both are worth retrying later.
        raise _Refused(f"cannot resolve host {hostname}", transient=True) from exc
    except UnicodeError:
        raise _Refused(f"refused: {hostname!r} is not a valid host name") from None
    ip = ipaddress.ip_address(str(infos[0][4][0]).split("%")[0])
    label = address_problem(ip, networks)
    if label:
        where = f"{_show(ip)} is" if literal else f"{hostname} resolves to {_show(ip)},"
        raise _Refused(f"refused: {where} {label}")
    return ip


def address_problem(ip: IPAddress, networks: tuple[IPNetwork, ...] = ()) -> str | None:
    """Why ``ip`` may not be fetched ("a loopback address"), or None."""
    v4 = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    forms = (ip, v4) if v4 else (ip,)
    if any(a in METADATA for a in forms):
        # Only an allowed network that IS the metadata address lets it pass.
        if any(a in n and n.num_addresses == 1 for a in forms for n in networks):
            return None
        return "a cloud metadata address"
    if any(a in n for a in forms for n in networks):
        return None
    addr = v4 or ip  # ::ffff:127.0.0.1 is 127.0.0.1 to the kernel
    if addr.is_unspecified:
        return "an unspecified address"
    if addr.is_loopback:
        return "a loopback address"
    if addr.is_link_local:
        return "a link-local address"
    if addr.is_multicast:
        return "a multicast address"
    if addr in CGNAT:
        return "a shared (CG-NAT) address"
    if any(addr in n for n in PRIVATE):
        return "a private address"
    if (
        addr.is_private
        or addr.is_reserved
        or not addr.is_global
        or (isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local)
        # 6to4, NAT64, Teredo… embed IPv4 addresses that may be internal.
        or any(addr in n for n in EXTRA_BLOCKED_NET_RANGES)
    ):
        return "a reserved address"
    return None


def _header_text(value: str) -> str:
    """http.client reads headers as Latin-1; a UTF-8 Location is common."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _show(ip: IPAddress) -> str:
    # Python 3.11 writes ::ffff:127.0.0.1 as ::ffff:7f00:1; say it as written.
    v4 = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return f"::ffff:{v4}" if v4 else str(ip)


def _url_problem(url: str) -> str | None:
    """Why ``url`` is not fetched at all, or None (checked before any DNS)."""
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "refused: the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return f"refused: not a valid URL: {_short(url)}"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"{scheme}: URLs" if scheme else "relative URLs"
        return f"refused: only http and https URLs are fetched, not {shown}"
    if "@" in parts.netloc:
        return "refused: the URL contains credentials (user:password@)"
    if not parts.hostname:
        return "refused: the URL has no host"
    return None


def _content_type(header: str) -> tuple[str, str | None]:
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            value = value.strip().strip("\"'").lower()
            charset = value if _known_charset(value) else None
    return media.strip().lower(), charset


#: The encodings a page may declare: those of the WHATWG Encoding Standard
#: (§4, "Encodings") that Python has, by Python's own name for them. Any other
#: codec Python knows is not a text encoding a browser would use (base64,
#: rot13, idna, unicode_escape, utf-7: they raise, or give lone surrogates
#: that lxml and bs4 refuse), so such a label is ignored, as browsers do.
_WEB_ENCODINGS = frozenset(
    {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "ascii", "cp866", "koi8-r"}
    | {"koi8-u", "mac-roman", "mac-cyrillic", "cp874", "gbk", "gb2312", "gb18030"}
    | {"big5", "big5hkscs", "euc_jp", "iso2022_jp", "shift_jis", "cp932", "euc_kr"}
    | {"cp949", "latin-1"}
    | {f"iso8859-{n}" for n in (*range(1, 12), 13, 14, 15, 16)}
    | {f"cp{n}" for n in range(1250, 1259)}
)


def _known_charset(name: str) -> bool:
    try:
        return codecs.lookup(name).name in _WEB_ENCODINGS
    except (LookupError, ValueError, TypeError):  # ValueError: a NUL in it
        return False


def _cause(exc: BaseException) -> str:
    """The innermost error's message: "[Errno 111] Connection refused"."""
    seen = exc
    for _ in range(10):  # chains are short; a cycle must not hang us
        inner = seen.__cause__ or seen.__context__
        if inner is None and seen.args and isinstance(seen.args[0], BaseException):
            inner = seen.args[0]
        reason = getattr(seen, "reason", None)
        if inner is None and isinstance(reason, BaseException):
            inner = reason
        if inner is None or inner is seen:
            break
        seen = inner
    if isinstance(seen, OSError) and seen.strerror:
        return seen.strerror.lower()
    text = str(seen)
    return text.split(": ", 1)[-1] if ": " in text else text or type(seen).__name__


def _size(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} MB"
    if n % 1000 == 0:
        return f"{n // 1000} kB"
    return f"{n} bytes"


def _short(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
