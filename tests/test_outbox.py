"""The pure core of sending (webmentions.outbox): links, digests, what a
build changes, and which webmentions are due. Tables in, tables out."""

from __future__ import annotations

import datetime as dt

import pytest

from causerie.webmentions.send.plan import (
    DELETED,
    DELETED_DIGEST,
    HELD,
    PUBLISHED,
    RETRY,
    SENT,
    Job,
    OutboundPost,
    SentRecord,
    links_in,
    plan,
    post_digest,
    reconcile,
    same_site,
)

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
P = "https://blog.example/posts/2026/p/"


def outbound(
    url: str = P, links: tuple[str, ...] = (), digest: str = "d1", **kw: object
) -> OutboundPost:
    return OutboundPost(
        url=url,
        source_path=kw.pop("source_path", "posts/p.md"),  # type: ignore[arg-type]
        save_as="posts/2026/p/index.html",
        title="P",
        lang="fr",
        links=links,
        digest=digest,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p><a href="https://a.example/x">a</a></p>', ("https://a.example/x",)),
        # Relative links are resolved against the post; duplicates once.
        (
            '<a href="/about/">x</a><a href="/about/">again</a>',
            ("https://blog.example/about/",),
        ),
        # Not links: anchors, mailto:, javascript:, images, text, comments.
        (
            '<a href="#top">t</a><a href="mailto:a@b">m</a><a href="javascript:x()">j</a>'
            '<img src="https://img.example/i.png">https://text.example/ '
            '<!-- <a href="https://comment.example/">c</a> -->',
            (),
        ),
        ('<a href=" https://a.example/sp ">s</a>', ("https://a.example/sp",)),
        ('<a>no href</a><a href="">empty</a>', ()),
        ("", ()),
    ],
)
def test_links_in(html: str, expected: tuple[str, ...]) -> None:
    assert links_in(html, P) == expected


def test_digest_changes_with_title_text_and_links() -> None:
    base = post_digest("T", "<p>x</p>", ["https://a/"])
    assert base == post_digest("T", "<p>x</p>", ["https://a/"])
    assert base != post_digest("T2", "<p>x</p>", ["https://a/"])
    assert base != post_digest("T", "<p>y</p>", ["https://a/"])
    assert base != post_digest("T", "<p>x</p>", ["https://b/"])
    # Parts are separated: moving text between them changes the digest.
    assert post_digest("ab", "c", []) != post_digest("a", "bc", [])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://blog.example/x", True),
        ("http://blog.example/y", True),
        ("https://www.blog.example/", True),  # www. is the same site
        ("https://other.example/", False),
        ("not a url", False),
    ],
)
def test_same_site(url: str, expected: bool) -> None:
    assert same_site(url, "https://blog.example") is expected


def states(result: list[OutboundPost]) -> dict[str, tuple[str, str]]:
    return {p.url: (p.status, p.digest) for p in result}


def test_reconcile() -> None:
    previous = {
        "u/live": outbound("u/live", digest="old", source_path="live.md"),
        "u/removed": outbound("u/removed", ("https://a/",), source_path="removed.md"),
        "u/broken": outbound("u/broken", digest="b", source_path="broken.md"),
        "u/gone-before": outbound(
            "u/gone-before", digest=DELETED_DIGEST, status=DELETED, deleted_at=NOW
        ),
        "u/marked": outbound("u/marked", ("https://old/",), source_path="m.md"),
    }
    result = reconcile(
        previous,
        published=[outbound("u/live", digest="new", source_path="live.md")],
        deleted=[outbound("u/marked", ("https://new/",), source_path="m.md")],
        still_there=lambda p: p.source_path == "broken.md",
        now=NOW,
    )
    assert states(result) == {
        "u/live": (PUBLISHED, "new"),
        "u/removed": (DELETED, DELETED_DIGEST),
        "u/broken": (HELD, "b"),  # failed to read: neither sent nor tombstoned
        "u/gone-before": (DELETED, DELETED_DIGEST),
        "u/marked": (DELETED, DELETED_DIGEST),
    }
    by_url = {p.url: p for p in result}
    # A deletion is sent to the last links and to those it had before.
    assert by_url["u/marked"].links == ("https://old/", "https://new/")
    assert by_url["u/removed"].deleted_at == NOW


def record(
    target: str, digest: str = "d1", status: str = SENT, **kw: object
) -> SentRecord:
    return SentRecord(P, target, digest, status, **kw)  # type: ignore[arg-type]


def jobs(result: list[Job]) -> list[tuple[str, str, bool, int]]:
    return [(j.target, j.digest, j.deleted, j.attempts) for j in result]


