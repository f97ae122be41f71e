"""Who may publish by e-mail (pure): a message and its arrival → a decision.

A message is accepted only if (1) its sender is an author of the registry
whose ``mail`` role is not "off", (2) DKIM passes for the From domain,
aligned, and (3) when ``require_secret`` is on, it carries the author's
secret. Anything else is quarantined with its reason, never answered: a
forged sender must learn nothing.

DKIM (RFC 6376) is checked by us in SMTP/LMTP mode (the adapter gives the
verified domains); in IMAP and pipe modes it is read from the
Authentication-Results header (RFC 8601) that the company's own mail server
added, recognised by its authserv-id. The From domain must equal a passing
d= domain or be a subdomain of it (DMARC's relaxed alignment, RFC 7489
§3.1.1, with the organisational domain approximated by the d= domain).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses

from causerie.authoring.registry import Author, Registry

from .model import Arrival
from .settings import ENV_SECRET_PREFIX, MailSettings


@dataclass(frozen=True)
class Decision:
    """May this message publish? ``reason`` says why not (for the log and
    the quarantine, never for the sender)."""

    author: Author | None
    reason: str | None = None
    #: The reason is temporary (a DKIM key lookup failed now): try later.
    temporary: bool = False

    @property
    def allowed(self) -> bool:
        return self.author is not None and self.reason is None


def sender(msg: EmailMessage) -> str | None:
    """The one From address, lower case; None if there is none or several."""
    values = msg.get_all("From") or []
    if len(values) != 1:
        return None
    found = [addr for _name, addr in getaddresses([str(values[0])]) if addr]
    if len(found) != 1 or "@" not in found[0]:
        return None
    return found[0].strip().lower()


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower().rstrip(".")


def aligned(from_domain: str, dkim_domains: tuple[str, ...]) -> bool:
    """Relaxed alignment: d=example.com signs mail From: news.example.com."""
    return any(
        from_domain == d or from_domain.endswith("." + d)
        for d in (x.lower().rstrip(".") for x in dkim_domains)
        if d
    )


_RESINFO = re.compile(r"\bdkim\s*=\s*(\w+)", re.I)
_HEADER_D = re.compile(r"\bheader\.(?:d|i)\s*=\s*\"?@?([^\s;\"]+)\"?", re.I)


def _strip_comments(value: str) -> str:
    # RFC 8601 values may carry (comments), nested even: drop them first.
    depth, out = 0, []
    for ch in value:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def dkim_from_authentication_results(
    msg: EmailMessage, authserv_id: str | None, result: str = "pass"
) -> tuple[str, ...]:
    """The d= domains whose DKIM passed, per the topmost Authentication-Results
    header of ``authserv_id``; () without one.

    Only the topmost such header counts: it is the one our server added on
    receipt (headers are prepended). RFC 8601 §5 asks the server to remove
    any that came in with its own authserv-id; a header with a foreign
    authserv-id is never trusted (anyone can write one). ``result``: the
    domains with that result instead ("temperror": the server could not
    fetch the key, RFC 8601 §2.7.1).
    """
    if not authserv_id:
        return ()
    for raw in msg.get_all("Authentication-Results") or []:
        value = _strip_comments(str(raw))
        head, _, rest = value.partition(";")
        # The authserv-id is a domain name: compared without regard to case.
        if (head.split() or [""])[0].lower() != authserv_id.lower():
            continue
        domains = []
        for resinfo in rest.split(";"):
            found_result = _RESINFO.search(resinfo)
            if found_result and found_result.group(1).lower() == result:
                found = _HEADER_D.search(resinfo)
                if found:
                    domains.append(domain_of(found.group(1)))
        return tuple(domains)
    return ()


def secret_of(author: Author, environ: Mapping[str, str]) -> str | None:
    """The author's secret, from CAUSERIE_MAIL_SECRET_<SLUG>."""
    name = ENV_SECRET_PREFIX + author.slug.upper().replace("-", "_")
    return environ.get(name) or None


