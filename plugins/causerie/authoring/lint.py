"""``publish check``: find mistakes in the content before a build does (pure core).

Each :class:`Problem` names the file, the line and the fix. The core works on
text; :func:`check_site` is the thin adapter that reads the files.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from pelican.utils import get_date

from .registry import Registry, slugify

#: Metadata keys Pelican and Causerie understand (lower case).
KNOWN_KEYS = frozenset(
    [
        "title",
        "date",
        "modified",
        "author",
        "authors",
        "category",
        "tags",
        "lang",
        "slug",
        "summary",
        "status",
        "translation",
        "template",
        "save_as",
        "url",
        "keywords",
        "image",
        # Reviews (docs/webmentions.md, "Reviews and ratings"): the form's
        # rating, the schema.org type, the post's own review.
        "reviews",
        "itemtype",
        "rating",
        "rating-best",
        "rating-worst",
        "reviewed",
        "reviewed-url",
        # Webmention sending: the page this post answers (docs/content.md).
        "in-reply-to",
        "like-of",
        "repost-of",
        "bookmark-of",
        # Posting by e-mail: the message a post came from (docs/mail.md).
        "message-id",
        # Imported from an old blog: the item it came from (docs/import.md).
        "imported-from",
    ]
)
STATUSES = ("published", "draft", "hidden", "deleted")
META_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*):\s*(.*)$")
# Pelican's link syntax: {filename}path, {static}path, {attach}path, {author}name
# (and the older |filename|path), inside a Markdown link or an HTML attribute.
INTRALINK = re.compile(
    r"(?:\{|\|)(?P<what>filename|static|attach|author|category|tag|index)(?:\}|\|)"
    r"(?P<value>[^)\s\"'#?]*)"
)
MD_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc=[\"'](?P<src>[^\"']+)[\"'][^>]*>", re.I)
HTML_ALT = re.compile(r"\balt=[\"']([^\"']*)[\"']", re.I)
MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\((?P<href>[^)\s]+)")
FENCE = re.compile(r"^(```|~~~)")
CODE_SPAN = re.compile(r"(`+).+?\1")


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in one file."""

    path: str
    line: int
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} — {self.fix}"


@dataclass
class Source:
    """A content file as the linter sees it."""

    path: str  # relative to the content root, with forward slashes
    kind: str  # "post" or "page"
    text: str
    meta: dict[str, tuple[int, str]] = field(default_factory=dict)
    body_start: int = 1


BlockCheck = Callable[[list[str], Callable[[str], bool]], list[tuple[int, str, str]]]


@dataclass(frozen=True)
class LintContext:
    """What the linter checks against."""

    registry: Registry
    languages: tuple[str, ...]
    exists: Callable[[str], bool]  # is this content-relative path a file?
    slugify: Callable[[str], str] = slugify
    #: Checks of other capabilities' blocks (albums' gallery and downloads,
    #: handed in by the CLI): (lines, exists) → (line, problem, fix).
    block_checks: tuple[BlockCheck, ...] = ()


#: The values of ``Reviews:`` (causerie.webmentions.reviews.optin reads them).
REVIEWS_VALUES = frozenset(
    {"on", "off", "yes", "no", "true", "false", "1", "0", "oui", "non"}
)
#: A rating as a post writes its own: 4, 4.5, 4,5 or 4/5 (the build checks
#: the scale, causerie.webmentions.reviews.rating).
RATING = re.compile(r"\d{1,3}(?:[.,]\d{1,3})?(?:\s*/\s*\d{1,3})?")


def parse_metadata(source: Source) -> None:
    """Fill ``source.meta`` ({key: (line, value)}) the way Markdown's meta does."""
    lines = source.text.splitlines()
    last: str | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            source.body_start = number + 1
            return
        match = META_LINE.match(line)
        if match:
            last = match.group(1).lower()
            source.meta[last] = (number, match.group(2).strip())
        elif last and line.startswith((" ", "\t")):
            n, value = source.meta[last]
            source.meta[last] = (n, f"{value} {line.strip()}")
        else:
            source.body_start = number
            return
    source.body_start = len(lines) + 1


