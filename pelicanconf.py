"""Settings of the demo site (Pelican-style; publishconf.py overrides for production).

Every Causerie capability reads one dict below (AUTHORING, SITEBUILD, ...):
its keys and defaults are documented in docs/configuration.md.
"""

import os

SITENAME = "Maison Lumen — le blog"
SITESUBTITLE = "Ce que nous faisons, ce que vous en dites"
# The address the site is served at. `publish serve` replaces it with the
# address it listens on; publishconf.py reads CAUSERIE_SITEURL for production.
SITEURL = "http://127.0.0.1:8000"
RELATIVE_URLS = False

PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "fr"
DEFAULT_PAGINATION = 10
DELETE_OUTPUT_DIRECTORY = True  # a post turned draft must not linger in output/
# … except the search index, replaced by the new one at the end of the build
# (docs/search.md): until then readers search the previous one.
OUTPUT_RETENTION = ["pagefind"]

ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
ARTICLE_EXCLUDES: list[str] = []

# Clean, dated URLs. A translation lives beside its original: /posts/2026/x/en/.
ARTICLE_URL = "posts/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "posts/{date:%Y}/{slug}/index.html"
ARTICLE_LANG_URL = "posts/{date:%Y}/{slug}/{lang}/"
ARTICLE_LANG_SAVE_AS = "posts/{date:%Y}/{slug}/{lang}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_LANG_URL = "{slug}/{lang}/"
PAGE_LANG_SAVE_AS = "{slug}/{lang}/index.html"
AUTHOR_URL = "authors/{slug}/"
AUTHOR_SAVE_AS = "authors/{slug}/index.html"
AUTHORS_URL = "authors/"
AUTHORS_SAVE_AS = "authors/index.html"
CATEGORY_URL = "categories/{slug}/"
CATEGORY_SAVE_AS = "categories/{slug}/index.html"
CATEGORIES_URL = "categories/"
CATEGORIES_SAVE_AS = "categories/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
ARCHIVES_URL = "archives/"
ARCHIVES_SAVE_AS = "archives/index.html"
# The archives page lists the years; each year has its page of posts.
YEAR_ARCHIVE_URL = "archives/{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "archives/{date:%Y}/index.html"
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""

# Drafts and scheduled posts are never written; `publish serve --drafts`
# turns a local preview of them on under drafts/.
DRAFT_SAVE_AS = ""
DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = ""
DRAFT_PAGE_LANG_SAVE_AS = ""
# Scheduling is done by the sitebuild plugin, with an injectable clock.
WITH_FUTURE_DATES = True

# Feeds: Atom and RSS, full content, absolute URLs; all, per category, tag, author.
FEED_DOMAIN = SITEURL
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
FEED_ATOM = None
FEED_RSS = None
CATEGORY_FEED_ATOM = "feeds/categories/{slug}.atom.xml"
CATEGORY_FEED_RSS = "feeds/categories/{slug}.rss.xml"
TAG_FEED_ATOM = "feeds/tags/{slug}.atom.xml"
TAG_FEED_RSS = "feeds/tags/{slug}.rss.xml"
AUTHOR_FEED_ATOM = "feeds/authors/{slug}.atom.xml"
AUTHOR_FEED_RSS = "feeds/authors/{slug}.rss.xml"
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None
FEED_USE_SUMMARY = False
FEED_MAX_ITEMS = 50
RSS_FEED_SUMMARY_ONLY = False

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {},
    },
    "output_format": "html5",
}

PLUGINS = [
    # Galleries and downloads (docs/albums.md): first, so that its Markdown
    # extension is in MARKDOWN when sitebuild fingerprints it.
    "causerie.albums",
    "causerie.authoring",
    "causerie.sitebuild",
    "causerie.theme_i18n",
    "causerie.webmentions",
    "causerie.mailposts",
    "causerie.deploy",
    "causerie.importers",
    "causerie.search",
    "pelican.plugins.sitemap",
]

SITEMAP = {
    "format": "xml",
    "priorities": {"articles": 0.8, "indexes": 0.5, "pages": 0.6},
    "changefreqs": {"articles": "monthly", "indexes": "daily", "pages": "monthly"},
    "exclude": ["tags/", "categories/", "authors/", "archives/"],
}

# --- Causerie capabilities (docs/configuration.md) -------------------------
AUTHORING = {
    "registry": "authors.toml",
    "default_author": os.environ.get("CAUSERIE_AUTHOR", "claire-dubois"),
    "posts_dir": "posts",
    "languages": ["fr", "en"],
}
SITEBUILD = {
    "words_per_minute": 230,
    "related_posts": 3,
}
# Readers' comments (docs/webmentions.md). The store is var/mentions.sqlite3
# unless $CAUSERIE_DATABASE_URL names another; /admin needs
# $CAUSERIE_ADMIN_SECRET.
WEBMENTIONS = {
    "service_url": "http://127.0.0.1:8081",
    "moderation": "hold",
}
# Posting by e-mail (docs/mail.md). Authors write to `address`; the company's
# mail server, whose Authentication-Results carry `authserv_id`, checks DKIM.
# Passwords and authors' secrets come from the environment.
MAILPOSTS = {
    "address": "blog@maison-lumen.example",
    "authserv_id": "mx.maison-lumen.example",
    "default_category": "Conversation",
}

# Photo galleries and downloads (docs/albums.md): each photo in these
# widths, as JPEG (or PNG) and WebP, cached by content hash.
ALBUMS = {"widths": [480, 1024, 2000]}
# Search (docs/search.md): a Pagefind index of posts and pages, comments
# included, and a search page per language at /search/ and /search/en/.
SEARCH = {"enabled": True}

# Deployment (docs/deployment.md): releases under /srv/blog, `current` the
# web server's root. See DEPLOY in docs/configuration.md for rsync over SSH.
DEPLOY = {"target": "local", "root": "/srv/blog", "keep": 5}

# Clean pagination: /page/2/, /categories/x/page/2/ (not index2.html).
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)
