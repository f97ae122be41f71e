"""What an old blog's export holds, as plain data (pure).

Every parser (:mod:`.blogger`, :mod:`.wordpress`, :mod:`.feed`) yields these,
one at a time, so an export of any size is read in constant memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

#: Comment states as the export gives them, reduced to three.
APPROVED, HELD, SPAM = "approved", "held", "spam"


@dataclass(frozen=True)
class Author:
    """Someone who signed posts on the old blog."""

    key: str  # the export's own name for them (a login, a profile URL, a name)
    name: str
    email: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Comment:
    """A reader's comment (or an author's answer) on the old blog."""

    key: str  # the export's id, unique in the export
    post_key: str
    author_name: str
    html: str
    date: dt.datetime | None
    status: str = APPROVED  # APPROVED, HELD (pending), SPAM (spam, trash)
    parent_key: str | None = None  # the comment this one answers
    author_email: str | None = None
    author_url: str | None = None
    url: str | None = None  # its old permalink, if the export has one
    #: The export says a blog author wrote it (Blogger's blogger:type,
    #: WordPress's comment_user_id); the importer also matches names/e-mails.
    by_blog_author: bool = False


@dataclass(frozen=True)
class Item:
    """A post or a page of the old blog."""

    key: str  # the export's id (WordPress post_id, Blogger's post id)
    kind: str  # "post" or "page"
    title: str
    html: str
    date: dt.datetime | None
    slug: str | None = None
    draft: bool = False
    author_key: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    summary: str | None = None
    #: Its old addresses (permalink, short link, ?p=N), absolute or paths.
    old_urls: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = ()
    lang: str | None = None


@dataclass(frozen=True)
class Attachment:
    """A file the old blog stored for a post (WordPress attachments)."""

    key: str
    url: str
    parent_key: str | None = None
    #: Its own old page (WordPress: /2012/03/post/photo/), sent to the post.
    page_url: str | None = None


@dataclass(frozen=True)
class Problem:
    """One item of the export that is not taken as it is, and why."""

    where: str  # "item 12 (post 345)", "line 40"
    reason: str
    fatal: bool = False  # the rest of the export cannot be read
    #: Left out on purpose (a pingback, a trashed post), not a fault.
    by_design: bool = False


@dataclass(frozen=True)
class Blog:
    """What the export says about the blog itself."""

    kind: str  # "blogger", "wordpress", "feed"
    title: str = ""
    url: str = ""  # its old base URL, e.g. https://old.example
    lang: str | None = None
    id: str = ""  # the export's own id of the blog (Atom: the feed's <id>)


#: What a parser yields.
Event = Blog | Author | Item | Comment | Attachment | Problem


@dataclass
class Tally:
    """Counts of a run, for the summary."""

    posts: int = 0
    pages: int = 0
    drafts: int = 0
    unchanged: int = 0
    comments: int = 0
    rejected_comments: int = 0
    images: int = 0
    redirects: int = 0
    authors_added: list[str] = field(default_factory=list)
    fixed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    ignored: list[tuple[str, str]] = field(default_factory=list)
