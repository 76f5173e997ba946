"""Browser tests: Playwright drives Debian's Chromium (`.ci/run` installs it when missing), headless, against
a real server (tests/live.py). Each page a flow reaches is checked with axe-core; screenshots go to var/browser/
for people to look at."""

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "browser"
# The machine has no network beyond the package registries: Chromium must not try to phone home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# What a person must never meet; "moderate" and "minor" findings are reported in the failure message too.
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does).")
    # Playwright's sync API keeps an event loop running in this thread, and Django refuses database calls
    # where a loop runs; the test's own calls are synchronous all the same. Only while the browser is open.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
            # Connections opened while the loop ran belong to its context; close them there, or the test
            # database can't be dropped at the end of the run.
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []

    def on_console(message) -> None:
        if message.type == "error":
            problems.append(f"{page.url}: {message.text}")

    def on_response(answer) -> None:
        if answer.status >= 400:
            problems.append(f"{answer.status} {answer.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("response", on_response)
    page.console_problems = problems
    yield page
    context.close()


def check_page(page, name: str) -> None:
    """axe-core finds nothing serious on the page, the page logged no error, and it is saved as a screenshot at
    desktop and phone width."""
    assert page.console_problems == [], f"{name} {page.url}: " + " | ".join(page.console_problems)
    results = Axe().run(page)
    blocking = [violation for violation in results.response["violations"] if violation["impact"] in BLOCKING_IMPACTS]
    assert blocking == [], (name, results.generate_report())
    # axe's own probes set inline styles, which the page's CSP refuses (and logs); they are not the page's.
    page.console_problems.clear()
    # ...and leave them behind as style attributes, which htmx copies when it settles swapped-in content, and
    # the CSP then refuses (logged as errors later in the flow). The CSP forbids inline styles on our pages, so
    # every style attribute present now is axe's: remove them all.
    page.evaluate("document.querySelectorAll('[style]').forEach((element) => element.removeAttribute('style'))")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width, height in ((1280, 900), (375, 800)):
        page.set_viewport_size({"width": width, "height": height})
        # caret="initial": hiding the caret sets each field's style and leaves style="" behind, which htmx
        # would copy as above.
        page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True, caret="initial")
    page.set_viewport_size(size)


def studio_of(slug: str):
    """One of the two test studios (conftest's alpha and bravo), read from the public schema."""
    from django_tenants.utils import schema_context

    from tenants.models import Studio

    with schema_context("public"):
        return Studio.objects.get(slug=slug)


def server_password(password: str) -> str:
    """``password`` hashed as the live server hashes: the tests' fast MD5 hasher is not among its hashers."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    hasher = PBKDF2PasswordHasher()
    return hasher.encode(password, hasher.salt())
