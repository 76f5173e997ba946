"""The platform in a real browser. A platform admin signs in with their second factor, onboards a studio from the
form, finds it in the list, and its site answers at <slug>.localhost while its owner's invitation is mailed; the
admin suspends it with a reason (its pages answer 403, the audit log says who and why) and reactivates it. A
studio's owner adds a custom domain on the desk, which answers 404 while it waits (the owner's "Check now" can't
find the CNAME record a real owner would create: the test domain has no DNS), until a platform admin approves it;
then it shows the studio's booking site (Chromium maps the test domain to loopback). Neither session means
anything on the other's host. The server writes its mail to files (the file backend) in a folder this test reads."""

import email
import email.policy
import http.client
import os
import re
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connections
from django_tenants.utils import schema_context, tenant_context
from playwright.sync_api import sync_playwright

from shared_apps.accounts.models import Role, User
from tenants.models import Domain, Studio, StudioEvent
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, check_page, server_password, studio_of
from tests.conftest import run_committed, totp_code, totp_enable
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
ADMIN = "browser-platform@platform.test"
# The domains flow's admin: an authenticator of its own, so its code isn't one the first flow's admin just used.
DOMAINS_ADMIN = "browser-domains@platform.test"
DOMAINS_ADMIN_SECRET = "KRUGS4ZANFZSAYJAONSWG4TFOQQQQQQQ"
OWNER = "domains-owner@alpha.test"
PASSWORD = "a long browser passphrase"
NEW_SLUG = "iron-browser"
NEW_NAME = "Iron Browser Gym"
NEW_OWNER = "owner@iron-browser.test"
CUSTOM = "book.ironstudio.test"
REASON = "Unpaid invoice for November"


def _tear_down() -> None:
    with schema_context("public"):
        for studio in Studio.objects.filter(slug=NEW_SLUG):
            studio.delete(force_drop=True)
        Domain.objects.filter(domain=CUSTOM).delete()
        StudioEvent.objects.filter(subject=CUSTOM).delete()
        User.objects.filter(email__in=[ADMIN, DOMAINS_ADMIN]).delete()
    with tenant_context(studio_of("alpha")):
        User.objects.filter(email=OWNER).delete()


def _set_up() -> None:
    """Two platform admins with an authenticator app already set up (test_two_factor.py walks through setting one
    up), and a second owner of alpha who can sign in to the server."""
    with schema_context("public"):
        for address, first_name, secret in ((ADMIN, "Pat", None), (DOMAINS_ADMIN, "Dana", DOMAINS_ADMIN_SECRET)):
            admin = User.objects.create_user(
                address, first_name=first_name, last_name="Platform", is_staff=True, is_superuser=True
            )
            admin.password = server_password(PASSWORD)
            admin.save(update_fields=["password"])
            totp_enable(admin, **({"secret": secret} if secret else {}))
    with tenant_context(studio_of("alpha")):
        owner = User.objects.create_user(OWNER, first_name="Olga", last_name="Owner", role=Role.OWNER)
        owner.password = server_password(PASSWORD)
        owner.save(update_fields=["password"])


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    """The server, its mail written to files in a folder of its own."""
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with (
            tempfile.TemporaryDirectory() as mail_folder,
            live_server(
                MAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
                EMAIL_FILE_PATH=mail_folder,
                # Any host reaches the middleware (as in production), which answers unknown ones with its 404.
                ALLOWED_HOSTS="*",
            ) as (port, log),
        ):
            yield {"port": port, "platform": f"http://localhost:{port}", "log": log, "mail": Path(mail_folder)}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


@pytest.fixture(scope="module")
def browser(server):
    """conftest's browser, with the custom domain mapped to loopback as its DNS record would point it at the
    platform (*.localhost is loopback in Chromium already). Its plain-HTTP origin counts as secure, as the HTTPS
    a verified domain is served with in production would be: on an untrustworthy origin Chromium ignores (and logs)
    the Cross-Origin-Opener-Policy header, which localhost escapes on its own."""
    origin = f"http://{CUSTOM}:{server['port']}"
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    *CHROMIUM_ARGS,
                    f"--host-resolver-rules=MAP {CUSTOM} 127.0.0.1",
                    f"--unsafely-treat-insecure-origin-as-secure={origin}",
                ],
            )
            yield chromium
            chromium.close()
            connections.close_all()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _newest_mail(folder: Path) -> email.message.EmailMessage:
    """The last message of the newest file the file backend wrote (messages are separated by a line of dashes)."""
    files = sorted(folder.glob("*.log"), key=lambda path: path.stat().st_mtime)
    assert files, f"no mail was written to {folder}"
    raw = files[-1].read_bytes().split(b"\n" + b"-" * 79 + b"\n")
    last = [part for part in raw if part.strip()][-1]
    return email.message_from_bytes(last, policy=email.policy.default)


