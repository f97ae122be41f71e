"""The publish CLI, run as a real process: help, new, serve."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, all_commands, run_publish, stop_process

COMMANDS = sorted(all_commands())


run = run_publish


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the demo site that a test may change."""
    dest = tmp_path / "site"
    dest.mkdir()
    for name in ("content", "theme"):
        shutil.copytree(ROOT / name, dest / name)
    conf = (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
    (dest / "pelicanconf.py").write_text(conf, encoding="utf-8")
    return dest


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_command_has_help_with_an_example(command: str | None) -> None:
    result = run(*(command.split() if command else []), "--help")
    assert result.returncode == 0
    assert "Example:" in result.stdout


def test_new_scaffolds_a_draft_post(site: Path) -> None:
    result = run(
        "new",
        "L’été à l’atelier",
        "--author",
        "karim-haddad",
        "-t",
        "atelier",
        cwd=site,
    )
    assert result.returncode == 0, result.stderr
    created = list((site / "content/posts").glob("*-lete-a-latelier.md"))
    assert len(created) == 1
    text = created[0].read_text(encoding="utf-8")
    assert created[0].name[:10] == text.split("Date: ")[1][:10]
    assert "Author: Karim Haddad\n" in text and "Lang: fr\n" in text
    assert "Tags: atelier\n" in text and "Status: draft\n" in text
    # The new file passes the linter as it is.
    assert run("check", cwd=site).returncode == 0
    # Never overwrite: the same title again is refused.
    again = run("new", "L’été à l’atelier", "--author", "karim-haddad", cwd=site)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert created[0].read_text(encoding="utf-8") == text


def test_new_uses_the_default_author_and_their_language(site: Path) -> None:
    result = run(
        "new", "Hello Montreal", "--author", "tom-whitfield", "--publish", cwd=site
    )
    assert result.returncode == 0, result.stderr
    (path,) = (site / "content/posts").glob("*-hello-montreal.md")
    text = path.read_text(encoding="utf-8")
    assert "Lang: en\n" in text and "Status" not in text
    default = run("new", "Sans auteur", cwd=site)
    assert default.returncode == 0
    (path,) = (site / "content/posts").glob("*-sans-auteur.md")
    assert "Author: Claire Dubois\n" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "X", "--author", "nobody"], "'nobody' is not in the authors registry"),
        (["new", "X", "--lang", "de"], "language 'de': use one of fr, en"),
        (["new", "!!!"], "cannot make a slug"),
        (["--settings", "nope.py", "build"], "nope.py: settings file not found"),
        (["build", "--as-of", "tomorrow"], "'tomorrow' is not a date"),
    ],
)
def test_user_errors_say_what_to_do_without_traceback(
    site: Path, args: list[str], message: str
) -> None:
    result = run(*args, cwd=site)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the preview server")


@pytest.fixture
def served(site: Path) -> Iterator[tuple[Path, str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "publish.py"), "serve", "--port", str(port)],
        cwd=site,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: "Maison Lumen" in fetch(url + "/"))
        yield site, url
    finally:
        stop_process(proc)


def test_serve_rebuilds_when_content_changes(served: tuple[Path, str]) -> None:
    site, url = served
    index = fetch(url + "/")
    # Links in the preview point at the preview itself.
    assert f'href="{url}/' in index
    post = site / "content/posts/2025-03-04-nos-clients-parlent-plus-fort.md"
    text = post.read_text(encoding="utf-8")
    post.write_text(
        text.replace("Title: Nos clients parlent", "Title: Nos lecteurs parlent"),
        encoding="utf-8",
    )
    page = url + "/posts/2025/nos-clients-parlent-plus-fort/"
    wait_for(lambda: "Nos lecteurs parlent" in fetch(page))
    # A theme change is picked up too.
    base = site / "theme/templates/base.html"
    base.write_text(
        base.read_text(encoding="utf-8").replace(
            "</body>", "<!-- rebuilt-by-test --></body>"
        ),
        encoding="utf-8",
    )
    wait_for(lambda: "rebuilt-by-test" in fetch(url + "/"))
