"""Causerie is one installed package, and a Pelican site uses it the way
Pelican users work (issue 14): plain `pelican` builds the same site as
`publish build`, and a built wheel gives a working `publish` anywhere."""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import AS_OF, ROOT, compared

BIN = Path(sys.executable).parent
PIP = (sys.executable, "-m", "pip")


def _differences(a: Path, b: Path) -> list[str]:
    """Every file that is not byte-identical in the two trees (or in one only)."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(prefix + n for n in cmp.left_only + cmp.right_only)
        found.extend(prefix + n for n in cmp.funny_files)
        for name in cmp.common_files:
            if (Path(cmp.left) / name).read_bytes() != (
                Path(cmp.right) / name
            ).read_bytes():
                found.append(prefix + name)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(a, b), "")
    return [name for name in found if compared(name)]


def _site_copy(tmp_path: Path) -> Path:
    """The demo site as a user's own directory: content, theme, settings."""
    site = tmp_path / "site"
    site.mkdir()
    for name in ("content", "theme"):
        shutil.copytree(ROOT / name, site / name)
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy(ROOT / name, site / name)
    return site


def test_plain_pelican_builds_the_same_site_as_publish_build(tmp_path: Path) -> None:
    site = _site_copy(tmp_path)
    now = json.dumps({"now": AS_OF})
    pelican = subprocess.run(
        [
            *(str(BIN / "pelican"), "content", "-s", "pelicanconf.py"),
            *("-o", "by-pelican", "-e", f"SITEBUILD={now}"),
        ],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pelican.returncode == 0, pelican.stdout + pelican.stderr
    assert "Cannot load plugin" not in pelican.stdout + pelican.stderr
    publish = subprocess.run(
        [str(BIN / "publish"), "build", "-o", "by-publish", "--as-of", AS_OF],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert publish.returncode == 0, publish.stdout + publish.stderr
    assert (site / "by-pelican" / "index.html").is_file()
    assert _differences(site / "by-pelican", site / "by-publish") == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_pelican_listen_autoreload_serves_the_site(tmp_path: Path) -> None:
    site = _site_copy(tmp_path)
    port = _free_port()
    proc = subprocess.Popen(
        [
            *(str(BIN / "pelican"), "content", "-s", "pelicanconf.py", "-o", "out"),
            *("--listen", "--autoreload", "-p", str(port), "-b", "127.0.0.1"),
        ],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group: with --autoreload Pelican serves from a
        # child process, which outlived a TERM sent to the parent alone (the
        # servers of earlier runs were found still listening).
        start_new_session=True,
    )
    try:
        page = ""
        # Pelican listens while it builds (a directory listing until
        # index.html is written): wait for the built home page, up to 2 min.
        for _ in range(1200):
            if proc.poll() is not None:
                out = proc.stdout.read() if proc.stdout else ""
                pytest.fail(f"pelican stopped: {out}")
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/", timeout=5
                ) as r:
                    page = r.read().decode("utf-8")
            except OSError:
                page = ""
            if "h-feed" in page:
                break
            time.sleep(0.1)
        assert "h-feed" in page, page[:500]
    finally:
        _stop_group(proc)
    with pytest.raises(OSError):  # nothing of it is left listening
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def _stop_group(proc: subprocess.Popen[str]) -> None:
    """TERM to the process group of ``proc``, then KILL to what lingers;
    returns once no process of the group is left."""
    import signal

    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            proc.poll()  # reap the parent: a zombie still counts in its group
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def test_a_built_wheel_gives_a_working_publish_from_any_directory(
    tmp_path: Path,
) -> None:
    dist = tmp_path / "dist"
    # setuptools builds in the checkout's build/: leave none behind.
    leftover = not (ROOT / "build").exists()
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    if leftover:
        shutil.rmtree(ROOT / "build", ignore_errors=True)
    (wheel,) = dist.glob("causerie-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "causerie/webmentions/__init__.py" in names
    assert "causerie/mailposts/sources/__init__.py" in names
    assert (
        "causerie/webmentions/receiver/translations/fr/LC_MESSAGES/messages.po" in names
    )
    assert not [n for n in names if n.startswith(("tests/", "content/", "bench/"))]

    # Installed (not editable) beside the test venv's dependencies; the
    # checkout is nowhere on the path: run from the site's own directory.
    target = tmp_path / "installed"
    subprocess.run(
        [*PIP, "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    site = _site_copy(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(target)}
    where = subprocess.run(
        [sys.executable, "-c", "import causerie; print(causerie.__file__)"],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(target)
    built = subprocess.run(
        [sys.executable, str(target / "bin" / "publish"), "build", "--as-of", AS_OF],
        cwd=site,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (site / "output" / "index.html").is_file()
    assert (site / "output" / "feeds" / "all.atom.xml").is_file()


# --- an existing Pelican site adopts two plugins (docs/existing-site.md) -----


def _snippets() -> list[str]:
    """The ```jinja blocks of docs/existing-site.md, in order: the test's
    theme is made of them, so the page cannot drift from what it tests."""
    text = (ROOT / "docs" / "existing-site.md").read_text(encoding="utf-8")
    return [block.split("\n", 1)[1] for block in text.split("```jinja")[1:]]


def test_an_existing_site_adopts_two_causerie_plugins(tmp_path: Path) -> None:
    import datetime as dt

    import mf2py
    from pelican.settings import read_settings

    from causerie import webmentions
    from causerie.webmentions import model

    head, entry, comments, form = (s.split("```", 1)[0] for s in _snippets())
    site = tmp_path / "atelier"
    templates = site / "mytheme" / "templates"
    templates.mkdir(parents=True)
    (templates / "base.html").write_text(
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{{{{ SITENAME }}}}</title>{head}</head>"
        "<body>{% block content %}{% endblock %}</body></html>",
        encoding="utf-8",
    )
    placeholder = "{# the comments block below goes here, inside the h-entry #}"
    assert placeholder in entry
    (templates / "article.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        + entry.replace(placeholder, comments + form)
        + "{% endblock %}",
        encoding="utf-8",
    )
    (templates / "index.html").write_text(
        '{% extends "base.html" %}{% block content %}{% for a in articles %}'
        '<a href="{{ SITEURL }}/{{ a.url }}">{{ a.title }}</a>{% endfor %}'
        "{% endblock %}",
        encoding="utf-8",
    )
    (site / "content").mkdir()
    (site / "content" / "lampes.md").write_text(
        "Title: Nos lampes\nDate: 2026-03-02 10:00\nSlug: lampes\nLang: fr\n\n"
        "Elles arrivent.\n",
        encoding="utf-8",
    )
    (site / "pelicanconf.py").write_text(
        "\n".join(
            [
                'AUTHOR = "Atelier"',
                'SITENAME = "Atelier"',
                'SITEURL = "http://atelier.test"',
                'PATH = "content"',
                'THEME = "mytheme"',
                'TIMEZONE = "Europe/Paris"',
                'DEFAULT_LANG = "fr"',
                'PLUGINS = ["causerie.webmentions", "causerie.theme_i18n"]',
                'WEBMENTIONS = {"service_url": "https://mentions.atelier.test"}',
                'DIRECT_TEMPLATES = ["index"]',
                'CATEGORY_SAVE_AS = TAG_SAVE_AS = AUTHOR_SAVE_AS = ""',
                "FEED_ALL_ATOM = CATEGORY_FEED_ATOM = TRANSLATION_FEED_ATOM = None",
                "AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None",
                "",
            ]
        ),
        encoding="utf-8",
    )
    settings = read_settings(str(site / "pelicanconf.py"))
    store = webmentions.open_store(settings)
    store.add_verified(
        "https://lea.example/2026/bravo",
        "http://atelier.test/lampes.html",
        model.WEBMENTION,
        {
            "kind": "reply",
            "author_name": "Léa <3 Roux",
            "author_url": "https://lea.example/",
            "url": "https://lea.example/2026/bravo",
            "content_html": "<p>Bravo pour les lampes !</p>",
            "content_text": "Bravo pour les lampes !",
            "published": dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC),
            "moderation": model.APPROVED,
        },
    )
    built = subprocess.run(
        [str(BIN / "pelican"), "content", "-s", "pelicanconf.py"],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    page = (site / "output" / "lampes.html").read_text(encoding="utf-8")
    parsed = mf2py.parse(doc=page, url="http://atelier.test/lampes.html")
    assert parsed["rels"]["webmention"] == ["https://mentions.atelier.test/webmention"]
    (entry_item,) = [i for i in parsed["items"] if "h-entry" in i["type"]]
    assert entry_item["properties"]["name"] == ["Nos lampes"]
    (comment,) = entry_item["properties"]["comment"]
    assert "h-cite" in comment["type"]
    assert comment["properties"]["content"][0]["value"] == "Bravo pour les lampes !"
    # The name came from a stranger: escaped by the snippet's |e.
    assert comment["properties"]["author"][0]["properties"]["name"] == ["Léa <3 Roux"]
    assert "Léa &lt;3 Roux" in page
    assert 'action="https://mentions.atelier.test/comment"' in page


# --- Pelican's internals, fenced (causerie.pelican_compat) -----------


def test_every_pelican_internal_we_patch_exists_in_the_installed_versions() -> None:
    from causerie import pelican_compat

    assert {p.distribution for p in pelican_compat.PRIVATES} == set(
        pelican_compat.SUPPORTED
    )
    gone = [(p.path, pelican_compat.missing(p)) for p in pelican_compat.PRIVATES]
    assert [g for g in gone if g[1]] == []
    pelican_compat.check()  # and the installed versions are in range


def test_an_unsupported_pelican_is_refused_with_the_range_to_install() -> None:
    from causerie import pelican_compat

    assert pelican_compat.version_problem("pelican", "4.12.1") is None
    problem = pelican_compat.version_problem("pelican", "4.13.0")
    assert problem is not None
    assert "pip install 'pelican>=4.12,<4.13'" in problem
    assert pelican_compat.version_problem("pelican-sitemap", "1.3rc1") is not None
    assert pelican_compat.version_tuple("4.12.0.dev2") == (4, 12, 0)
    gone = pelican_compat.Private("pelican", "pelican.contents", "Content.nope", "x")
    assert (
        pelican_compat.missing(gone) == "pelican.contents.Content.nope does not exist"
    )


# --- the package's shape (issue 14) ------------------------------------------

PACKAGE = ROOT / "plugins"


def _modules() -> dict[str, Path]:
    found = {}
    for path in (PACKAGE / "causerie").rglob("*.py"):
        name = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The causerie modules ``name`` imports when it runs, at the top or
    inside a function."""
    import ast

    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
        # Imports under `if TYPE_CHECKING:` are for annotations only: they
        # never run, so they make no circle.
        nodes: list[ast.AST] = []
        for child in ast.iter_child_nodes(tree):
            if (
                isinstance(child, ast.If)
                and isinstance(child.test, ast.Name)
                and child.test.id == "TYPE_CHECKING"
            ):
                continue
            nodes.append(child)
            nodes.extend(runtime_nodes(child))
        return nodes

    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (
                f"{base}.{node.module}" if node.level and node.module
                else base if node.level else node.module or ""
            )  # fmt: skip
            for alias in node.names:
                if f"{target}.{alias.name}" in modules:
                    found.add(f"{target}.{alias.name}")
                elif target in modules:
                    found.add(target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
    return found - {name}


def test_no_import_circles_in_the_package() -> None:
    """Every module of causerie can be understood before the ones that use
    it: no cycle of imports (lazy ones inside functions included)."""
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                cycles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, [*path, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_no_module_imports_its_own_package_upward() -> None:
    """A module never imports the ``__init__`` of a package it belongs to
    (``from . import helper`` inside a sub-package): what modules share lives
    in a module of its own. Importing a sibling module through the package
    (``from . import fastpath``) is not upward and is allowed."""
    modules = _modules()
    upward = []
    for name, path in modules.items():
        ancestors = {name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)}
        if path.name == "__init__.py":
            ancestors.add(name)
        for target in _imports(name, path, modules) & ancestors:
            if target != "causerie":
                upward.append(f"{name} imports {target}")
    assert not upward, upward


def test_no_sys_path_manipulation_anywhere() -> None:
    """The package is installed; nothing reaches code by editing sys.path."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        if {".venv", ".tools", "build", "node_modules"} & set(path.parts):
            continue
        text = path.read_text(encoding="utf-8")
        for needle in (
            "sys.path.insert",
            "sys.path.append",
            "sys.path +=",
            "sys.path[:0]",
        ):
            if needle in text and path != Path(__file__):
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders, offenders


def test_only_pelican_compat_touches_pelicans_privates() -> None:
    """Every read or write of an attribute in pelican_compat.PRIVATES goes
    through that module's accessors: a Pelican release that moves one is
    then fixed in one file."""
    needles = (
        ".get_url_setting =", ".read_file =", "METADATA_PROCESSORS", ".page_queue",
        "._write_out", "._main_pelican", ".format_date =", "sitemap.format_date",
        "_get_intrasite_link_regex", "plugins._utils", "generator.now",
    )  # fmt: skip
    offenders = [
        f"{path.relative_to(ROOT)}: {needle}"
        for path in (ROOT / "plugins" / "causerie").rglob("*.py")
        if path.name != "pelican_compat.py"
        for needle in needles
        if needle in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders
