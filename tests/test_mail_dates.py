"""Issue 12, item 9: dates from a wrong clock.

A Date 6 hours ahead gave the reply "Votre billet est en ligne" while the
build held the post back as scheduled (its link a 404); a Date in year 3609
made a post dated 3609. Now a Date ahead of the receipt dates the post at
its receipt (beyond ``future_tolerance_minutes``, the log and the reply say
so); only a ``date:`` command schedules a post, and its reply says when it
goes online instead of "en ligne".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import test_mail_pipeline
from conftest import run_publish
from test_mail_pipeline import NOW, Inbox, Site, mail, wait_for

from causerie.errors import SettingsError
from causerie.mailposts.model import DRAFTED, PUBLISHED, Arrival
from causerie.mailposts.settings import MailSettings

#: The real SMTP listener that receives the replies (a fixture).
inbox = test_mail_pipeline.inbox
TOM = "tom.whitfield@maison-lumen.example"  # lang = "en"
PARIS = ZoneInfo("Europe/Paris")  # the test site's TIMEZONE


@pytest.fixture
def site(tmp_path: Path, inbox: tuple[Inbox, int]) -> Site:
    site = Site(tmp_path / "blog", inbox[1])
    # Tom (English) may publish too, for the English replies.
    authors = site.root / "content" / "authors.toml"
    text = authors.read_text(encoding="utf-8")
    text = text.replace('lang = "en"\n', 'lang = "en"\nmail = "publish"\n', 1)
    authors.write_text(text, encoding="utf-8")
    from causerie.mailposts.service import make_pipeline

    site.pipeline = make_pipeline(site.settings, environ={})
    site.pipeline.clock = lambda: NOW
    # The build runs one minute after the mail's receipt: a post dated
    # later than that is held back as scheduled.
    conf = site.settings_file.read_text(encoding="utf-8")
    as_of = (NOW + dt.timedelta(minutes=1)).isoformat()
    conf, n = re.subn(r'"now": "[^"]+"', f'"now": "{as_of}"', conf)
    assert n == 1
    site.settings_file.write_text(conf, encoding="utf-8")
    return site


def date_of(path: Path) -> str:
    found = re.search(r"^Date: (.+)$", path.read_text(encoding="utf-8"), re.M)
    assert found
    return found.group(1)


def receipt() -> str:
    return f"{NOW.astimezone(PARIS):%Y-%m-%d %H:%M}"


def built(site: Site) -> str:
    result = run_publish(
        "--settings", str(site.settings_file), "build", "--strict", cwd=site.root
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def page_of(site: Site, url: str) -> Path:
    return site.root / "output" / url.removeprefix("http://blog.test/") / "index.html"


def test_a_date_hours_ahead_is_taken_as_the_receipt_time(
    site: Site, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="causerie.mailposts")
    raw = mail(date=NOW + dt.timedelta(hours=6))
    verdict = site.pipeline(Arrival(raw, "pipe"))
    assert verdict.outcome == PUBLISHED, verdict.reason
    (post,) = site.posts()
    assert date_of(post) == receipt()
    assert post.name.startswith(f"{NOW.astimezone(PARIS):%Y-%m-%d}-")
    (answer,) = wait_for(inbox[0], 1)
    text = answer.get_content()
    assert "Votre billet est en ligne" in text
    assert "l’horloge de votre appareil est sans doute déréglée" in text
    assert "21/11/2026 à 17:00" in text  # the Date it carried, in Paris time
    assert "is ahead of its receipt" in caplog.text
    # The link of the reply works once the site is built.
    built(site)
    assert verdict.url and page_of(site, verdict.url).is_file()


def test_a_date_in_year_3609_is_taken_as_the_receipt_time(site: Site) -> None:
    raw = mail(date=NOW.replace(year=3609), body="Une photo de la vitrine.\n")
    verdict = site.pipeline(Arrival(raw, "pipe"))
    assert verdict.outcome == PUBLISHED, verdict.reason
    (post,) = site.posts()
    assert date_of(post) == receipt()
    assert "3609" not in post.read_text(encoding="utf-8")
    assert verdict.url and "/2026/" in verdict.url


def test_a_date_a_few_minutes_ahead_is_clock_skew_said_nowhere(
    site: Site, inbox: tuple[Inbox, int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="causerie.mailposts")
    verdict = site.pipeline(Arrival(mail(date=NOW + dt.timedelta(minutes=10)), "pipe"))
    assert verdict.outcome == PUBLISHED
    (post,) = site.posts()
    # Dated at its receipt all the same: a post dated ten minutes ahead of
    # the build that follows would be held back for ten minutes.
    assert date_of(post) == receipt()
    (answer,) = wait_for(inbox[0], 1)
    assert "horloge" not in answer.get_content()
    assert "ahead of its receipt" not in caplog.text


def test_the_tolerance_is_a_setting(site: Site, inbox: tuple[Inbox, int]) -> None:
    site.pipeline.cfg = dataclasses.replace(
        site.pipeline.cfg, future_tolerance_minutes=5
    )
    site.pipeline(Arrival(mail(date=NOW + dt.timedelta(minutes=10)), "pipe"))
    (answer,) = wait_for(inbox[0], 1)
    assert "horloge" in answer.get_content()
    with pytest.raises(SettingsError, match="future_tolerance_minutes"):
        MailSettings(future_tolerance_minutes=-1)


@pytest.mark.parametrize(
    ("sender", "online", "scheduled"),
    [
        (
            test_mail_pipeline.CLAIRE,
            "Votre billet est en ligne",
            "Votre billet est programmé : il sera en ligne le 24/12/2026 à 09:00 (CET)",
        ),
        (
            TOM,
            "Your post is online",
            "Your post is scheduled: it goes online on 2026-12-24 at 09:00 (CET)",
        ),
    ],
)
def test_a_date_command_in_the_future_schedules_the_post(
    site: Site, inbox: tuple[Inbox, int], sender: str, online: str, scheduled: str
) -> None:
    raw = mail(
        sender=sender,
        subject="Fermeture de Noël",
        body="date: 2026-12-24 09:00\n\nL’atelier ferme à midi.\n",
        # A Date ahead too: the command wins, and no word of a wrong clock.
        date=NOW + dt.timedelta(hours=6),
    )
    verdict = site.pipeline(Arrival(raw, "pipe"))
    assert verdict.outcome == PUBLISHED, verdict.reason
    (post,) = site.posts()
    assert date_of(post) == "2026-12-24 09:00"
    (answer,) = wait_for(inbox[0], 1)
    text = answer.get_content()
    assert scheduled in " ".join(text.split())
    assert verdict.url and verdict.url in text
    assert online not in text
    assert "horloge" not in text and "clock" not in text
    # The build holds it back: the address answers from its date on.
    built(site)
    assert not page_of(site, verdict.url).exists()


def test_a_date_command_in_the_past_is_honoured(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    raw = mail(body="date: 2026-11-02 08:30\n\nLe compte rendu du salon.\n")
    assert site.pipeline(Arrival(raw, "pipe")).outcome == PUBLISHED
    (post,) = site.posts()
    assert date_of(post) == "2026-11-02 08:30"
    (answer,) = wait_for(inbox[0], 1)
    assert "Votre billet est en ligne" in answer.get_content()


def test_a_drafts_reply_stays_a_draft_reply(
    site: Site, inbox: tuple[Inbox, int]
) -> None:
    raw = mail(
        sender=test_mail_pipeline.LEA,
        body="date: 2026-12-24 09:00\n\nL’atelier ferme à midi.\n",
    )
    assert site.pipeline(Arrival(raw, "pipe")).outcome == DRAFTED
    (answer,) = wait_for(inbox[0], 1)
    assert "brouillon" in answer.get_content()
    assert "programmé" not in answer.get_content()


def test_the_header_date_is_used_when_it_is_not_ahead(site: Site) -> None:
    sent = NOW - dt.timedelta(hours=2)
    raw = mail(date=sent)
    assert format_datetime(sent) in raw.decode()
    assert site.pipeline(Arrival(raw, "pipe")).outcome == PUBLISHED
    (post,) = site.posts()
    assert date_of(post) == f"{sent.astimezone(PARIS):%Y-%m-%d %H:%M}"