def _expected_refusals(page, status: int) -> None:
    """The refusals the flow meant to meet (the response and Chromium's console line for it, which conftest's page
    logs as problems) are dropped; any other problem stays."""
    met = [
        problem
        for problem in page.console_problems
        if problem.startswith(f"{status} ") or f"responded with a status of {status} " in problem
    ]
    assert met, (status, page.console_problems)
    page.console_problems[:] = [problem for problem in page.console_problems if problem not in met]


def _sign_in(page, url: str, email_address: str, next_path: str) -> None:
    page.goto(f"{url}/accounts/login/?next={next_path}")
    page.get_by_label("Email").fill(email_address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()


def test_a_platform_admin_onboards_a_studio_then_suspends_and_reactivates_it(page, server):
    platform, port = server["platform"], server["port"]
    site = f"http://{NEW_SLUG}.localhost:{port}"
    _sign_in(page, platform, ADMIN, "/platform/")
    assert "/accounts/2fa/authenticate/" in page.url, (page.url, tail(server["log"]))
    page.get_by_label("Code").fill(totp_code())
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/platform/")
    assert page.get_by_role("heading", name="Studios", level=1).is_visible()
    check_page(page, "platform-1-studios")

    # Onboarding: a mistake first (the slug is taken), then the studio.
    page.get_by_role("link", name="Onboard a studio").click()
    check_page(page, "platform-2-onboard")
    page.get_by_label("Studio name").fill(NEW_NAME)
    page.get_by_label("Slug").fill("alpha")
    page.get_by_label("Owner's email address").fill(NEW_OWNER)
    page.get_by_label("Owner's first name").fill("Ivan")
    page.get_by_role("button", name="Onboard the studio").click()
    assert page.title().startswith("Error:")
    summary = page.get_by_role("alert")
    assert summary.get_by_role("heading", name="There is a problem").is_visible()
    assert "already exists" in summary.inner_text(), summary.inner_text()
    _expected_refusals(page, 400)
    check_page(page, "platform-2-onboard-error")
    page.get_by_label("Slug").fill(NEW_SLUG)
    page.get_by_role("button", name="Onboard the studio").click()
    page.get_by_role("heading", name=NEW_NAME, level=1).wait_for()
    main = page.inner_text("main")
    assert f"Its owner was mailed an invitation to {NEW_OWNER}" in main, main
    assert f"{NEW_SLUG}.localhost (primary)" in main and "invited, has not chosen a password yet" in main
    assert re.search(rf"Onboarded\s+{re.escape(ADMIN)}", main), main
    check_page(page, "platform-3-studio")

    # The invitation: to the owner, with a link to choose a password on the studio's own address.
    message = _newest_mail(server["mail"])
    assert message["To"] == NEW_OWNER
    assert NEW_NAME in message["Subject"]
    link = re.search(r"https?://\S+", message.get_body(preferencelist=("plain",)).get_content()).group(0)
    assert urlsplit(link).hostname == f"{NEW_SLUG}.localhost", link

    # The list finds it by part of its name.
    page.get_by_role("navigation", name="Platform").get_by_role("link", name="Studios").click()
    page.get_by_label("Name, slug or domain").fill("iron brow")
    page.get_by_role("button", name="Search").click()
    assert page.get_by_role("heading", name="1 studio found").is_visible()
    row = page.get_by_role("row").filter(has_text=NEW_NAME)
    assert "Active" in row.inner_text()
    check_page(page, "platform-4-search")

    # Its site answers at its own address; the platform admin's session means nothing there.
    page.goto(f"{site}/book/")
    assert NEW_NAME in page.title() + page.inner_text("body"), tail(server["log"])
    check_page(page, "platform-5-new-site")
    page.goto(f"{site}/desk/")
    assert "/accounts/login/" in page.url, page.url

    # Suspended with a reason: every page of the studio answers 403; the log says who and why.
    page.goto(f"{platform}/platform/?q={NEW_SLUG}")
    page.get_by_role("link", name=NEW_NAME).click()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name=f"Suspend {NEW_NAME}").click()
    page.get_by_text("is suspended: its pages and API answer 403").wait_for()
    events = page.get_by_role("table").filter(has_text="Suspended")
    suspended = events.get_by_role("row").filter(has_text="Suspended")
    assert ADMIN in suspended.inner_text() and REASON in suspended.inner_text(), events.inner_text()
    check_page(page, "platform-6-suspended")
    for path in ("/book/", "/desk/", "/"):
        answer = page.goto(f"{site}{path}")
        assert answer.status == 403, (path, answer.status)
        assert page.get_by_role("heading", name="Unavailable").is_visible()
        assert NEW_NAME not in page.content()
    _expected_refusals(page, 403)
    check_page(page, "platform-7-suspended-site")

    # Reactivated: the pages come back.
    page.goto(f"{platform}/platform/?q={NEW_SLUG}")
    page.get_by_role("link", name=NEW_NAME).click()
    page.get_by_label("Reason").fill("Paid")
    page.get_by_role("button", name=f"Reactivate {NEW_NAME}").click()
    page.get_by_text(f"{NEW_NAME} is active again.").wait_for()
    assert page.get_by_role("button", name=f"Suspend {NEW_NAME}").is_visible()
    check_page(page, "platform-8-reactivated")
    answer = page.goto(f"{site}/book/")
    assert answer.status == 200 and NEW_NAME in page.title() + page.inner_text("body")


