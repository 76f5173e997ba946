"""The studio's home page: who teaches what, when, for how much; in the studio's theme and never the platform's name."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, tenant_context

from tests.factories import (
    SessionPackageFactory,
    SessionTypeFactory,
    TrainerFactory,
    UserFactory,
    WindowFactory,
)

pytestmark = pytest.mark.django_db


def _studio_with_trainers(studio, count: int):
    """``count`` trainers, each with a morning window on Monday and a session type of their own."""
    with tenant_context(studio):
        trainers = []
        for index in range(count):
            trainer = TrainerFactory(
                user=UserFactory(role="trainer", email=f"coach{index}@alpha.test"),
                display_name=f"Coach Number{index}",
                bio=f"Bio of coach {index}",
                expertise=["Strength", f"Skill {index}"],
            )
            WindowFactory(trainer=trainer, day_of_week=0, start_time="09:00", end_time="12:00")
            session_type = SessionTypeFactory(name=f"Session of {index}", trainers=[trainer])
            SessionPackageFactory(name=f"Pack of {index}", session_types=[session_type])
            trainers.append(trainer)
    return trainers


def _home(host: str = "alpha.localhost") -> str:
    response = Client(HTTP_HOST=host).get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_home_page_shows_trainers_session_types_packages_hours_policy_and_contact(studio_a):
    with schema_context("public"):
        studio_a.address = "1 High Street\nLondon"
        studio_a.contact_email = "hello@alpha.test"
        studio_a.contact_phone = "+442071234567"
        studio_a.cancellation_policy = "Late? Call us."
        studio_a.save(update_fields=["address", "contact_email", "contact_phone", "cancellation_policy"])
    with tenant_context(studio_a):
        sam = TrainerFactory(
            user=UserFactory(role="trainer", email="sam@alpha.test"),
            display_name="Sam Taylor",
            bio="Strength coach.",
            expertise=["Kettlebells"],
        )
        jordan = TrainerFactory(
            user=UserFactory(role="trainer", email="jordan@alpha.test"),
            display_name="Jordan Lee",
            timezone="America/New_York",
        )
        retired = TrainerFactory(
            user=UserFactory(role="trainer", email="gone@alpha.test"), display_name="Gone Trainer", is_active=False
        )
        WindowFactory(trainer=sam, day_of_week=0, start_time="07:00", end_time="12:00")
        WindowFactory(trainer=sam, day_of_week=0, start_time="11:00", end_time="13:00")
        # 07:00-11:00 in New York is 12:00-16:00 in London (both in winter time or both in summer time).
        WindowFactory(trainer=jordan, day_of_week=2, start_time="07:00", end_time="11:00")
        WindowFactory(trainer=retired, day_of_week=4, start_time="07:00", end_time="11:00")
        personal = SessionTypeFactory(
            name="Personal training", price="55.00", duration_minutes=60, trainers=[sam, jordan, retired]
        )
        online = SessionTypeFactory(
            name="Online coaching",
            price="35.00",
            duration_minutes=45,
            trainers=[jordan],
            cancellation_window_hours=12,
            late_cancel_forfeits_credit=False,
        )
        SessionTypeFactory(name="Retired type", trainers=[sam], is_active=False)
        SessionPackageFactory(
            name="Five PT", sessions_count=5, price="250.00", validity_days=90, session_types=[personal]
        )
        SessionPackageFactory(name="Anything pass", sessions_count=10, price="400.00", validity_days=180)

    page = _home()

    for text in (
        "Sam Taylor",
        "Strength coach.",
        "Kettlebells",
        "Jordan Lee",
        ">ST<",  # initials avatar
        "Personal training",
        "60 minutes",
        "55.00 GBP",
        "With</dt><dd>Jordan Lee, Sam Taylor",
        "Online coaching",
        "Five PT",
        "250.00 GBP",
        "90 days from purchase",
        "Anything pass",
        "Any session",
        "1 High Street<br>London",
        "mailto:hello@alpha.test",
        "+44 20 7123 4567",
        "Late? Call us.",
        "Cancel at least 24 hours before the session starts",
        "Cancel any time before the session starts",
        'href="/book/"',
        "Times in Europe/London",
    ):
        assert text in page, text
    assert "Gone Trainer" not in page and "Retired type" not in page
    # Opening hours: Sam's two windows merged, Jordan's converted to London, the retired trainer's left out.
    assert "Monday</th><td>07:00\u201313:00</td>" in page
    assert "Wednesday</th><td>12:00\u201316:00</td>" in page
    assert "Friday</th><td>Closed</td>" in page
    assert "Welcome back" not in page
    with tenant_context(studio_a):
        assert online.trainers.count() == 1


def test_the_home_page_takes_a_fixed_number_of_queries_whatever_the_number_of_trainers(studio_a):
    _studio_with_trainers(studio_a, 1)
    browser = Client(HTTP_HOST="alpha.localhost")
    browser.get("/")  # the host's studio is cached after the first request

    with CaptureQueriesContext(connection) as one:
        assert browser.get("/").status_code == 200
    _studio_with_trainers_more(studio_a, start=1, count=5)
    with CaptureQueriesContext(connection) as six:
        page = browser.get("/").content.decode()

    assert "Coach Number5" in page and "Pack of 5" in page
    assert len(six) == len(one), [query["sql"] for query in six.captured_queries]


def _studio_with_trainers_more(studio, *, start: int, count: int) -> None:
    with tenant_context(studio):
        for index in range(start, start + count):
            trainer = TrainerFactory(
                user=UserFactory(role="trainer", email=f"coach{index}@alpha.test"),
                display_name=f"Coach Number{index}",
                expertise=["Strength"],
            )
            WindowFactory(trainer=trainer, day_of_week=index % 7, start_time="09:00", end_time="12:00")
            session_type = SessionTypeFactory(name=f"Session of {index}", trainers=[trainer])
            SessionPackageFactory(name=f"Pack of {index}", session_types=[session_type])


def test_the_home_page_never_names_the_platform(studio_a):
    _studio_with_trainers(studio_a, 2)

    page = _home()

    assert "trainerhub" not in page.lower()


def test_two_studios_in_two_themes_show_their_own_brand_colour(studio_a, studio_b):
    with schema_context("public"):
        studio_a.brand_color = "#0f766e"
        studio_a.save(update_fields=["brand_color"])
        studio_b.brand_color = "#be185d"
        studio_b.save(update_fields=["brand_color"])

    alpha = _home("alpha.localhost")
    bravo = _home("bravo.localhost")

    assert "--brand: #0f766e" in alpha and "#be185d" not in alpha and "theme-classic" in alpha
    assert "--brand: #be185d" in bravo and "#0f766e" not in bravo and "theme-midnight" in bravo
    assert "Alpha Strength" in alpha and "Bravo Yoga" in bravo


def test_an_empty_studio_says_so_instead_of_showing_empty_lists(studio_b):
    page = _home("bravo.localhost")

    assert "have not published their hours yet" in page
    assert "Our trainers</h2>" not in page and "Packages</h2>" not in page
    assert 'href="/book/"' in page
