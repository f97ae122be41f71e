"""Markdown converted by worker processes (SITEBUILD["jobs"]) gives the same
site as Markdown converted file by file in the build's process.

Real builds of the demo plus enough posts for the workers to start (a site
with fewer than prefetch.MIN_FILES files to convert is read in one process),
posts full of per-document Markdown state: footnotes, abbreviations,
reference links, duplicate headings and a [TOC] (toc's ids), raw HTML, code,
a summary with markup.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import AS_OF, ROOT, build, compared, run_publish
from receiver_kit import write_settings
from worker_killer import MARKER

from causerie.errors import SettingsError
from causerie.settings import read_section
from causerie.sitebuild import prefetch
from causerie.sitebuild.build import BuildReport
from causerie.sitebuild.settings import SitebuildSettings, usable_cpus

POSTS = 60

STATEFUL_POST = """Title: Note {n}
Date: 2025-{month:02d}-{day:02d} 10:00
Author: Claire Dubois
Category: Produits
Tags: test, note-{tag}
Lang: fr
Slug: note-{n}
Summary: Un *résumé* avec une note[^1] et [un lien][ref] ({n}).

[TOC]

## Titre

## Titre

### Détail {n}

Le HTML fait partie du texte.[^1] [Une référence][ref] et [une autre][r{n}].
{extra}
*[HTML]: HyperText Markup Language

<div class="brut">du HTML brut {n}</div>

```python
print({n})
```

[^1]: La note du billet {n}.
[ref]: https://ref.example/{n}
"""


def write_posts(content: Path, count: int = POSTS) -> None:
    for n in range(count):
        extra = "\n".join(f"Un paragraphe de plus, le {i}e." for i in range(n % 7))
        (content / "posts" / f"note-{n:03d}.md").write_text(
            STATEFUL_POST.format(
                n=n,
                month=n % 12 + 1,
                day=n % 28 + 1,
                tag=n % 5,
                extra=extra,
            ),
            encoding="utf-8",
        )


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and compared(p.relative_to(root).as_posix())
    }


def same_trees(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    """Names missing on either side or with different bytes."""
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def forked(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The pre-pass's "N files to W workers" lines of the builds so far."""
    return [r.getMessage() for r in caplog.records if "workers in" in r.getMessage()]


@pytest.fixture
def content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    write_posts(content)
    return content


def sitebuild(**extra: Any) -> dict[str, Any]:
    return {"now": AS_OF, **extra}


def markdown(**extensions: dict[str, Any]) -> dict[str, Any]:
    """The demo's MARKDOWN, with more extensions or other configurations."""
    return {
        "extension_configs": {
            "markdown.extensions.codehilite": {"css_class": "highlight"},
            "markdown.extensions.extra": {},
            "markdown.extensions.meta": {},
            "markdown.extensions.toc": {},
            **extensions,
        },
        "output_format": "html5",
    }


def test_workers_give_the_same_site(
    tmp_path: Path, content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Pelican's own reader, our reader in one process, and our reader with
    two workers: every file byte-identical (the reading time too: Pelican's
    reader leaves it to be counted from the HTML, ours bring the count).

    With the footnotes' UNIQUE_IDS, whose ids count the Markdown object's
    resets: Pelican's new object per file numbers every file alike."""
    caplog.set_level(logging.DEBUG, logger=prefetch.__name__)
    unique_ids = markdown(
        **{"markdown.extensions.extra": {"footnotes": {"UNIQUE_IDS": True}}}
    )
    variants: dict[str, dict[str, Any]] = {
        "pelican": {"reuse_markdown": False},
        "serial": {"jobs": 1},
        "workers": {"jobs": 2},
    }
    trees = {}
    for name, options in variants.items():
        output = tmp_path / name
        report = build(
            output,
            PATH=str(content),
            MARKDOWN=unique_ids,
            SITEBUILD=sitebuild(**options),
        )
        assert report.problems == []
        assert report.posts == 11 + POSTS
        trees[name] = tree(output)
        # Only the build with jobs=2 forks, and it converts every Markdown
        # file of the site: the demo's 18 and the new posts.
        assert len(forked(caplog)) == (name == "workers")
    assert f"{18 + POSTS} Markdown files to 2 workers" in forked(caplog)[0]
    assert same_trees(trees["serial"], trees["workers"]) == []
    assert same_trees(trees["pelican"], trees["workers"]) == []
    page = trees["workers"]["posts/2025/note-7/index.html"].decode()
    assert "La note du billet 7." in page and "du billet 6." not in page
    assert 'id="titre_1"' in page and "min de lecture" in page
    assert 'id="fnref:2-1"' in page  # UNIQUE_IDS, as a new object numbers them


def test_incremental_builds_convert_only_what_the_cache_lacks(
    tmp_path: Path, content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=prefetch.__name__)
    output = tmp_path / "output"
    options = sitebuild(jobs=2, incremental=True)
    first = build(output, PATH=str(content), SITEBUILD=options)
    assert first.problems == [] and first.converted == 18 + POSTS
    assert len(forked(caplog)) == 1
    page = content / "posts" / "note-003.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nUne ligne de plus.\n", encoding="utf-8"
    )
    second = build(output, PATH=str(content), SITEBUILD=options)
    # One file to convert: not worth a worker.
    assert second.problems == [] and second.converted == 1
    assert len(forked(caplog)) == 1
    clean = tmp_path / "clean"
    build(clean, PATH=str(content), SITEBUILD=sitebuild(jobs=1))
    assert same_trees(tree(clean), tree(output)) == []