def _resolve(base: str, target: str) -> str:
    """A link target relative to the file at ``base`` (or to the root if /…)."""
    target = target.split("#")[0].split("?")[0]
    if target.startswith("/"):
        return str(PurePosixPath(target.lstrip("/")))
    parts: list[str] = []
    for part in (PurePosixPath(base).parent / target).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def _body_lines(source: Source) -> Iterable[tuple[int, str]]:
    """Body lines with their numbers, fenced code blocks left out."""
    in_fence = False
    for number, line in enumerate(source.text.splitlines(), start=1):
        if number < source.body_start:
            continue
        if FENCE.match(line.lstrip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            # Inline code shows syntax, it does not link: blank it out.
            yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def lint_metadata(source: Source, ctx: LintContext) -> list[Problem]:
    out: list[Problem] = []

    def add(line: int, message: str, fix: str) -> None:
        out.append(Problem(source.path, line, message, fix))

    meta = source.meta
    if not meta:
        add(
            1,
            "no metadata block",
            "start the file with `Title: …` lines, then a blank line",
        )
        return out
    for key, (line, _value) in meta.items():
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
            hint = (
                f"did you mean `{close[0].capitalize()}:`?"
                if close
                else ("remove it, or see docs/content.md for the known keys")
            )
            add(line, f"unknown metadata `{key}`", hint)
    if not meta.get("title", (0, ""))[1]:
        add(meta.get("title", (1, ""))[0], "missing Title", "add `Title: …` at the top")
    if source.kind == "post":
        if "date" not in meta:
            add(1, "missing Date", "add `Date: YYYY-MM-DD HH:MM`")
        if "author" not in meta and "authors" not in meta:
            add(
                1,
                "missing Author",
                f"add `Author: NAME` (one of: {', '.join(ctx.registry.names())})",
            )
    for key in ("date", "modified"):
        if key in meta:
            line, value = meta[key]
            try:
                get_date(value)
            except ValueError:
                add(
                    line,
                    f"invalid {key.capitalize()} {value!r}",
                    "write it as YYYY-MM-DD HH:MM",
                )
    for key in ("author", "authors"):
        if key in meta:
            line, value = meta[key]
            for name in filter(None, (n.strip() for n in value.split(","))):
                if ctx.registry.find(name) is None:
                    add(
                        line,
                        f"unknown author {name!r}",
                        f"use one of: {', '.join(ctx.registry.names())}; or add them to the authors registry",
                    )
    if "lang" in meta:
        line, value = meta["lang"]
        if value not in ctx.languages:
            add(
                line,
                f"unknown language {value!r}",
                f"use one of: {', '.join(ctx.languages)}",
            )
    if "reviews" in meta:
        line, value = meta["reviews"]
        if value.strip().lower() not in REVIEWS_VALUES:
            add(
                line,
                f"invalid Reviews {value!r}",
                "write `Reviews: on` or `Reviews: off`",
            )
    if "itemtype" in meta:
        line, value = meta["itemtype"]
        if value.strip().casefold() not in ("product", "creativework"):
            add(
                line,
                f"invalid Itemtype {value!r}",
                "write `Itemtype: Product` or `Itemtype: CreativeWork`",
            )
    for key in ("rating", "rating-best", "rating-worst"):
        if key in meta:
            line, value = meta[key]
            if not RATING.fullmatch(value.strip()):
                add(
                    line,
                    f"invalid {key.capitalize()} {value!r}",
                    "write a number, such as 4, 4,5 or 4/5",
                )
    if "status" in meta:
        line, value = meta["status"]
        if value.lower() not in STATUSES:
            add(line, f"invalid Status {value!r}", f"use one of: {', '.join(STATUSES)}")
    return out


def lint_body(source: Source, ctx: LintContext) -> list[Problem]:
    out: list[Problem] = []

    def add(line: int, message: str, fix: str) -> None:
        out.append(Problem(source.path, line, message, fix))

    for number, line in _body_lines(source):
        images = [(m.group("src"), m.group("alt")) for m in MD_IMAGE.finditer(line)]
        for m in HTML_IMAGE.finditer(line):
            alt_attr = HTML_ALT.search(m.group(0))
            images.append((m.group("src"), alt_attr.group(1) if alt_attr else ""))
        for src, alt_text in images:
            if not alt_text.strip():
                add(
                    number,
                    f"image {src} has no alt text",
                    "describe the image between the brackets: ![what it shows](…)",
                )
            link = INTRALINK.fullmatch(src)
            if link:
                path = _resolve(source.path, link.group("value"))
            elif re.match(r"^([a-z][a-z0-9+.-]*:|//)", src):
                continue  # a remote image: not ours to check
            else:
                path = _resolve(source.path, src)
            if not ctx.exists(path):
                add(
                    number,
                    f"missing image {src}",
                    "put the file under content/images/ and link it as {static}/images/NAME",
                )
        image_sources = {src for src, _alt in images}
        for match in INTRALINK.finditer(line):
            what, value = match.group("what"), match.group("value")
            if match.group(0) in image_sources:
                continue  # reported above as an image
            if what in ("filename", "static", "attach"):
                target = _resolve(source.path, value)
                if not value or not ctx.exists(target):
                    add(
                        number,
                        f"broken link {{{what}}}{value}: no such file {target}",
                        "fix the path (relative to this file, or /… from content/)",
                    )
            elif what == "author" and ctx.registry.find(value) is None:
                add(
                    number,
                    f"broken link {{author}}{value}: unknown author",
                    f"use one of: {', '.join(ctx.registry.names())}",
                )
        for m in MD_LINK.finditer(line):
            href = m.group("href")
            if re.match(r"^([a-z][a-z0-9+.-]*:|//|#|/|\{|\|)", href):
                continue
            add(
                number,
                f"relative link {href} will break once built",
                "link content as {filename}/posts/FILE.md and files as {static}/images/NAME",
            )
    lines = source.text.splitlines()
    for check in ctx.block_checks:
        for number, message, fix in check(lines, ctx.exists):
            if number >= source.body_start:
                add(number, message, fix)
    return out


def duplicate_slugs(sources: Iterable[Source], ctx: LintContext) -> list[Problem]:
    """Two posts (or two pages) with the same slug in the same language."""
    seen: dict[tuple[str, str, str], list[Source]] = defaultdict(list)
    for source in sources:
        if "slug" in source.meta:
            slug = source.meta["slug"][1]
        elif source.meta.get("title"):
            slug = ctx.slugify(source.meta["title"][1])
        else:
            continue
        lang = source.meta.get("lang", (0, ctx.languages[0]))[1]
        seen[(source.kind, lang, slug)].append(source)
    out = []
    for (_kind, lang, slug), group in seen.items():
        if len(group) < 2:
            continue
        for source in group:
            others = ", ".join(s.path for s in group if s is not source)
            line = source.meta.get("slug", source.meta.get("title", (1, "")))[0]
            out.append(
                Problem(
                    source.path,
                    line,
                    f"duplicate slug {slug!r} ({lang}), also used by {others}",
                    "give one of them another `Slug:` (translations share a slug but differ in `Lang:`)",
                )
            )
    return out


def lint_sources(sources: list[Source], ctx: LintContext) -> list[Problem]:
    """Every problem of every source, sorted by file and line."""
    problems: list[Problem] = []
    for source in sources:
        parse_metadata(source)
        problems += lint_metadata(source, ctx)
        problems += lint_body(source, ctx)
    problems += duplicate_slugs(sources, ctx)
    return sorted(problems)
