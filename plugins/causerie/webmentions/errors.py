"""The webmentions package's errors."""

from causerie.errors import UserError


class WebmentionError(UserError):
    """Base of the webmentions errors; the message says what to do."""


class StoreError(WebmentionError):
    """The mention store cannot be used; the message says what to fix."""
