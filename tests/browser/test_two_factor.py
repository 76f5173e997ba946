"""A platform admin's first sign-in: sent to set up an authenticator app before any platform page, then in
with the second factor every time (the Django admin's own login is allauth's)."""

import re

import pytest
from django_tenants.utils import schema_context

from shared_apps.accounts.models import User
from tests.browser.conftest import check_page, server_password
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
EMAIL = "browser-admin@platform.test"
PASSWORD = "a long browser passphrase"


def _remove_admin() -> None:
    with schema_context("public"):
        User.objects.filter(email=EMAIL).delete()


def _create_admin() -> None:
    with schema_context("public"):
        admin = User.objects.create_user(EMAIL, is_staff=True, is_superuser=True)
        admin.password = server_password(PASSWORD)
        admin.save(update_fields=["password"])


@pytest.fixture(scope="module")
def platform(django_db_setup, django_db_blocker):
    """The server, and a platform admin with no second factor yet (committed, removed afterwards)."""
    with django_db_blocker.unblock():
        run_committed(_remove_admin)
        failure = run_committed(_create_admin)
        if isinstance(failure, Exception):
            raise failure
    try:
        with live_server() as (port, log):
            yield {"url": f"http://localhost:{port}", "log": log}
    finally:
        with django_db_blocker.unblock():
            run_committed(_remove_admin)


def _sign_in(page, platform) -> None:
    page.goto(f"{platform['url']}/admin/")
    assert "/accounts/login/" in page.url, tail(platform["log"])
    check_page(page, "platform-sign-in")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()


def test_a_platform_admin_sets_up_an_authenticator_before_the_admin_then_signs_in_with_it(page, platform):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    def code_now(secret: str) -> str:
        import time

        # A code read in the last seconds of its 30-second period may reach the server in the next one, which
        # refuses it (no tolerance): wait for a fresh period then.
        if time.time() % 30 > 25:
            time.sleep(30 - time.time() % 30 + 0.5)
        return format_hotp_value(hotp_value(secret, int(time.time()) // 30))

    _sign_in(page, platform)

    # Straight to the set-up, after confirming the password once more (allauth guards the change so).
    if "/reauthenticate/" in page.url:
        check_page(page, "platform-confirm-access")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    assert "/accounts/2fa/totp/activate/" in page.url, (page.url, page.inner_text("main"))
    check_page(page, "platform-2fa-activate")
    secret = page.get_by_label("Authenticator secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)

    page.get_by_label("Authenticator code").fill(code_now(secret))
    page.get_by_role("button", name="Activate").click()
    page.wait_for_load_state()
    assert "/accounts/2fa/totp/activate/" not in page.url, page.content()[:2000]
    check_page(page, "platform-2fa-done")

    page.goto(f"{platform['url']}/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()

    # Signed out and in again: the password alone is not enough.
    page.context.clear_cookies()
    _sign_in(page, platform)
    assert "/accounts/2fa/authenticate/" in page.url, page.url
    check_page(page, "platform-2fa-code")
    page.get_by_label("Code").fill(code_now(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    page.goto(f"{platform['url']}/admin/")
    assert page.get_by_role("heading", name="Site administration").is_visible()
