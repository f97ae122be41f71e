"""The docs are tested: an undocumented command, option or setting fails here."""

from __future__ import annotations

import dataclasses
import re

import click
import pytest
from conftest import ROOT, all_commands

from causerie.albums.settings import AlbumsSettings
from causerie.authoring.settings import AuthoringSettings
from causerie.deploy.settings import DeploySettings
from causerie.importers import ImportSettings
from causerie.search.settings import SearchSettings
from causerie.sitebuild.settings import SitebuildSettings
from causerie.webmentions.settings import WebmentionSettings

CLI_DOC = (ROOT / "docs/cli.md").read_text(encoding="utf-8")
CONFIG_DOC = (ROOT / "docs/configuration.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


COMMANDS = all_commands()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_and_option_is_documented(name: str) -> None:
    command = COMMANDS[name]
    assert re.search(rf"^##+ `publish {name}[` ]", CLI_DOC, re.M), (
        f"docs/cli.md has no section for {name}"
    )
    assert f"publish {name.split()[0]}" in README, f"the README's tour misses {name}"
    for param in command.params:
        if isinstance(param, click.Option) and "--help" not in param.opts:
            longest = max(param.opts, key=len)
            assert f"`{longest}" in CLI_DOC or f"{longest} " in CLI_DOC, (
                f"{name} {longest} undocumented"
            )


@pytest.mark.parametrize(
    ("section", "cls"),
    [
        ("AUTHORING", AuthoringSettings),
        ("SITEBUILD", SitebuildSettings),
        ("WEBMENTIONS", WebmentionSettings),
        ("DEPLOY", DeploySettings),
        ("IMPORTERS", ImportSettings),
        ("ALBUMS", AlbumsSettings),
        ("SEARCH", SearchSettings),
    ],
)
def test_every_setting_is_documented(section: str, cls: type) -> None:
    assert f"## `{section}`" in CONFIG_DOC
    part = CONFIG_DOC.split(f"## `{section}`")[1].split("\n## ")[0]
    for field in dataclasses.fields(cls):
        assert f"`{field.name}`" in part.split(" | ")[0] or re.search(
            rf"^\| [^|]*`{field.name}`[^|]*\|", part, re.M
        ), f"{section}['{field.name}'] undocumented"


def test_every_environment_variable_is_documented() -> None:
    used = set()
    for path in [
        ROOT / "publish.py",
        ROOT / "pelicanconf.py",
        ROOT / "publishconf.py",
        *ROOT.glob("plugins/**/*.py"),
    ]:
        used |= set(re.findall(r"CAUSERIE_[A-Z_]+", path.read_text(encoding="utf-8")))
    used |= set(
        re.findall(
            r"CAUSERIE_[A-Z_]+",
            (ROOT / "tests/conftest.py").read_text(encoding="utf-8"),
        )
    )
    used.discard("CAUSERIE_SITE_DIR")  # set by the code itself, not by people
    assert used
    for name in used:
        assert f"`{name}`" in CONFIG_DOC, f"{name} undocumented"


def test_every_make_target_is_documented() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = re.search(r"^\.PHONY: (.*)$", makefile, re.M)
    assert targets
    for target in targets.group(1).split():
        if target in ("help", "lint", "typecheck", "pytest", "clean"):
            continue
        assert f"make {target}" in CLI_DOC, f"make {target} undocumented"
    assert "make demo" in README and "make test" in README