#: A "secret: …" line. Its end may be "\r\n": a message as delivered by SMTP
#: or IMAP keeps CRLF in its text parts, and re.M's "$" stops before "\n"
#: only. The "\r" is left in place, so removing the line keeps the line end.
_SECRET_LINE = re.compile(
    r"^[ \t]*secret[ \t]*:[ \t]*([^\s]+)[ \t]*(?=\r?$)", re.I | re.M
)


def carried_secrets(msg: EmailMessage, recipients: tuple[str, ...]) -> list[str]:
    """Secrets the message carries: blog+SECRET@… in the envelope or in
    To/Cc/Delivered-To, and "secret: …" lines of its text parts."""
    found = []
    headers = [
        str(v) for h in ("To", "Cc", "Delivered-To") for v in msg.get_all(h) or []
    ]
    addresses = [a for _n, a in getaddresses(headers)] + list(recipients)
    for address in addresses:
        local = address.split("@", 1)[0]
        if "+" in local:
            found.append(local.split("+", 1)[1])
    for part in msg.walk():
        if part.get_content_maintype() == "text" and not part.is_multipart():
            try:
                text = part.get_content()
            except (LookupError, UnicodeError, ValueError):
                continue
            found.extend(_SECRET_LINE.findall(str(text)))
            if part.get_content_subtype() == "html":
                # As rendered: "<p>secret: x</p>", "secret:&nbsp;x<br>" (the
                # raw-text pattern above reads "&nbsp;x<br>" for those).
                from .scrub import html_secret_values

                found.extend(html_secret_values(str(text)))
    return found


def authorize(
    msg: EmailMessage,
    arrival: Arrival,
    registry: Registry,
    settings: MailSettings,
    environ: Mapping[str, str],
) -> Decision:
    """Decide whether ``msg`` may publish (see the module's docstring)."""
    address = sender(msg)
    if address is None:
        return Decision(None, "no single sender address in From")
    author = registry.find(address)
    if author is None or author.email.lower() != address:
        return Decision(None, f"{address} is not an author in the registry")
    if author.mail == "off":
        return Decision(None, f'{author.name} may not post by e-mail (mail = "off")')
    if arrival.trusted:  # `publish mail release --trust`: the operator vouches
        return Decision(author)
    if arrival.dkim_domains is not None:
        domains, how = arrival.dkim_domains, "verified here"
    else:
        domains = dkim_from_authentication_results(msg, settings.authserv_id)
        how = f"per Authentication-Results of {settings.authserv_id or '(no authserv_id set)'}"
    if not aligned(domain_of(address), domains):
        if arrival.dkim_temporary:
            return Decision(
                None,
                f"DKIM could not be checked now ({arrival.dkim_temporary})",
                temporary=True,
            )
        shown = ", ".join(domains) or "none"
        return Decision(
            None,
            f"no DKIM pass aligned with {domain_of(address)} ({how}; passing: {shown})",
        )
    if settings.require_secret:
        secret = secret_of(author, environ)
        if secret is None:
            return Decision(
                None,
                f"require_secret is on but {ENV_SECRET_PREFIX}"
                f"{author.slug.upper().replace('-', '_')} is not set",
            )
        carried = carried_secrets(msg, arrival.recipients)
        # Constant time: the comparison must not tell how much was right.
        if not any(hmac.compare_digest(c.encode(), secret.encode()) for c in carried):
            return Decision(None, "the author's secret is missing or wrong")
    return Decision(author)


def server_temperror(
    msg: EmailMessage, arrival: Arrival, settings: MailSettings
) -> bool:
    """Did our mail server fail to fetch the From domain's DKIM key now
    (``dkim=temperror``, IMAP and pipe modes)? Then we verify it ourselves:
    a temporary failure is tried again, never final (issue 12 item 5)."""
    if arrival.dkim_domains is not None:
        return False
    address = sender(msg)
    if address is None:
        return False
    failed = dkim_from_authentication_results(msg, settings.authserv_id, "temperror")
    return aligned(domain_of(address), failed)


def remove_secret_lines(text: str) -> str:
    """A text part without its "secret: …" lines (never published)."""
    return _SECRET_LINE.sub("", text)
