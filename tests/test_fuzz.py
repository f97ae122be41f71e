"""bench/fuzz.py keeps working, and what it found stays fixed (issue 13,
"no input crashes a parser")."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest
from conftest import ROOT

from causerie.mailposts.html_sanitizer import clean as mail_clean
from causerie.webmentions.fetch import FetchResult
from causerie.webmentions.receiver.form import check_form
from causerie.webmentions.sanitize import absolute_url, clean_text, safe_url
from causerie.webmentions.verify.source import Refusal, verify


def _load_fuzz() -> ModuleType:
    path = ROOT / "bench" / "fuzz.py"
    spec = importlib.util.spec_from_file_location("causerie_bench_fuzz", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and typing look it up
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()


def test_the_harness_runs_every_input_through_every_parser() -> None:
    outcome, crashes = fuzz.fuzz(2000, seed=1)
    assert outcome["inputs"] == 2000
    # Each input reached each parser: a result, a refusal or a crash each.
    assert outcome["form: accepted"] + outcome["form: refused"] == 2000
    verify_ends = (
        outcome["verify: mention"]
        + outcome["verify: refused"]
        + outcome["verify: CRASH"]
        + outcome["verify: clean refusal (error)"]
    )
    assert verify_ends == 2000
    assert outcome["verify: mention"] > 100  # the mf2 step was reached
    # The sanitizers and the form parser never crash (verify: see below).
    assert [c for c in crashes if c[0] != "verify"] == []
    assert outcome["sanitize: CRASH"] == outcome["form: CRASH"] == 0


def test_the_harness_reports_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    # A parser that raises is counted and shown with its input, not hidden.
    def broken(gen: object, text: str, outcome: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(fuzz, "STEPS", (("broken", broken),))
    outcome, crashes = fuzz.fuzz(10, seed=1)
    assert outcome["broken: CRASH"] == 10
    assert (
        crashes and crashes[0][0] == "broken" and "RuntimeError: boom" in crashes[0][2]
    )


def test_a_form_target_urlsplit_refuses_is_a_form_error() -> None:
    # Found by bench/fuzz.py: "http://[x" made urlsplit raise ValueError
    # inside check_form, a 500 for the reader.
    _, errors = check_form(
        {"target": "http://[xx", "name": "A", "comment": "B"}, lambda url: True
    )
    assert errors == ["target"]


@pytest.mark.parametrize(
    "text", ["\ud800", "a\udfffb", "https://x.example/\udc80", "<a href=x>\ud83d</a>"]
)
def test_lone_surrogates_are_dropped_not_raised(text: str) -> None:
    # Found by bench/fuzz.py: JSON ("\ud800" in a JF2 import) gives lone
    # surrogates; safe_url/absolute_url raised UnicodeEncodeError in quote(),
    # clean_text returned them (the store's encoder then raises), and the
    # mail sanitizer (nh3) raised.
    assert safe_url(text) is None
    assert absolute_url(text, "https://alice.example/") is None
    clean_text(text, 100).encode("utf-8")
    mail_clean(text).encode("utf-8")


# Found by bench/fuzz.py: FetchResult.text() decoded with any codec Python
# knows (utf-7 and unicode_escape give lone surrogates that lxml and bs4
# refuse; base64, rot13 raise LookupError, idna UnicodeError) and a <meta
# charset> with a NUL made codecs.lookup raise ValueError.
@pytest.mark.parametrize(
    ("charset", "meta"),
    [
        ("utf-7", ""),
        ("base64", ""),
        ("rot13", ""),
        ("unicode_escape", ""),
        ("idna", ""),
        (None, '<meta charset="x\x00x">'),
    ],
)
def test_verify_survives_any_declared_charset(charset: str | None, meta: str) -> None:
    target = "http://blog.test/posts/x/"
    body = f'{meta}<p><a href="{target}">x</a> +2D0- \\ud800 \xe9</p>'.encode()
    fetched = FetchResult(
        url="https://alice.example/1",
        status=200,
        headers={"Content-Type": f"text/html; charset={charset}"},
        body=body,
        content_type="text/html",
        charset=charset,
    )
    mention = verify("https://alice.example/1", target, fetched)
    assert not isinstance(mention, Refusal), mention
    assert fetched.text().encode("utf-8")  # no lone surrogate left
