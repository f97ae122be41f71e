"""Webmention verification (§3.2.2), table-driven after webmention.rocks.

Most cases feed a FetchResult straight to verify(), which is pure; a few go
end to end through a real server on 127.0.0.2 and fetch().
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from test_fetch import ALLOW, Loopback

from causerie.webmentions.fetch import FetchResult, fetch
from causerie.webmentions.verify.source import MentionData, Refusal, links_to, verify

TARGET = "https://blog.example/posts/lampe/"
SOURCE = "https://alice.example/notes/1"
HTML = "text/html"


def fetched(
    body: str,
    content_type: str = HTML,
    status: int = 200,
    url: str = SOURCE,
) -> FetchResult:
    return FetchResult(url, status, {}, body.encode(), content_type, "utf-8")


def mention(body: str, **kwargs: Any) -> MentionData:
    result = verify(SOURCE, TARGET, fetched(body, **kwargs))
    assert isinstance(result, MentionData), result
    return result


# --- does the source link to the target? -----------------------------------

LINKED = {
    "a-href": f'<p>Voir <a href="{TARGET}">la lampe</a>.</p>',
    "img-src": f'<img src="{TARGET}" alt="">',
    "video-src": f'<video src="{TARGET}"></video>',
    "audio-src": f'<audio src="{TARGET}"></audio>',
    "audio-source-src": f'<audio><source src="{TARGET}"></audio>',
    "video-source-src": f'<video><source src="{TARGET}" type="video/mp4"></video>',
    "uppercase-tag": f'<P><A HREF="{TARGET}">x</A></P>',
    "unquoted-attribute": f"<a href={TARGET}>x</a>",
    "whitespace-around-href": f'<a href="  {TARGET}\n">x</a>',
    "fragment-on-link": f'<a href="{TARGET}#comments">x</a>',
    "entity-encoded-href": '<a href="https&#58;//blog.example/posts/lampe/">x</a>',
    "second-of-many-links": f'<a href="https://x.example/">x</a> <a href="{TARGET}">y</a>',
    "base-href-then-relative": '<base href="https://blog.example/posts/"><a href="lampe/">x</a>',
}

NOT_LINKED = {
    "text-only": f"<p>I read {TARGET} yesterday.</p>",
    "html-comment": f'<!-- <a href="{TARGET}">x</a> --><p>nothing</p>',
    "escaped-in-code": f'<code>&lt;a href="{TARGET}"&gt;x&lt;/a&gt;</code>',
    "link-element": f'<link rel="canonical" href="{TARGET}">',
    "area-element": f'<map><area href="{TARGET}"></map>',
    "video-poster": f'<video poster="{TARGET}"></video>',
    "title-attribute": f'<a href="https://x.example/" title="{TARGET}">x</a>',
    "data-attribute": f'<a data-href="{TARGET}">x</a>',
    "in-script": f'<script>var u = "<a href=\\"{TARGET}\\">";</script>',
    "in-textarea": f'<textarea><a href="{TARGET}">x</a></textarea>',
    "longer-url": f'<a href="{TARGET}extra">x</a>',
    "other-post": '<a href="https://blog.example/posts/lampe-2/">x</a>',
    "http-not-https": '<a href="http://blog.example/posts/lampe/">x</a>',
    "no-trailing-slash": '<a href="https://blog.example/posts/lampe">x</a>',
    "credentials-trick": '<a href="https://blog.example@evil.example/posts/lampe/">x</a>',
    "relative-against-source": '<a href="/posts/lampe/">x</a>',
    "empty-page": "",
}


@pytest.mark.parametrize("body", LINKED.values(), ids=LINKED.keys())
def test_linked_sources_are_accepted(body: str) -> None:
    assert mention(body).kind == "mention"
    assert links_to(body, HTML, TARGET, base_url=SOURCE)


@pytest.mark.parametrize("body", NOT_LINKED.values(), ids=NOT_LINKED.keys())
def test_sources_without_a_real_link_are_refused(body: str) -> None:
    result = verify(SOURCE, TARGET, fetched(body))
    assert result == Refusal(f"the source does not link to {TARGET}", deleted=True)
    assert not links_to(body, HTML, TARGET, base_url=SOURCE)


def test_relative_link_resolved_against_the_final_url() -> None:
    # The source redirected to a page on the target's site (a self-mention).
    page = fetched('<a href="../lampe/">x</a>', url="https://blog.example/posts/autre/")
    assert isinstance(verify(SOURCE, TARGET, page), MentionData)


def test_fragment_on_the_target_is_ignored() -> None:
    result = verify(SOURCE, TARGET + "#c12", fetched(f'<a href="{TARGET}">x</a>'))
    assert isinstance(result, MentionData) and result.target == TARGET + "#c12"


def test_xhtml_is_html() -> None:
    assert mention(f'<a href="{TARGET}">x</a>', content_type="application/xhtml+xml")


OTHER_TYPES = [
    ("application/json", json.dumps({"object": {"inReplyTo": TARGET}}), True),
    ("application/activity+json", json.dumps({"tag": [{"href": TARGET + "#x"}]}), True),
    ("application/json", json.dumps({"list": [[[TARGET]]]}), True),
    ("application/json", json.dumps({TARGET: "a key is not a link"}), False),
    ("application/json", json.dumps({"text": f"see {TARGET} now"}), False),
    ("application/json", "{not json", False),
    ("text/plain", f"Bravo pour {TARGET}.", True),
    ("text/plain", f"Bravo pour {TARGET}#c1 !", True),
    ("text/plain", f"({TARGET})", True),
    ("text/plain", f"Bravo pour {TARGET}extra", False),
    ("text/plain", f"Bravo pour {TARGET}?page=2", False),
    ("text/plain", "Bravo pour https://blog.example/posts/", False),
]


@pytest.mark.parametrize(("content_type", "body", "linked"), OTHER_TYPES)
def test_json_and_plain_text(content_type: str, body: str, linked: bool) -> None:
    assert links_to(body, content_type, TARGET) is linked
    result = verify(SOURCE, TARGET, fetched(body, content_type))
    assert isinstance(result, MentionData if linked else Refusal)


def test_plain_text_mention_has_an_excerpt() -> None:
    result = mention(f"Line one.\nBravo pour {TARGET} !", content_type="text/plain")
    assert result.content_text == f"Line one. Bravo pour {TARGET} !"
    assert (result.kind, result.url, result.title) == ("mention", SOURCE, None)


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", ""])
def test_other_types_are_refused_with_a_reason(content_type: str) -> None:
    result = verify(SOURCE, TARGET, fetched(TARGET, content_type))
    assert isinstance(result, Refusal) and not result.deleted
    assert result.reason.startswith(
        f"the source is {content_type or 'of no declared type'};"
    )


@pytest.mark.parametrize(
    ("status", "deleted", "reason"),
    [
        (404, True, "the source answered 404: it is gone"),
        (410, True, "the source answered 410: it is gone"),
        (500, False, "the source answered 500"),
        (503, False, "the source answered 503"),
        (301, False, "the source answered 301"),
        (403, False, "the source answered 403"),
    ],
)
def test_status(status: int, deleted: bool, reason: str) -> None:
    body = f'<a href="{TARGET}">x</a>'
    assert verify(SOURCE, TARGET, fetched(body, status=status)) == Refusal(
        reason, deleted
    )


def test_tombstone_page_is_a_delete() -> None:
    body = f'<meta http-equiv="Status" content="410 Gone"><a href="{TARGET}">x</a>'
    assert verify(SOURCE, TARGET, fetched(body)) == Refusal(
        "the source says it is gone (410 Gone)", deleted=True
    )


# --- what the source says: microformats ------------------------------------

AUTHOR = """<span class="p-author h-card"><img class="u-photo" src="/alice.jpg" alt="">
  <a class="u-url p-name" href="https://alice.example/">Alice Martin</a></span>"""


def entry(props: str, extra: str = "", cls: str = "h-entry") -> str:
    return f"""<!doctype html><html><head><title>Alice's notes</title>{extra}</head>
