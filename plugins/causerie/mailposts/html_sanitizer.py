"""The Pelican side of posting by e-mail: a mail post's HTML is sanitized.

A post made from an e-mail is outside text. Its Markdown is written to be
inert, but the build does not rely on that: once Python-Markdown has made
its HTML, only an allow-list of tags and attributes and http(s)/mailto URLs
survive (nh3, the Rust ammonia sanitizer), so an escaped ``&lt;script&gt;``
that some step revived would still never run. Posts written by hand are
trusted and left alone. A mail post is one whose metadata has a Message-Id.
"""

from __future__ import annotations

import re
from typing import Any

import nh3

TAGS = frozenset(
    [
        "p",
        "br",
        "hr",
        "a",
        "img",
        "figure",
        "figcaption",
        # The albums plugin's gallery (docs/albums.md): WebP beside JPEG.
        "picture",
        "source",
        "div",
        "span",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "blockquote",
        "pre",
        "code",
        "em",
        "strong",
        "b",
        "i",
        "u",
        "s",
        "del",
        "sup",
        "sub",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    ]
)
ATTRIBUTES = {
    # class, type and download: the albums plugin's gallery and downloads
    # markup, made from our own files (never from the mail's HTML).
    "a": {"href", "title", "class", "type", "download"},
    "img": {"src", "alt", "title", "width", "height", "loading", "srcset"}
    | {"sizes", "decoding", "class"},
    "source": {"type", "srcset", "sizes"},
    "div": {"class"},
    "figure": {"class"},
    "ul": {"class"},
    "li": {"class"},
    "span": {"class", "aria-hidden"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(html: str) -> str:
    """``html`` with only :data:`TAGS`, :data:`ATTRIBUTES` and safe URLs.

    Relative URLs pass: Pelican's ``{static}/images/…`` links are resolved
    after this step.
    """
    # A lone surrogate (what surrogateescape makes of an undecodable byte)
    # makes nh3 raise UnicodeEncodeError: it becomes U+FFFD (bench/fuzz.py).
    html = _SURROGATE.sub("\ufffd", html)
    return str(
        nh3.clean(
            html,
            tags=set(TAGS),
            attributes={k: set(v) for k, v in ATTRIBUTES.items()},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
            strip_comments=True,
        )
    )


def is_mail_post(content: Any) -> bool:
    return bool(getattr(content, "metadata", {}).get("message-id"))


def sanitize(content: Any) -> None:
    """``content_object_init``: clean a mail post's HTML before anything
    (summary, feeds, templates) reads it."""
    if is_mail_post(content) and getattr(content, "_content", None):
        content._content = clean(content._content)
