"""Mail bodies made into Markdown that cannot revive HTML (pure).

Python-Markdown passes raw HTML through, keeps entities as they are, honours
``{: onclick=… }`` (attr_list, part of "extra") and makes a link of any
scheme. So text from a mail is made safe *before* it is Markdown:

- text of an HTML mail is literal (:func:`escape_literal`): every character
  Markdown would act on is escaped, "<" and "&" as entities — a backslash
  does not escape "<" in Python-Markdown, so an ``&lt;script&gt;`` that
  BeautifulSoup decodes to "<script>" stays text;
- a plain-text mail is Markdown written by its author (lists, ``---`` rules,
  tables), defused by :func:`defuse_markdown`: no raw HTML, no attribute
  lists, links only to http(s) and mailto;
- :class:`MailConverter` (markdownify) turns the cleaned HTML into Markdown
  with the same rules for links, code and images.

The build runs nh3 on mail posts as well; this is the first of two locks.
"""

from __future__ import annotations

import re
from typing import Any

from bs4 import Tag
from markdownify import ATX, MarkdownConverter

#: Characters Python-Markdown gives a meaning to anywhere in a line, escaped
#: with a backslash (all are in its ESCAPED_CHARS).
_INLINE = re.compile(r"([\\`*_\[\]{}|#])")
#: At the start of a line: a list item ("- ", "+ ", "1. ") or a quote.
_LINE_START = re.compile(r"(^|\n)([ \t]*)([-+>]|\d+\.(?=[ \t]|$))", re.MULTILINE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_SAFE_SCHEME = re.compile(r"^(https?://|mailto:)", re.IGNORECASE)
#: What the WHATWG URL parser ignores or removes in a URL: "java\tscript:".
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]*)>", re.IGNORECASE)
_INLINE_LINK = re.compile(r"\]\(([^)]*)")
_REFERENCE = re.compile(r"^( {0,3})\[([^\]\n]*)\]:[ \t]*(\S*)", re.MULTILINE)


def escape_literal(text: str) -> str:
    """``text`` as Markdown that renders exactly as ``text``, and nothing else."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match[str]) -> str:
    start, space, mark = match.groups()
    if mark[-1] == ".":
        return f"{start}{space}{mark[:-1]}\\."
    return f"{start}{space}\\{mark}"


def safe_href(url: str) -> str | None:
    """``url`` if it is an http(s) or mailto link (as a browser reads it), else None."""
    cleaned = _URL_JUNK.sub("", url)
    return cleaned if _SAFE_SCHEME.match(cleaned) else None


def _harmless_destination(destination: str) -> bool:
    """Whether a Markdown link destination is http(s), mailto, or relative
    without a scheme in disguise (RFC 3986 §4.2: no colon in the first
    segment of a relative reference)."""
    cleaned = _URL_JUNK.sub("", destination).lstrip("<")
    if _SAFE_SCHEME.match(cleaned):
        return True
    return ":" not in re.split(r"[/?#]", cleaned, maxsplit=1)[0]


def defuse_markdown(text: str) -> str:
    """Markdown written in a plain-text mail, unable to produce raw HTML,
    attributes or script links; everything else keeps its meaning."""
    text = _ENTITY.sub("&amp;", text)
    autolinks: list[str] = []

    def keep_autolink(match: re.Match[str]) -> str:
        autolinks.append(match.group(0))
        return f"\ue002{len(autolinks) - 1}\ue003"

    text = _AUTOLINK.sub(keep_autolink, text)
    text = text.replace("<", "&lt;")
    text = re.sub(r"\ue002(\d+)\ue003", lambda m: autolinks[int(m.group(1))], text)
    # attr_list reads "{: key=value }" and "{ key=value }": no braces at all.
    text = text.replace("{", "\\{").replace("}", "\\}")

    def check_inline(match: re.Match[str]) -> str:
        if _harmless_destination(match.group(1)):
            return match.group(0)
        return "]\\(" + match.group(1)

    text = _INLINE_LINK.sub(check_inline, text)

    def check_reference(match: re.Match[str]) -> str:
        if _harmless_destination(match.group(3)):
            return match.group(0)
        return (
            f"{match.group(1)}\\[{match.group(2)}\\]:{match.group(0).split(':', 1)[1]}"
        )

    return _REFERENCE.sub(check_reference, text)


class MailConverter(MarkdownConverter):
    """markdownify with Causerie's rules: literal text, safe links, no
    images (ours are placed by the caller), code that cannot break out."""

    class Options:
        autolinks = False
        heading_style = ATX
        bullets = "-"
        escape_asterisks = False  # escape_literal does it, with the rest
        escape_underscores = False
        escape_misc = False

    def escape(self, text: str, parent_tags: Any) -> str:
        return escape_literal(text) if text else ""

    def convert_a(self, el: Tag, text: str, parent_tags: Any) -> str:
        href = safe_href(str(el.get("href") or ""))
        if not text.strip() or "_noformat" in parent_tags or href is None:
            return text
        # Percent-encode what could end the destination or start markup.
        href = re.sub(r"[\s()<>\"'`\\{}|^]", lambda m: f"%{ord(m.group()):02X}", href)
        return f"[{text.strip()}]({href})"

    def convert_img(self, el: Tag, text: str, parent_tags: Any) -> str:
        return ""

    def convert_pre(self, el: Tag, text: str, parent_tags: Any) -> str:
        text = text.strip("\n")
        if not text.strip():
            return ""
        if el.find_parent(["li", "blockquote", "td", "th", "dd"]) is not None:
            # Python-Markdown sees no fence inside a list or a quote: there
            # the text must be escaped like any other.
            return (
                "\n\n"
                + "  \n".join(escape_literal(t) for t in text.split("\n"))
                + "\n\n"
            )
        # A fence longer than any run of backticks inside cannot be closed
        # early by the code it holds.
        runs = [len(r) for r in re.findall(r"`+", text)]
        fence = "`" * max(3, max(runs, default=0) + 1)
        return f"\n\n{fence}\n{text}\n{fence}\n\n"


def html_to_markdown(html: Any) -> str:
    """HTML (a string or a BeautifulSoup tree, already cleaned) as Markdown."""
    converter = MailConverter()
    markdown = (
        converter.convert(html)
        if isinstance(html, str)
        else converter.convert_soup(html)
    )
    return re.sub(r"\n{3,}", "\n\n", str(markdown)).strip("\n")
