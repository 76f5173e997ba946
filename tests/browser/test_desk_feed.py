"""A trainer subscribes their calendar app to their private feed and chooses their notices, in a real browser,
each page axe-checked."""

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import User
from tenant_apps.notifications.models import StaffNotificationPreference
from tenant_apps.trainers.models import Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
COACH = "feed-desk-coach@alpha.test"
PASSWORD = "a long browser passphrase"


def _tear_down():
    with tenant_context(studio_of("alpha")):
        users = User.objects.filter(email=COACH)
        StaffNotificationPreference.objects.filter(user__in=users).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        users.delete()


def _set_up():
    from tenant_apps.trainers.services import trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        trainer = trainer_create(email=COACH, first_name="Fay", last_name="Feed")
        trainer.user.password = server_password(PASSWORD)
        trainer.user.save(update_fields=["password"])


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with live_server() as (port, log):
            yield {"url": f"http://alpha.localhost:{port}", "log": log}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def test_a_trainer_gets_a_calendar_feed_and_turns_a_notice_off(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{server['url']}/accounts/login/?next=/desk/hours/profile/")
    page.get_by_label("Email").fill(COACH)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    assert "/desk/hours/profile/" in page.url, tail(server["log"])
    page.reload()
    check_page(page, "desk-feed-none")
    page.get_by_role("button", name="Make a feed address").click()
    page.wait_for_load_state()
    value = page.get_by_label("Feed address").input_value()
    assert "/calendar/" in value and value.endswith(".ics")
    page.get_by_role("button", name="Copy").click()
    page.wait_for_timeout(300)
    assert page.locator("#calendar-feed-copied").text_content().strip() == "Copied."
    assert page.evaluate("navigator.clipboard.readText()") == value
    check_page(page, "desk-feed-made")
    path = value[value.index("/calendar/") :]
    text = page.evaluate("(path) => fetch(path, {credentials: 'omit'}).then((r) => r.text())", path)
    assert "BEGIN:VCALENDAR" in text and "X-WR-CALNAME:Alpha Strength — Fay Feed" in text, text
    page.goto(f"{server['url']}/desk/notifications/")
    check_page(page, "desk-my-notifications")
    page.get_by_label("A session of mine is booked").uncheck()
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_load_state()
    assert not page.get_by_label("A session of mine is booked").is_checked()
    check_page(page, "desk-my-notifications-saved")
