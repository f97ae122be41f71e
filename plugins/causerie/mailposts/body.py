"""A message's body: the parts that make it, decoded, as one Markdown text (pure).

:func:`choose_body` walks *every* part. ``EmailMessage.get_body()`` stops
at the first text/html it prefers, so it misses Apple Mail's layout with
photos between pieces of text::

    multipart/alternative
      text/plain
      multipart/mixed
        text/html        ← first lines
        image/jpeg       ← the photo, where it stood
        text/html        ← the rest

Here an alternative keeps its last rendition that has HTML (RFC 2046
§5.1.4: the last is the richest), else its last with text; ``mixed`` and
``related`` keep all their parts in order; ``signed`` keeps its content.

:func:`render_body` turns those parts into Markdown in which each image
stands as a token ("\\ue000N\\ue001", private-use characters stripped from
the mail first) on a line of its own, where it stood: at its ``cid:``
reference in the HTML, else at its place among the parts (attachments at
the end come last). An image whose ``cid:`` reference was cut (a logo in
a signature, a photo in a quoted reply) is dropped, and so is an inline image
too small to be a photo (:attr:`Attachment.is_decoration`: Outlook's
``image001.png`` logo, social icons, tracking pixels).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from urllib.parse import unquote

from bs4 import BeautifulSoup

from .markup import defuse_markdown, html_to_markdown
from .media import Problem, is_tiny, sniff_document, sniff_image
from .mime import (
    detect_text,
    garbled,
    looks_like_mime,
    recovered_multipart,
    transfer_decoded,
    undeclared_base64,
)
from .signatures import cut_quotes, cut_signature, strip_html

#: Parts a mail client adds that are no content: dropped without a word.
IGNORED_TYPES = frozenset(
    {
        "application/pgp-signature",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-keys",
        "text/vcard",  # a signature's business card: personal data, not a post's
        "text/x-vcard",
    }
)
_PRIVATE_USE = {c: None for c in range(0xE000, 0xE004)}
TOKEN = re.compile("\ue000(\\d+)\ue001")
_CID = re.compile(r"""\bsrc\s*=\s*["']?\s*cid:([^"'\s>]+)""", re.IGNORECASE)
#: Placeholders clients put in the text/plain of a mail with pictures.
_PLACEHOLDER = re.compile(
    r"^\s*\[(?:image|cid):[^\]\n]*\]\s*$", re.IGNORECASE | re.MULTILINE
)


@dataclass(frozen=True)
class Fragment:
    """A piece of the body's text."""

    kind: str  # "html" | "plain"
    text: str


@dataclass(frozen=True)
class Attachment:
    """A part that is not body text: an image or a document."""

    data: bytes
    name: str  # the sender's file name ("" if none): a label, never a path
    content_type: str
    content_id: str | None = None  # without its angle brackets
    #: Content-Disposition (RFC 2183): "attachment", "inline" or None.
    disposition: str | None = None
    #: Its Content-Description header (RFC 2045 §8), a caption some clients
    #: write (others write the file name there: see parse's alt text).
    description: str | None = None

    @property
    def is_image(self) -> bool:
        return sniff_image(self.data) is not None

    @property
    def is_decoration(self) -> bool:
        """A tiny image the client put inline (a signature's logo or icon, a
        tracking pixel): not a photo. One the author attached is kept."""
        return self.disposition != "attachment" and self.is_image and is_tiny(self.data)


Segment = Fragment | Attachment


@dataclass(frozen=True)
class Body:
    """The body as Markdown with image tokens, and every attachment."""

    markdown: str
    attachments: tuple[Attachment, ...]
    #: Attachments whose place was cut with a signature or a quote.
    dropped: frozenset[int]
    #: The HTML's alt (else title) of the <img> that showed an attachment.
    captions: Mapping[int, str] = field(default_factory=dict)
    #: Why the body cannot be published as it is (see :mod:`.mime`):
    #: ("raw-mime", "headers" | "base64" | "quoted-printable") or
    #: ("empty-attachment", its name); None when it can.
    problem: tuple[str, str] | None = None


def token(n: int) -> str:
    """The placeholder of attachment ``n`` in :attr:`Body.markdown`."""
    return f"\ue000{n}\ue001"


def decode_bytes(data: bytes, charset: str | None) -> str:
    """``data`` as text, whatever its label says: the declared charset
    first, then what the bytes say (:func:`.mime.detect_text`), then
    Windows-1252.

    A UTF-8 (or unlabelled, or ASCII) part that is not valid UTF-8 is a
    legacy charset mislabelled: Big5, GBK, Shift_JIS, KOI8-R… when detected,
    else Latin-1, read as Windows-1252 — as are parts labelled ISO-8859-1:
    the WHATWG Encoding Standard maps that label to windows-1252, because
    Windows mailers put "€" and "’" in 0x80-0x9F. A declared charset whose
    reading is mojibake (:func:`.mime.garbled`: GBK labelled ISO-8859-1)
    gives way to detection too.
    """
    try:
        codec = codecs.lookup((charset or "utf-8").strip()).name
    except LookupError:
        codec = "utf-8"
    if codec in ("utf-8", "ascii"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return detect_text(data) or _single_byte(data)
    try:
        text = (
            _single_byte(data)
            if codec in ("iso8859-1", "cp1252")
            else data.decode(codec)
        )
    except UnicodeDecodeError:
        text = None
    if text is not None and not garbled(text):
        return text
    return detect_text(data) or text or data.decode(codec, errors="replace")


def _single_byte(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # 0x81, 0x8D… are unassigned in cp1252
        return data.decode("latin-1")


def unflow(text: str, *, delsp: bool = False) -> str:
    """Undo RFC 3676 format=flowed: join soft-broken lines (ending in a
    space), remove space-stuffing, keep "-- " and quote depths apart."""
    out: list[str] = []
    current: list[object] | None = None  # [depth, text]

    def flush() -> None:
        nonlocal current
        if current is not None:
            depth, content = current
            out.append(">" * int(str(depth)) + (" " if depth else "") + str(content))
            current = None

    for line in text.split("\n"):
        line = line.rstrip("\r")
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # §4.4 space-stuffing
        if content == "-- ":  # §4.3: the signature separator is never flowed
            flush()
            out.append(">" * depth + content)
            continue
        if current is not None and current[0] == depth:
            current[1] = str(current[1]) + content
        else:
            flush()
            current = [depth, content]
        if content.endswith(" "):
            if delsp:
                current[1] = str(current[1])[:-1]
        else:
            flush()
    flush()
    return "\n".join(out)


def _text_of(part: Message) -> str:
    data = transfer_decoded(part)
    text = decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n")
    text = text.translate(_PRIVATE_USE)
    if part.get_content_type() == "text/plain" and (
        str(part.get_param("format") or "").lower() == "flowed"
    ):
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
        text = unflow(text, delsp=delsp)
    return text


def choose_body(msg: EmailMessage | Message) -> list[Segment]:
    """The body's text fragments and attachments, in reading order."""
    return _walk(msg)


def _walk(part: Message) -> list[Segment]:
    ctype = part.get_content_type()
    if ctype == "message/rfc822":  # a forwarded message as an attachment
        return [Attachment(b"", _name(part) or "message.eml", ctype)]
    if part.is_multipart():
        children = [c for c in part.get_payload() if isinstance(c, Message)]
        sub = part.get_content_subtype()
        if sub == "alternative":
            renditions = [_walk(c) for c in children]
            rich = [r for r in renditions if any(_is(s, "html") for s in r)]
            text = [r for r in renditions if any(isinstance(s, Fragment) for s in r)]
            chosen = rich or text or renditions
            return chosen[-1] if chosen else []
        if sub == "signed":  # RFC 1847: the content, then its signature
            return _walk(children[0]) if children else []
        if sub == "related":  # RFC 2387: the root (start=, else first) first
            start = part.get_param("start")
            root = next(
                (
                    c
                    for c in children
                    if isinstance(start, str) and c["Content-ID"] == start
                ),
                children[0] if children else None,
            )
            ordered = [root] + [c for c in children if c is not root] if root else []
            return [s for c in ordered for s in _walk(c)]
        return [s for c in children for s in _walk(c)]
    if part.get_content_maintype() == "multipart":
        # RFC 2046 §5.1.1: a multipart needs its boundary. Without one, or
        # with one its body does not use, the stdlib keeps the body
        # undivided: split it at the delimiter it does use, else it is the
        # text the sender wrote (the final guard catches it if it is MIME).
        again = recovered_multipart(part)
        if again is not None:
            return _walk(again)
        return [Fragment("plain", _text_of(part))]
    if ctype in IGNORED_TYPES:
        return []
    is_attachment = part.get_content_disposition() == "attachment" or _name(part)
    if ctype in ("text/plain", "text/html") and not is_attachment:
        return [Fragment("html" if ctype == "text/html" else "plain", _text_of(part))]
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    if not _is_file(data, part):  # a photo sent in base64 with no CTE header
        decoded = undeclared_base64(data)
        if decoded is not None and _is_file(decoded, part):
            data = decoded
    cid = part["Content-ID"]
    try:
        description = str(part.get("Content-Description") or "").strip() or None
    except (TypeError, ValueError, LookupError):  # a broken encoded word
        description = None
    if not data.strip() and not _name(part):
        return []  # a part of headers only, naming nothing: it carries nothing
    return [
        Attachment(
            data=data,
            name=_name(part),
            content_type=ctype,
            content_id=str(cid).strip().strip("<>").strip() if cid else None,
            disposition=part.get_content_disposition(),
            description=description,
        )
    ]


def _is_file(data: bytes, part: Message) -> bool:
    """Whether ``data`` is an image or a document we publish, by content."""
    if sniff_image(data) is not None:
        return True
    found = sniff_document(data, _name(part), part.get_content_type())
    return not isinstance(found, Problem)


def _is(segment: Segment, kind: str) -> bool:
    return isinstance(segment, Fragment) and segment.kind == kind


def _name(part: Message) -> str:
    try:
        return str(part.get_filename() or part.get_param("name") or "")
    except (TypeError, ValueError, LookupError):  # a broken RFC 2231 name
        return ""


def is_reply(msg: EmailMessage | Message) -> bool:
    """Whether ``msg`` answers another message (RFC 5322 §3.6.4: it has
    In-Reply-To or References): only then are its ">" lines a quote."""
    return any(
        str(msg.get(name) or "").strip() for name in ("In-Reply-To", "References")
    )


def render_body(segments: list[Segment], *, reply: bool = False) -> Body:
    """``segments`` as one Markdown text with image tokens (see module doc).

    In a plain-text part, ">" lines are a quoted reply only when ``reply``
    (the message answers another, :func:`is_reply`) or when an attribution
    ("Le … a écrit :", "On … wrote:") or a forwarded-message header comes
    before them; in a fresh post they are the author's Markdown blockquote.
    """
    attachments = tuple(s for s in segments if isinstance(s, Attachment))
    decoration = {n for n, a in enumerate(attachments) if a.is_decoration}
    by_cid = {
        a.content_id: n
        for n, a in enumerate(attachments)
        if a.content_id and n not in decoration
    }
    referenced = {
        unquote(cid)
        for s in segments
        if _is(s, "html") and isinstance(s, Fragment)
        for cid in _CID.findall(s.text)
    }
    parts: list[str] = []
    placed: set[int] = set()
    captions: dict[int, str] = {}
    signed = False  # a signature was cut: later text is part of it
    n = 0
    for segment in segments:
        if isinstance(segment, Attachment):
            if (
                segment.content_id not in referenced
                and segment.is_image
                and n not in decoration
            ):
                parts.append(token(n))
                placed.add(n)
            n += 1
            continue
        if signed:
            continue
        if segment.kind == "html":
            markdown = _html_fragment(segment.text, by_cid, placed, captions)
            markdown = cut_quotes(markdown, all_quoted_lines=False)
        else:
            text = _PLACEHOLDER.sub("", segment.text)
            text = cut_quotes(text, all_quoted_lines=reply)
            markdown = defuse_markdown(text)
        markdown, signed = cut_signature(markdown)
        parts.append(markdown)
    text = "\n\n".join(p for p in parts if p.strip())
    # Each image on a block of its own, so that runs of them can be found.
    text = re.sub("[ \t]*(\ue000\\d+\ue001)[ \t]*", r"\n\n\1\n\n", text)
    text = re.sub(r"[ \t]+(?=\n\n|\n?$)", "", text)  # hard breaks before nothing
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    kept = {int(m) for m in TOKEN.findall(text)}
    dropped = frozenset(
        i
        for i, a in enumerate(attachments)
        if i not in kept
        and (a.content_id in referenced or i in placed or i in decoration)
    )
    problem: tuple[str, str] | None = None
    raw = looks_like_mime(TOKEN.sub("", text))
    if raw is not None:
        problem = ("raw-mime", raw)
    else:
        empty = next(
            (
                a
                for i, a in enumerate(attachments)
                # A forwarded message/rfc822 has no data of its own here.
                if i not in dropped
                and not a.data.strip()
                and a.content_type != "message/rfc822"
            ),
            None,
        )
        if empty is not None:
            problem = ("empty-attachment", empty.name)
    return Body(text, attachments, dropped, captions, problem)


def _html_fragment(
    html: str, by_cid: dict[str, int], placed: set[int], captions: dict[int, str]
) -> str:
    soup = BeautifulSoup(html, "lxml")
    strip_html(soup)
    for img in soup.find_all("img"):
        src = str(img.get("src") or "").strip()
        n = by_cid.get(unquote(src[4:])) if src.lower().startswith("cid:") else None
        if n is None or n in placed:
            # Remote images are never shown: they would tell the sender's
            # tracker who reads the post.
            img.decompose()
        else:
            caption = " ".join(str(img.get("alt") or img.get("title") or "").split())
            if caption:
                captions[n] = caption
            img.replace_with(token(n))
            placed.add(n)
    return html_to_markdown(soup)
