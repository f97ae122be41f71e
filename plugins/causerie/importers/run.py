"""An import, start to end: the adapter around the pure parts.

Reads the export as a stream (:mod:`.blogger`, :mod:`.wordpress`,
:mod:`.feed`), and for each item writes its post file into content/
(atomically, only if its text changed), its images (from ``--media`` or,
with ``--fetch-images``, through the one guarded fetch), its author into the
registry if new, its comments into the mention store (only those that
changed), and at the end the list of old addresses that the build turns
into redirect pages and nginx maps (:mod:`.redirects`).

Nothing is half-written: every file is whole or absent, every comment one
upsert; killed at any point, the same command again picks up where it
stopped, finding what was done already and leaving it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from causerie import authoring
from causerie.authoring.registry import Registry, slugify
from causerie.authoring.settings import AuthoringSettings
from causerie.catalogs import tr
from causerie.mailposts.write import atomic_write, fsync_dir, read_metadata
from causerie.settings import read_section
from causerie.webmentions import model as mention_model
from causerie.webmentions.sanitize import clean_html, clean_text, safe_url

from . import blogger, feed, model, redirects, wordpress
from .convert import (
    CONVERTER,
    IMPORTED_FROM,
    Planned,
    Skip,
    base_slug,
    body_markdown,
    file_name,
    fix_title,
    local_names,
    old_paths,
    origin_key,
    post_text,
    split_origin,
    text_of,
)
from .errors import ExportError, StrictError
from .settings import config

log = logging.getLogger(__name__)

PARSERS: dict[str, Callable[[Path], Iterator[model.Event]]] = {
    "blogger": blogger.events,
    "wordpress": wordpress.events,
    "feed": feed.events,
}
NAME_LIMIT = 200
#: Comments written per store transaction, and files per directory sync:
#: one commit (an fsync) per comment made 10,000 posts take minutes.
#: What a kill loses of a batch, the next run writes (nothing is half-done).
BATCH = 500
TEXT_LIMIT = 5000
#: Fetches an image: url → its bytes (raises on failure).
Fetcher = Callable[[str], bytes]


@dataclass
class Options:
    """What the command line asked for."""

    kind: str
    export: Path
    dry_run: bool = False
    strict: bool = False
    authors: dict[str, str] = field(default_factory=dict)  # OLD → registry slug
    media: Path | None = None
    fetch: Fetcher | None = None  # given with --fetch-images


class _Media:
    """The files of a --media folder, by the names a URL may give them."""

    def __init__(self, root: Path | None) -> None:
        self.index: dict[str, Path] = {}
        if root is None:
            return
        if not root.is_dir():
            raise ExportError(
                f"--media {root}: not a folder; give the blog's uploads folder"
            )
        for path in sorted(root.rglob("*")):
            if path.is_file():
                rel = path.relative_to(root).as_posix()
                for i in range(len(rel.split("/"))):
                    self.index.setdefault("/".join(rel.split("/")[i:]), path)

    def find(self, url: str) -> Path | None:
        for name in local_names(url):
            if name in self.index:
                return self.index[name]
        return None


class _Files:
    """Whole-or-absent files, the directory syncs grouped.

    Each file is written to a temporary name, fsynced and renamed over its
    name, as :func:`~causerie.mailposts.write.atomic_write` does; the
    directories' own fsync (which makes the renames durable) is done once
    per :data:`BATCH` files. A power cut before it can lose a rename, never
    a file's content: the file is then absent, and the next run writes it.
    """

    def __init__(self) -> None:
        self.dirs: set[Path] = set()
        self.count = 0

    def write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.importing")
        try:
            with tmp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.dirs.add(path.parent)
        self.count += 1
        if self.count % BATCH == 0:
            self.sync()

    def sync(self) -> None:
        for directory in self.dirs:
            fsync_dir(directory)
        self.dirs.clear()


class Importer:
    """One run over one export (see the module docstring)."""

    def __init__(
        self,
        settings: dict[str, Any],
        options: Options,
        store: Any,
        echo: Callable[[str], None] = lambda _line: None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.store = store
        self.echo = echo
        self.cfg = config(settings)
        self.content = Path(settings["PATH"])
        self.auth = read_section(settings, "AUTHORING", AuthoringSettings)
        self.registry_path = self.content / self.auth.registry
        self.registry: Registry = authoring.load_registry(
            self.registry_path, self.auth.languages
        )
        self.tz = ZoneInfo(settings.get("TIMEZONE") or "UTC")
        self.site_url = str(settings.get("SITEURL") or "").rstrip("/")
        self.default_lang = (
            self.cfg.default_lang
            or settings.get("DEFAULT_LANG")
            or self.auth.languages[0]
        )
        self.media = _Media(options.media)
        self.tally = model.Tally()
        self.blog = model.Blog(options.kind)
        self.authors: dict[str, model.Author] = {}
        self.mapped: dict[str, str] = {}  # old author key → registry slug
        self.targets: dict[
            str, tuple[str, str | None]
        ] = {}  # item key → (url, slug of its author)
        self.waiting: list[model.Comment] = []
        self.redirects: dict[str, str] = {}
        self.attachments: list[model.Attachment] = []
        self.published: dict[str, str] = {}  # item key → its file, if published
        self.files = _Files()
        self.pending: list[tuple[str, str, dict[str, Any]]] = []
        self.existing_comments: dict[tuple[str, str], Any] = (
            store.by_origin(mention_model.BLOG) if store is not None else {}
        )
        self._scan_content()

    # --- what is there already ------------------------------------------

    def _scan_content(self) -> None:
        self.by_origin: dict[str, Path] = {}
        self.digests: dict[str, str] = {}
        # (kind, slug) → the origin or path of the post that has it
        self.slugs: dict[tuple[str, str], str] = {}
        for kind, folder in (
            ("post", self.cfg.posts_dir),
            ("page", self.cfg.pages_dir),
        ):
            root = self.content / folder
            if not root.is_dir():
                continue
            for path in root.rglob("*.md"):
                meta = read_metadata(path)
                origin, digest = split_origin(meta.get(IMPORTED_FROM.lower()) or "")
                if origin:
                    self.by_origin[origin] = path
                    self.digests[origin] = digest
                slug = meta.get("slug") or path.stem
                self.slugs[(kind, slug)] = origin or str(path)

    # --- the run ------------------------------------------------------------

    def run(self) -> model.Tally:
        try:
            parse = PARSERS[self.options.kind]
            for event in parse(self.options.export):
                if isinstance(event, model.Blog):
                    self.blog = event
                    if (
                        event.lang
                        and event.lang in self.auth.languages
                        and not self.cfg.default_lang
                    ):
                        self.default_lang = event.lang
                elif isinstance(event, model.Attachment):
                    self.attachments.append(event)
                elif isinstance(event, model.Author):
                    self.authors.setdefault(event.key, event)
                elif isinstance(event, model.Item):
                    self._item(event)
                elif isinstance(event, model.Comment):
                    if event.post_key in self.targets:
                        self._comment(event)
                    else:
                        self.waiting.append(event)  # its post comes later
                elif isinstance(event, model.Problem) and event.by_design:
                    self.tally.ignored.append((event.where, event.reason))
                elif isinstance(event, model.Problem):
                    self._skip(event.where, event.reason)
                    if event.fatal:
                        break
            for comment in self.waiting:
                if comment.post_key in self.targets:
                    self._comment(comment)
                else:
                    self._skip(
                        f"comment {comment.key}",
                        f"its post {comment.post_key} is not in the export (or was skipped)",
                    )
        finally:
            # What was done is kept, even when --strict stops the run.
            self._flush()
            self.files.sync()
        self._feeds()
        for attachment in self.attachments:
            # An image's own page on the old blog leads to its post.
            post = self.published.get(attachment.parent_key or "")
            if post and attachment.page_url:
                for path in old_paths((attachment.page_url,), self.blog.url):
                    self.redirects.setdefault(path, post)
        self.tally.redirects = len(self.redirects)
        if not self.options.dry_run:
            redirects.merge_file(self.content / self.cfg.redirects, self.redirects)
        return self.tally

    def _skip(self, where: str, reason: str) -> None:
        self.tally.skipped.append((where, reason))
        log.info("import: %s: %s", where, reason)
        if self.options.strict:
            raise StrictError(f"--strict: {where}: {reason}")

    def _fixed(self, where: str, reason: str) -> None:
        self.tally.fixed.append((where, reason))
        log.info("import: %s: %s", where, reason)

    # --- authors ------------------------------------------------------------

    def _author(self, key: str | None) -> tuple[str | None, str | None]:
        """(name for the Author: line, registry slug) of an old author key."""
        if not key:
            return None, None
        if key in self.mapped:
            slug = self.mapped[key]
            found = self.registry.find(slug)
            return (found.name, found.slug) if found else (None, None)
        old = self.authors.get(key) or model.Author(key, key)
        wanted = self.options.authors.get(key) or self.options.authors.get(old.name)
        if wanted is not None:
            found = self.registry.find(wanted)
            if found is None:
                raise ExportError(
                    f"--author {key}={wanted}: no author {wanted!r} in {self.registry_path}; "
                    "give a slug from the registry"
                )
        else:
            found = (old.email and self.registry.find(old.email)) or self.registry.find(
                old.name
            )
        if not found:
            found = self._add_author(old)
        self.mapped[key] = found.slug
        return found.name, found.slug

    def _add_author(self, old: model.Author) -> authoring.Author:
        slug = slugify(old.name) or slugify(old.key) or "auteur"
        taken = {a.slug for a in self.registry}
        base, n = slug, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        emails = {a.email.casefold() for a in self.registry}
        email = (
            old.email
            if old.email and old.email.casefold() not in emails
            else f"{slug}@imported.invalid"
        )
        blog = self.blog.title or self.blog.url or self.blog.kind
        author = authoring.Author(
            slug=slug,
            name=old.name or old.key,
            email=email,
            role=tr(self.default_lang, "Author of the imported blog"),
            bio=tr(self.default_lang, "Wrote on {blog}.").format(blog=blog),
            avatar=f"images/authors/{slug}.svg",
            lang=self.default_lang
            if self.default_lang in self.auth.languages
            else self.auth.languages[0],
        )
        self.registry = Registry((*self.registry.authors, author))
        self.tally.authors_added.append(slug)
        if not self.options.dry_run:
            # The author before any post that names them: a killed import
            # never leaves a post whose author the build does not know.
            with self.registry_path.open("a", encoding="utf-8"):
                pass
            text = self.registry_path.read_text(encoding="utf-8")
            atomic_write(
                self.registry_path,
                (text.rstrip("\n") + "\n\n" + _toml(author)).encode("utf-8"),
            )
            avatar = self.content / author.avatar
            if not avatar.exists():
                atomic_write(avatar, _initials_svg(author).encode("utf-8"))
        return author

    # --- posts and pages --------------------------------------------------

    def _item(self, item: model.Item) -> None:
        where = f"{item.kind} {item.key}" + (
            f" ({item.title[:60]!r})" if item.title else ""
        )
        try:
            planned = self._plan(item, where)
        except Skip as why:
            self._skip(where, str(why))
            return
        author, author_slug = self._author(item.author_key)
        lang = item.lang or self.default_lang
        target = self.content / planned.path
        digest = self._digest(item, planned, author, lang)
        origin = origin_key(self.blog, item.key)
        images: list[Any] = []
        if self.digests.get(origin) == digest and target.is_file():
            # The same item, made the same way as the file says it was: not
            # converted again (an unchanged re-import is a read, not a redo).
            changed = False
        else:
            body, images, notes = body_markdown(
                item.html,
                self.blog.url,
                self.cfg.media_dir,
                planned.slug,
                self._can_place,
            )
            for note in notes:
                self._fixed(where, note)
            planned.text = post_text(planned, self.blog, author, lang, body, digest)
            planned.images = images
            changed = not target.exists() or target.read_bytes() != planned.text.encode(
                "utf-8"
            )
        if changed and not self.options.dry_run:
            for image in images:
                self._place(image, where)
            self.files.write(target, planned.text.encode("utf-8"))
        if not changed:
            self.tally.unchanged += 1
        elif item.draft:
            self.tally.drafts += 1
        elif item.kind == "page":
            self.tally.pages += 1
        else:
            self.tally.posts += 1
        if self.options.dry_run and changed:
            self.echo(f"would write {planned.path}")
        url = self._url(item, planned, lang)
        if not item.draft:
            self.published[item.key] = planned.path
            for path in old_paths(item.old_urls, self.blog.url):
                self.redirects[path] = planned.path
        if item.kind == "post" and not item.draft:
            self.targets[item.key] = (url, author_slug)
        for comment in item.comments:
            self._comment(comment, item)

    def _digest(
        self, item: model.Item, planned: Planned, author: str | None, lang: str
    ) -> str:
        """What the post file is made from: the item (not its comments), its
        file, author and language, the image options and the converter."""
        made_of = repr(
            (
                CONVERTER,
                dataclasses.replace(item, comments=()),
                planned.path,
                planned.slug,
                planned.title,
                author,
                lang,
                self.cfg.media_dir,
                self.options.media is not None,
                self.options.fetch is not None,
            )
        )
        return hashlib.sha256(made_of.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    def _plan(self, item: model.Item, where: str) -> Planned:
        origin = origin_key(self.blog, item.key)
        title, why = fix_title(item)
        if why:
            self._fixed(where, why)
        date = (
            item.date.astimezone(self.tz).replace(second=0, microsecond=0)
            if item.date
            else None
        )
        if date is None and item.kind == "post":
            raise Skip(
                "no date: a post needs one (give it a date on the old blog and export again)"
            )
        folder = self.cfg.pages_dir if item.kind == "page" else self.cfg.posts_dir
        existing = self.by_origin.get(origin)
        if existing is not None:
            # Imported before: the same file, with the slug it was given then.
            meta = read_metadata(existing)
            slug = meta.get("slug") or existing.stem
            return Planned(
                item, existing.relative_to(self.content).as_posix(), slug, title, date
            )
        slug = base_slug(item, title)
        # Pelican takes two posts with one slug (and language) for versions
        # of one post, whatever their dates: a slug is the site's, not a year's.
        first, n = slug, 2
        while self.slugs.get((item.kind, slug), origin) != origin:
            slug, n = f"{first}-{n}", n + 1
        if slug != first:
            self._fixed(
                where,
                f"slug {first!r} is already another {item.kind}'s: named {slug!r}",
            )
        self.slugs[(item.kind, slug)] = origin
        path = f"{folder}/{file_name(item.kind, date, slug)}"
        self.by_origin[origin] = self.content / path
        return Planned(item, path, slug, title, date)

    def _url(self, item: model.Item, planned: Planned, lang: str) -> str:
        pattern = (
            self.settings.get("PAGE_URL" if item.kind == "page" else "ARTICLE_URL")
            or "{slug}.html"
        )
        values = {"slug": planned.slug, "date": planned.date, "lang": lang}
        try:
            path = pattern.format(**values)
        except (KeyError, AttributeError, ValueError):
            path = f"{planned.slug}.html"
        return f"{self.site_url}/{path}"

    # --- images -------------------------------------------------------------

    def _can_place(self, url: str, path: str) -> bool:
        return (
            (self.content / path).is_file()  # copied by an earlier run
            or self.media.find(url) is not None
            or self.options.fetch is not None
        )

    def _place(self, image: Any, where: str) -> None:
        target = self.content / image.path
        local = self.media.find(image.url)
        if local is None and self.options.fetch is None and target.is_file():
            return  # copied by an earlier run, nothing to copy it from now
        try:
            if local is not None:
                if local.stat().st_size > self.cfg.max_image_bytes:
                    raise ValueError(
                        f"larger than max_image_bytes ({self.cfg.max_image_bytes})"
                    )
                data = local.read_bytes()
            else:
                assert self.options.fetch is not None
                data = self.options.fetch(image.url)
        except Exception as exc:
            self._skip(
                where,
                f"image {image.url} not copied ({exc}): the post shows nothing there",
            )
            return
        if target.exists() and target.read_bytes() == data:
            return
        self.files.write(target, data)
        self.tally.images += 1

    # --- comments -----------------------------------------------------------

    def _source(self, comment_key: str) -> str:
        """A comment's stable identity in the store (its ``source``)."""
        if self.blog.kind == "blogger" and self.blog.id:
            # Blogger's own id of the comment (the entry's <id>).
            return f"{self.blog.id}.post-{comment_key}"
        base = self.blog.url or f"tag:{self.blog.kind}"
        return f"{base}/#comment-{comment_key}"

    def _comment(self, comment: model.Comment, item: model.Item | None = None) -> None:
        where = f"comment {comment.key} of {comment.post_key}"
        if comment.post_key not in self.targets:
            if item is not None:
                why = (
                    "its post is a draft"
                    if item.draft
                    else "comments on pages are not shown"
                )
                self.tally.ignored.append((where, f"{why}: not imported"))
            return
        target, _post_author = self.targets[comment.post_key]
        blog_author = self._blog_author(comment)
        raw = comment.html or ""
        if "<" not in raw:  # WordPress stores comments as text with line breaks
            raw = "".join(f"<p>{_lines(p)}</p>" for p in raw.split("\n\n") if p.strip())
        content = clean_html(raw, target)
        text = clean_text(text_of(raw), TEXT_LIMIT)
        if not text:
            self._skip(where, "an empty comment: not imported")
            return
        approved = comment.status == model.APPROVED
        fields: dict[str, Any] = {
            "kind": "reply",
            "author_name": clean_text(comment.author_name, NAME_LIMIT) or None,
            "author_url": safe_url(comment.author_url or ""),
            "published": comment.date,
            "content_html": content or None,
            "content_text": text,
            "moderation": mention_model.APPROVED
            if approved
            else mention_model.REJECTED,
            "reason": None
            if approved
            else (
                "pending on the old blog, never shown there"
                if comment.status == model.HELD
                else "spam or trash on the old blog"
            ),
            "reply_to": self._source(comment.parent_key)
            if comment.parent_key
            else None,
            "blog_author": blog_author,
        }
        if comment.date:
            fields["received_at"] = comment.date
        source = self._source(comment.key)
        if approved:
            self.tally.comments += 1
        else:
            self.tally.rejected_comments += 1
        known = self.existing_comments.get((source, target))
        if known is not None and all(
            getattr(known, k) == v
            for k, v in fields.items()
            if k not in ("moderation", "received_at")
        ):
            return  # unchanged: not written again
        if self.options.dry_run or self.store is None:
            return
        self.pending.append((source, target, fields))
        if len(self.pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        """Commit the comments waiting, in one transaction."""
        if not self.pending or self.store is None:
            return
        with self.store.batch():
            for source, target, fields in self.pending:
                self.store.add_verified(source, target, mention_model.BLOG, fields)
        self.pending.clear()

    def _blog_author(self, comment: model.Comment) -> str | None:
        """The registry slug of the blog author who wrote ``comment``, if one did."""
        keys = {
            k.casefold()
            for k in (
                comment.author_name,
                comment.author_email or "",
                comment.author_url or "",
            )
            if k
        }
        for key, old in self.authors.items():
            if keys & {
                k.casefold()
                for k in (key, old.name, old.email or "", old.url or "")
                if k
            }:
                return self._author(key)[1]
        if comment.by_blog_author:
            found = (
                comment.author_email and self.registry.find(comment.author_email)
            ) or self.registry.find(comment.author_name)
            return found.slug if found else None
        return None

    # --- feeds --------------------------------------------------------------

    def _feeds(self) -> None:
        """The old blog's feeds answer with the new site's."""
        for path in redirects.OLD_FEEDS.get(self.blog.kind, ()):
            self.redirects.setdefault(path, redirects.FEED_TARGET)


def _lines(text: str) -> str:
    import html

    return "<br>".join(html.escape(line) for line in text.strip().split("\n"))


def _toml(author: Any) -> str:
    def q(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return (
        f"[{author.slug}]\n"
        f"name = {q(author.name)}\n"
        f"email = {q(author.email)}\n"
        f"role = {q(author.role)}\n"
        f"bio = {q(author.bio)}\n"
        f"avatar = {q(author.avatar)}\n"
        f"lang = {q(author.lang)}\n"
        "links = []\n"
    )


def _initials_svg(author: Any) -> str:
    import html

    initials = "".join(w[0] for w in author.name.split()[:2]).upper() or "?"
    name = html.escape(author.name)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96" '
        f'role="img" aria-label="{name}">\n'
        '  <circle cx="48" cy="48" r="48" fill="#4a5a6a"/>\n'
        '  <text x="48" y="49" fill="#ffffff" font-family="system-ui, sans-serif" font-size="36" '
        f'font-weight="700" text-anchor="middle" dominant-baseline="central">{html.escape(initials)}</text>\n'
        "</svg>\n"
    )


def run_import(
    settings: dict[str, Any],
    options: Options,
    store: Any,
    echo: Callable[[str], None] = lambda _line: None,
) -> model.Tally:
    """Import ``options.export`` into the site of ``settings`` (see module)."""
    if not options.export.is_file():
        raise ExportError(
            f"{options.export}: no such file; give the path of the export"
        )
    return Importer(settings, options, store, echo).run()
