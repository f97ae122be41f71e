"""sitebuild.dates reads plain ISO dates as Pelican's dateutil reader does."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from pelican import readers
from pelican.utils import SafeDatetime, get_date

from causerie.sitebuild import dates

# Pelican's own processors, whatever is installed in front of them.
PELICAN_DATE = getattr(
    readers.METADATA_PROCESSORS["date"],
    "causerie_original",
    readers.METADATA_PROCESSORS["date"],
)


def pelican_reads(text: str) -> object:
    try:
        return PELICAN_DATE(text, {})
    except Exception as exc:  # dateutil also overflows on long numbers
        return f"{type(exc).__name__}: {exc}"


def ours(text: str) -> object:
    dates.install()
    try:
        return readers.METADATA_PROCESSORS["date"](text, {})
    except Exception as exc:  # dateutil also overflows on long numbers
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-04",
        "2025-03-04 10:00",
        "2025-03-04T10:00",
        "2025-03-04 10:00:59",
        "2025-03-04_10:00",
        "  2025-03-04   10:00 ",
        "2024-02-29",
        "2025-02-29",  # not a date: Pelican's error
        "2025-13-01",
        "2025-03-04 24:00",
        "2025-03-04 10:00+02:00",  # not plain: Pelican reads it
        "2025-03-04 10:00:00.5",
        "4 mars 2025",
        "2025/03/04",
        "",
        "٢٠٢٥-٠٣-٠٤",  # Arabic-Indic digits: not plain ASCII
    ],
)
def test_the_same_as_pelican(text: str) -> None:
    assert ours(text) == pelican_reads(text)
    assert type(ours(text)) is type(pelican_reads(text))


def test_any_plain_date_as_pelican() -> None:
    rng = random.Random(6)
    forms = ["%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d_%H:%M"]
    start, span = dt.datetime(1000, 1, 1), 9000 * 365 * 86400
    for _ in range(2000):
        when = start + dt.timedelta(seconds=rng.randrange(span))
        text = when.strftime(rng.choice(forms))
        found = dates.plain_iso(text.replace("_", " "))
        assert isinstance(found, SafeDatetime), text
        assert found == get_date(text.replace("_", " ")) == ours(text), text


# Junk such as "T2025" reads as a time zone name to dateutil, which warns.
@pytest.mark.filterwarnings("ignore::dateutil.parser.UnknownTimezoneWarning")
def test_any_string_of_date_characters_as_pelican() -> None:
    rng = random.Random(7)
    pieces = ["2025", "-", "03", "04", " ", "T", "_", ":", "10", "00", "59", "31"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 9)))
        assert ours(text) == pelican_reads(text), repr(text)