def test_plan_a_new_post_sends_to_each_link() -> None:
    post = outbound(links=("https://a/", "https://b/"))
    assert jobs(plan([post], [], NOW)) == [
        ("https://a/", "d1", False, 0),
        ("https://b/", "d1", False, 0),
    ]


def test_plan_an_unchanged_post_sends_nothing() -> None:
    post = outbound(links=("https://a/",))
    for status in (SENT, "refused", "no-endpoint", "failed"):
        assert plan([post], [record("https://a/", status=status)], NOW) == []


def test_plan_an_updated_post_sends_to_current_and_former_targets() -> None:
    post = outbound(links=("https://b/", "https://c/"), digest="d2")
    old = [record("https://a/"), record("https://b/")]
    assert jobs(plan([post], old, NOW)) == [
        ("https://b/", "d2", False, 0),
        ("https://c/", "d2", False, 0),
        ("https://a/", "d2", False, 0),
    ]


def test_plan_a_deleted_post_sends_once_to_former_targets() -> None:
    post = outbound(links=("https://a/",), digest=DELETED_DIGEST, status=DELETED)
    old = [record("https://a/"), record("https://z/")]
    assert jobs(plan([post], old, NOW)) == [
        ("https://a/", DELETED_DIGEST, True, 0),
        ("https://z/", DELETED_DIGEST, True, 0),
    ]
    done = [record(t, DELETED_DIGEST) for t in ("https://a/", "https://z/")]
    assert plan([post], done, NOW) == []


def test_plan_a_held_post_sends_nothing() -> None:
    post = outbound(links=("https://a/",), digest="d2", status=HELD)
    assert plan([post], [record("https://a/")], NOW) == []


def test_plan_retries_when_due_only() -> None:
    post = outbound(links=("https://a/", "https://b/"))
    later = NOW + dt.timedelta(minutes=5)
    earlier = NOW - dt.timedelta(minutes=5)
    old = [
        record("https://a/", status=RETRY, attempts=2, next_attempt_at=earlier),
        record("https://b/", status=RETRY, attempts=1, next_attempt_at=later),
    ]
    assert jobs(plan([post], old, NOW)) == [("https://a/", "d1", False, 2)]


def test_plan_skips_what_keep_refuses_and_the_post_itself() -> None:
    post = outbound(links=(P, "https://own.example/x", "https://a/"))
    result = plan([post], [], NOW, keep=lambda t: "own.example" not in t)
    assert [j.target for j in result] == ["https://a/"]


def _links_by_soup(html: str, base: str) -> tuple[str, ...]:
    """links_in as it was written with BeautifulSoup (the reference)."""
    from urllib.parse import urljoin, urlsplit

    from bs4 import BeautifulSoup

    found: dict[str, None] = {}
    for anchor in BeautifulSoup(html or "", "lxml").find_all("a", href=True):
        href = str(anchor["href"]).strip()
        if not href or href.startswith("#"):
            continue
        url = urljoin(base, href)
        if urlsplit(url).scheme.lower() in ("http", "https"):
            found.setdefault(url)
    return tuple(found)


@pytest.mark.filterwarnings("ignore::bs4.XMLParsedAsHTMLWarning")
@pytest.mark.parametrize(
    "html",
    [
        '<A HREF="http://up.example/">u</a><a href=http://noquote.example/>x</a>',
        '<?xml version="1.0" encoding="latin-1"?><a href="http://x.example/é">é</a>',
        '<a href="http://a.example/?x=1&amp;y=2">q</a><a href="/&eacute;">e</a>',
        '<svg><a href="http://svg.example/">s</a></svg>',
        '<a href="http://1.example/" href="http://2.example/">two hrefs</a>',
        '<table><a href="http://t.example/">x</a><tr><td><a href="/u">',
        "<script>var a = '<a href=\"http://s.example/\">';</script><a href=/after>",
        '<template><a href="http://tpl.example/"></a></template>',
        '<textarea><a href="http://ta.example/"></textarea><a href="/ok">',
        '<noscript><a href="http://ns.example/">n</a></noscript>',
        '<base href="http://base.example/"><a href="rel">x</a>',
        "<!-- only a comment -->",
        " \n ",
    ],
)
def test_links_in_reads_html_as_beautifulsoup_did(html: str) -> None:
    # links_in parses with lxml directly instead of through BeautifulSoup's
    # tree (for the build's speed): same parser, so the same links.
    assert links_in(html, P) == _links_by_soup(html, P)
