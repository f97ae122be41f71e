"""Authors' secrets never leave: not in a post, a reply or a log (pure).

Two layers (issue 12, item 2):

1. :func:`without_secret_lines` removes every "secret: …" line from a
   message's text parts before it is parsed: from plain text by line (LF or
   CRLF), from HTML by *rendered* line — the text nodes between two block
   boundaries or ``<br>`` — so that ``<p>secret: x</p>``,
   ``<div>secret:&nbsp;x<br>`` or ``<b>secret</b>: <i>x</i>`` go too. A
   regular expression over the raw HTML sees none of these.
2. :class:`Scrubber` knows the configured secrets (every
   ``CAUSERIE_MAIL_SECRET_*`` value) and removes each one, wherever it
   stands, from the Subject and text parts before parsing, then from the
   post, the replies and the log lines: the last guard, whatever the text
   looked like (a secret in the subject, in a sentence, in a file name).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from email.message import EmailMessage
from pathlib import PurePosixPath

from bs4 import BeautifulSoup, NavigableString, Tag

from causerie.authoring.registry import slugify

from .body import decode_bytes
from .model import Post
from .settings import ENV_SECRET_PREFIX
from .write import moved_reference

#: A "secret: VALUE" line of plain text, with its line end ("\n" or "\r\n").
#: Unicode whitespace around the colon: a French keyboard types "secret :"
#: with a no-break space.
_PLAIN_LINE = re.compile(
    r"^[^\S\r\n]*secret[^\S\r\n]*:[^\S\r\n]*(\S+)[^\S\r\n]*(?:\r?\n|\r|$)",
    re.IGNORECASE | re.MULTILINE,
)
#: The same, as one rendered line of HTML (its text joined).
_RENDERED_LINE = re.compile(r"^\s*secret\s*:\s*(\S+)\s*$", re.IGNORECASE)
_SUBJECT_WORD = re.compile(r"\bsecret\s*:", re.IGNORECASE)

#: Elements that start and end a rendered line (HTML's block-level ones).
_BLOCKS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
_INVISIBLE = frozenset({"script", "style", "head", "title", "template"})

#: A span of a text node: (node, start, end).
_Span = tuple[NavigableString, int, int]


def remove_plain_secret_lines(text: str) -> str:
    """``text`` without its "secret: …" lines (line ends LF or CRLF)."""
    return _PLAIN_LINE.sub("", text)


def _rendered_lines(soup: BeautifulSoup) -> list[tuple[list[_Span], Tag | None]]:
    """The document's rendered lines: their text spans, and the ``<br>``
    that ends each (None for a block boundary). A newline inside a text
    node counts as a line end too: a "secret:" line typed in an HTML
    editor's source must not hide behind HTML's whitespace rules."""
    lines: list[tuple[list[_Span], Tag | None]] = []
    current: list[_Span] = []

    def end(br: Tag | None) -> None:
        nonlocal current
        if current:
            lines.append((current, br))
        current = []

    def visit(node: Tag) -> None:
        for child in list(node.children):
            if isinstance(child, Tag):
                if child.name in _INVISIBLE:
                    continue
                if child.name == "br":
                    end(child)
                    continue
                block = child.name in _BLOCKS
                if block:
                    end(None)
                visit(child)
                if block:
                    end(None)
            elif type(child) is NavigableString:  # not a comment, CDATA…
                text = str(child)
                start = 0
                for found in re.finditer(r"\r\n|\r|\n", text):
                    current.append((child, start, found.start()))
                    end(None)
                    start = found.end()
                current.append((child, start, len(text)))

    visit(soup)
    end(None)
    return lines


def _html_lines_matching(
    html: str,
) -> tuple[BeautifulSoup, list[tuple[list[_Span], Tag | None, str]]]:
    soup = BeautifulSoup(html, "lxml")
    found = []
    for spans, br in _rendered_lines(soup):
        text = "".join(str(node)[a:b] for node, a, b in spans)
        match = _RENDERED_LINE.match(text)
        if match:
            found.append((spans, br, match.group(1)))
    return soup, found


def html_secret_values(html: str) -> list[str]:
    """The values of the "secret: …" lines of an HTML text, as rendered."""
    if "secret" not in html.lower():
        return []
    return [value for _spans, _br, value in _html_lines_matching(html)[1]]


def remove_html_secret_lines(html: str) -> str:
    """``html`` without the rendered "secret: …" lines (text cut from the
    text nodes that make them, the ``<br>`` ending them removed)."""
    if "secret" not in html.lower():
        return html
    soup, found = _html_lines_matching(html)
    if not found:
        return html
    cuts: dict[int, tuple[NavigableString, list[tuple[int, int]]]] = {}
    for spans, br, _value in found:
        for node, a, b in spans:
            cuts.setdefault(id(node), (node, []))[1].append((a, b))
        if br is not None:
            br.decompose()
    for node, ranges in cuts.values():
        text = str(node)
        for a, b in sorted(ranges, reverse=True):
            text = text[:a] + text[b:]
        node.replace_with(NavigableString(text))
    return str(soup)


class Scrubber:
    """Removes the configured secrets from whatever leaves the pipeline."""

    def __init__(self, secrets: Iterable[str]) -> None:
        values = sorted({s for s in secrets if s and s.strip()}, key=len, reverse=True)
        self.patterns = [re.compile(re.escape(v), re.IGNORECASE) for v in values]
        self.slugs = sorted({slugify(v) for v in values} - {""}, key=len, reverse=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Scrubber:
        return cls(v for k, v in environ.items() if k.startswith(ENV_SECRET_PREFIX))

    def text(self, value: str) -> str:
        for pattern in self.patterns:
            value = pattern.sub("", value)
        return value

    def line(self, value: str) -> str:
        """A one-line value (a title, a subject) scrubbed, spaces tidied."""
        scrubbed = self.text(value)
        return " ".join(scrubbed.split()) if scrubbed != value else value

    def arg(self, value: object) -> object:
        """A log argument: scrubbed if it is text (or turns into text)."""
        if isinstance(value, int | float) or value is None:
            return value
        return self.text(str(value))

    def slug(self, value: str) -> str:
        for secret in self.slugs:
            value = value.replace(secret, "")
        return re.sub(r"-{2,}", "-", value).strip("-")

    def message(self, msg: EmailMessage) -> EmailMessage:
        """``msg`` (changed in place) without "secret:" lines in its text
        parts, and without any configured secret in them or its Subject."""
        subject = msg.get("Subject")
        if subject is not None and self.patterns:
            cleaned = self.line(str(subject))
            if cleaned != str(subject):
                # "secret: VALUE Vitrine": the word that announced it goes too.
                cleaned = " ".join(_SUBJECT_WORD.sub(" ", cleaned).split())
                del msg["Subject"]
                msg["Subject"] = cleaned
        for part in msg.walk():
            if part.get_content_maintype() != "text" or part.is_multipart():
                continue
            if part.get_content_disposition() == "attachment":
                continue  # a document: published as its bytes, not as text
            # Decoded as the body reader decodes it (a mislabelled charset
            # recovered), so that a rewritten part says what the mail said.
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                continue
            text = decode_bytes(payload, part.get_content_charset())
            subtype = part.get_content_subtype()
            if subtype == "html":
                cleaned = remove_html_secret_lines(text)
            else:
                cleaned = remove_plain_secret_lines(text)
            cleaned = self.text(cleaned)
            if cleaned != text:
                flowed = {
                    k: str(part.get_param(k))
                    for k in ("format", "delsp")
                    if part.get_param(k)
                }
                part.set_content(cleaned, subtype=subtype)
                for key, value in flowed.items():  # RFC 3676: keep format=flowed
                    part.set_param(key, value)
        return msg

    def post(self, post: Post) -> Post:
        """The post without any configured secret, wherever it stood."""
        if not self.patterns:
            return post
        from .write import with_slug

        slug = self.slug(post.slug)
        if slug != post.slug:
            post = with_slug(post, slug or "post")
        media, body = [], post.body
        for item in post.media:  # a document keeps its sender's file name
            path = PurePosixPath(item.path)
            stem = self.slug(path.stem) or "document"
            if stem != path.stem:
                moved = path.with_name(stem + path.suffix)
                body = moved_reference(body, str(path), str(moved))
                item = dataclasses.replace(item, path=moved.as_posix())
            media.append(item)
        return dataclasses.replace(
            post,
            title=self.line(post.title),
            body=self.text(body),
            summary=self.line(post.summary) if post.summary else post.summary,
            category=self.line(post.category) if post.category else post.category,
            tags=tuple(t for t in (self.line(t) for t in post.tags) if t),
            media=tuple(
                dataclasses.replace(m, label=self.line(m.label)) if m.label else m
                for m in media
            ),
        )

    def reply(self, message: EmailMessage) -> EmailMessage:
        """An outgoing reply without any configured secret (subject, text)."""
        if not self.patterns:
            return message
        subject = str(message.get("Subject", ""))
        if self.line(subject) != subject:
            del message["Subject"]
            message["Subject"] = self.line(subject)
        body = message.get_body(("plain",))
        if body is not None:
            text = str(body.get_content())
            if self.text(text) != text:
                body.set_content(self.text(text))
        return message
