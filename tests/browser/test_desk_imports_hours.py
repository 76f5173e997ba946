"""The desk's import and a trainer's hours in a real browser: a CSV with one bad row shows the row's error and
writes nothing until the fixed file is confirmed; a trainer adds a window and a visitor sees the new slots on
/book/; time off that meets a booking lists it first; every page accessible, at desktop and phone width."""

from datetime import timedelta

import pytest
from django.db import transaction
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, server_password, studio_of
from tests.conftest import next_monday, run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
MANAGER = "import-desk-manager@alpha.test"
COACH = "hours-desk-coach@alpha.test"
PASSWORD = "a long browser passphrase"
SESSION_TYPE = "Hours training"
IMPORTED = ("import-ada@alpha.test", "import-bob@alpha.test")
BAD = f"email,first name,phone\n{IMPORTED[0]},Ada,\nnot-an-email,Bob,\n"
GOOD = f"email,first name,phone\n{IMPORTED[0]},Ada,\n{IMPORTED[1]},Bob,\n"


def _tear_down() -> None:
    with tenant_context(studio_of("alpha")):
        TrainerBreak.objects.filter(trainer__user__email=COACH).delete()
        AvailabilitySlot.objects.filter(trainer__user__email=COACH).delete()
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        Client.objects.filter(email__in=IMPORTED).delete()
        User.objects.filter(email__in=[MANAGER, COACH]).delete()


def _set_up() -> None:
    """A manager and a trainer who can sign in to the server; the trainer works Monday mornings."""
    from tenant_apps.availability.services import availability_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    with tenant_context(studio_of("alpha")), transaction.atomic():
        manager = User.objects.create_user(MANAGER, first_name="Mia", last_name="Manager", role=Role.MANAGER)
        manager.password = server_password(PASSWORD)
        manager.save(update_fields=["password"])
        trainer = trainer_create(email=COACH, first_name="Hana", last_name="Hours")
        trainer.user.password = server_password(PASSWORD)
        trainer.user.save(update_fields=["password"])
        availability_create(trainer=trainer, day_of_week=0, start_time="09:00", end_time="10:00")
        session_type_create(name=SESSION_TYPE, duration_minutes=60, trainers=[trainer], max_advance_days=60)


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


def _sign_in(page, server, email: str, next_url: str) -> None:
    page.goto(f"{server['url']}/accounts/login/?next={next_url}")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    assert next_url in page.url, (page.url, tail(server["log"]))
    page.reload()  # the layout's sign-in message is not this page's


def _imported() -> list[str]:
    with tenant_context(studio_of("alpha")):
        return sorted(Client.objects.filter(email__in=IMPORTED).values_list("email", flat=True))


def _csv(text: str) -> dict:
    return {"name": "clients.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_an_import_with_a_bad_row_writes_nothing_until_fixed_and_confirmed(page, server):
    _sign_in(page, server, MANAGER, "/desk/clients/import/")
    check_page(page, "desk-import")

    page.get_by_label("CSV file").set_input_files(_csv(BAD))
    page.get_by_role("button", name="Check the file").click()
    errors = page.get_by_role("table").inner_text()
    assert "3\temail\tEnter a valid email address." in errors
    assert "nothing was imported" in page.get_by_role("alert").inner_text()
    page.console_problems[:] = [p for p in page.console_problems if "/desk/clients/import/" not in p]  # the 400
    check_page(page, "desk-import-errors")
    assert _imported() == []

    page.get_by_role("link", name="Upload a corrected file").click()
    page.get_by_label("CSV file").set_input_files(_csv(GOOD))
    page.get_by_role("button", name="Check the file").click()
    assert "To create\n2" in page.inner_text("main")
    check_page(page, "desk-import-report")
    assert _imported() == []

    page.get_by_role("button", name="Import 2 clients").click()
    assert page.get_by_text("Imported: 2 created, 0 updated, 0 unchanged.").is_visible()
    assert _imported() == list(IMPORTED)


def test_a_trainer_adds_a_window_and_a_visitor_sees_the_new_slots(page, server, browser):
    with tenant_context(studio_of("alpha")):
        session_type_id = SessionType.objects.get(name=SESSION_TYPE).pk
        trainer_id = Trainer.objects.get(user__email=COACH).pk
    monday = next_monday()
    week = f"{server['url']}/book/?type={session_type_id}&trainer={trainer_id}&week={monday.isoformat()}"
    visitor = browser.new_context().new_page()
    visitor.goto(week)
    assert "14:00" not in visitor.inner_text("main")

    _sign_in(page, server, COACH, "/desk/hours/")
    check_page(page, "desk-hours")
    page.get_by_label("Day", exact=True).select_option("Monday")
    page.locator("#id_weekly-start_time").fill("14:00")
    page.locator("#id_weekly-end_time").fill("16:00")
    page.get_by_role("button", name="Add", exact=True).click()
    assert page.get_by_text("The window was added.").is_visible()

    visitor.reload()
    assert "14:00" in visitor.inner_text("main") and "15:00" in visitor.inner_text("main")

    page.get_by_label("A span of time").check()
    page.locator("#id_off-starts_at").fill(f"{monday + timedelta(days=14)}T09:00")
    page.locator("#id_off-ends_at").fill(f"{monday + timedelta(days=14)}T12:00")
    page.get_by_role("button", name="Add time off").click()
    assert page.get_by_text("The time off was saved.").is_visible()
    check_page(page, "desk-hours-time-off")

    page.get_by_role("link", name="Edit the profile").click()
    check_page(page, "desk-trainer-profile")
