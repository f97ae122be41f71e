"""Make outside content safe to store and show (pure).

Everything a source page says about itself — its URL, its author, its text —
is written by a stranger. These three functions are the only doors through
which it enters Causerie: :func:`safe_url` for URLs, :func:`clean_html` for
rich content, :func:`clean_text` for names and titles. Each one allows a
small, known set and drops the rest, rather than trying to list what is bad.
"""

from __future__ import annotations

import ipaddress
import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import idna
import nh3

#: The tags a comment may keep: prose, quotes, code and lists. No media (img
#: would make every reader's browser call the commenter's server), no forms,
#: no style, no tables.
TAGS = frozenset(
    {
        "p", "br", "a", "em", "strong", "b", "i", "blockquote", "code", "pre",
        "ul", "ol", "li", "q", "cite", "abbr", "del", "ins", "sub", "sup", "span",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
#: Dropped with everything inside: their content is code, not prose, or is
#: parsed differently by browsers (svg, math, noscript: the mXSS classics).
DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "iframe", "object", "embed", "applet",
        "noscript", "noembed", "noframes", "xmp", "plaintext", "textarea",
        "select", "option", "svg", "math", "title", "head",
    }
)  # fmt: skip
LINK_REL = "nofollow ugc noopener"
MAX_URL = 2048

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
#: What the WHATWG URL parser trims from both ends: C0 controls and space.
_C0_SPACE = "".join(map(chr, range(0x21)))
_HTTP = re.compile(r"^https?://", re.IGNORECASE)
_HOST = re.compile(
    r"^[a-z0-9_]([a-z0-9_\-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_\-]*[a-z0-9_])?)*\.?$"
)
#: Controls, and lone surrogates: only a decoder's error or JSON's "\ud800"
#: makes them, no text means them, and any UTF-8 encoder (the store's, the
#: writer's) raises on them (bench/fuzz.py found it via JF2-style input).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: Bidi embeddings, overrides and isolates: they let a name display reversed
#: (a classic to fake a domain or a file extension).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\ufeff]")
#: A path segment that starts with a script scheme: what a disguised scheme
#: ("%6Aavascript:", a NUL before "javascript:") becomes once someone, e.g.
#: mf2py, has resolved it as a relative URL. Harmless, but never a real link.
_DISGUISED = re.compile(r"^\W*(java|vb|live)script:", re.IGNORECASE)
_TAG_START = re.compile(r"<(?=[A-Za-z!/?])")
#: Kept unencoded in a path, query and fragment: RFC 3986's unreserved and
#: sub-delims, except the quote (') so a URL is safe in any attribute.
_SAFE_PATH = "/%:@!$&()*+,;=-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


def safe_url(value: object) -> str | None:
    """``value`` as an absolute http(s) URL safe in any attribute, or None.

    The WHATWG URL parser, which browsers use, ignores leading and trailing
    controls and spaces and removes tabs and newlines anywhere, so
    "java\\tscript:" is "javascript:" to a browser: the same is done here
    before anything is checked. Then the URL must start with http:// or
    https:// as is — an entity- or percent-encoded scheme ("&#106;avascript:",
    "%6Aavascript:") or a protocol-relative "//host" does not. Credentials
    (a phishing trick: http://bank.example@evil.example/) are refused.

    Normalised: scheme and host in lower case, IDN hosts in punycode, the
    default port dropped, an empty path made "/", and spaces, quotes, angle
    brackets and non-ASCII characters percent-encoded.
    """
    if not isinstance(value, str):
        return None
    url = re.sub(r"[\t\n\r]", "", value).strip(_C0_SPACE)
    if not url or len(url) > MAX_URL or _CONTROL.search(url) or not _HTTP.match(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # "http://[::1", "http://x:99999/"
        return None
    if "@" in parts.netloc or "\\" in parts.netloc:
        return None
    if any(_DISGUISED.match(segment) for segment in unquote(parts.path).split("/")):
        return None
    host = _host(parts.hostname or "")
    if host is None:
        return None
    scheme = parts.scheme.lower()
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return urlunsplit(
        (
            scheme,
            host,
            quote(parts.path, safe=_SAFE_PATH) or "/",
            quote(parts.query, safe=_SAFE_QUERY),
            quote(parts.fragment, safe=_SAFE_QUERY),
        )
    )


def _host(hostname: str) -> str | None:
    """The host in ASCII lower case ("[::1]" for IPv6), or None if invalid."""
    if not hostname:
        return None
    if ":" in hostname:  # urlsplit only gives a colon for a bracketed IPv6
        if "%" in hostname:  # a zone id ("%eth0") has no business in a link
            return None
        try:
            return f"[{ipaddress.IPv6Address(hostname).compressed}]"
        except ValueError:
            return None
    if hostname.isascii():
        # Not through idna: it refuses "_", which real (sub)domains use.
        ascii_host = hostname.lower()
    else:
        try:
            ascii_host = idna.encode(hostname, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            return None
    return ascii_host if _HOST.match(ascii_host) else None


#: Characters XML 1.0 forbids (§2.2) and HTML calls parse errors: controls
#: other than tab/newline/CR, lone surrogates, non-characters. nh3 keeps some
#: ("\x01"), and one of them makes the feed writer (lxml) raise.
NOT_XML = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
)


def clean_html(html: str, base_url: str) -> str:
    """``html`` from outside, reduced to harmless prose markup.

    Only :data:`TAGS` and :data:`ATTRIBUTES` stay; comments, event handlers,
    styles and every other attribute go. Links are made absolute against
    ``base_url``, must pass :func:`safe_url` (else the href is dropped and the
    text kept), and get ``rel="nofollow ugc noopener"``: the commenter's links
    earn no ranking and get no handle on our window.
    """
    if not isinstance(html, str) or not html.strip():
        return ""
    html = NOT_XML.sub("", html)

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "href":
            return absolute_url(value, base_url)
        return value

    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(DROP_WITH_CONTENT),
        attributes=ATTRIBUTES,
        attribute_filter=keep,
        strip_comments=True,
        link_rel=LINK_REL,
        url_schemes={"http", "https"},
        # Our filter above already made every href absolute; nh3 must not
        # drop a relative one before the filter sees it.
        url_relative="pass_through",
    ).strip()


