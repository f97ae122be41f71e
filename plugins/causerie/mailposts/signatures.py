"""Signatures and quoted replies, cut from a mail's text or HTML (pure).

Text rules (:func:`cut_signature`, :func:`cut_quotes`) work line by line on
Markdown, so they must not take a rule (``---``) or a table row
(``|---|---|``) for a signature: only a line that is exactly "-- " (RFC
3676 §4.3; many clients drop the trailing space) or a known "sent from my
phone" footer starts a signature, and everything after it goes.

HTML rules (:func:`strip_html`) remove what mail clients mark as quoted or
as a signature (Apple Mail's ``blockquote type=cite``, Gmail's
``gmail_quote``/``gmail_signature``, Outlook's ``divRplyFwdMsg``,
Thunderbird's ``moz-cite-prefix``/``moz-signature``…) and everything a post
must never carry (scripts, styles, forms, embedded objects, hidden text).
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, Tag

#: Device words of the footers phones and mail apps add.
_DEVICE = (
    r"iphone|ipad|mobile|android|smartphone|samsung|galaxy|huawei|xiaomi|pixel|"
    r"phone|t[ée]l[ée]phone|portable|appareil|device|tablet|tablette|yahoo|outlook|"
    r"mail|courrier|gmail|proton\s*mail|blackberry"
)
_FOOTER = re.compile(
    r"^(?:(?:sent|envoy[ée])\s+(?:from|with|via|de|depuis|avec|par|[àa]\s+partir\s+de)\s+"
    rf".{{0,40}}?\b(?:{_DEVICE})\b.{{0,40}}"
    r"|(?:get|obtenir|t[ée]l[ée]charge[zr]?)\s+outlook\s+(?:for|pour)\s+(?:ios|android)"
    r")$",
    re.IGNORECASE,
)
#: Lines that start a forwarded or quoted message in full, to the end.
_QUOTE_HEADER = re.compile(
    r"^-{2,}\s*(?:original message|message d['’]origine|message original|"
    r"forwarded message|message transf[ée]r[ée])\s*-{2,}$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^(?:from|de)\s*:", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^(?:sent|envoy[ée]|date|to|[àa]|subject|objet)\s*:", re.IGNORECASE
)
#: "On Mon, 3 Mar 2026, Bob <bob@x> wrote:" / "Le 3 mars 2026 à 10:00, Bob a écrit :"
_ATTRIBUTION = re.compile(
    r"^(?:on\b.{0,200}\bwrote|le\b.{0,200}\ba\s+[ée]crit)\s*:?$", re.IGNORECASE
)

#: Elements removed with their content.
DROP = (
    "script", "style", "head", "title", "meta", "link", "template", "iframe",
    "frame", "frameset", "object", "embed", "applet", "noscript", "noembed",
    "noframes", "svg", "math", "form", "input", "button", "select", "textarea",
    "video", "audio", "source", "track", "canvas", "map", "base",
)  # fmt: skip
#: What mail clients mark as quoted text or as a signature.
QUOTED = (
    'blockquote[type="cite"]', ".gmail_quote", ".gmail_quote_container",
    ".gmail_attr", ".yahoo_quoted", ".moz-cite-prefix", ".OutlookMessageHeader",
    ".gmail_signature", ".gmail_signature_prefix", ".moz-signature",
    "#Signature", "#ms-outlook-mobile-signature", '[data-smartmail="gmail_signature"]',
    # Any block a client or a signature generator names as a signature
    # (Outlook on the web's "Signature", "x_Signature", Proton's, Zimbra's,
    # Exclaimer's…). Not iOS Mail's "AppleMailSignature": the author often
    # types the whole message inside it; its "Envoyé de mon iPhone" footer
    # is cut by the footer rule instead.
    '[id*="signature" i]:not([id$="AppleMailSignature" i])',
    '[class*="signature" i]',
)  # fmt: skip
#: Outlook starts the quoted message here: it and all that follows goes.
#: Outlook for Windows bookmarks the quoted original as "_MailOriginal".
QUOTED_TO_END = ("#divRplyFwdMsg", "#appendonsend", 'a[name="_MailOriginal" i]')
#: Outlook for Windows (Word's HTML) marks where it inserted the signature
#: with a bookmark, and puts nothing of the author's after it (a reply's
#: quote below it is cut anyway): from it to the end is the signature.
SIGNATURE_TO_END = ('a[name="_MailAutoSig" i]',)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def _plain(line: str) -> str:
    """A Markdown line as the text a reader sees, to compare with footers."""
    line = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", line)  # links: their text
    line = re.sub(r"\\(.)", r"\1", line)
    line = line.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return line.strip().strip("*_").strip().rstrip(".!")


def is_signature_start(line: str) -> bool:
    """Whether ``line`` starts a signature: "-- " or a phone's footer."""
    plain = _plain(line)
    return plain == "--" or (len(plain) <= 90 and bool(_FOOTER.match(plain)))