def test_a_file_a_worker_cannot_read_is_reported_as_without_workers(
    tmp_path: Path, content: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=prefetch.__name__)
    (content / "posts" / "latin1.md").write_bytes(
        "Title: Caf\xe9\nDate: 2025-01-01\n\nDu caf\xe9.\n".encode("latin-1")
    )
    reports: dict[int, BuildReport] = {}
    for jobs in (1, 2):
        reports[jobs] = build(
            tmp_path / f"jobs-{jobs}", PATH=str(content), SITEBUILD=sitebuild(jobs=jobs)
        )
    assert len(forked(caplog)) == 1
    assert reports[2].problems == reports[1].problems
    [problem] = reports[2].problems
    assert "posts/latin1.md" in problem and "not valid UTF-8 (byte 0xe9" in problem
    assert reports[2].posts == 11 + POSTS
    assert same_trees(tree(tmp_path / "jobs-1"), tree(tmp_path / "jobs-2")) == []


def test_a_worker_that_dies_leaves_the_rest_to_the_build(
    tmp_path: Path, content: Path
) -> None:
    """A worker killed in the middle (here by a Markdown extension that ends
    its process on one file) is logged once; every other file is read by the
    build itself, and the site is the one a single process builds."""
    (content / "posts" / "note-030.md").write_text(
        f"Title: Fatal\nDate: 2025-01-01\n\n{MARKER}\n", encoding="utf-8"
    )
    reports: dict[int, BuildReport] = {}
    for jobs in (1, 2):
        reports[jobs] = build(
            tmp_path / f"jobs-{jobs}",
            PATH=str(content),
            MARKDOWN=markdown(worker_killer={}),
            SITEBUILD=sitebuild(jobs=jobs),
        )
    refused = [p for p in reports[1].problems if "note-030.md" in p]
    assert len(refused) == 1 and f"{MARKER} found" in refused[0]
    stopped = [p for p in reports[2].problems if "worker process stopped" in p]
    assert len(stopped) == 1 and "exit code 70" in stopped[0]
    assert sorted(set(reports[2].problems) - set(stopped)) == reports[1].problems
    assert reports[2].posts == reports[1].posts == 11 + POSTS - 1
    assert same_trees(tree(tmp_path / "jobs-1"), tree(tmp_path / "jobs-2")) == []


def test_jobs_setting() -> None:
    def jobs(value: Any) -> int:
        section = {"SITEBUILD": {"jobs": value}}
        return read_section(section, "SITEBUILD", SitebuildSettings).jobs

    assert read_section({}, "SITEBUILD", SitebuildSettings).jobs == usable_cpus() >= 1
    assert jobs(3) == 3
    with pytest.raises(SettingsError, match="jobs must be at least 1"):
        jobs(0)
    for wrong in ("2", 2.0, True, None):
        with pytest.raises(SettingsError, match=r"SITEBUILD\['jobs'\] must be int"):
            jobs(wrong)


def test_a_bad_jobs_value_stops_the_build(tmp_path: Path) -> None:
    settings = write_settings(tmp_path / "site", ROOT / "content", {})
    with settings.open("a", encoding="utf-8") as fh:
        fh.write('SITEBUILD = {**SITEBUILD, "jobs": 0}\n')
    result = run_publish("--settings", str(settings), "build")
    assert result.returncode != 0
    assert "jobs must be at least 1" in result.stdout + result.stderr
    assert not (tmp_path / "site" / "output" / "index.html").exists()
