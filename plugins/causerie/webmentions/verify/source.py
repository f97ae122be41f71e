"""Webmention verification: a fetched source + our target → a mention or a reason (pure).

This is §3.2.2 of the W3C Webmention Recommendation: the receiver fetches the
source (that is :mod:`.fetch`'s job, done before) and checks that it really
links to the target; then, as the Recommendation suggests, it reads the
source's microformats to show the mention as a reply, a like, a repost… with
its author. No network here: the author page is not fetched, the avatar is
left to the caller.

Whatever comes out is safe to store: URLs went through :func:`safe_url`, text
through :func:`clean_text`, content through :func:`clean_html`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import json
import logging
import re
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

import mf2py
import mf2util
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, Tag

from causerie.webmentions.fetch import FetchResult
from causerie.webmentions.logtext import loggable
from causerie.webmentions.model import domain_of
from causerie.webmentions.reviews.rating import Rating, read_rating
from causerie.webmentions.sanitize import clean_html, clean_text, safe_url

log = logging.getLogger(__name__)
# A source page whose whole text looks like a URL is a stranger's choice,
# not our mistake: bs4's warning about it would only fill the logs.
warnings.filterwarnings(
    "ignore", category=MarkupResemblesLocatorWarning, module=r"webmentions\.verify"
)

KINDS = ("reply", "like", "repost", "bookmark", "rsvp", "review", "mention")
RSVP_VALUES = frozenset({"yes", "no", "maybe", "interested"})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
#: §3.2.2 lists the elements whose URL counts as a link; we keep the ones
#: that put the target *in* the page (not <link>, not <area>).
LINK_ATTRIBUTES = {"a": "href", "img": "src", "video": "src", "audio": "src", "source": "src"}  # fmt: skip
#: The properties that make an entry a response of a kind, in order of
#: precedence, with the legacy names mf2util also reads.
KIND_PROPERTIES = (
    ("reply", ("in-reply-to", "reply-to", "reply")),
    ("repost", ("repost-of", "repost")),
    ("like", ("like-of", "like")),
    ("bookmark", ("bookmark-of",)),
)
#: Where the excerpt around a link stops, for a page without microformats.
BLOCKS = frozenset(
    {"p", "li", "blockquote", "dd", "td", "figcaption", "article", "body"}
)
TITLE_MAX, NAME_MAX, EXCERPT_MAX = 200, 100, 500
#: What the microformats step may raise on hostile or broken markup: the
#: mention is then kept as a plain one rather than lost. Any Exception, on
#: purpose: mf2py, mf2util, bs4 and the parsers under them are third-party
#: code reading a stranger's page, and the list of what they raise is open
#: (issue 13 item 5: OverflowError from mf2util for a 20-digit year,
#: AssertionError from html.parser for "<![>", RecursionError from mf2py
#: for deep nesting). The fallback needs none of their output, so nothing is
#: lost by it; KeyboardInterrupt and SystemExit still go through.
_MF2_ERRORS = (Exception,)


@dataclass(frozen=True)
class MentionData:
    """What a verified source says about itself, cleaned."""

    source: str
    target: str
    kind: str  # one of KINDS
    url: str  # the source's u-url if on the source's origin, else the source
    author_name: str | None
    author_url: str | None
    author_photo: str | None  # the remote URL; the caller fetches and caches it
    published: dt.datetime | None  # timezone-aware
    title: str | None  # an explicit p-name, or <title> for a page without mf2
    content_html: str | None  # cleaned with clean_html
    content_text: str | None  # plain text, at most 500 characters
    rsvp: str | None  # yes, no, maybe or interested
    #: A review's rating, checked (see causerie.webmentions.reviews.rating):
    #: None when there is none or it was refused, with the reason in
    #: ``rating_note``, which also says why an h-review was not taken as a
    #: review of this post.
    rating: float | None = None
    rating_best: float | None = None
    rating_worst: float | None = None
    rating_note: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Why a source is not (or no longer) a mention."""

    reason: str
    #: The source is gone (404, 410, a 410 tombstone page) or no longer links
    #: to the target: a stored mention must be marked deleted (§3.2.4).
    deleted: bool


