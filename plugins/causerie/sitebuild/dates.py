"""Post dates read without dateutil when their form is plain ISO.

Pelican reads ``Date:`` and ``Modified:`` with ``dateutil.parser.parse``
(``pelican.utils.get_date``), about 0.2 ms a date: at 8,000 posts that is
more than a second of the build's process, while the Markdown workers need
both cores. A date written as ``YYYY-MM-DD``, optionally followed by
``HH:MM`` or ``HH:MM:SS`` (space or ``T``), is made here directly into the
same ``SafeDatetime`` (naive, as dateutil gives it with Pelican's default);
every other form, and any value that is not a real date, goes to Pelican's
processor, which reads or refuses it as always.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pelican.utils import SafeDatetime

from causerie import pelican_compat

_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?", re.ASCII
)

Processor = Callable[[str, Any], Any]


def plain_iso(text: str) -> SafeDatetime | None:
    """``text`` as dateutil would read it, if it is a plain ISO date; else
    None (including for a plain form that is not a real date)."""
    # As get_date: runs of spaces count as one.
    match = _ISO.fullmatch(re.sub(" +", " ", text).strip())
    if match is None:
        return None
    try:
        return SafeDatetime(*(int(part) for part in match.groups() if part))
    except ValueError:
        return None  # 2025-02-30: Pelican's processor says why


def _faster(original: Processor, underscores: bool) -> Processor:
    def process(value: str, settings: Any) -> Any:
        # Pelican's "date" reads "2025-01-02_10:00" as with a space.
        found = plain_iso(value.replace("_", " ") if underscores else value)
        return found if found is not None else original(value, settings)

    process.causerie_original = original  # type: ignore[attr-defined]
    return process


def install() -> None:
    """Put the fast readers in front of Pelican's (once per process)."""
    for name, underscores in (("date", True), ("modified", False)):
        current = pelican_compat.metadata_processor(name)
        if not hasattr(current, "causerie_original"):
            pelican_compat.set_metadata_processor(name, _faster(current, underscores))
