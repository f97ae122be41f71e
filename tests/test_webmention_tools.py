"""Why Causerie does not use webmention-tools, the package the product card
names for sending: the evidence, re-checked on every run.

webmention-tools 0.4.1 is run against the very discovery cases of
tests/test_discovery.py (a real server process), then against a target that
advertises an endpoint on loopback. If a new release fixes these, this test
fails, and the README's notes on dependencies must be updated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sender_kit import TargetServer
from test_discovery import serve_cases

# Installed by the [test] extra (pyproject.toml), so CI always runs this.
webmentiontools_send = pytest.importorskip("webmentiontools.send")

#: The §3.1.2 situations webmention-tools gets wrong: no endpoint found, or
#: the wrong one (README, "Dependencies").
WRONG = {
    "header-absolute",  # rel=webmention unquoted: its regex wants quotes
    "header-relative",
    "header-name-case",
    "header-multi-value-rel",  # rel="webmention other": not matched
    "two-link-headers-first-other-rel",
    "one-link-header-two-values",
    "header-beats-link-and-a",  # ...so the <link> decoy wins
    "empty-href",  # an empty href is the page itself; it gives up
    "link-without-href-skipped",  # it stops at the first <link>, href or not
    "a-before-link",  # every <link> before any <a>, not document order
    "redirect-then-relative-endpoint",  # resolved against the first URL
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TargetServer]:
    srv = TargetServer(tmp_path_factory.mktemp("wmtools"))
    yield srv
    srv.stop()


def test_webmention_tools_fails_discovery_and_reports_202_as_failure(
    server: TargetServer,
) -> None:
    all_cases = serve_cases(server)
    wrong = set()
    for name, case in all_cases.items():
        target = server.url(f"/d/{name}/{case.start}")
        sender = webmentiontools_send.WebmentionSend("http://blog.test/p/", target)
        ok = sender.send(timeout=5)
        posted = [r["path"] for r in server.received() if r["target"] == target]
        if posted != [case.expect]:
            wrong.add(name)
            continue
        # Sent where it should, accepted with 202... and called a failure:
        # `status_code / 100 != 2` is true division on Python 3.
        assert ok is False
        assert sender.error["code"] == "RECEIVER_ERROR"
        assert sender.error["http_status"] == 202
    assert wrong == WRONG
    assert len(all_cases) - len(wrong) == 12


@pytest.mark.parametrize(
    ("status", "reported"), [(200, True), (201, False), (202, False)]
)
def test_webmention_tools_only_counts_200_as_success(
    server: TargetServer, status: int, reported: bool
) -> None:
    server.route(f"/e/{status}", post=[{"status": status}])
    target = server.page(f"/t/{status}", f'<link rel="webmention" href="/e/{status}">')
    sender = webmentiontools_send.WebmentionSend("http://blog.test/p/", target)
    assert sender.send(timeout=5) is reported


def test_webmention_tools_posts_to_a_loopback_endpoint(
    server: TargetServer, tmp_path: Path
) -> None:
    """§4.3 (and SSRF): a target can make it POST inside our network."""
    inside = TargetServer(tmp_path / "inside", host="127.0.0.1")
    try:
        inside.route("/admin/hook", post=[{"status": 200}])
        target = server.page(
            "/t/ssrf", f'<link rel="webmention" href="{inside.url("/admin/hook")}">'
        )
        sender = webmentiontools_send.WebmentionSend("http://blog.test/p/", target)
        assert sender.send(timeout=5) is True
        assert [r["path"] for r in inside.received()] == ["/admin/hook"]
    finally:
        inside.stop()
