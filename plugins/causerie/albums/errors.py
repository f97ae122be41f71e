"""What the albums capability refuses, naming the file and the fix."""

from __future__ import annotations

from causerie.errors import UserError


class AlbumError(UserError):
    """A photo or a document of a post cannot be published; the message
    names the file and says what to do."""
