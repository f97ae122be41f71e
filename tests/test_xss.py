"""Nothing executable survives verify(): every payload, in every field.

Each payload of tests/data/xss/payloads.txt is written into a source page as
its content, the title, the author's name, URL and photo, and the entry's
u-url — raw, the way a hostile page would — and into a page without
microformats (title and text around the link). What verify() returns must
then be inert:

- URL fields are None or an http(s) URL that safe_url() leaves unchanged,
  without quotes, spaces or angle brackets, and with no path segment that
  starts with "javascript:" (a disguised scheme resolved as a path);
- content_html holds only the allowed tags and attributes, its links pass
  the same URL check, no attribute is an event handler or starts with a
  data:, javascript: or vbscript: URL, and cleaning it again changes nothing
  (no mutation XSS);
- text fields cannot open a tag even if a template forgot to escape them.

Plain text may still *say* "javascript:" or "onclick=" — a comment about
JavaScript is not an attack, and it is escaped wherever it is shown.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup, Tag

from causerie.webmentions.fetch import FetchResult
from causerie.webmentions.sanitize import (
    ATTRIBUTES,
    TAGS,
    clean_html,
    clean_text,
    safe_url,
)
from causerie.webmentions.verify.source import MentionData, Refusal, verify

TARGET = "https://blog.example/posts/lampe/"
SOURCE = "https://alice.example/notes/1"
CORPUS = Path(__file__).parent / "data" / "xss" / "payloads.txt"
SPECIALS = {"{TAB}": "\t", "{NL}": "\n", "{CR}": "\r", "{NUL}": "\0"}


def _payloads() -> list[str]:
    payloads = []
    for line in CORPUS.read_text(encoding="utf-8").split("\n"):
        if not line or line.startswith("# "):
            continue
        for token, char in SPECIALS.items():
            line = line.replace(token, char)
        payloads.append(line)
    return payloads


PAYLOADS = _payloads()
# The harness parses outputs that may be just a URL; bs4 would warn.
pytestmark = pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")

#: Where a payload goes: each is a whole source page, the link to the target
#: first so that what the payload breaks cannot hide it.
PLACES = {
    "content": '<div class="e-content">{p}</div>',
    "title": '<h1 class="p-name">{p}</h1><div class="e-content">text</div>',
    "author-name": '<div class="p-author h-card"><span class="p-name">{p}</span></div>',
    "author-url": '<div class="p-author h-card"><a class="u-url p-name" href="{p}">A</a></div>',
    "author-photo": '<div class="p-author h-card"><img class="u-photo" src="{p}" alt="">A</div>',
    "author-photo-single-quoted": "<div class='p-author h-card'><img class='u-photo' src='{p}'>A</div>",
    "author-url-unquoted": '<div class="p-author h-card"><a class="u-url" href={p}>A</a></div>',
    "u-url": '<a class="u-url" href="{p}">permalink</a>',
}
ENTRY = (
    '<!doctype html><html><head><title>notes</title></head><body><article class="h-entry">'
    f'<a class="u-in-reply-to" href="{TARGET}">re</a>{{place}}</article></body></html>'
)
PLAIN = (
    "<!doctype html><html><head><title>{p}</title></head><body>"
    f'<p>{{p}} <a href="{TARGET}">the lamp</a> {{p}}</p></body></html>'
)

TAG_OPEN = re.compile(r"<[A-Za-z!/?]")
DANGEROUS_TAGS = re.compile(
    r"<\s*/?\s*(script|iframe|object|embed|applet|svg|math|style|base|meta|form|"
    r"input|button|textarea|select|img|video|audio|link|template|noscript|frame|"
    r"frameset|portal|isindex|xmp|plaintext|title|body|html|head)\b",
    re.IGNORECASE,
)
#: Not at the start of a URL's path segment either: what a disguised scheme
#: becomes once resolved as a relative URL. (Deeper inside a segment, e.g.
#: ".../%3Ca%20href=%22javascript:x%22%3E", it is inert text in a path.)
SCRIPT_SEGMENT = re.compile(r"(^|/)\W*(java|vb|live)script:", re.IGNORECASE)
#: Not at the start of an attribute (data: is a legitimate word elsewhere).
BAD_START = re.compile(r"^\W*(data|javascript|vbscript|livescript):", re.IGNORECASE)
URL_FIELDS = ("author_url", "author_photo")
TEXT_FIELDS = ("author_name", "title", "content_text", "rsvp")


def _verify(page: str) -> MentionData | Refusal:
    fetched = FetchResult(SOURCE, 200, {}, page.encode(), "text/html", "utf-8")
    return verify(SOURCE, TARGET, fetched)


def _check_url(name: str, value: str | None) -> None:
    if value is None:
        return
    assert urlsplit(value).scheme in ("http", "https"), (name, value)
    assert re.match(r"^https?://[^\s\"'<>`\\]+$", value), (name, value)
    assert safe_url(value) == value, (name, value)
    assert not SCRIPT_SEGMENT.search(unquote(urlsplit(value).path)), (name, value)


def _check_text(name: str, value: str | None) -> None:
    if value is None:
        return
    assert not TAG_OPEN.search(value), (name, value)
    assert not re.search(
        r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]", value
    ), (
        name,
        value,
    )
    assert clean_text(value, 10_000) == value, (name, value)


def _check_html(value: str | None) -> None:
    if value is None:
        return
    assert not DANGEROUS_TAGS.search(value), value
    # Parse as a browser would and look at every element and attribute.
    for tag in BeautifulSoup(value, "html5lib").body.find_all(True):  # type: ignore[union-attr]
        assert isinstance(tag, Tag)
        assert tag.name in TAGS, (tag.name, value)
        allowed = ATTRIBUTES.get(tag.name, set()) | (
            {"rel"} if tag.name == "a" else set()
        )
        assert set(tag.attrs) <= allowed, (tag.name, tag.attrs, value)
        for attribute, content in tag.attrs.items():
            text = content if isinstance(content, str) else " ".join(content)
            assert not attribute.lower().startswith("on"), value
            assert not BAD_START.search(re.sub(r"\s", "", text)), value
        if "href" in tag.attrs:
            _check_url("href", str(tag["href"]))
        if tag.name == "a":
            assert tag.get("rel") == ["nofollow", "ugc", "noopener"], value
    # Stable: what a browser would re-serialise is what we stored.
    assert clean_html(value, SOURCE) == value


def _check(result: MentionData | Refusal) -> None:
    assert isinstance(result, MentionData), result
    assert re.match(r"^https?://", result.url) and safe_url(result.url) == result.url
    for name in URL_FIELDS:
        _check_url(name, getattr(result, name))
    for name in TEXT_FIELDS:
        _check_text(name, getattr(result, name))
    _check_html(result.content_html)
    assert result.kind in ("reply", "like", "repost", "bookmark", "rsvp", "mention")


def test_the_corpus_is_big_enough() -> None:
    assert len(PAYLOADS) >= 100
    assert len(set(PAYLOADS)) == len(PAYLOADS), "duplicate payloads"


@pytest.mark.parametrize(
    "payload", PAYLOADS, ids=[f"{i:03}" for i in range(len(PAYLOADS))]
)
def test_payload_is_inert_everywhere(payload: str) -> None:
    for place, markup in PLACES.items():
        result = _verify(ENTRY.format(place=markup.format(p=payload)))
        try:
            _check(result)
        except AssertionError as exc:
            raise AssertionError(f"in {place}: {exc}") from None
    # Here the payload comes first and may hide the link (as <select> or
    # <plaintext> do in a browser): a refusal is a safe outcome too.
    result = _verify(PLAIN.format(p=payload))
    if isinstance(result, Refusal):
        assert result.reason == f"the source does not link to {TARGET}"
    else:
        _check(result)


@pytest.mark.parametrize(
    "payload", PAYLOADS, ids=[f"{i:03}" for i in range(len(PAYLOADS))]
)
def test_payload_through_the_sanitizers_directly(payload: str) -> None:
    _check_url("safe_url", safe_url(payload))
    _check_text("clean_text", clean_text(payload, 500))
    _check_html(clean_html(payload, SOURCE) or None)


def test_the_harness_sees_real_fields() -> None:
    # Guard against a vacuous pass: harmless values do come through.
    result = _verify(
        ENTRY.format(
            place='<div class="p-author h-card"><a class="u-url p-name" '
            'href="https://alice.example/">Alice</a><img class="u-photo" '
            'src="/a.png" alt=""></div><div class="e-content"><p>Hi <a href="/x">x</a></p></div>'
        )
    )
    assert isinstance(result, MentionData)
    assert (result.author_name, result.author_url, result.author_photo) == (
        "Alice",
        "https://alice.example/",
        "https://alice.example/a.png",
    )
    assert result.content_html == (
        '<p>Hi <a href="https://alice.example/x" rel="nofollow ugc noopener">x</a></p>'
    )
    _check(result)


# --- the sanitizers on their own: what they keep, and how they normalise ----

SAFE_URLS = [
    ("https://Example.COM", "https://example.com/"),
    ("  https://example.com/a\n", "https://example.com/a"),
    ("HTTP://example.com:80/a b", "http://example.com/a%20b"),
    ('https://example.com:8443/x?q="1"#f', "https://example.com:8443/x?q=%221%22#f"),
    ("https://bücher.example/ä", "https://xn--bcher-kva.example/%C3%A4"),
    ("https://a_b.example/", "https://a_b.example/"),
    ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    (
        "https://en.wikipedia.org/wiki/File:A.jpg",
        "https://en.wikipedia.org/wiki/File:A.jpg",
    ),
    ("https://x.example/?u=javascript:1", "https://x.example/?u=javascript:1"),
    ("javascript:alert(1)", None),
    ("java\tscript:alert(1)", None),
    ("&#106;avascript:alert(1)", None),
    ("data:text/html,x", None),
    ("//example.com/", None),
    ("/relative", None),
    ("ftp://example.com/", None),
    ("https://user:pw@example.com/", None),
    ("https://bank.example@evil.example/", None),
    ("http://evil.example\\@good.example/", None),
    ("https://x.example/%6Aavascript:alert(1)", None),
    ("https://x:99999/", None),
    ("https://[fe80::1%25eth0]/", None),
    ("https://exa\x00mple.com/", None),
    ("https://" + "a" * 2100 + ".example/", None),
    (None, None),
    (42, None),
]


@pytest.mark.parametrize(("value", "expected"), SAFE_URLS)
def test_safe_url(value: object, expected: str | None) -> None:
    assert safe_url(value) == expected


CLEAN_HTML = [
    ("<p>Hi <em>there</em></p>", "<p>Hi <em>there</em></p>"),
    (
        '<a href="/x" title="t">x</a>',
        '<a href="https://alice.example/x" title="t" rel="nofollow ugc noopener">x</a>',
    ),
    (
        '<a href="//other.example/">x</a>',
        '<a href="https://other.example/" rel="nofollow ugc noopener">x</a>',
    ),
    ('<a href="javascript:alert(1)">x</a>', '<a rel="nofollow ugc noopener">x</a>'),
    (
        '<a href="https://x.example/" rel="opener" target="_blank">x</a>',
        '<a href="https://x.example/" rel="nofollow ugc noopener">x</a>',
    ),
    ('<p style="color:red" class="x" id="y">t</p>', "<p>t</p>"),
    ("<img src=x onerror=alert(1)>text", "text"),
    ("<script>alert(1)</script>kept", "kept"),
    ("<table><tr><td>cell</td></tr></table>", "cell"),
    ("<!-- secret -->visible", "visible"),
    ("a < b & c", "a &lt; b &amp; c"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "expected"), CLEAN_HTML)
def test_clean_html(value: str, expected: str) -> None:
    assert clean_html(value, SOURCE) == expected


CLEAN_TEXT = [
    ("  Alice\n  Martin ", 100, "Alice Martin"),
    ("<b>Alice</b>", 100, "Alice"),
    ("&lt;b&gt;Alice&lt;/b&gt;", 100, "Alice"),
    ("a < b and c > d", 100, "a < b and c > d"),
    ("x<y", 100, "x‹y"),
    ("AT&amp;T", 100, "AT&T"),
    ("Alice\u202egpj.exe", 100, "Alicegpj.exe"),
    ("tab\there\x00", 100, "tab here"),
    ({"value": "from a dict"}, 100, "from a dict"),
    (None, 100, ""),
    ("mot " * 10, 12, "mot mot mot…"),
]


@pytest.mark.parametrize(("value", "limit", "expected"), CLEAN_TEXT)
def test_clean_text(value: object, limit: int, expected: str) -> None:
    assert clean_text(value, limit) == expected


@pytest.mark.parametrize(
    "weird",
    [
        "<![>",
        "<![CDATA[",
        "<![if x]>",
        "<!",
        "</",
        "a\x00<b>\x00",
        "\ud800x\udfff",
        "<b>" * 5000,
    ],
)
def test_weird_input_never_crashes_the_sanitizer(weird: str) -> None:
    from causerie.webmentions.sanitize import clean_html, clean_text

    text = clean_text(weird, 100)
    assert isinstance(text, str) and "<" not in text.replace("‹", "")
    assert isinstance(clean_html(weird, "https://example.net/"), str)
