"""An e-mail becomes a post: title, commands, body, images, documents (pure).

:func:`parse_message` takes a message parsed with ``email.policy.default``
and the author it comes from (authentication is done before) and returns a
:class:`~.model.Post`, or a :class:`~.model.Refusal` whose reason, in the
author's language, says what to change. No I/O, no network, no clock: the
time zone, the arrival time and the raw bytes' digest are parameters.

- **Subject** → title, without "Re:", "Fwd:", "TR:", "Réf :"… (repeated,
  any case); ``[Category]`` and ``#tags`` in it are taken out.
- **Commands**: the first lines of the body may be ``tags:``, ``category:``,
  ``status: draft``, ``date:``, ``lang:``, ``slug:``, ``summary:`` (French
  names too: ``catégorie``, ``statut: brouillon``, ``langue``, ``résumé``).
- **Language**: a ``lang:`` command, else the text's (see
  :func:`detect_language`), else the author's, else ``default_lang``.
- **Body** (see :mod:`.body`): HTML through markdownify, quotes and
  signatures cut; a plain-text mail is its author's Markdown, defused.
- **Images** stand where they stood. A run of images with no text between
  them is one gallery block, the syntax a Markdown post uses too
  (docs/albums.md): a fenced ``gallery`` block, one ``file | alt | caption``
  line a photo, which the albums plugin renders (one figure a photo, sizes
  and formats for every screen). A lone image is a gallery of one.
- **Documents** are listed at the end in a ``downloads`` block, the same
  syntax again, named by their sender's file name; every file path is ours:
  ``{media_dir}/{yyyy}/{slug}/{n}.{ext}``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import html
import re
import zoneinfo
from email.message import EmailMessage
from pathlib import PurePosixPath

from causerie.authoring.registry import Author, slugify
from causerie.catalogs import N_, tr

from . import media
from .body import (
    TOKEN,
    Attachment,
    Body,
    choose_body,
    decode_bytes,
    is_reply,
    render_body,
)
from .messages import megabytes, refusal
from .model import DOCUMENT, IMAGE, MediaFile, Post, Refusal
from .settings import MailSettings

__all__ = [
    "clean_subject",
    "commands",
    "detect_language",
    "parse_command_date",
    "parse_message",
    "parse_subject",
    "plain_text",
]

#: Reply and forward prefixes: English, French ("TR", "Réf"), Outlook's
#: German and Nordic ones; "RE :" with the French space too.
_PREFIX = re.compile(
    r"^\s*(?:re|fwd?|tr|r[ée]f|aw|wg|sv|vs)(?:\[\d+\])?[\s\u00a0\u202f]*:\s*",
    re.IGNORECASE,
)
_CATEGORY = re.compile(r"\[([^\[\]]+)\]")
_TAG = re.compile(r"(?<!\S)#([^\W\d_][\w\-]*)")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff]")
_TAG_START = re.compile(r"<(?=[A-Za-z!/?])")

#: Command names, French and English, and what they mean.
COMMANDS = {
    "tags": "tags", "tag": "tags", "étiquettes": "tags", "etiquettes": "tags",
    "category": "category", "catégorie": "category", "categorie": "category",
    "status": "status", "statut": "status",
    "date": "date",
    "lang": "lang", "langue": "lang", "language": "lang",
    "slug": "slug",
    "summary": "summary", "résumé": "summary", "resume": "summary",
    "alt": "alt", "légende": "alt", "legende": "alt",
}  # fmt: skip
#: Commands that may be given once per photo: their values, in order, are
#: joined by newlines.
_REPEATED = frozenset({"alt"})
_COMMAND = re.compile(
    r"^\s*([^\W\d_]+)[\s\u00a0\u202f]*(?:\\?:)[\s\u00a0\u202f]*(.*?)\s*$"
)
_STATUS = {
    "draft": "draft", "brouillon": "draft",
    "published": "published", "publish": "published", "publié": "published",
    "publie": "published", "publier": "published",
}  # fmt: skip

#: Words frequent in one language and absent from the other (no "a", "on",
#: "as", "me": they are both French and English).
STOP_WORDS = {
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "un",
            "une",
            "des",
            "du",
            "et",
            "est",
            "sont",
            "pour",
            "que",
            "qui",
            "dans",
            "sur",
            "avec",
            "pas",
            "nous",
            "vous",
            "ce",
            "cette",
            "ces",
            "au",
            "aux",
            "mais",
            "été",
            "être",
            "très",
            "plus",
            "notre",
            "nos",
            "votre",
            "vos",
            "je",
            "il",
            "elle",
            "ils",
            "elles",
            "son",
            "sa",
            "ses",
            "leur",
            "leurs",
            "par",
            "ne",
            "comme",
            "tout",
            "aussi",
            "chez",
        ]
    ),
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "are",
            "was",
            "were",
            "for",
            "that",
            "which",
            "who",
            "in",
            "with",
            "not",
            "we",
            "you",
            "this",
            "these",
            "those",
            "to",
            "of",
            "it",
            "its",
            "our",
            "your",
            "he",
            "she",
            "they",
            "be",
            "been",
            "have",
            "has",
            "but",
            "or",
            "from",
            "by",
            "at",
            "all",
            "will",
            "would",
            "can",
            "very",
            "also",
        ]
    ),
}
_WORD = re.compile(r"[^\W\d_]+")


def plain_text(value: str) -> str:
    """``value`` as one line of plain text: no controls or bidi overrides,
    whitespace collapsed, no "<" that could open a tag where a template
    forgets to escape (it becomes "‹")."""
    value = _CONTROL.sub(" ", value)
    return _TAG_START.sub("‹", " ".join(value.split()))


def clean_subject(subject: str) -> str:
    """``subject`` without its reply/forward prefixes, however many."""
    previous = None
    subject = subject.strip()
    while previous != subject:
        previous = subject
        subject = _PREFIX.sub("", subject).strip()
    return subject


def parse_subject(subject: str) -> tuple[str, str | None, tuple[str, ...]]:
    """The title, the ``[Category]`` (the first one) and the ``#tags`` of a subject."""
    subject = clean_subject(plain_text(subject))  # "Re[2]:" is not a category
    category_match = _CATEGORY.search(subject)
    category = category_match.group(1).strip() if category_match else None
    if category_match:
        subject = (
            subject[: category_match.start()] + " " + subject[category_match.end() :]
        )
    tags = tuple(_TAG.findall(subject))
    subject = _TAG.sub(" ", subject)
    return " ".join(clean_subject(subject).split()), category or None, tags


