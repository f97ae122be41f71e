"""`publish check` finds each planted mistake, with its file and line, and
passes on the demo site."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import run_publish

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "broken-site"

# (file, line, part of the message) for every planted mistake.
PLANTED = [
    ("posts/unknown-author.md", 3, "unknown author 'Nobody Known'"),
    ("posts/bad-date.md", 2, "invalid Date '2026-13-45'"),
    ("posts/no-title.md", 1, "missing Title"),
    ("posts/bad-lang.md", 4, "unknown language 'de'"),
    ("posts/typo-key.md", 4, "unknown metadata `tag`"),
    ("posts/broken-link.md", 5, "broken link {filename}/posts/does-not-exist.md"),
    ("posts/missing-image.md", 7, "missing image {static}/images/nope.png"),
    ("posts/no-alt.md", 5, "has no alt text"),
    ("posts/dup-one.md", 4, "duplicate slug 'same-slug'"),
    ("posts/dup-two.md", 4, "duplicate slug 'same-slug'"),
    ("posts/bad-status.md", 4, "invalid Status 'publsihed'"),
    ("posts/relative-link.md", 5, "relative link good.md"),
    ("posts/latin1.md", 1, "not valid UTF-8"),
    # Gallery and downloads blocks (docs/albums.md): alt text is required.
    ("posts/bad-gallery.md", 9, "images/atelier.jpg: the photo has no alt text"),
    ("posts/bad-gallery.md", 10, "missing file images/nope.jpg"),
    ("posts/bad-gallery.md", 11, "images/lamp.svg: .svg is not published in a gallery"),
    ("posts/bad-gallery.md", 15, "missing file images/atelier.exe"),
]


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    site = tmp_path / "broken-site"
    shutil.copytree(FIXTURE, site, ignore=shutil.ignore_patterns("output"))
    conf = site / "pelicanconf.py"
    conf.write_text(
        conf.read_text().replace(
            "Path(__file__).resolve().parents[3]", f"Path({str(ROOT)!r})"
        )
    )
    # Not kept in git as such: a post saved as Latin-1 instead of UTF-8.
    (site / "content" / "posts" / "latin1.md").write_bytes(
        b"Title: Caf\xe9\nDate: 2026-01-23\nAuthor: Ana Lima\n\n\xc9t\xe9.\n"
    )
    return site


def publish(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_publish(*args, cwd=cwd)


def test_check_finds_every_planted_mistake(broken_site: Path) -> None:
    result = publish("check", cwd=broken_site)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    for name, line, fragment in PLANTED:
        prefix = f"content/{name}:{line}: "
        hits = [
            entry for entry in lines if entry.startswith(prefix) and fragment in entry
        ]
        assert hits, f"{prefix}{fragment!r} not reported; got:\n{result.stdout}"
        assert " — " in hits[0], "each problem says how to fix it"
    # The two good posts are clean: no false alarm.
    assert not [entry for entry in lines if "good.md" in entry.split(":")[0]]
    assert "Traceback" not in result.stdout + result.stderr
    assert f"{len(lines)} problem(s) found." in result.stderr


def test_check_passes_on_the_demo_site() -> None:
    result = publish("check", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No problems found." in result.stdout


def test_check_reports_a_broken_registry(broken_site: Path) -> None:
    registry = broken_site / "content" / "authors.toml"
    registry.write_text(
        registry.read_text() + '\n[bob]\nname = "Bob"\n', encoding="utf-8"
    )
    result = publish("check", cwd=broken_site)
    assert result.returncode == 1
    assert "content/authors.toml:1: " in result.stdout
    assert "[bob]: missing email" in result.stdout


def test_build_skips_bad_posts_and_finishes_the_rest(broken_site: Path) -> None:
    out = broken_site / "output"
    result = publish("build", cwd=broken_site)
    assert result.returncode == 0, result.stdout + result.stderr
    err = result.stderr
    assert "Traceback" not in result.stdout + err
    # Each bad file is named with what to fix ...
    assert "posts/bad-date.md: '2026-13-45' is not a valid date" in err
    assert "posts/latin1.md: not valid UTF-8" in err
    assert "posts/no-title.md: could not find information about 'title'" in err
    assert "posts/unknown-author.md: unknown author 'Nobody Known'; skipped" in err
    # A refused photo names the post and the file, and the post is built.
    assert (
        "albums: posts/bad-gallery.md: content/images/lamp.svg: refused: "
        "an SVG can hold scripts" in err
    )
    assert (out / "posts/2026/a-gallery-with-mistakes/en/index.html").is_file()
    # ... and skipped, while the good posts are built.
    # An English post on a French-first site lives under its language.
    assert (out / "posts" / "2026" / "a-good-post" / "en" / "index.html").is_file()
    assert not (out / "posts" / "2026" / "who-wrote-this").exists()
    assert "problems, listed above" in result.stdout


def test_build_strict_exits_non_zero_without_traceback(broken_site: Path) -> None:
    result = publish("build", "--strict", cwd=broken_site)
    assert result.returncode == 1
    assert "--strict:" in result.stderr and "fix them and build again" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
