"""Shared fixtures: real Pelican builds of the demo site into temporary dirs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from causerie.sitebuild import build as sitebuild

ROOT = Path(__file__).resolve().parent.parent

#: The demo's scheduled post is dated 2027-06-01: build "as of" a fixed day
#: before it, so the tests do not change meaning when the real date passes.
AS_OF = "2026-11-23T12:00:00+01:00"
SITEURL = "http://blog.test"


def build(output: Path, **overrides: Any) -> sitebuild.BuildReport:
    """Build the demo site into ``output``, with its own empty mention store
    (in ``output``-site/var/), never the developer's var/."""
    settings = sitebuild.load_settings(
        ROOT / "pelicanconf.py",
        {
            "OUTPUT_PATH": str(output),
            "CAUSERIE_SITE_DIR": str(output.parent / f"{output.name}-site"),
            "SITEURL": SITEURL,
            "SITEBUILD": {"now": AS_OF},
            **overrides,
        },
    )
    return sitebuild.build_site(settings)


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> sitebuild.BuildReport:
    """The demo site, built once per test session."""
    return build(tmp_path_factory.mktemp("demo-site"))


@pytest.fixture(scope="session")
def demo_site(demo_build: sitebuild.BuildReport) -> Path:
    return demo_build.output


#: What marks a deleted post's tombstone page (W3C Webmention §3.1.5).
TOMBSTONE_META = '<meta http-equiv="Status" content="410 Gone">'


def compared(relpath: str) -> bool:
    """Whether a file of a built site takes part when two builds are compared
    byte for byte: not the search index (pagefind/), whose filter files
    Pagefind names anew at each run (its own hash order varies); the search
    tests check what it holds (tests/test_search.py)."""
    return not relpath.startswith("pagefind/")


def post_pages(output: Path) -> list[Path]:
    """The pages of live posts under ``output``/posts/, not the tombstones of
    deleted posts (the demo has one: content/posts/…-concours-photo-annule.md)."""
    return sorted(
        p
        for p in (output / "posts").rglob("index.html")
        if TOMBSTONE_META not in p.read_text(encoding="utf-8")
    )


def all_commands(group: Any = None, prefix: str = "") -> dict[str, Any]:
    """Every CLI command, subcommands included, by full name ("mentions serve")."""
    import click

    from causerie.cli import main as publish

    found: dict[str, Any] = {}
    for name, command in (group or publish.cli).commands.items():
        found[prefix + name] = command
        if isinstance(command, click.Group):
            found.update(all_commands(command, f"{prefix}{name} "))
    return found


def run_publish(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a separate process, as a user would."""
    return subprocess.run(
        [sys.executable, str(ROOT / "publish.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Stop a server started by a fixture: TERM, then KILL if it lingers."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- the mention store, on both backends -----------------------------------

POSTGRES_URL = os.environ.get(
    "CAUSERIE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_schema_url(schema: str) -> str | None:
    """A PostgreSQL URL whose connections use ``schema``, created empty; None
    when no server answers (the tests then skip, except under CI=true)."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except Exception:
        return None
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"


def drop_postgres_schema(schema: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def missing(what: str, how: str) -> None:
    """Skip a test whose tool or server is missing; fail instead under CI."""
    message = f"{what} is not available: {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: .ci/run must provide it)")
    pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty mention store URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'mentions.sqlite3'}"
        return
    schema = f"causerie_test_{os.getpid()}_{abs(hash(request.node.nodeid)) % 10**8}"
    url = postgres_schema_url(schema)
    if url is None:
        missing(
            f"PostgreSQL at {POSTGRES_URL}",
            "start it, or set CAUSERIE_TEST_POSTGRES to a database you may write",
        )
    assert url
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


# --- the browser (tests/browser_kit.py) ---------------------------------------


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium, one per test module."""
    from browser_kit import new_driver

    browser = new_driver(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe-core's script, to inject into pages."""
    from browser_kit import axe_source

    return axe_source()


@pytest.fixture(scope="session")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A DKIM key pair made by openssl (private PEM, the DNS record's
    public key), for the tests that sign mail as a real sender's server."""
    from mail_kit import dkim_keypair

    return dkim_keypair(tmp_path_factory.mktemp("dkim"))
