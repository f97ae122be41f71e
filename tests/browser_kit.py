"""What the browser tests share: Debian's Chromium and chromedriver, axe-core,
vnu, and a skip (or, under CI, a failure) when one is missing.

The ``driver`` and ``axe_source`` fixtures built from these live in
conftest.py, so every browser test module gets them without imports.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

INSTALL_BROWSER = "apt-get install chromium chromium-driver"
INSTALL_TOOLS = "make browser-tools (npm install --prefix .tools axe-core vnu-jar)"
INSTALL_JAVA = "apt-get install default-jre-headless"

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
  .then(result => done(JSON.stringify(result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')).slice(0, 8),
  })))))
  .catch(error => done(JSON.stringify({error: String(error)})));
"""


def require(available: bool, what: str, install: str) -> None:
    """Skip when a tool is missing, but fail under CI, which must have it."""
    if available:
        return
    message = f"{what} is missing; install it with: {install}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: a missing tool is a failure, not a skip)")
    pytest.skip(message)


def new_driver(profile: Path, lang: str | None = None) -> Any:
    """Headless Chromium through chromedriver (never Selenium Manager);
    ``lang``: the languages it asks for (Accept-Language), e.g. "fr-FR,fr"."""
    require(CHROMIUM.exists(), f"Chromium ({CHROMIUM})", INSTALL_BROWSER)
    require(CHROMEDRIVER.exists(), f"chromedriver ({CHROMEDRIVER})", INSTALL_BROWSER)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=1280,900",
    ):
        options.add_argument(arg)
    if lang:
        options.add_argument(f"--lang={lang.split(',')[0]}")
        options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    # The console, to see Content-Security-Policy violations (Chromium logs
    # each one as an error).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(
        options=options, service=Service(executable_path=str(CHROMEDRIVER))
    )
    browser.set_script_timeout(120)
    browser.set_page_load_timeout(30)
    return browser


def axe_source() -> str:
    require(AXE_JS.exists(), f"axe-core ({AXE_JS.relative_to(ROOT)})", INSTALL_TOOLS)
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(driver: Any, source: str) -> list[dict[str, Any]]:
    """axe-core's violations on the driver's current page (fails if axe does)."""
    driver.execute_script(source)
    result = json.loads(driver.execute_async_script(AXE_RUN, AXE_TAGS))
    assert not isinstance(result, dict), (
        f"axe failed on {driver.current_url}: {result['error']}"
    )
    return list(result)
