"""The importers' errors: each names the file and says what to do."""

from __future__ import annotations

from causerie.errors import UserError


class ImporterError(UserError):
    """Base of the importers' errors."""


class ExportError(ImporterError):
    """The export file cannot be read as a whole (not XML, refused DTD…)."""


class StrictError(ImporterError):
    """--strict: an item was fixed or skipped."""
