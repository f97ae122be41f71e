"""The authors registry: who writes on this blog (pure, no Pelican).

The registry is a TOML file (``content/authors.toml`` by default), one table per
author keyed by the author's slug::

    [claire-dubois]
    name = "Claire Dubois"
    email = "claire.dubois@example.com"
    role = "Directrice générale"
    bio = "…"
    avatar = "images/authors/claire-dubois.svg"
    links = ["https://claire.example"]
    lang = "fr"
    mail = "publish"        # posting by e-mail: "publish", "draft" or "off"
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pelican.settings import DEFAULT_CONFIG
from pelican.utils import slugify as _pelican_slugify

from causerie.errors import UserError
from causerie.settings import read_section

from .settings import AuthoringSettings


def slugify(text: str) -> str:
    """A slug as Pelican makes one with its default SLUG_REGEX_SUBSTITUTIONS."""
    return str(
        _pelican_slugify(text, regex_subs=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])
    )


REQUIRED = ("name", "email", "role", "bio", "avatar", "lang")
OPTIONAL = ("links", "mail")
#: What an author may do by e-mail (docs/mail.md): publish directly, send
#: drafts only, or nothing. Drafts only is the default: an e-mail address can
#: be spoofed more easily than a git commit.
MAIL_ROLES = ("publish", "draft", "off")


class AuthoringError(UserError):
    """Base of the authoring errors; the message says what to fix."""


class AuthorsError(AuthoringError):
    """The authors registry is missing or invalid; the message says what to fix."""


@dataclass(frozen=True)
class Author:
    """One person who may sign posts."""

    slug: str
    name: str
    email: str
    role: str
    bio: str
    avatar: str
    lang: str
    links: tuple[str, ...] = ()
    mail: str = "draft"


@dataclass(frozen=True)
class Registry:
    """All authors, looked up by slug, by name or by e-mail address."""

    authors: tuple[Author, ...]

    def __iter__(self) -> Iterator[Author]:
        return iter(self.authors)

    def __len__(self) -> int:
        return len(self.authors)

    def find(self, key: str) -> Author | None:
        """The author whose slug, name or e-mail is ``key`` (case-insensitive)."""
        wanted = key.strip().casefold()
        for author in self.authors:
            if wanted in (author.slug, author.name.casefold(), author.email.casefold()):
                return author
        # A post's Author: line is a name; Pelican slugifies it for URLs, so a
        # name written with other accents or case still finds its author.
        slug = slugify(key)
        return next((a for a in self.authors if a.slug == slug), None)

    def names(self) -> list[str]:
        return [a.name for a in self.authors]


def _check_url(url: Any, where: str) -> str:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise AuthorsError(f"{where}: {url!r} is not an http(s) URL")
    return url


def parse_registry(
    data: Mapping[str, Any], source: str, languages: tuple[str, ...]
) -> Registry:
    """Validate the decoded TOML ``data`` (``source`` names it in errors)."""
    authors = []
    emails: dict[str, str] = {}
    for slug, entry in data.items():
        where = f"{source} [{slug}]"
        if not isinstance(entry, Mapping):
            raise AuthorsError(f"{where}: expected a table of fields, got {entry!r}")
        if slug != slugify(slug):
            raise AuthorsError(
                f"{where}: the key must be a slug such as [{slugify(slug)}]"
            )
        missing = [k for k in REQUIRED if not entry.get(k)]
        if missing:
            raise AuthorsError(f"{where}: missing {', '.join(missing)}; add them")
        unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
        if unknown:
            raise AuthorsError(
                f"{where}: unknown field(s) {', '.join(unknown)}; the fields are "
                f"{', '.join(REQUIRED + OPTIONAL)}"
            )
        for key in REQUIRED:
            if not isinstance(entry[key], str):
                raise AuthorsError(f"{where}: {key} must be a string")
        if "@" not in entry["email"]:
            raise AuthorsError(f"{where}: {entry['email']!r} is not an e-mail address")
        email = entry["email"].casefold()
        if email in emails:
            raise AuthorsError(
                f"{where}: e-mail {entry['email']} is already used by [{emails[email]}]"
            )
        emails[email] = slug
        if entry["lang"] not in languages:
            raise AuthorsError(
                f"{where}: lang {entry['lang']!r} is not one of {', '.join(languages)}"
            )
        links = entry.get("links", [])
        if not isinstance(links, list):
            raise AuthorsError(f"{where}: links must be a list of URLs")
        mail = entry.get("mail", "draft")
        if mail not in MAIL_ROLES:
            raise AuthorsError(
                f"{where}: mail must be one of {', '.join(MAIL_ROLES)}, not {mail!r}"
            )
        authors.append(
            Author(
                slug=slug,
                name=entry["name"],
                email=entry["email"],
                role=entry["role"],
                bio=entry["bio"],
                avatar=entry["avatar"].lstrip("/"),
                lang=entry["lang"],
                links=tuple(_check_url(u, f"{where} links") for u in links),
                mail=mail,
            )
        )
    return Registry(tuple(authors))


def load_registry(path: Path, languages: tuple[str, ...]) -> Registry:
    """Read and validate the registry file at ``path``."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AuthorsError(
            f"{path}: authors registry not found; create it (see docs/content.md) "
            "or set AUTHORING['registry'] in pelicanconf.py"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise AuthorsError(f"{path}: not valid UTF-8 TOML ({exc}); fix it") from None
    return parse_registry(data, str(path), languages)


def registry_for(settings: dict[str, Any]) -> Registry:
    """Load the registry named by a Pelican settings dict."""
    config = read_section(settings, "AUTHORING", AuthoringSettings)
    return load_registry(Path(settings["PATH"]) / config.registry, config.languages)