def verify(source: str, target: str, fetched: FetchResult) -> MentionData | Refusal:
    """Check that ``fetched`` (the source) links to ``target``; read the mention."""
    status = fetched.status
    if status in (404, 410):
        return Refusal(f"the source answered {status}: it is gone", deleted=True)
    if not 200 <= status < 300:
        return Refusal(f"the source answered {status}", deleted=False)
    family = _family(fetched.content_type)
    if family is None:
        shown = fetched.content_type or "of no declared type"
        return Refusal(
            f"the source is {shown}; only HTML, JSON and plain-text sources can be verified",
            deleted=False,
        )
    page_url = safe_url(source)
    final = safe_url(fetched.url)
    if final and (page_url is None or domain_of(final) != domain_of(page_url)):
        # A source that redirected to another host is that host's page
        # (issue 13 item 2): it is shown, and judged by the allow list, under
        # the final URL, never under the host it was sent as.
        page_url = final
    if page_url is None:
        return Refusal(f"the source {source} is not an http(s) URL", deleted=False)
    document = fetched.text()
    not_linked = Refusal(f"the source does not link to {target}", deleted=True)
    if family == "html":
        # One parse, with lxml (C, several times faster than html5lib), for the
        # link check and then mf2py: parsing is most of a verification's time.
        soup = BeautifulSoup(document, "lxml")
        if _tombstone(soup):
            return Refusal("the source says it is gone (410 Gone)", deleted=True)
        base = _base_url(soup, fetched.url)
        link = _first_link(soup, target, base)
        if link is None:
            return not_linked
        # Read before mf2py, which may change the tree (it drops <template>).
        title, excerpt = _title(soup), _block_text(link)
        note = None
        try:
            found, note = _from_mf2(source, target, page_url, fetched.url, soup, base)
        except _MF2_ERRORS as exc:
            # One line, not the traceback: a RecursionError's is thousands
            # of lines long, and the page is a stranger's, not our bug.
            log.warning(
                "%s: microformats unreadable (%s: %s), kept as a plain mention",
                loggable(source),
                type(exc).__name__,
                loggable(exc, 200),
            )
            found = None
        if found is None:
            found = _plain(source, target, page_url, title, excerpt)
            if note:
                found = dataclasses.replace(found, rating_note=note)
        return found
    if not links_to(document, fetched.content_type, target):
        return not_linked
    excerpt = _text_excerpt(document, target) if family == "text" else None
    return _plain(source, target, page_url, None, excerpt)


def links_to(
    document: str, content_type: str, target: str, *, base_url: str | None = None
) -> bool:
    """Does ``document`` link to ``target``, as §3.2.2 requires?

    HTML: an a[href], img/video/audio/source[src] whose URL, resolved against
    ``base_url`` (and the page's <base href>), is exactly the target — a
    #fragment on either side ignored. Text, comments and escaped markup do not
    count. JSON: a string value equal to the target. Plain text: the target
    URL, not followed by more URL characters. Other types never link.
    """
    family = _family(content_type)
    if family == "html":
        soup = BeautifulSoup(document, "lxml")
        return _first_link(soup, target, _base_url(soup, base_url or "")) is not None
    if family == "json":
        try:
            data = json.loads(document)
        except (ValueError, RecursionError):
            return False
        wanted = _defrag(target)
        return any(_defrag(s) == wanted for s in _json_strings(data))
    if family == "text":
        return _text_match(document, target) is not None
    return False


def _family(content_type: str) -> str | None:
    if content_type in HTML_TYPES:
        return "html"
    if content_type == "application/json" or content_type.endswith("+json"):
        return "json"
    if content_type == "text/plain":
        return "text"
    return None


def _defrag(url: str) -> str:
    return urldefrag(url)[0]


def _base_url(soup: BeautifulSoup, page_url: str) -> str:
    """The page's base URL: the first <base href>, as browsers read it."""
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        try:
            return urljoin(page_url, _attr(base, "href"))
        except ValueError:
            pass
    return page_url


def _attr(tag: Tag, name: str) -> str:
    value = tag.get(name)
    text = value if isinstance(value, str) else " ".join(value or ())
    # URL attributes: browsers strip surrounding whitespace, drop tabs/newlines.
    return re.sub(r"[\t\n\r]", "", text).strip()


def _first_link(soup: BeautifulSoup, target: str, base: str) -> Tag | None:
    wanted = _defrag(target)
    for tag in soup.find_all(list(LINK_ATTRIBUTES)):
        if not isinstance(tag, Tag) or not tag.has_attr(LINK_ATTRIBUTES[tag.name]):
            continue
        try:
            url = urljoin(base, _attr(tag, LINK_ATTRIBUTES[tag.name]))
        except ValueError:  # "http://[oops"
            continue
        # Exact comparison after resolution, on purpose: no normalisation
        # means no trick ("https://us.example@them.example/…") can match.
        if _defrag(url) == wanted:
            return tag
    return None


