"""The studio's home page in a real browser, in two themes: accessible, without console errors, in the studio's
own brand colour, and without the platform's name."""

import pytest
from django_tenants.utils import schema_context, tenant_context

from shared_apps.accounts.models import User
from tenant_apps.packages.models import SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tenants.models import Studio
from tests.browser.conftest import check_page
from tests.conftest import run_committed
from tests.live import live_server, tail

pytestmark = pytest.mark.django_db
# Both dark enough for white button text (AA) and light enough on midnight's dark surfaces.
BRANDS = {"alpha": ("#0f766e", "rgb(15, 118, 110)"), "bravo": ("#c2410c", "rgb(194, 65, 12)")}
TRAINER_EMAIL = "home-coach@{slug}.test"


def _studios() -> list[Studio]:
    with schema_context("public"):
        return list(Studio.objects.filter(slug__in=BRANDS).order_by("slug"))


def _set_up() -> None:
    from tenant_apps.availability.services import availability_create
    from tenant_apps.packages.services import package_create
    from tenant_apps.trainers.services import session_type_create, trainer_create

    for studio in _studios():
        with schema_context("public"):
            studio.brand_color = BRANDS[studio.slug][0]
            studio.address = "1 High Street\nLondon"
            studio.contact_email = f"hello@{studio.slug}.test"
            studio.save(update_fields=["brand_color", "address", "contact_email"])
        with tenant_context(studio):
            trainer = trainer_create(
                email=TRAINER_EMAIL.format(slug=studio.slug),
                first_name="Sam",
                last_name="Taylor",
                bio="Strength coach.",
                expertise=["Strength", "Mobility"],
            )
            availability_create(trainer=trainer, day_of_week=0, start_time="07:00", end_time="12:00")
            session_type = session_type_create(
                name="Personal training", duration_minutes=60, price="55.00", trainers=[trainer]
            )
            package_create(
                name="Five sessions", sessions_count=5, price="250.00", validity_days=90, session_types=[session_type]
            )


def _tear_down() -> None:
    for studio in _studios():
        with schema_context("public"):
            studio.brand_color = "#2563eb"
            studio.address = studio.contact_email = ""
            studio.save(update_fields=["brand_color", "address", "contact_email"])
        with tenant_context(studio):
            SessionPackage.objects.filter(name="Five sessions").delete()
            SessionType.objects.filter(name="Personal training").delete()
            email = TRAINER_EMAIL.format(slug=studio.slug)
            Trainer.objects.filter(user__email=email).delete()
            User.objects.filter(email=email).delete()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        run_committed(_tear_down)
        failure = run_committed(_set_up)
        if isinstance(failure, Exception):
            raise failure
    try:
        with live_server() as (port, log):
            yield {"port": port, "log": log}
    finally:
        with django_db_blocker.unblock():
            run_committed(_tear_down)


@pytest.mark.parametrize(
    ("slug", "theme", "name"), [("alpha", "classic", "Alpha Strength"), ("bravo", "midnight", "Bravo Yoga")]
)
def test_the_home_page_in_two_themes_shows_the_studios_brand_colour(page, server, slug, theme, name):
    response = page.goto(f"http://{slug}.localhost:{server['port']}/")

    assert response.status == 200, tail(server["log"])
    assert page.locator("body").get_attribute("class") == f"theme-{theme}"
    assert page.get_by_role("heading", level=1).inner_text().strip().lower() == name.lower()
    for heading in ("Our trainers", "Sessions", "Packages", "Opening hours", "Cancellation policy", "Find us"):
        assert page.get_by_role("heading", name=heading, level=2).is_visible(), heading
    main = page.inner_text("main")
    assert "Sam Taylor" in main and "55.00 USD" in main, main
    book = page.get_by_role("link", name="Book a session").first
    assert book.get_attribute("href") == "/book/"
    # The brand colour reaches the page through the CSS variable: the call to action is painted with it.
    brand_rgb = BRANDS[slug][1]
    assert book.evaluate("element => getComputedStyle(element).backgroundColor") == brand_rgb
    assert "trainerhub" not in page.content().lower()
    check_page(page, f"site-home-{theme}")
