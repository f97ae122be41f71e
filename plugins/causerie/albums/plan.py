"""What a photo is made into, and the HTML that shows it (pure).

:func:`plan_sizes` says which widths a photo gets; :func:`gallery_html` and
:func:`downloads_html` write the one markup both inflows share (mail posts
and Markdown posts go through the same block, so the same code makes it):

- a gallery is a ``<div class="gallery">`` of one ``<figure>`` per photo,
  each a link to the largest size (it works without JavaScript) around a
  ``<picture>``: WebP sources beside the JPEG (or PNG) ``<img>`` with its
  ``srcset``/``sizes``, its intrinsic ``width``/``height`` (no layout shift,
  CSS Images 4 §"aspect-ratio" is taken from them), its alt text, and
  ``loading="lazy"`` past the first photos of the page;
- a download list is a ``<ul class="downloads">`` of links with the file's
  name, type and size, and a first-page thumbnail for a PDF.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from babel.numbers import format_decimal

from causerie.catalogs import N_, message_language, tr


@dataclass(frozen=True)
class Size:
    width: int
    height: int


@dataclass(frozen=True)
class Variant:
    url: str
    width: int
    height: int
    media_type: str  # "image/jpeg" | "image/png" | "image/webp"


@dataclass(frozen=True)
class ShownPhoto:
    alt: str
    caption: str
    variants: tuple[Variant, ...]  # every width, every format

    def of(self, media_type: str) -> list[Variant]:
        return sorted(
            (v for v in self.variants if v.media_type == media_type),
            key=lambda v: v.width,
        )

    @property
    def fallback_type(self) -> str:
        return next(
            (v.media_type for v in self.variants if v.media_type != "image/webp"),
            "image/jpeg",
        )


@dataclass(frozen=True)
class ShownDocument:
    url: str
    name: str  # what the link says
    file_name: str  # the file's own (sanitized) name
    type_label: str  # "PDF", "Word"…
    media_type: str
    size: int  # bytes
    thumbnail: Variant | None  # a PDF's first page, if it rendered


def plan_sizes(width: int, height: int, widths: tuple[int, ...]) -> list[Size]:
    """The sizes a ``width``×``height`` photo is made in: each of ``widths``
    below its own width, and its own width when the largest is wider
    (never enlarged), heights in proportion."""
    if width < 1 or height < 1:
        raise ValueError("an image has a width and a height of at least 1 px")
    chosen = sorted({w for w in widths if w < width} | {min(width, max(widths))})
    return [Size(w, max(1, round(height * w / width))) for w in chosen]


#: How wide a photo is shown (CSS px), for ``sizes``: a lone photo fills the
#: content column (42rem); in a grid a photo is about a third of it, half
#: on a phone (theme/static/css/causerie.css, ".gallery").
SIZES_ONE = "(min-width: 44rem) 42rem, calc(100vw - 2rem)"
SIZES_GRID = "(min-width: 44rem) 14rem, calc(50vw - 1.5rem)"


def _srcset(variants: list[Variant]) -> str:
    return ", ".join(f"{html.escape(v.url)} {v.width}w" for v in variants)


def gallery_html(photos: list[ShownPhoto], *, first_index: int, eager: int) -> str:
    """The gallery of ``photos``; ``first_index``: how many photos the page
    showed before it (the first ``eager`` of the page load at once)."""
    count = len(photos)
    sizes = SIZES_ONE if count == 1 else SIZES_GRID
    label = "gallery-one" if count == 1 else "gallery-many"
    out = [f'<div class="gallery {label}">']
    for n, photo in enumerate(photos):
        fallback = photo.of(photo.fallback_type)
        if not fallback:
            continue
        largest, middle = fallback[-1], fallback[min(1, len(fallback) - 1)]
        lazy = first_index + n >= eager
        alt = html.escape(photo.alt)
        out.append('<figure class="gallery-item">')
        out.append(f'<a class="gallery-link" href="{html.escape(largest.url)}">')
        out.append("<picture>")
        webp = photo.of("image/webp")
        if webp:
            out.append(
                f'<source type="image/webp" srcset="{_srcset(webp)}" sizes="{sizes}">'
            )
        out.append(
            f'<img src="{html.escape(middle.url)}" srcset="{_srcset(fallback)}" '
            f'sizes="{sizes}" width="{largest.width}" height="{largest.height}" '
            f'alt="{alt}"' + (' loading="lazy"' if lazy else "") + ' decoding="async">'
        )
        out.append("</picture></a>")
        if photo.caption:
            out.append(f"<figcaption>{html.escape(photo.caption)}</figcaption>")
        out.append("</figure>")
    out.append("</div>")
    return "\n".join(out)


#: Byte units as people read them (French: o, ko, Mo, Go, in the catalogs).
_UNITS = (N_("B"), N_("KB"), N_("MB"), N_("GB"))


def human_size(size: int, lang: str = "en") -> str:
    """``size`` bytes as people read it: "840 KB", "1.2 MB" ("1,2 Mo" in French)."""
    units = [tr(lang, unit) for unit in _UNITS]
    value, unit = float(size), 0
    while value >= 1000 and unit < len(units) - 1:
        value, unit = value / 1000, unit + 1
    shown = round(value) if unit == 0 or value >= 100 else round(value, 1)
    pattern = "0" if unit == 0 or value >= 100 else "0.0"
    text = format_decimal(shown, format=pattern, locale=message_language(lang))
    return f"{text}\u00a0{units[unit]}"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[1].upper()[:4] if "." in name else ""


def downloads_html(documents: list[ShownDocument], lang: str = "en") -> str:
    """The download list of ``documents``."""
    out = ['<ul class="downloads">']
    for doc in documents:
        out.append('<li class="download">')
        out.append(
            f'<a class="download-link" href="{html.escape(doc.url)}" '
            f'type="{html.escape(doc.media_type)}" download="{html.escape(doc.file_name)}">'
        )
        if doc.thumbnail is not None:
            thumb = doc.thumbnail
            out.append(
                f'<img class="download-thumb" src="{html.escape(thumb.url)}" '
                # A bare alt is alt="" (decorative: the link names the
                # file), written so that Pelican's "empty alt" check, meant
                # for forgotten alt texts, does not flag it.
                f'width="{thumb.width}" height="{thumb.height}" alt '
                'loading="lazy" decoding="async">'
            )
        else:
            # A generic page: the PDF did not render, or it is no PDF.
            out.append(
                '<span class="download-icon" aria-hidden="true">'
                f"{html.escape(_extension(doc.file_name) or doc.type_label[:4])}</span>"
            )
        out.append(f'<span class="download-name">{html.escape(doc.name)}</span></a>')
        out.append(
            '<span class="download-meta">'
            + (f"{html.escape(doc.file_name)} · " if doc.file_name != doc.name else "")
            + f"{html.escape(doc.type_label)}, {human_size(doc.size, lang)}</span>"
        )
        out.append("</li>")
    out.append("</ul>")
    return "\n".join(out)
