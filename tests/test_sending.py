"""Sending webmentions end to end: real builds, the real `publish` CLI as a
process, a real target server process recording what it receives.

Publish, update (§3.1.4: current and former targets), delete (§3.1.5: a
tombstone page and notices to former targets), and a run over the demo site.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import ROOT, run_publish, stop_process
from receiver_kit import free_port, wait_until
from sender_kit import (
    SITEURL,
    TargetServer,
    post,
    remote_sites,
    write_blog,
    write_settings,
)

__all__ = ["remote_sites"]  # the fixture, from sender_kit

AVIS = f"{SITEURL}/posts/2026/avis/"
AUTRE = f"{SITEURL}/posts/2026/autre/"


def publish(settings: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_publish("--settings", str(settings), *args, cwd=settings.parent)
    return result


def built(settings: Path) -> None:
    result = publish(settings, "build")
    assert result.returncode == 0, result.stdout + result.stderr


def sent(settings: Path) -> subprocess.CompletedProcess[str]:
    result = publish(settings, "mentions", "send")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def avis(remote_sites: TargetServer, *paths: str, **meta: str) -> str:
    links = " ".join(f"[lien {i}]({remote_sites.url(p)})" for i, p in enumerate(paths))
    own = f"[un autre billet]({AUTRE})"
    return post("avis", f"Nous répondons : {links}. Voir aussi {own}.", **meta)


def test_publish_update_delete(remote_sites: TargetServer, tmp_path: Path) -> None:
    reply_to = remote_sites.url("/t/c")
    settings = write_blog(
        tmp_path / "blog",
        {
            "avis": avis(remote_sites, "/t/a", "/t/b", in_reply_to=reply_to),
            "autre": post("autre", "Rien à signaler.", title="Autre"),
        },
    )
    a, b, c, d = (remote_sites.url(f"/t/{x}") for x in "abcd")

    # Published: each link, and the page it replies to; not our own site.
    built(settings)
    html = (tmp_path / "blog/output/posts/2026/avis/index.html").read_text()
    assert f'class="u-in-reply-to" href="{reply_to}"' in html
    first = sent(settings)
    assert remote_sites.pairs() == {(AVIS, a), (AVIS, b), (AVIS, c)}
    assert len(remote_sites.received()) == 3
    assert re.search(r"^sent\s+3$", first.stdout, re.M), first.stdout

    # Unchanged: nothing is sent again.
    built(settings)
    again = sent(settings)
    assert "0 webmentions due" in again.stdout
    assert len(remote_sites.received()) == 3

    # Updated: A dropped, D added: current and former targets hear of it.
    remote_sites.clear()
    (tmp_path / "blog/content/posts/avis.md").write_text(
        avis(remote_sites, "/t/b", "/t/d", in_reply_to=reply_to), encoding="utf-8"
    )
    built(settings)
    sent(settings)
    assert remote_sites.pairs() == {(AVIS, a), (AVIS, b), (AVIS, c), (AVIS, d)}
    assert len(remote_sites.received()) == 4

    # Deleted: a tombstone is served, and every former target hears of it.
    remote_sites.clear()
    (tmp_path / "blog/content/posts/avis.md").unlink()
    built(settings)
    tombstone = tmp_path / "blog/output/posts/2026/avis/index.html"
    page = tombstone.read_text(encoding="utf-8")
    assert '<meta http-equiv="Status" content="410 Gone">' in page
    assert "Nous répondons" not in page
    gone = (tmp_path / "blog/output/gone.map").read_text(encoding="utf-8")
    assert '"/posts/2026/avis/" 1;' in gone
    assert '"/posts/2026/avis/index.html" 1;' in gone
    sent(settings)
    assert remote_sites.pairs() == {(AVIS, a), (AVIS, b), (AVIS, c), (AVIS, d)}
    assert len(remote_sites.received()) == 4
    # ...once.
    built(settings)
    assert "0 webmentions due" in sent(settings).stdout
    assert len(remote_sites.received()) == 4
    # The home page no longer lists it; the tombstone stays on later builds.
    index = (tmp_path / "blog/output/index.html").read_text(encoding="utf-8")
    assert "/posts/2026/avis/" not in index
    assert "410 Gone" in tombstone.read_text(encoding="utf-8")


def test_the_preview_server_answers_410_for_a_tombstone(
    remote_sites: TargetServer, tmp_path: Path
) -> None:
    settings = write_blog(tmp_path / "blog", {"avis": avis(remote_sites, "/t/a")})
    built(settings)
    (tmp_path / "blog/content/posts/avis.md").unlink()
    built(settings)
    port = free_port()
    proc = subprocess.Popen(
        [
            *(sys.executable, str(ROOT / "publish.py"), "--settings", str(settings)),
            *("serve", "--no-build", "--port", str(port)),
        ],
        cwd=settings.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(base + "/", timeout=2).ok)
        for path in ("/posts/2026/avis/", "/posts/2026/avis/index.html"):
            answer = requests.get(base + path, timeout=5)
            assert answer.status_code == 410
            assert '<meta http-equiv="Status" content="410 Gone">' in answer.text
        assert requests.get(base + "/archives/", timeout=5).status_code == 200
    finally:
        stop_process(proc)


@pytest.mark.parametrize("how", ["status-deleted", "back-to-draft"])
def test_a_post_marked_deleted_or_withdrawn(
    remote_sites: TargetServer, tmp_path: Path, how: str
) -> None:
    settings = write_blog(tmp_path / "blog", {"avis": avis(remote_sites, "/t/a")})
    built(settings)
    sent(settings)
    remote_sites.clear()
    status = "deleted" if how == "status-deleted" else "draft"
    (tmp_path / "blog/content/posts/avis.md").write_text(
        avis(remote_sites, "/t/a", status=status), encoding="utf-8"
    )
    result = publish(settings, "build", "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    page = (tmp_path / "blog/output/posts/2026/avis/index.html").read_text()
    assert "410 Gone" in page
    sent(settings)
    assert remote_sites.pairs() == {(AVIS, remote_sites.url("/t/a"))}


@pytest.mark.parametrize("how", ["broken-file", "rescheduled"])
def test_a_post_that_fails_to_read_or_is_rescheduled_is_not_deleted(
    remote_sites: TargetServer, tmp_path: Path, how: str
) -> None:
    """One bad build must never send deletion notices for a live post."""
    settings = write_blog(tmp_path / "blog", {"avis": avis(remote_sites, "/t/a")})
    built(settings)
    sent(settings)
    remote_sites.clear()
    text = avis(remote_sites, "/t/a")
    if how == "broken-file":
        text = text.replace("Date: 2026-10-01 10:00", "Date: the day after tomorrow")
    else:
        text = text.replace("Date: 2026-10-01 10:00", "Date: 2027-10-01 10:00")
    (tmp_path / "blog/content/posts/avis.md").write_text(text, encoding="utf-8")
    publish(settings, "build")  # may report the broken post; that is the point
    assert "/posts/2026/avis/" not in (tmp_path / "blog/output/gone.map").read_text()
    assert "0 webmentions due" in sent(settings).stdout
    assert remote_sites.received() == []


def test_dry_run_and_one_post(remote_sites: TargetServer, tmp_path: Path) -> None:
    settings = write_blog(
        tmp_path / "blog",
        {
            "avis": avis(remote_sites, "/t/a"),
            "autre": post(
                "autre", f"Voir [b]({remote_sites.url('/t/b')}).", title="Autre"
            ),
        },
    )
    built(settings)
    dry = publish(settings, "mentions", "send", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"{AVIS}  ->  {remote_sites.url('/t/a')}" in dry.stdout
    assert "2 webmentions due (dry run: nothing sent)" in dry.stdout
    assert remote_sites.received() == []
    only = publish(settings, "mentions", "send", "--post", "autre")
    assert only.returncode == 0, only.stderr
    assert remote_sites.pairs() == {(AUTRE, remote_sites.url("/t/b"))}
    missing = publish(settings, "mentions", "send", "--post", "nope")
    assert missing.returncode == 1
    assert "no post has the slug 'nope'" in missing.stderr


def test_exit_codes_and_the_summary(remote_sites: TargetServer, tmp_path: Path) -> None:
    """Remote refusals exit 0 (and 1 with --strict); the table says what happened."""
    remote_sites.route("/t/refuses", headers=[["Link", "</e/no>; rel=webmention"]])
    remote_sites.route("/e/no", post=[{"status": 400, "body": "no link to target"}])
    settings = write_blog(
        tmp_path / "blog", {"avis": avis(remote_sites, "/t/a", "/t/refuses")}
    )
    built(settings)
    result = publish(settings, "mentions", "send")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^sent\s+1$", result.stdout, re.M)
    assert re.search(r"^refused\s+1$", result.stdout, re.M)
    assert "the endpoint answered 400: no link to target" in result.stderr
    (tmp_path / "blog/content/posts/avis.md").write_text(
        avis(remote_sites, "/t/refuses", title="Nouveau titre"), encoding="utf-8"
    )
    built(settings)
    strict = publish(settings, "mentions", "send", "--strict")
    assert strict.returncode == 1


def test_send_before_any_build_says_what_to_do(tmp_path: Path) -> None:
    settings = write_blog(tmp_path / "blog", {})
    result = publish(settings, "mentions", "send")
    assert result.returncode == 1
    assert "run `publish build`" in result.stderr


# --- the demo site ---------------------------------------------------------------

#: Every link the demo's posts make to other sites (as written in content/),
#: with the post that makes it. Links inside code blocks are not links.
DEMO_PAIRS = {
    ("posts/2025/ecouter-sans-avoir-peur/", "https://mastodon.example/@maisonlumen"),
    # A deleted post (Status: deleted): its links hear of the deletion.
    (
        "posts/2025/concours-photo/",
        "https://concours-photo.example/maison-lumen-2025",
    ),
    (
        "posts/2025/nos-clients-parlent-plus-fort/",
        "https://forum-bricolage.example/t/lampe-colline-interrupteur",
    ),
    (
        "posts/2025/repondre-a-un-avis-severe/",
        "https://www.maison-lumen.example/aide/colline-interrupteur",
    ),
    (
        "posts/2025/repondre-a-un-avis-severe/",
        "https://avis-deco.example/lampes/colline/avis-julie-g",
    ),
    ("posts/2025/repondre-par-webmention/", "https://bridge.example/docs"),
    ("posts/2025/repondre-par-webmention/en/", "https://bridge.example/docs"),
    ("posts/2025/une-journee-a-l-atelier/", "https://ateliers-ouverts-lyon.example"),
    (
        "posts/2026/accessibility-what-we-fixed/en/",
        "https://access-audit.example/method",
    ),
    (
        "posts/2026/accessibility-what-we-fixed/en/",
        "https://www.maison-lumen.example/accessibility",
    ),
    (
        "posts/2026/aube-six-mois-apres/",
        "https://www.maison-lumen.example/aube/ampoules",
    ),
    (
        "posts/2026/aube-une-lampe-qui-se-repare/",
        "https://www.maison-lumen.example/aube",
    ),
}
EXTERNAL = re.compile(r"https://([a-z0-9.-]+\.example)(/[^\s)\"'<>\]]*)?")


def test_a_run_over_the_demo_site(remote_sites: TargetServer, tmp_path: Path) -> None:
    """The demo's posts, their remote links pointed at the local target remote_sites
    (https://julie.example/x → http://127.0.0.2:PORT/julie.example/x)."""

    def local(url: str) -> str:
        return EXTERNAL.sub(lambda m: remote_sites.url(f"/{m[1]}{m[2] or ''}"), url)

    content = tmp_path / "site/content"
    shutil.copytree(ROOT / "content", content)
    for md in content.rglob("*.md"):
        md.write_text(local(md.read_text(encoding="utf-8")), encoding="utf-8")
    settings = write_settings(tmp_path / "site", content)
    built(settings)

    result = sent(settings)
    expected = {(f"{SITEURL}/{path}", local(target)) for path, target in DEMO_PAIRS}
    assert remote_sites.pairs() == expected
    assert len(remote_sites.received()) == len(expected)
    assert re.search(rf"^sent\s+{len(expected)}$", result.stdout, re.M), result.stdout

    built(settings)
    again = sent(settings)
    assert "0 webmentions due" in again.stdout
    assert len(remote_sites.received()) == len(expected)