def _unescape(value: str) -> str:
    """A command's value as written (the body is Markdown, escaped)."""
    return html.unescape(re.sub(r"\\(.)", r"\1", value))


def commands(markdown: str) -> tuple[dict[str, str], str]:
    """The commands at the top of ``markdown`` (blank lines between them
    allowed; the first other line ends them) and the text after them.

    >>> commands("tags: a, b\\nstatus: draft\\n\\nHello")
    ({'tags': 'a, b', 'status': 'draft'}, 'Hello')
    """
    found: dict[str, str] = {}
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _COMMAND.match(_unescape(line))
        name = COMMANDS.get(match.group(1).casefold()) if match else None
        if match and name in _REPEATED and name in found:
            found[name] += "\n" + match.group(2)
        elif match and name:
            found[name] = match.group(2)
        elif line.strip():
            break
        i += 1
    return found, "\n".join(lines[i:]).strip("\n")


#: An answer to a confirmation changes its post only when its first line
#: (blank lines and a "secret:" line before it skipped) is one of these.
EDIT, DELETE, RESTORE = "edit", "delete", "restore"
REPLY_COMMANDS = {
    "modifier": EDIT,
    "edit": EDIT,
    "supprimer": DELETE,
    "delete": DELETE,
    "restaurer": RESTORE,
    "restore": RESTORE,
}
_SECRET = re.compile(r"^\s*secret\s*\\?:", re.IGNORECASE)