def _tombstone(soup: BeautifulSoup) -> bool:
    """A page replacing a deleted post: <meta http-equiv="Status" content="410 Gone">."""
    for meta in soup.find_all("meta"):
        if (
            isinstance(meta, Tag)
            and str(meta.get("http-equiv") or "").strip().lower() == "status"
            and str(meta.get("content") or "").strip().startswith("410")
        ):
            return True
    return False


def _json_strings(data: Any) -> list[str]:
    strings, stack = [], [data]
    while stack:  # not recursive: a deeply nested document cannot blow the stack
        item = stack.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return strings


def _text_match(text: str, target: str) -> re.Match[str] | None:
    # "…/post" must not match "…/post-2" or "…/post/x"; "#comments" may follow.
    pattern = re.escape(_defrag(target)) + r"(?![\w\-/%~+=&@$])(?![.?]\w)"
    return re.search(pattern, text)


def _text_excerpt(text: str, target: str) -> str | None:
    match = _text_match(text, target)
    if match is None:
        return None
    start, end = max(0, match.start() - 200), match.end() + 200
    return clean_text(text[start:end], EXCERPT_MAX) or None


def _title(soup: BeautifulSoup) -> str | None:
    title = soup.find("title")
    return (clean_text(title.get_text(), TITLE_MAX) or None) if title else None


def _block_text(link: Tag) -> str | None:
    """The text of the paragraph (or list item, quote…) around a link."""
    block: Tag = link
    for parent in link.parents:
        if parent.name in BLOCKS:
            block = parent
            break
    return clean_text(block.get_text(" "), EXCERPT_MAX) or None


def _plain(
    source: str, target: str, url: str, title: str | None, text: str | None
) -> MentionData:
    """A source without usable microformats: a mention with what we know."""
    return MentionData(
        source=source, target=target, kind="mention", url=url,
        author_name=None, author_url=None, author_photo=None, published=None,
        title=title, content_html=None, content_text=text, rsvp=None,
    )  # fmt: skip


def _from_mf2(
    source: str,
    target: str,
    page_url: str,
    final_url: str,
    document: BeautifulSoup,
    base: str,
) -> tuple[MentionData | None, str | None]:
    """The mention as the source's h-review or h-entry describes it (None
    without one), and why an h-review on the page was not taken as a
    review of the target."""
    # doc= is required: given only a URL, mf2py would fetch it itself,
    # bypassing the guarded fetch.
    parsed = mf2py.parse(doc=document, url=final_url)
    review, elsewhere = _review_for(parsed, target)
    entry = review or _entry_for(parsed, target)
    if entry is None:
        return None, elsewhere
    found = mf2util.interpret_entry(parsed, final_url, hentry=entry) or {}
    rating: Rating | None = None
    if review is not None:
        kind, rsvp = "review", None
        props = review["properties"]
        rating = read_rating(
            _plain_value(props.get("rating")),
            _plain_value(props.get("best")),
            _plain_value(props.get("worst")),
        )
        if "content" not in props and "description" in props:
            # h-review's older e-description holds what e-content does now.
            entry = {**entry, "properties": {**props, "content": props["description"]}}
    else:
        kind, rsvp = _kind(entry["properties"], target)
    author = _author(parsed, found.get("author"))
    content_html, content_text = _content(entry, base)
    return MentionData(
        source=source,
        target=target,
        kind=kind,
        url=_same_origin_url(_value(found.get("url")), page_url, final_url),
        author_name=clean_text(author.get("name"), NAME_MAX) or None,
        author_url=safe_url(_value(author.get("url"))),
        author_photo=safe_url(_value(author.get("photo"))),
        published=_aware(found.get("published")),
        title=clean_text(found.get("name"), TITLE_MAX) or None,
        content_html=content_html,
        content_text=content_text,
        rsvp=rsvp,
        rating=rating.value if rating else None,
        rating_best=rating.best if rating else None,
        rating_worst=rating.worst if rating else None,
        rating_note=rating.note if rating else elsewhere,
    ), None if review else elsewhere


def _review_for(
    parsed: dict[str, Any], target: str
) -> tuple[dict[str, Any] | None, str | None]:
    """The h-review of the target on the page (or an h-entry with a
    p-rating and a u-review-of, as some sites write it), and, when there is
    none but there is a review of something else, a note saying so: that
    page speaks of our post, its rating is about another thing."""
    candidates = mf2util.find_all_entries(parsed, ["h-review"]) + [
        e
        for e in mf2util.find_all_entries(parsed, ["h-entry"])
        if "rating" in e["properties"]
    ]
    elsewhere = None
    for candidate in candidates:
        props = candidate["properties"]
        items = [*props.get("item", []), *props.get("review-of", [])]
        if _refers(items, target):
            return candidate, None
        if elsewhere is None:
            about = next((u for u in _item_urls(items) if safe_url(u)), None)
            elsewhere = (
                f"an h-review of {clean_text(about, TITLE_MAX)}, not of this post: "
                "kept as a mention, its rating not counted"
                if about
                else "an h-review without p-item or u-review-of naming this post: "
                "kept as a mention, its rating not counted"
            )
    return None, elsewhere


