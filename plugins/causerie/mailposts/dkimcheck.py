"""DKIM verification as `publish mail serve` does it (RFC 6376 §6), telling a
failed signature from a key we could not fetch now.

dkimpy turns every DNS failure into a plain "does not verify": a lookup
that timed out (``DnsTimeoutError``, caught in ``DKIM.verify_sig``) and a
SERVFAIL (its dnspython lookup returns None for ``NoNameservers``, which
becomes "missing public key") look like a forged message. RFC 6376 §6.1.2
calls these TEMPFAIL: the verifier should try again later, not reject. So
the key lookup is ours: NXDOMAIN or no TXT record is a permanent "no key";
a timeout, SERVFAIL or REFUSED is temporary, and the message is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import dkim
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

log = logging.getLogger(__name__)

#: dkimpy's DNS lookup: a name ("sel._domainkey.example.com.") to its TXT
#: record, or None; it may raise :class:`TemporaryDnsError`.
DnsFunc = Callable[..., bytes | None]


class TemporaryDnsError(Exception):
    """The key could not be fetched now (timeout, SERVFAIL…): try later."""


@dataclass(frozen=True)
class DkimResult:
    """The domains whose signature verified, and why a signature could not
    be checked now (None: every signature was checked)."""

    domains: tuple[str, ...]
    temporary: str | None = None


def split_server(server: str) -> tuple[str, int]:
    """ "192.0.2.1", "192.0.2.1:5353", "::1", "[::1]:5353" → (address, port).
    Raises ValueError."""
    if server.startswith("["):
        host, _, rest = server[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else 53
    elif server.count(":") == 1:
        host, _, number = server.partition(":")
        port = int(number)
    else:
        host, port = server, 53
    if not host or not 0 < port < 65536:
        raise ValueError(f"{server!r} is not a DNS server address")
    return host, port


def resolver_lookup(servers: tuple[str, ...] = (), timeout: float = 5.0) -> DnsFunc:
    """A TXT lookup through ``servers`` ("host" or "host:port"; none: the
    system's resolvers, /etc/resolv.conf)."""
    made: list[dns.resolver.Resolver] = []

    def resolver() -> dns.resolver.Resolver:
        # Made on first use: without /etc/resolv.conf, Resolver() raises, and
        # that is a lookup failing now (a retry), not a site that cannot start.
        if not made:
            made.append(dns.resolver.Resolver(configure=not servers))
            if servers:
                made[0].nameservers = [
                    dns.nameserver.Do53Nameserver(*split_server(s)) for s in servers
                ]
        return made[0]

    def lookup(name: bytes, **_dkimpy: object) -> bytes | None:
        # dkimpy passes its own timeout (5 s): ours, from the settings, wins.
        try:
            text = name.decode("ascii")
        except UnicodeDecodeError:
            return None  # d= and s= are ASCII (punycode): not a key name
        try:
            answer = resolver().resolve(
                text, dns.rdatatype.TXT, lifetime=timeout, raise_on_no_answer=False
            )
        except (dns.resolver.NXDOMAIN, dns.resolver.YXDOMAIN):
            return None  # no such key: the signature fails, for good
        except dns.exception.Timeout as exc:
            raise TemporaryDnsError(f"DNS timeout looking up {text}: {exc}") from exc
        except dns.resolver.NoNameservers as exc:  # SERVFAIL, REFUSED from all
            raise TemporaryDnsError(f"DNS failure looking up {text}: {exc}") from exc
        except dns.resolver.NoResolverConfiguration as exc:
            raise TemporaryDnsError(f"no DNS resolver configured: {exc}") from exc
        except dns.exception.DNSException as exc:
            raise TemporaryDnsError(f"DNS error looking up {text}: {exc}") from exc
        for rrset in answer.response.answer:
            if rrset.rdtype == dns.rdatatype.TXT:
                return b"".join(next(iter(rrset)).strings)
        return None

    return lookup


def check(raw: bytes, dnsfunc: DnsFunc) -> DkimResult:
    """Verify every DKIM-Signature of ``raw`` (RFC 6376 §6.1: one that fails
    says nothing about the others)."""
    temporary: list[str] = []

    def guarded(name: bytes, timeout: float = 5) -> bytes | None:
        try:
            return dnsfunc(name, timeout=timeout)
        except (TemporaryDnsError, dns.exception.DNSException) as exc:
            temporary.append(str(exc) or type(exc).__name__)
            # dkimpy catches this one and counts the signature as failed.
            raise dkim.DnsTimeoutError(str(exc)) from exc

    try:
        signer = dkim.DKIM(raw, logger=logging.getLogger(f"{__name__}.dkimpy"))
    except Exception:  # headers dkimpy cannot even parse: no valid signature
        return DkimResult(())
    count = sum(1 for name, _ in signer.headers if name.lower() == b"dkim-signature")
    passed: list[str] = []
    for index in range(count):
        try:
            ok = signer.verify(idx=index, dnsfunc=guarded)
        except Exception as exc:  # DKIMException, a malformed signature: failed
            log.info("mailposts: DKIM signature %d does not verify: %s", index, exc)
            ok = False
        if ok and signer.domain:
            passed.append(signer.domain.decode("ascii", "replace").lower())
    domains = tuple(dict.fromkeys(passed))
    return DkimResult(domains, "; ".join(temporary) if temporary else None)
