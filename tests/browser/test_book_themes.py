"""/book/ and the week page in the midnight theme (studio bravo): the studio's brand colour paints the primary
button and the free times, no page names the platform, and both pages pass axe at desktop and phone width."""

import pytest
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from tenant_apps.trainers.models import SessionType, Trainer
from tests.browser.conftest import check_page, studio_of
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
# Dark enough for white button text (AA), light enough to show on midnight's dark surfaces.
BRAND, BRAND_RGB = "#c2410c", "rgb(194, 65, 12)"
DEFAULT_BRAND = "#2563eb"
COACH = "theme-coach@bravo.test"
SESSION_TYPE = "Theme check yoga"


def _set_up() -> None:
    from tenant_apps.availability.services import availability_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    studio = studio_of("bravo")
    with schema_context("public"):
        studio.brand_color = BRAND
        studio.save(update_fields=["brand_color"])
    with tenant_context(studio):
        trainer = trainer_create(email=COACH, first_name="Ada", last_name="Reyes")
        for day in range(7):
            availability_create(trainer=trainer, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type_create(
            name=SESSION_TYPE, duration_minutes=60, price="30.00", trainers=[trainer], max_advance_days=60
        )


def _tear_down() -> None:
    studio = studio_of("bravo")
    with schema_context("public"):
        studio.brand_color = DEFAULT_BRAND
        studio.save(update_fields=["brand_color"])
    with tenant_context(studio):
        SessionType.objects.filter(name=SESSION_TYPE).delete()
        Trainer.objects.filter(user__email=COACH).delete()
        User.objects.filter(email=COACH).delete()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with live_server() as (port, log):
            yield {"url": f"http://bravo.localhost:{port}", "log": log}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


def _assert_themed(page) -> None:
    assert page.locator("body").get_attribute("class") == "theme-midnight"
    # The primary button (sign up, for a visitor) is painted with the studio's colour, through the CSS variable.
    button = page.locator("a.button").first
    assert button.evaluate("element => getComputedStyle(element).backgroundColor") == BRAND_RGB
    assert "trainerhub" not in page.content().lower()


def test_book_and_the_week_in_the_midnight_theme_show_the_brand_colour(page, server):
    response = page.goto(f"{server['url']}/book/")
    assert response.status == 200, tail(server["log"])
    _assert_themed(page)
    check_page(page, "book-theme-midnight-1-session")

    page.get_by_role("link", name=SESSION_TYPE).click()
    page.get_by_role("link", name="Ada Reyes").click()
    assert page.get_by_role("heading", name="Choose a time", level=1).is_visible()
    _assert_themed(page)
    if page.locator("a.slot").count() == 0:  # late on a Sunday: this week has nothing left
        page.get_by_role("link", name="Next week").click()
        page.wait_for_url("**week=*")
    slot = page.locator("a.slot").first
    assert slot.evaluate("element => getComputedStyle(element).borderTopColor") == BRAND_RGB
    check_page(page, "book-theme-midnight-3-week")