def reply_command(text: str) -> tuple[str | None, str]:
    """The command of an answer to a confirmation, and the text after it;
    (None, ``text``) when its first line is no command ("Merci !").

    >>> reply_command("secret: s3\\r\\n\\nSUPPRIMER !")
    ('delete', '')
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i, line in enumerate(lines):
        if not line.strip() or _SECRET.match(line):
            continue
        word = _unescape(line).strip(" \t\u00a0\u202f.!:").casefold()
        found = REPLY_COMMANDS.get(word)
        if found is None:
            return None, text
        return found, "\n".join(lines[i + 1 :]).strip("\n")
    return None, text


def detect_language(text: str, languages: tuple[str, ...]) -> str | None:
    """The language of ``text`` among ``languages``, or None if unsure.

    A count of :data:`STOP_WORDS`: the winner needs at least 3 of its stop
    words and twice as many as the next. Only French and English are known;
    other languages are never detected.
    """
    words = [w.casefold() for w in _WORD.findall(text)]
    scores = sorted(
        (
            (sum(w in STOP_WORDS[lang] for w in words), lang)
            for lang in languages
            if lang in STOP_WORDS
        ),
        reverse=True,
    )
    if not scores:
        return None
    best, lang = scores[0]
    runner_up = scores[1][0] if len(scores) > 1 else 0
    return lang if best >= 3 and best >= 2 * runner_up else None


_DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
    "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y %Hh%M", "%d/%m/%Y %Hh", "%d/%m/%Y",
)  # fmt: skip


def parse_command_date(value: str, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """A ``date:`` command's value in ``tz`` (ISO 8601 with or without an
    offset, or French day/month/year), or None. A date alone is midnight."""
    value = " ".join(value.split())
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=tz)
    return parsed.astimezone(tz)


def _message_date(
    msg: EmailMessage, tz: zoneinfo.ZoneInfo, received_at: dt.datetime | None
) -> dt.datetime | None:
    try:
        header = msg["Date"]
        when = getattr(header, "datetime", None) if header is not None else None
    except (TypeError, ValueError, IndexError, OverflowError):
        when = None
    dates = msg.get_all("Date") or []
    if when is None and dates:
        try:
            when = email.utils.parsedate_to_datetime(str(dates[0]))
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
    if when is None:
        when = received_at
        if when is None:
            return None
    if when.tzinfo is None:
        # RFC 5322 §3.3: "-0000" is UTC with no word on the sender's zone
        # (the email package gives a naive datetime for it).
        when = when.replace(tzinfo=dt.UTC)
    if received_at is not None:
        received = received_at if received_at.tzinfo else received_at.replace(tzinfo=tz)
        if when > received:
            # A Date ahead of the receipt is the sender's wrong clock (issue
            # 12 item 9: 6 hours ahead, or year 3609): a post dated in the
            # future is held back by the build as scheduled, while the reply
            # says it is online. Only a date: command schedules a post.
            when = received
    return when.astimezone(tz)


def _header(msg: EmailMessage, name: str) -> str:
    """A header as text. Raw 8-bit bytes (no RFC 2047 encoded words), which
    the email package turns into U+FFFD, are recovered from the raw value like
    a mislabelled body: UTF-8, else Windows-1252."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower() and isinstance(raw, str):
            if re.search("[\udc80-\udcff]", raw):
                data = raw.encode("utf-8", "surrogateescape")
                return " ".join(decode_bytes(data, "utf-8").split())
            break
    try:
        value = msg[name]
    except (TypeError, ValueError, IndexError):
        value = None
    return str(value) if value is not None else ""


