"""The adapter of ``publish check``: read the content files, lint them."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

from pelican.utils import slugify

from causerie.settings import read_section

from .lint import BlockCheck, LintContext, Problem, Source, lint_sources
from .registry import AuthorsError, Registry, load_registry
from .settings import AuthoringSettings

SUFFIXES = {".md", ".markdown", ".mkd", ".mdown"}


def _display(path: Path) -> str:
    """A path as the user typed it: relative to the working directory if inside."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def check_site(
    settings: dict[str, Any], block_checks: tuple[BlockCheck, ...] = ()
) -> list[Problem]:
    """Lint every post and page of the site described by Pelican ``settings``;
    ``block_checks``: other capabilities' checks of their blocks."""
    root = Path(settings["PATH"])
    config = read_section(settings, "AUTHORING", AuthoringSettings)
    registry_path = root / config.registry
    problems: list[Problem] = []
    try:
        registry = load_registry(registry_path, config.languages)
    except AuthorsError as exc:
        problems.append(
            Problem(_display(registry_path), 1, str(exc), "fix the registry")
        )
        registry = Registry(())
    for author in registry:
        if not (root / author.avatar).is_file():
            problems.append(
                Problem(
                    _display(registry_path),
                    1,
                    f"[{author.slug}] avatar {author.avatar} not found",
                    "add the image under content/ or fix the avatar path",
                )
            )

    sources: list[Source] = []
    for kind, dirs in (
        ("post", settings["ARTICLE_PATHS"]),
        ("page", settings["PAGE_PATHS"]),
    ):
        for sub in dirs:
            for path in sorted((root / sub).rglob("*")):
                if path.suffix not in SUFFIXES or path.name.startswith("."):
                    continue
                rel = path.relative_to(root).as_posix()
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError as exc:
                    problems.append(
                        Problem(
                            _display(path),
                            1,
                            f"not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
                            "save the file as UTF-8",
                        )
                    )
                    continue
                except OSError as exc:
                    problems.append(
                        Problem(
                            _display(path),
                            1,
                            f"cannot be read ({exc.strerror})",
                            "check its permissions",
                        )
                    )
                    continue
                sources.append(Source(path=rel, kind=kind, text=text))

    ctx = LintContext(
        registry=registry,
        languages=config.languages,
        exists=lambda rel: (root / rel).is_file(),
        block_checks=block_checks,
        slugify=partial(
            slugify, regex_subs=settings.get("SLUG_REGEX_SUBSTITUTIONS", [])
        ),
    )
    prefix = _display(root)
    for problem in lint_sources(sources, ctx):
        problems.append(
            Problem(
                f"{prefix}/{problem.path}", problem.line, problem.message, problem.fix
            )
        )
    return problems