<body><article class="{cls}">{props}
<a class="u-url" href="/notes/1">permalink</a></article></body></html>"""


def test_reply_with_every_field() -> None:
    result = mention(
        entry(f"""
        <a class="u-in-reply-to" href="{TARGET}">In reply to the lamp post</a>
        {AUTHOR}
        <time class="dt-published" datetime="2026-03-04T10:20:30+01:00">4 March</time>
        <div class="e-content"><p>Très <b>belle</b> lampe&nbsp;! <a href="/more">more</a></p></div>""")
    )
    assert result == MentionData(
        source=SOURCE,
        target=TARGET,
        kind="reply",
        url="https://alice.example/notes/1",
        author_name="Alice Martin",
        author_url="https://alice.example/",
        author_photo="https://alice.example/alice.jpg",
        published=dt.datetime(
            2026, 3, 4, 10, 20, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))
        ),
        title=None,
        content_html=(
            '<p>Très <b>belle</b> lampe&nbsp;! <a href="https://alice.example/more" '
            'rel="nofollow ugc noopener">more</a></p>'
        ),
        content_text="Très belle lampe ! more",
        rsvp=None,
    )
    assert result.published and result.published.utcoffset() is not None


@pytest.mark.parametrize(
    ("markup", "kind", "rsvp"),
    [
        (f'<a class="u-like-of" href="{TARGET}">like</a>', "like", None),
        (f'<a class="u-repost-of" href="{TARGET}">repost</a>', "repost", None),
        (f'<a class="u-bookmark-of" href="{TARGET}">bookmark</a>', "bookmark", None),
        (
            f'<a class="u-in-reply-to" href="{TARGET}">re</a><data class="p-rsvp" value="yes">I\'ll be there</data>',
            "rsvp",
            "yes",
        ),
        (
            f'<a class="u-in-reply-to" href="{TARGET}">re</a><data class="p-rsvp" value="Maybe"></data>',
            "rsvp",
            "maybe",
        ),
        (
            f'<a class="u-in-reply-to" href="{TARGET}">re</a><data class="p-rsvp" value="whatever"></data>',
            "reply",
            None,
        ),
        (
            f'<div class="u-in-reply-to h-cite"><a class="u-url" href="{TARGET}">the post</a></div>',
            "reply",
            None,
        ),
        (
            f'<div class="u-like-of h-cite"><a class="u-url p-name" href="{TARGET}">the post</a></div>',
            "like",
            None,
        ),
        (
            f'<a class="u-like-of" href="{TARGET}#c3">a comment of the post</a>',
            "like",
            None,
        ),
        (
            f'<a class="u-in-reply-to" href="https://other.example/">re</a><div class="e-content"><a href="{TARGET}">x</a></div>',
            "mention",
            None,
        ),
        (
            f'<div class="e-content">I liked <a href="{TARGET}">this</a></div>',
            "mention",
            None,
        ),
    ],
)
def test_kinds(markup: str, kind: str, rsvp: str | None) -> None:
    result = mention(entry(markup))
    assert (result.kind, result.rsvp) == (kind, rsvp)


def test_authorship_rel_author_and_an_h_card_on_the_page() -> None:
    # indieweb.org/authorship: no author in the entry → rel=author; the page's
    # h-card with that URL gives name and photo (no author page is fetched).
    page = entry(
        f'<a class="u-like-of" href="{TARGET}">like</a>',
        extra='<link rel="author" href="https://alice.example/">',
    ).replace(
        "</body>",
        '<div class="h-card"><a class="u-url p-name" href="https://alice.example/">Alice</a>'
        '<img class="u-photo" src="https://alice.example/a.png" alt=""></div></body>',
    )
    result = mention(page)
    assert (result.author_name, result.author_url, result.author_photo) == (
        "Alice",
        "https://alice.example/",
        "https://alice.example/a.png",
    )


def test_authorship_rel_author_alone_gives_the_url() -> None:
    page = entry(
        f'<a class="u-like-of" href="{TARGET}">like</a>',
        extra='<link rel="author" href="/about">',
    )
    result = mention(page)
    assert (result.author_name, result.author_url) == (
        None,
        "https://alice.example/about",
    )


def test_authorship_from_the_parent_h_feed_and_a_plain_name() -> None:
    page = f"""<div class="h-feed"><span class="p-author">Bob</span>
      <div class="h-entry"><a class="u-in-reply-to" href="{TARGET}">re</a>
      <p class="e-content">Hi</p></div></div>"""
    result = mention(page)
    assert (result.kind, result.author_name, result.author_url) == (
        "reply",
        "Bob",
        None,
    )


def test_feed_page_uses_the_entry_that_replies_to_us() -> None:
    page = f"""<div class="h-feed">
      <div class="h-entry"><p class="e-content">An unrelated note</p></div>
      <div class="h-entry"><a class="u-in-reply-to" href="{TARGET}">re</a>
        <p class="e-content">The reply</p></div></div>"""
    result = mention(page)
    assert (result.kind, result.content_text) == ("reply", "The reply")


def test_u_url_on_another_origin_is_not_trusted() -> None:
    page = entry(f'<a class="u-like-of" href="{TARGET}">like</a>').replace(
        'href="/notes/1"', 'href="https://someone-else.example/notes/1"'
    )
    assert mention(page).url == SOURCE


@pytest.mark.parametrize(
    ("datetime", "expected"),
    [
        ("2026-03-04T10:20:30Z", dt.datetime(2026, 3, 4, 10, 20, 30, tzinfo=dt.UTC)),
        ("2026-03-04 10:20", dt.datetime(2026, 3, 4, 10, 20, tzinfo=dt.UTC)),
        ("2026-03-04", dt.datetime(2026, 3, 4, tzinfo=dt.UTC)),
        ("le 4 mars", None),
    ],
)
def test_published_is_always_aware(datetime: str, expected: dt.datetime | None) -> None:
    page = entry(
        f'<a class="u-like-of" href="{TARGET}">x</a><time class="dt-published" datetime="{datetime}"></time>'
    )
    assert mention(page).published == expected


@pytest.mark.parametrize(
    ("name", "body", "error"),
    [
        # mf2util reads any number of digits as the year: datetime() overflows.
        (
            "twenty-digit-year",
            entry(
                f'<a class="u-in-reply-to" href="{TARGET}">re</a>'
                '<time class="dt-published" datetime="99999999999999999999-01-01">x</time>'
            ),
            "OverflowError",
        ),
        # mf2py recurses once per nested microformat.
        (
            "deep-nesting",
            entry(
                '<div class="h-cite">' * 3000
                + f'<a class="u-in-reply-to" href="{TARGET}">re</a>'
                + "</div>" * 3000
            ),
            "RecursionError",
        ),
        # mf2py splits the <base href> as a URL.
        (
            "broken-base",
            entry(f'<a class="u-in-reply-to" href="{TARGET}">re</a>')
            + '<base href="http://[::1">',
            "ValueError",
        ),
    ],
)
def test_microformats_that_crash_the_parsers_leave_a_plain_mention(
    name: str, body: str, error: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Issue 13 item 5: whatever the mf2 step raises, verify() answers.
    with caplog.at_level("WARNING", logger="causerie.webmentions.verify.source"):
        result = mention(body)
    assert result.kind == "mention" and result.url == SOURCE
    (line,) = [r.getMessage() for r in caplog.records]
    assert f"microformats unreadable ({error}:" in line and "\n" not in line


def test_marked_sections_in_microformats_are_read_as_text() -> None:
    # "<![>" made html.parser assert (issue 13 item 5) wherever text is cleaned.
    result = mention(
        entry(
            '<a class="p-author h-card" href="/"><![>Alice<![CDATA[</a>'
            f'<a class="u-in-reply-to" href="{TARGET}">re</a>'
            '<div class="e-content"><![><p>Bonjour</p></div>'
            '<p class="p-name"><![if !IE]>Titre</p>'
        )
    )
    assert result.kind == "reply" and result.author_name
    assert "Alice" in result.author_name
    assert result.content_text and "Bonjour" in result.content_text


def test_explicit_name_is_the_title() -> None:
    page = entry(
        f"""<h1 class="p-name">Lamps I love</h1>
        <div class="e-content">A long article about <a href="{TARGET}">a lamp</a>.</div>"""
    )
    result = mention(page)
    assert (result.kind, result.title) == ("mention", "Lamps I love")


def test_plain_p_content_is_text_not_markup() -> None:
    page = entry(
        f'<a class="u-in-reply-to" href="{TARGET}">re</a><p class="p-content">a &lt;b&gt; c</p>'
    )
    result = mention(page)
    assert result.content_html == "a &lt;b&gt; c"


def test_page_without_microformats_is_a_mention_titled_by_its_title() -> None:
    page = f"""<html><head><title>  Alice's
      notes  </title></head><body><h1>Hello</h1>
      <p>I found <a href="{TARGET}">this lamp</a> lovely.</p><p>Other text.</p></body></html>"""
    assert mention(page) == MentionData(
        source=SOURCE,
        target=TARGET,
        kind="mention",
        url=SOURCE,
        author_name=None,
        author_url=None,
        author_photo=None,
        published=None,
        title="Alice's notes",
        content_html=None,
        content_text="I found this lamp lovely.",
        rsvp=None,
    )


def test_long_content_text_is_cut_to_500() -> None:
    page = entry(
        f'<a class="u-in-reply-to" href="{TARGET}">re</a><div class="e-content">{"mot " * 400}</div>'
    )
    text = mention(page).content_text or ""
    assert len(text) == 500 and text.endswith("…")


# --- end to end: fetch() then verify() on a real server ----------------------


@pytest.fixture(scope="module")
def web() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.close()


def _through(web: Loopback, source: str, target: str) -> MentionData | Refusal:
    return verify(source, target, fetch(source, ALLOW))


def test_end_to_end_reply(web: Loopback) -> None:
    target = web.url("/posts/lampe/")
    source = web.page(
        "/alice/reply",
        entry(
            f'<a class="u-in-reply-to" href="{target}">re</a>{AUTHOR}'
            '<p class="e-content">Superbe !</p>'
        ).replace('href="/notes/1"', 'href="/alice/reply"'),
    )
    result = _through(web, source, target)
    assert isinstance(result, MentionData)
    assert (result.kind, result.url, result.author_name) == (
        "reply",
        source,
        "Alice Martin",
    )
    assert result.author_photo == web.url("/alice.jpg")
    assert result.content_html == "Superbe !"


def test_end_to_end_relative_link_after_a_redirect(web: Loopback) -> None:
    target = web.url("/posts/lampe/")
    web.page("/new/home/page", '<p><a href="../../posts/lampe/">the lamp</a></p>')
    web.routes["/old"] = lambda h: h.redirect("/new/home/page", 301)
    result = _through(web, web.url("/old"), target)
    assert isinstance(result, MentionData)
    assert (result.url, result.content_text) == (web.url("/old"), "the lamp")


@pytest.mark.parametrize("status", [404, 410])
def test_end_to_end_gone(web: Loopback, status: int) -> None:
    source = web.page(f"/gone/{status}", "<p>gone</p>", status=status)
    result = _through(web, source, web.url("/posts/lampe/"))
    assert result == Refusal(f"the source answered {status}: it is gone", deleted=True)


def test_end_to_end_link_removed_is_a_delete(web: Loopback) -> None:
    target = web.url("/posts/lampe/")
    source = web.page("/edited", f'<a href="{target}">x</a>')
    assert isinstance(_through(web, source, target), MentionData)
    web.page("/edited", "<p>I changed my mind.</p>")
    assert _through(web, source, target) == Refusal(
        f"the source does not link to {target}", deleted=True
    )


def test_end_to_end_charset_from_meta(web: Loopback) -> None:
    target = web.url("/posts/lampe/")
    body = f'<meta charset="iso-8859-1"><title>Caf\xe9</title><a href="{target}">x</a>'
    source = web.page("/latin1", body.encode("latin-1"), content_type="text/html")
    result = _through(web, source, target)
    assert isinstance(result, MentionData) and result.title == "Café"


def test_result_is_frozen() -> None:
    result = mention(f'<a href="{TARGET}">x</a>')
    with pytest.raises(AttributeError):
        result.kind = "reply"  # type: ignore[misc]
    assert replace(result, kind="like").kind == "like"