def _message_id(msg: EmailMessage, raw_digest: str | None) -> str:
    found = re.search(r"<([!-;=?-~]+@[!-;=?-~]+)>", _header(msg, "Message-ID"))
    if found:
        return f"<{found.group(1)}>"
    digest = raw_digest or hashlib.sha256(msg.as_bytes()).hexdigest()
    return f"<{digest}@causerie>"


def _message_size(msg: EmailMessage, raw_size: int | None) -> int:
    if raw_size is not None:
        return raw_size
    try:
        return len(msg.as_bytes())
    except (TypeError, ValueError, LookupError):
        return 0


def parse_message(
    msg: EmailMessage,
    *,
    author: Author,
    settings: MailSettings,
    tz: zoneinfo.ZoneInfo,
    languages: tuple[str, ...] = ("fr", "en"),
    default_lang: str = "fr",
    received_at: dt.datetime | None = None,
    raw_digest: str | None = None,
    raw_size: int | None = None,
    edit: bool = False,
) -> Post | Refusal:
    """``msg`` from ``author`` as a Post, or a Refusal saying what to change.

    ``received_at`` dates a message without a readable Date header;
    ``raw_digest`` (the SHA-256 of its bytes, hex) names one without a
    Message-ID, ``raw_size`` (their length) checks max_message_bytes —
    without them, the re-serialised message is used.
    """
    say = author.lang
    size = _message_size(msg, raw_size)
    if size > settings.max_message_bytes:
        return refusal(
            say, "too-big", size=megabytes(size, say),
            limit=megabytes(settings.max_message_bytes, say),
        )  # fmt: skip
    title, category, subject_tags = parse_subject(_header(msg, "Subject"))
    if not title:
        return refusal(say, "no-subject")

    body = render_body(choose_body(msg), reply=is_reply(msg))
    if body.problem is not None:  # raw MIME or a lost file: never published
        code, detail = body.problem
        return refusal(
            say,
            code,
            what=tr(say, _MIME_WHAT[detail]) if detail in _MIME_WHAT else "",
            name=detail,
        )
    markdown = body.markdown
    if edit:  # an answer "MODIFIER" + the new text: the text without the word
        markdown = reply_command(markdown)[1]
    found, text = commands(markdown)

    status = "published"
    if "status" in found:
        wanted = _STATUS.get(_unescape(found["status"]).strip().casefold())
        if wanted is None:
            return refusal(say, "bad-status", value=plain_text(found["status"]))
        status = wanted
    if "lang" in found:
        lang = plain_text(found["lang"]).lower()
        if lang not in languages:
            return refusal(say, "bad-lang", value=lang, choices=", ".join(languages))
    else:
        lang = detect_language(f"{title}\n{TOKEN.sub(' ', text)}", languages) or (
            author.lang if author.lang in languages else default_lang
        )
    if "date" in found:
        date = parse_command_date(found["date"], tz)
        if date is None:
            return refusal(say, "bad-date", value=plain_text(found["date"]))
    else:
        date = _message_date(msg, tz, received_at)
        if date is None:
            return refusal(say, "no-date")
    slug = slugify(title)
    if "slug" in found:
        slug = slugify(found["slug"])
        if not slug:
            return refusal(say, "bad-slug", value=plain_text(found["slug"]))
    if not slug:
        slug = "post"  # a title of punctuation only ("???")
    tags = subject_tags + tuple(
        t.strip().lstrip("#") for t in found.get("tags", "").split(",")
    )
    if "category" in found and plain_text(found["category"]):
        category = plain_text(found["category"])

    attachments = [a for n, a in enumerate(body.attachments) if n not in body.dropped]
    if len(attachments) > settings.max_attachments:
        return refusal(
            say, "too-many", count=len(attachments), limit=settings.max_attachments
        )
    total = sum(len(a.data) for a in attachments)
    if total > settings.max_attachments_bytes:
        return refusal(
            say, "attachments-too-big", size=megabytes(total, say),
            limit=megabytes(settings.max_attachments_bytes, say),
        )  # fmt: skip

    folder = f"{settings.media_dir.strip('/')}/{date.year:04d}/{slug}"
    alts = [plain_text(_unescape(v)) for v in found.get("alt", "").split("\n")]
    made = _media(body, text, folder, settings, say, title, alts)
    if isinstance(made, Refusal):
        return made
    markdown, files = made
    if not TOKEN.sub("", text).strip() and not any(f.kind == IMAGE for f in files):
        return refusal(say, "no-text")
    return Post(
        title=title,
        slug=slug,
        date=date,
        lang=lang,
        status=status,
        author=author.name,
        body=markdown,
        message_id=_message_id(msg, raw_digest),
        category=category or settings.default_category,
        tags=_unique(plain_text(_unescape(t)) for t in tags),
        summary=plain_text(_unescape(found["summary"])) or None
        if "summary" in found
        else None,
        media=tuple(files),
    )


