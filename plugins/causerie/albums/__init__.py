"""Photo albums and documents to download, for mail and Markdown posts.

- :mod:`.blocks` — pure: the ``gallery`` and ``downloads`` blocks of a text
- :mod:`.plan` — pure: the sizes of a photo, the gallery and download HTML
- :mod:`.lede` — pure: a post's lede and album, read from its HTML
- :mod:`.documents` — pure: which documents are offered, their names
- :mod:`.images`, :mod:`.worker` — the adapter: Pillow and PDFium in a
  limited process, a cache by content hash
- :mod:`.markdown_ext` — the Python-Markdown extension
- :mod:`.plugin` — the Pelican side (``register``)
"""

from __future__ import annotations

from .settings import AlbumsSettings

__all__ = ["AlbumsSettings", "register"]


def register() -> None:
    from .plugin import register as connect

    connect()
