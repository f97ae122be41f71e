"""The mailposts package's errors."""

from causerie.errors import UserError


class MailError(UserError):
    """Base of the mailposts errors; the message says what to do."""