#: What is left raw in a "raw-mime" refusal, in English and in French.
_MIME_WHAT = {
    "headers": N_("MIME headers"),
    "base64": N_("base64 code"),
    "quoted-printable": N_("quoted-printable code"),
}


def _unique(values: object) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:  # type: ignore[attr-defined]
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return tuple(seen.values())


def _media(
    body: Body,
    text: str,
    folder: str,
    settings: MailSettings,
    say: str,
    title: str = "",
    alts: list[str] | None = None,
) -> tuple[str, list[MediaFile]] | Refusal:
    """The body with its images in place, and every media file: images
    numbered in reading order, documents under their own (sanitized) name.
    ``alts``: the author's alt texts (``alt:`` commands), photo by photo."""
    files: list[MediaFile] = []
    images: dict[int, str] = {}  # attachment index → its Markdown
    for index in dict.fromkeys(int(n) for n in TOKEN.findall(text)):
        attachment = body.attachments[index]
        picture = media.process_image(
            attachment.data, _label(attachment, len(files) + 1),
            max_px=settings.image_max_px, thumb_px=settings.thumbnail_px,
        )  # fmt: skip
        if isinstance(picture, media.Problem):
            return refusal(say, picture.code, name=picture.name)
        number = len(images) + 1
        full = f"{folder}/{number}.{picture.extension}"
        files.append(
            MediaFile(
                full, picture.data, IMAGE, picture.media_type, attachment.name or None
            )
        )
        alt = _alt(attachment, number, title, alts or [], body.captions.get(index))
        caption = _caption(attachment, alt, body.captions.get(index))
        # The albums plugin makes the sizes each screen needs from the full
        # image: mail writes no thumbnail of its own any more.
        images[index] = f"{{static}}/{full} | {_field(alt)}" + (
            f" | {_field(caption)}" if caption else ""
        )
    number = len(images)
    links: list[str] = []
    placed = set(images)
    names: set[str] = set()
    for index, attachment in enumerate(body.attachments):
        if index in placed or index in body.dropped:
            continue
        if attachment.is_image:  # an image whose place was cut with its text
            continue
        number += 1
        label = _label(attachment, number)
        kind = media.sniff_document(
            attachment.data, attachment.name, attachment.content_type
        )
        if isinstance(kind, media.Problem):
            return refusal(say, kind.code, name=label)
        stem = _document_stem(attachment.name, number, names)
        path = f"{folder}/{stem}.{kind.extension}"
        files.append(MediaFile(path, attachment.data, DOCUMENT, kind.media_type, label))
        links.append(f"{{static}}/{path} | {_field(label)}")
    blocks = _with_galleries(text, images)
    if links:
        blocks.append("```downloads\n" + "\n".join(links) + "\n```")
    return "\n\n".join(b for b in blocks if b.strip()), files


