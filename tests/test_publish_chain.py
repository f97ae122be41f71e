"""`publish deploy`, `publish rollback` and `publish publish` as a user runs
them: real processes over a real site, a real target remote_sites for webmentions."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT
from sender_kit import SITEURL, TargetServer, post, remote_sites, write_blog

__all__ = ["remote_sites"]  # the fixture, from sender_kit

AVIS = f"{SITEURL}/posts/2026/avis/"


def blog(tmp_path: Path, remote_sites: TargetServer, **deploy: Any) -> Path:
    settings = write_blog(
        tmp_path / "blog",
        {
            "avis": post(
                "avis", f"Nous répondons à [ce billet]({remote_sites.url('/t/a')})."
            )
        },
    )
    root = tmp_path / "srv"
    with settings.open("a", encoding="utf-8") as f:
        f.write(f"DEPLOY = {{'root': {str(root)!r}, 'keep': 3, **{deploy!r}}}\n")
    return settings


def publish(
    settings: Path, *args: str, fsize: int | None = None
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a disk that fills up: writes fail with EFBIG
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [sys.executable, str(ROOT / "publish.py"), "--settings", str(settings), *args],
        cwd=settings.parent,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limit,
    )


def live(settings: Path) -> str:
    return os.readlink(settings.parent.parent / "srv/current")


def test_publish_twice_then_a_broken_post(
    remote_sites: TargetServer, tmp_path: Path
) -> None:
    marker = tmp_path / "reloaded"
    settings = blog(
        tmp_path,
        remote_sites,
        reload=[sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x')"],
    )
    first = publish(settings, "publish")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Live: release" in first.stdout and "Webmentions: 1 sent" in first.stdout
    release = live(settings)
    page = settings.parent.parent / "srv/current/posts/2026/avis/index.html"
    assert "Nous répondons" in page.read_text(encoding="utf-8")
    assert remote_sites.pairs() == {(AVIS, remote_sites.url("/t/a"))}
    assert marker.read_text() == "x"  # DEPLOY["reload"] ran after the switch

    # Again: safe. The same pages (the sitemap's build time aside, which
    # makes a new release of hard links), nothing sent twice.
    second = publish(settings, "publish")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Nothing changed" in second.stdout or "1 file(s) copied" in second.stdout
    assert "Nous répondons" in page.read_text(encoding="utf-8")
    assert len(remote_sites.received()) == 1
    release = live(settings)

    # A broken post stops the chain before the deploy: the live site stays.
    (settings.parent / "content/posts/broken.md").write_text(
        post("broken", "Texte.").replace("Léa Marchetti", "Personne Inconnue"),
        encoding="utf-8",
    )
    broken = publish(settings, "publish")
    assert broken.returncode == 1
    assert "build failed" in broken.stderr and "live site is as it was" in broken.stderr
    assert "run `publish publish` again" in broken.stderr
    assert live(settings) == release and len(remote_sites.received()) == 1


def test_deploy_to_a_full_disk_then_rollback(
    remote_sites: TargetServer, tmp_path: Path
) -> None:
    settings = blog(tmp_path, remote_sites)
    assert publish(settings, "build").returncode == 0
    done = publish(settings, "deploy")
    assert done.returncode == 0, done.stderr
    release = live(settings)

    post_file = settings.parent / "content/posts/avis.md"
    post_file.write_text(
        post_file.read_text(encoding="utf-8") + "\nAjout.\n", encoding="utf-8"
    )
    assert publish(settings, "build").returncode == 0
    full = publish(settings, "deploy", fsize=0)
    assert full.returncode == 1
    assert "cannot write the new release" in full.stderr
    assert "The live site is unchanged" in full.stderr
    assert "run `publish deploy` again" in full.stderr
    assert live(settings) == release
    assert [p.name for p in (tmp_path / "srv/releases").iterdir()] == [
        release.split("/")[1]
    ]

    retried = publish(settings, "deploy")
    assert retried.returncode == 0, retried.stderr
    new = live(settings)
    assert new != release
    listed = publish(settings, "rollback", "--list")
    assert f"* {new.split('/')[1]}" in listed.stdout

    back = publish(settings, "rollback")
    assert (
        back.returncode == 0
        and f"now serves release {release.split('/')[1]}" in back.stdout
    )
    assert live(settings) == release
    again = publish(settings, "rollback")
    assert again.returncode == 1 and "nothing to roll back to" in again.stderr