def cut_signature(text: str) -> tuple[str, bool]:
    """``text`` without its signature, and whether one was found."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if is_signature_start(line):
            return "\n".join(lines[:i]).rstrip(), True
    return text, False


def cut_quotes(text: str, *, all_quoted_lines: bool) -> str:
    """``text`` without quoted replies: an Outlook or "Original message"
    header and all after it; an attribution ("On … wrote:") and the quoted
    lines under it; with ``all_quoted_lines`` (a plain-text mail that answers
    another one), every line that starts with ">". Without it, ">" lines
    with no attribution above them are a Markdown blockquote, and stay."""
    lines = text.split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        plain = _plain(lines[i])
        if _QUOTE_HEADER.match(plain) or (
            _OUTLOOK_FROM.match(plain)
            and any(_OUTLOOK_NEXT.match(_plain(n)) for n in lines[i + 1 : i + 4])
        ):
            break
        attribution = _attribution_length(lines, i)
        if attribution:
            after = i + attribution
            while after < len(lines) and not lines[after].strip():
                after += 1
            if after == len(lines) or lines[after].lstrip().startswith(">"):
                i = after
                while i < len(lines) and (
                    lines[i].lstrip().startswith(">") or not lines[i].strip()
                ):
                    i += 1
                continue
        if all_quoted_lines and lines[i].lstrip().startswith(">"):
            i += 1
            continue
        kept.append(lines[i])
        i += 1
    return "\n".join(kept).strip("\n")


def _attribution_length(lines: list[str], i: int) -> int:
    """How many lines (1 or 2: clients wrap long ones) the attribution at
    ``lines[i]`` takes, or 0 if there is none."""
    if _ATTRIBUTION.match(_plain(lines[i])):
        return 1
    if i + 1 < len(lines) and _ATTRIBUTION.match(
        f"{_plain(lines[i])} {_plain(lines[i + 1])}"
    ):
        return 2
    return 0


def strip_html(soup: BeautifulSoup) -> None:
    """Remove from ``soup``, in place, what a post must not carry and what
    mail clients mark as quoted or as a signature."""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(DROP):
        tag.decompose()
    for tag in soup.find_all(style=_HIDDEN):
        tag.decompose()
    for tag in soup.find_all(hidden=True):
        tag.decompose()
    for selector in QUOTED_TO_END + SIGNATURE_TO_END:
        found = soup.select_one(selector)
        if found is not None:
            _remove_to_end(found)
    for selector in QUOTED:
        for tag in soup.select(selector):
            if not tag.decomposed:
                tag.decompose()


def _remove_to_end(tag: Tag) -> None:
    """Remove ``tag`` and everything after it in document order."""
    node: Tag | None = tag
    while node is not None and node.name != "[document]":
        for sibling in list(node.next_siblings):
            sibling.extract()
        node = node.parent
    # Outlook draws a rule just before its reply header.
    previous = tag.find_previous_sibling()
    if isinstance(previous, Tag) and previous.name == "hr":
        previous.decompose()
    tag.decompose()