def _item_urls(values: list[Any]) -> list[str]:
    urls = []
    for value in values:
        found = (
            value.get("properties", {}).get("url", [])
            if isinstance(value, dict)
            else [value]
        )
        urls += [str(_value(u)) for u in found if isinstance(u, str | dict)]
    return urls


def _plain_value(values: list[Any] | None) -> str | None:
    """The text of a property such as p-rating (a nested h-* gives its value)."""
    if not values:
        return None
    text = mf2util.get_plain_text(values)
    return text if isinstance(text, str) else None


def _entry_for(parsed: dict[str, Any], target: str) -> dict[str, Any] | None:
    """The h-entry that speaks of the target: one whose properties name it,
    else one whose content links to it, else the first one."""
    entries = mf2util.find_all_entries(parsed, ["h-entry"])
    for entry in entries:
        props = entry["properties"]
        if any(
            _refers(props.get(p, []), target) for _, ps in KIND_PROPERTIES for p in ps
        ):
            return entry
    for entry in entries:
        content = entry["properties"].get("content") or [""]
        if isinstance(content[0], dict) and _defrag(target) in str(
            content[0].get("html")
        ):
            return entry
    return entries[0] if entries else None


def _kind(props: dict[str, Any], target: str) -> tuple[str, str | None]:
    """The kind of response and the RSVP value, for the entry's ``props``.

    The rules of mf2util.classify_comment (an RSVP is a reply that carries a
    p-rsvp), but not its code: it compares URLs exactly — a like of
    ".../post/#comment-3" would be a mere mention — and it has no bookmark-of.
    """
    rsvp = clean_text(mf2util.get_plain_text(props.get("rsvp")), 20).lower()
    for kind, names in KIND_PROPERTIES:
        if any(_refers(props.get(name, []), target) for name in names):
            if kind == "reply" and rsvp in RSVP_VALUES:
                return "rsvp", rsvp
            return kind, None
    return "mention", None


def _refers(values: list[Any], target: str) -> bool:
    """Is one of ``values`` (URLs or h-cite dicts) the target, #fragments aside?"""
    wanted = _defrag(target)
    for value in values:
        urls = (
            value.get("properties", {}).get("url", [])
            if isinstance(value, dict)
            else [value]
        )
        if any(
            isinstance(u, str | dict) and _defrag(str(_value(u))) == wanted
            for u in urls
        ):
            return True
    return False


def _author(parsed: dict[str, Any], author: Any) -> dict[str, Any]:
    """mf2util's author; when it is only a URL (rel=author or u-author with a
    link), authorship step 7.4: an h-card on this page with that URL."""
    if not isinstance(author, dict):
        return {}
    if set(author) == {"url"}:
        for hcard in mf2util.find_all_entries(parsed, ["h-card"]):
            if author["url"] in [_value(u) for u in hcard["properties"].get("url", [])]:
                return dict(mf2util.parse_author(hcard))
    return author


def _value(value: Any) -> Any:
    """mf2py 2 gives u-photo as {"value": url, "alt": text}; take the URL."""
    return value.get("value") if isinstance(value, dict) else value


def _content(entry: dict[str, Any], base: str) -> tuple[str | None, str | None]:
    props = entry["properties"]
    content = (props.get("content") or [None])[0]
    if isinstance(content, dict):
        markup, text = str(content.get("html") or ""), content.get("value")
    elif isinstance(content, str):  # p-content: text, not markup
        markup, text = html.escape(content), content
    else:
        summary = (props.get("summary") or [None])[0]
        return None, clean_text(summary, EXCERPT_MAX) or None
    return clean_html(markup, base) or None, clean_text(text, EXCERPT_MAX) or None


def _same_origin_url(url: Any, page_url: str, final_url: str) -> str:
    """The u-url if it is on the source's (or the final URL's) origin — a page
    cannot claim to be someone else's — else the source itself."""
    candidate = safe_url(url)
    if candidate and _origin(candidate) in (
        _origin(page_url),
        _origin(safe_url(final_url) or ""),
    ):
        return candidate
    return page_url


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _aware(value: Any) -> dt.datetime | None:
    """mf2util gives a date, a naive or an aware datetime: make it aware.

    A date means midnight UTC; a time without offset is taken as UTC (the
    source did not say, and a guess within a day beats no date).
    """
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None
