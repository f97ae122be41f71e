"""Endpoint discovery (W3C Webmention §3.1.2), one test per situation, each
against a real server process: the target page is served, the endpoint is
discovered, and the webmention must arrive at exactly the right endpoint.

The situations are those of the webmention.rocks discovery suite, plus the
decoys the Recommendation's text implies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sender_kit import TargetServer

from causerie.webmentions.fetch import FetchPolicy
from causerie.webmentions.send.discover import parse_link_header
from causerie.webmentions.send.plan import SENT, Job
from causerie.webmentions.send.sender import Sender, SendPolicy

SOURCE = "http://blog.test/posts/2026/un-billet/"


@dataclass
class Case:
    """A target at /d/<name>/page (unless ``start``), its routes, and the
    path where the webmention must arrive."""

    html: str = ""
    headers: list[list[str]] = field(default_factory=list)
    expect: str = ""  # the endpoint path (with its query)
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    start: str = "page"  # the path the sender is given, under /d/<name>/


def doc(head: str = "", body: str = "") -> str:
    return f"<!doctype html><html><head><title>T</title>{head}</head><body>{body}</body></html>"


def cases(base: str) -> dict[str, Case]:
    """``base`` is the server's http://127.0.0.2:PORT, for absolute URLs."""
    e = "/endpoint/"
    return {
        "header-absolute": Case(
            headers=[["Link", f"<{base}{e}1>; rel=webmention"]], expect=e + "1"
        ),
        "header-relative": Case(
            headers=[["Link", f"<{e}2>; rel=webmention"]], expect=e + "2"
        ),
        "link-absolute": Case(
            doc(f'<link rel="webmention" href="{base}{e}3">'), expect=e + "3"
        ),
        "link-relative": Case(
            doc(f'<link rel="webmention" href="{e}4">'), expect=e + "4"
        ),
        "a-absolute": Case(
            doc(body=f'<a rel="webmention" href="{base}{e}5">endpoint</a>'),
            expect=e + "5",
        ),
        "a-relative": Case(
            doc(body=f'<a rel="webmention" href="{e}6">endpoint</a>'), expect=e + "6"
        ),
        "header-name-case": Case(
            headers=[["LinK", f"<{e}7>; rel=webmention"]], expect=e + "7"
        ),
        "header-quoted-rel": Case(
            headers=[["Link", f'<{e}8>; rel="webmention"']], expect=e + "8"
        ),
        "tag-multi-value-rel": Case(
            doc(f'<link rel="webmention somethingelse" href="{e}9">'), expect=e + "9"
        ),
        "header-multi-value-rel": Case(
            headers=[["Link", f'<{e}10>; rel="webmention somethingelse"']],
            expect=e + "10",
        ),
        "header-beats-link-and-a": Case(
            doc(
                f'<link rel="webmention" href="{e}wrong-link">',
                f'<a rel="webmention" href="{e}wrong-a">no</a>',
            ),
            headers=[["Link", f"<{e}11>; rel=webmention"]],
            expect=e + "11",
        ),
        "rel-not-webmention-decoy": Case(
            doc(
                f'<link rel="not-webmention" href="{e}wrong">'
                f'<link rel="webmention" href="{e}12">'
            ),
            expect=e + "12",
        ),
        "decoy-in-html-comment": Case(
            doc(
                f'<!-- <link rel="webmention" href="{e}wrong"> -->'
                f'<link rel="webmention" href="{e}13">'
            ),
            expect=e + "13",
        ),
        "decoy-escaped-in-code": Case(
            doc(
                body=f'<p><code>&lt;a rel="webmention" href="{e}wrong"&gt;&lt;/a&gt;</code></p>'
                f'<a rel="webmention" href="{e}14">endpoint</a>'
            ),
            expect=e + "14",
        ),
        # An empty href is the target page itself, which takes the POST.
        "empty-href": Case(
            doc('<link rel="webmention" href="">'),
            expect="/d/empty-href/page",
        ),
        "a-before-link": Case(
            doc(
                body=f'<a rel="webmention" href="{e}16">first</a>'
                f'<link rel="webmention" href="{e}wrong">'
            ),
            expect=e + "16",
        ),
        "link-before-a": Case(
            doc(
                f'<link rel="webmention" href="{e}17">',
                f'<a rel="webmention" href="{e}wrong">second</a>',
            ),
            expect=e + "17",
        ),
        "two-link-headers-first-other-rel": Case(
            headers=[
                ["Link", f"<{e}wrong>; rel=other"],
                ["Link", f"<{e}18>; rel=webmention"],
            ],
            expect=e + "18",
        ),
        "one-link-header-two-values": Case(
            headers=[["Link", f"<{e}wrong>; rel=other, <{e}19>; rel=webmention"]],
            expect=e + "19",
        ),
        "link-without-href-skipped": Case(
            doc(
                '<link rel="webmention">',
                f'<a rel="webmention" href="{e}20">the real one</a>',
            ),
            expect=e + "20",
        ),
        "endpoint-with-query-string": Case(
            doc(f'<link rel="webmention" href="{e}21?version=1&amp;lang=fr">'),
            expect=e + "21?version=1&lang=fr",
        ),
        "path-relative-href": Case(
            doc('<link rel="webmention" href="endpoint-22">'),
            expect="/d/path-relative-href/endpoint-22",
        ),
        "redirect-then-relative-endpoint": Case(
            doc('<link rel="webmention" href="endpoint-23">'),
            start="start",
            extra={
                "start": {
                    "status": 302,
                    "headers": [
                        ["Location", "/d/redirect-then-relative-endpoint/moved/page"]
                    ],
                },
            },
            expect="/d/redirect-then-relative-endpoint/moved/endpoint-23",
        ),
    }


