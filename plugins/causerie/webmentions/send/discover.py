"""Webmention endpoint discovery (pure): a fetched target → its endpoint.

The sender's rules are §3.1.2 of the W3C Recommendation: the first HTTP
``Link`` header with ``rel="webmention"`` wins; otherwise the first ``<link>``
or ``<a>`` element, in document order, whose ``rel`` holds the token
``webmention``. A relative endpoint is resolved against the target's URL after
redirects, and keeps its query string. No I/O here: :mod:`causerie.webmentions.send.sender` fetches.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urljoin

from bs4 import BeautifulSoup

REL = "webmention"

# One link-param after a ";" (RFC 8288 §3): a name, then an optional value,
# a quoted-string (with \-escapes) or a token running to the next ; or ,.
_PARAM = re.compile(
    r'\s*([^\s=;,]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,]*))?', re.ASCII | re.DOTALL
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
# HTML's ASCII whitespace separates the tokens of rel (HTML §2.3.8).
_HTML_SPACE = re.compile(r"[\t\n\f\r ]+")


def parse_link_header(value: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each link of a ``Link`` header value, in order: (URI reference, rels).

    Several ``Link`` headers arrive joined with ", " (RFC 9110 §5.3), which is
    also how one header lists several links, so both read the same. Rel types
    are case-insensitive (RFC 8288 §2.1.1), so they are given in lower case;
    a second ``rel`` parameter is ignored (§3.3).
    """
    links: list[tuple[str, tuple[str, ...]]] = []
    i, end = 0, len(value)
    while i < end:
        start = value.find("<", i)
        if start < 0:
            break
        close = value.find(">", start)
        if close < 0:
            break
        ref = value[start + 1 : close].strip()
        rels: tuple[str, ...] | None = None
        i = close + 1
        while i < end:
            if value[i] == ",":
                i += 1
                break
            if value[i] != ";":
                i += 1
                continue
            match = _PARAM.match(value, i + 1)
            if not match:
                i += 1
                continue
            i = match.end()
            name, raw = match.group(1).lower(), match.group(2)
            if name == "rel" and rels is None and raw is not None:
                raw = raw.strip()
                if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
                    raw = _ESCAPE.sub(r"\1", raw[1:-1])
                rels = tuple(raw.lower().split())
        links.append((ref, rels or ()))
    return links


def endpoint_in_header(link_header: str | None, base: str) -> str | None:
    """The endpoint named by a ``Link`` header, absolute, or None."""
    for ref, rels in parse_link_header(link_header or ""):
        if REL in rels:
            return _resolve(ref, base)
    return None


def endpoint_in_html(html: str, base: str) -> str | None:
    """The endpoint named by the first ``<link>`` or ``<a>`` with the rel token.

    Markup inside comments or escaped as text is not an element, so the
    parser never sees it. An element without ``href`` is skipped; an empty
    ``href`` is the page itself (§3.1.2, webmention.rocks test 15).
    """
    soup = BeautifulSoup(html, "lxml")
    for element in soup.find_all(["link", "a"]):
        rel = element.get("rel")
        tokens = rel if isinstance(rel, list) else _HTML_SPACE.split(str(rel or ""))
        if REL not in (t.lower() for t in tokens):
            continue
        href = element.get("href")
        if href is None or isinstance(href, list):
            continue
        return _resolve(str(href), base)
    return None


def discover(final_url: str, link_header: str | None, html: str | None) -> str | None:
    """The Webmention endpoint of a target: its Link header first, then its
    HTML (None when the target is not HTML); ``final_url`` is the target's
    URL after redirects, against which relative endpoints are resolved."""
    found = endpoint_in_header(link_header, final_url)
    if found is None and html is not None:
        found = endpoint_in_html(html, final_url)
    return found


def _resolve(ref: str, base: str) -> str:
    # URL spec: an empty reference is the base without its fragment; the
    # HTML attribute may carry spaces around the URL (stripped, as browsers do).
    ref = ref.strip(" \t\n\f\r")
    return urldefrag(urljoin(base, ref)).url if not ref else urljoin(base, ref)