def test_an_owner_adds_a_custom_domain_which_serves_the_site_once_verified(page, server):
    platform, port = server["platform"], server["port"]
    desk = f"http://alpha.localhost:{port}"
    custom = f"http://{CUSTOM}:{port}"

    # Before it is added, and after, until verified: the domain is nobody's.
    answer = page.goto(f"{custom}/book/")
    assert answer.status == 404 and "Alpha Strength" not in page.content()

    _sign_in(page, desk, OWNER, "/desk/domains/")
    assert page.url.endswith("/desk/domains/"), (page.url, tail(server["log"]))
    page.console_problems.clear()  # the 404 above, expected
    check_page(page, "domains-1-list")
    page.get_by_label("Domain name").fill(CUSTOM.upper())
    page.get_by_role("button", name="Add the domain").click()
    page.get_by_text(f"{CUSTOM} is added and waiting for verification").wait_for()
    row = page.get_by_role("row").filter(has_text=CUSTOM)
    assert "Waiting for verification" in row.inner_text()
    assert f"a CNAME record named {CUSTOM} pointing to alpha.localhost" in " ".join(row.inner_text().split())
    check_page(page, "domains-2-pending")

    answer = page.goto(f"{custom}/book/")
    assert answer.status == 404 and "Alpha Strength" not in page.content()
    assert page.get_by_role("heading", level=1).is_visible()
    _expected_refusals(page, 404)
    check_page(page, "domains-3-pending-404")

    # "Check now" finds no DNS record naming the studio (the test domain has none): still waiting.
    page.goto(f"{desk}/desk/domains/")
    page.get_by_role("row").filter(has_text=CUSTOM).get_by_role("button", name="Check now").click()
    page.get_by_text(f"{CUSTOM} is not verified yet.").wait_for()
    assert "Waiting for verification" in page.get_by_role("row").filter(has_text=CUSTOM).inner_text()
    check_page(page, "domains-4-check-failed")

    # A platform admin approves it (as for a domain that can't have a CNAME record).
    _sign_in(page, platform, DOMAINS_ADMIN, "/platform/domains/")
    page.get_by_label("Code").fill(totp_code(DOMAINS_ADMIN_SECRET))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/platform/domains/")
    check_page(page, "domains-5-pending-on-platform")
    page.get_by_role("button", name=f"Approve {CUSTOM}").click()
    page.get_by_text(f"{CUSTOM} is verified: it now serves Alpha Strength.").wait_for()
    check_page(page, "domains-6-approved")
    page.goto(f"{platform}/accounts/logout/")
    page.get_by_role("button", name="Sign Out").click()
    page.wait_for_load_state()
    page.goto(f"{desk}/desk/domains/")
    assert "Verified" in page.get_by_role("row").filter(has_text=CUSTOM).inner_text(), tail(server["log"])

    answer = page.goto(f"{custom}/book/")
    assert answer.status == 200, tail(server["log"])
    assert "Alpha Strength" in page.title() + page.inner_text("body")
    check_page(page, "domains-7-custom-site")
    # Hosts are compared case-insensitively (Chromium lowers the name itself, so a plain request says it so).
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/book/", headers={"Host": f"{CUSTOM.upper()}:{port}"})
    response = connection.getresponse()
    assert response.status == 200 and "Alpha Strength" in response.read().decode()
    connection.close()

    # The owner's account is the studio's: on the platform host it is nobody, and /platform/ asks to sign in.
    page.goto(f"{platform}/platform/")
    assert "/accounts/login/" in page.url, page.url
    _sign_in(page, platform, OWNER, "/platform/")
    assert "/platform/" not in urlsplit(page.url).path or "/accounts/login/" in page.url, page.url
    assert not page.get_by_role("heading", name="Studios", level=1).is_visible()