def serve_cases(srv: TargetServer) -> dict[str, Case]:
    """Set up every case on ``srv``; each endpoint answers 202."""
    all_cases = cases(srv.base)
    for name, case in all_cases.items():
        # After the redirect case's hop, its page lives under moved/.
        page_path = (
            f"/d/{name}/moved/page" if case.start == "start" else f"/d/{name}/page"
        )
        srv.routes[page_path] = {"body": case.html, "headers": case.headers}
        for sub, route in case.extra.items():
            srv.routes[f"/d/{name}/{sub}"] = route
        # The endpoint takes POSTs (the empty-href case: the page itself).
        srv.routes.setdefault(case.expect, {"body": "endpoint"})["post"] = [
            {"status": 202}
        ]
    srv.save()
    return all_cases


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetServer]:
    srv = TargetServer(tmp_path_factory.mktemp("discovery"))
    serve_cases(srv)
    yield srv
    srv.stop()


def sender() -> Sender:
    return Sender(
        SendPolicy(fetch=FetchPolicy(allow_networks=("127.0.0.2/32",), timeout=5)),
        sleep=lambda _s: None,
    )


NAMES = list(cases("http://x"))


@pytest.mark.parametrize("name", NAMES)
def test_discovery(server: TargetServer, name: str) -> None:
    case = cases(server.base)[name]
    target = server.url(f"/d/{name}/{case.start}")
    outcome = sender().send_one(Job(SOURCE, target, "d1"))
    assert outcome.status == SENT, outcome.reason
    assert outcome.endpoint == server.url(case.expect)
    arrived = [r for r in server.received() if r["target"] == target]
    assert [(r["path"], r["source"]) for r in arrived] == [(case.expect, SOURCE)]
    assert arrived[0]["content_type"] == "application/x-www-form-urlencoded"
    assert "Causerie" in arrived[0]["user_agent"]


def test_no_endpoint(server: TargetServer) -> None:
    target = server.page("/d/none/page", doc(body='<a href="/elsewhere">a link</a>'))
    outcome = sender().send_one(Job(SOURCE, target, "d1"))
    assert outcome.status == "no-endpoint"
    assert "no Webmention endpoint" in (outcome.reason or "")


def test_discovery_once_per_target_and_run(
    server: TargetServer, tmp_path: Path
) -> None:
    """Two posts linking to the same page: one discovery, two webmentions."""
    target = server.page(
        "/d/shared/page", doc('<link rel="webmention" href="/endpoint/shared">')
    )
    server.route("/endpoint/shared", post=[{"status": 202}])
    run = sender()
    outcomes = run.run(
        [Job(SOURCE, target, "d1"), Job(SOURCE + "autre/", target, "d1")],
        lambda _o: None,
    )
    assert sorted(o.status for o in outcomes) == [SENT, SENT]
    assert len([r for r in server.received() if r["path"] == "/endpoint/shared"]) == 2
    assert list(run._found) == [target]


# --- the Link header parser, as a pure function -------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("<https://a/wm>; rel=webmention", [("https://a/wm", ("webmention",))]),
        ('<https://a/wm>; rel="webmention"', [("https://a/wm", ("webmention",))]),
        (
            '<https://a/wm>; REL="WebMention other"',
            [("https://a/wm", ("webmention", "other"))],
        ),
        (
            '<https://a/x>; rel="other", <https://a/wm>; rel=webmention',
            [("https://a/x", ("other",)), ("https://a/wm", ("webmention",))],
        ),
        # A comma or semicolon inside a quoted value does not end the link.
        (
            '<https://a/x>; title="a, b; c"; rel=webmention',
            [("https://a/x", ("webmention",))],
        ),
        # RFC 8288 §3.3: only the first rel counts.
        ("<https://a/x>; rel=other; rel=webmention", [("https://a/x", ("other",))]),
        ("<https://a/x>; anchor=#a", [("https://a/x", ())]),
        ("garbage without brackets", []),
        ("<unterminated; rel=webmention", []),
        ("", []),
    ],
)
def test_parse_link_header(header: str, expected: list[Any]) -> None:
    assert parse_link_header(header) == expected