def _with_galleries(text: str, images: dict[int, str]) -> list[str]:
    """The blocks of ``text`` with image tokens replaced; a run of images
    becomes one gallery block."""
    blocks: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            blocks.append("```gallery\n" + "\n".join(run) + "\n```")
        run.clear()

    for block in re.split(r"\n{2,}", text):
        found = TOKEN.fullmatch(block.strip())
        if found:
            markdown = images.get(int(found.group(1)))
            if markdown:
                run.append(markdown)
                images = {k: v for k, v in images.items() if k != int(found.group(1))}
            continue
        flush()
        blocks.append(block)
    flush()
    return blocks


def _field(text: str) -> str:
    """``text`` as one field of a gallery or downloads line (docs/albums.md):
    one line, its bars escaped; the albums plugin escapes it as HTML."""
    return " ".join(text.split()).replace("|", "\\|")


def _caption(attachment: Attachment, alt: str, caption: str | None) -> str:
    """A photo's caption: the words the mail gave it (its HTML alt or title,
    else its Content-Description) when they are not its file name and not
    already its alt text; else none."""
    for found in (caption, attachment.description):
        if found:
            found = plain_text(found)[:300]
            stem = PurePosixPath(attachment.name.replace("\\", "/")).stem
            if (
                not is_file_name_like(found)
                and found not in (attachment.name, stem)
                and found != alt
            ):
                return found
    return ""


def _label(attachment: Attachment, number: int) -> str:
    """The sender's file name, without path or controls, for link text."""
    name = PurePosixPath(attachment.name.replace("\\", "/")).name
    name = plain_text(name)[:100]
    return name or f"document {number}"


#: What a camera, a phone or a mail client names a picture: never an alt
#: text ("IMG 4821" says nothing of the photo; issue 12 item 14).
_FILE_NAME_LIKE = re.compile(
    r"""^(?:
        .*\.(?:jpe?g|jfif|png|gif|heic|heif|webp|tiff?|bmp|dng|avif)
      | (?:img|dsc[nf]?|dcim|pxl|mvimg|vid|image|photo|picture|pic|screenshot
          |capture|scan|wp|sam|gopr|dji|whatsapp\s*image|cid)
        [\s_\-:.]*[\d].*
      | (?:image|photo|picture|img|attachment|pi[eè]ce\s*jointe|untitled
          |sans\s*titre)
      | [\d\s_\-.:]+
      | [0-9a-f\-]{16,}
      | cid:.*
      | (?:capture\s*d\W?\s*[ée]cran|screen\s*shot|bildschirmfoto).*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)


def is_file_name_like(text: str) -> bool:
    """Whether ``text`` is a file name or a camera's name for a picture
    rather than words about it."""
    return not text.strip() or bool(_FILE_NAME_LIKE.match(text.strip()))


def _alt(
    attachment: Attachment,
    number: int,
    title: str,
    alts: list[str],
    caption: str | None,
) -> str:
    """The photo's alt text: the author's (the ``number``-th ``alt:``
    command), else its caption (the mail's HTML alt or title, else its
    Content-Description) unless that is a file name, else "Photo N — title"."""
    if number <= len(alts) and alts[number - 1].strip():
        return alts[number - 1].strip()[:300]
    for found in (caption, attachment.description):
        if found:
            found = plain_text(found)[:300]
            stem = PurePosixPath(attachment.name.replace("\\", "/")).stem
            if not is_file_name_like(found) and found not in (attachment.name, stem):
                return found
    return f"Photo {number} — {title}" if title else f"Photo {number}"


def _document_stem(name: str, number: int, taken: set[str]) -> str:
    """A document's file name without its extension: the sender's, made
    safe for a URL ("Devis Aube (v2).pdf" → "devis-aube-v2"), free among
    ``taken`` (which it joins); "document-N" when nothing is left."""
    stem = slugify(PurePosixPath(name.replace("\\", "/")).stem)[:80].strip("-")
    stem = stem or f"document-{number}"
    free, n = stem, 1
    while free in taken:
        n += 1
        free = f"{stem}-{n}"
    taken.add(free)
    return free