def absolute_url(value: str, base_url: str) -> str | None:
    """``value`` resolved against ``base_url`` and passed through :func:`safe_url`.

    A value with its own scheme is not resolved: "javascript:…" stays
    "javascript:…" (and is refused), it does not become a path under the base;
    nor is a scheme in disguise.
    """
    value = re.sub(r"[\t\n\r]", "", value).strip(_C0_SPACE)
    if not _SCHEME.match(value):
        # RFC 3986 §4.2: a relative reference cannot have a colon in its
        # first segment. One that does is a disguised scheme
        # ("%6Aavascript:", "\ufffdjavascript:"): drop it, do not resolve it.
        if ":" in re.split(r"[/?#]", value, maxsplit=1)[0]:
            return None
        try:
            value = urljoin(base_url, value)
        except ValueError:
            return None
    return safe_url(value)


class _Text(HTMLParser):
    """Collects the text of an HTML fragment, without script or style."""

    BREAKS = frozenset({"br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"})  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BREAKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


#: Any tag-like run, for text html.parser cannot read.
_ANY_TAG = re.compile(r"<[^>]*>?")


def _strip_tags(text: str) -> str:
    parser = _Text()
    try:
        parser.feed(text)
        parser.close()
    except (AssertionError, ValueError, RecursionError):
        # html.parser asserts on some malformed markup ("<![>", bpo-13633
        # family); no input may crash us: fall back to dropping anything
        # tag-like. What is left still goes through _TAG_START below.
        return _ANY_TAG.sub(" ", text)
    return "".join(parser.parts)


def clean_text(value: object, limit: int) -> str:
    """Plain text for a name, a title or an excerpt, at most ``limit`` characters.

    Tags are stripped — again after entities are decoded, because text such
    as "&lt;script&gt;" becomes a tag once decoded — then control and bidi
    characters are removed and whitespace collapsed. Any "<" still followed
    by a letter, "/", "!" or "?" becomes "‹", so the result cannot open a tag
    even where a template forgets to escape it. Longer text is cut with "…".
    mf2 values given as {"value": …} dicts are accepted.
    """
    if isinstance(value, dict):
        value = value.get("value")
    if not isinstance(value, str):
        return ""
    text = value
    for _ in range(3):
        stripped = _strip_tags(text)
        if stripped == text:
            break
        text = stripped
    text = _BIDI.sub("", _CONTROL.sub(" ", text))
    text = _TAG_START.sub("‹", " ".join(text.split()))
    if len(text) > limit:
        text = text[: max(0, limit - 1)].rstrip() + "…"
    return text


#: What a whole post from outside may keep (an imported blog's posts): the
#: prose of :data:`TAGS` plus headings, images, figures and tables. Images
#: are ours by then: the importer copies them into content/ and points at
#: the copies (a remote one is kept only if the import fetched it).
ARTICLE_TAGS = TAGS | frozenset(
    {
        "h2", "h3", "h4", "h5", "h6", "hr", "img", "figure", "figcaption", "div",
        "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "u", "s",
    }
)  # fmt: skip
ARTICLE_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align"},
    "td": {"align"},
    # The build's own Markdown output: codehilite's highlighting classes.
    "div": {"class"},
    "span": {"class"},
    "code": {"class"},
}


def clean_article_html(html: str) -> str:
    """A post's ``html`` from outside reduced to :data:`ARTICLE_TAGS`.

    Unlike :func:`clean_html`, relative URLs stay relative (Pelican resolves
    ``{static}/…`` after this) and links get no ``ugc``: the post is the
    blog's own once imported; scripts, styles, frames and handlers go.
    """
    if not isinstance(html, str) or not html.strip():
        return ""
    return str(
        nh3.clean(
            NOT_XML.sub("", html),
            tags=set(ARTICLE_TAGS),
            clean_content_tags=set(DROP_WITH_CONTENT),
            attributes={k: set(v) for k, v in ARTICLE_ATTRIBUTES.items()},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener",
            strip_comments=True,
        )
    ).strip()
