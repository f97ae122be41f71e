"""Shared fixtures: real Pelican builds of the demo site into temporary dirs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugins"))
sys.path.insert(0, str(ROOT))

from sitebuild import build as sitebuild  # noqa: E402

#: The demo's scheduled post is dated 2027-06-01: build "as of" a fixed day
#: before it, so the tests do not change meaning when the real date passes.
AS_OF = "2026-11-23T12:00:00+01:00"
SITEURL = "http://blog.test"


def build(output: Path, **overrides: Any) -> sitebuild.BuildReport:
    settings = sitebuild.load_settings(
        ROOT / "pelicanconf.py",
        {
            "OUTPUT_PATH": str(output),
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
