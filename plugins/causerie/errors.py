"""The errors every capability builds on.

A :class:`UserError` is something the user can fix; its message names the
file, URL or setting and the fix, and the CLI prints it on one line, never
as a traceback. Each capability subclasses it (``MailError``,
``WebmentionError``, ``DeployError``, ...), so that a caller can catch one
capability's errors or all of them.
"""

from __future__ import annotations

__all__ = ["SettingsError", "UserError"]


class UserError(Exception):
    """Base of every capability's errors: the user can fix it, the message says how.

    The CLI shows these as one line, never as a traceback.
    """


class SettingsError(UserError):
    """A settings dict in pelicanconf.py is wrong; the message says how to fix it."""
