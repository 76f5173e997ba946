"""Who sees which bookings; lists filter and paginate in a fixed number of queries."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tests.conftest import make_user, next_monday
from tests.factories import ClientFactory, TrainerFactory, WindowFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(day, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON)


@pytest.fixture
def two_calendars(studio_a, schedule_a, booking_client_a):
    """Tess (trainer_a) with a booking for client_a; a colleague with a booking for someone else."""
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        colleague = TrainerFactory(display_name="Colin")
        for day in range(7):
            WindowFactory(trainer=colleague, day_of_week=day)
        session_type.trainers.add(colleague)
        mine = services.booking_create(
            trainer=trainer, client=booking_client_a, session_type=session_type, start_time=at(next_monday(), "09:00")
        )
        theirs = services.booking_create(
            trainer=colleague, client=ClientFactory(), session_type=session_type, start_time=at(next_monday(), "10:00")
        )
    return mine, theirs


def ids(response) -> set[int]:
    return {booking["id"] for booking in response.json()["results"]}


def test_each_role_sees_the_bookings_it_should(as_user, owner_a, trainer_a, client_a, two_calendars, studio_a):
    mine, theirs = two_calendars
    stranger = make_user(studio_a, email="stranger@alpha.test")

    assert ids(as_user(owner_a).get("/api/bookings/")) == {mine.pk, theirs.pk}
    assert ids(as_user(trainer_a).get("/api/bookings/")) == {mine.pk}
    assert ids(as_user(client_a).get("/api/bookings/")) == {mine.pk}
    assert ids(as_user(stranger).get("/api/bookings/")) == set()


@pytest.mark.parametrize("path", ["", "history/"])
def test_a_booking_the_caller_may_not_see_is_a_404(as_user, trainer_a, client_a, two_calendars, path):
    _, theirs = two_calendars

    assert as_user(trainer_a).get(f"/api/bookings/{theirs.pk}/{path}").status_code == 404
    assert as_user(client_a).get(f"/api/bookings/{theirs.pk}/{path}").status_code == 404


@pytest.mark.parametrize("action", ["confirm", "cancel", "complete", "no-show", "reschedule"])
def test_nobody_acts_on_a_booking_they_cannot_see(as_user, client_a, trainer_a, two_calendars, studio_a, action):
    _, theirs = two_calendars

    for user in (client_a, trainer_a):
        response = as_user(user).post(f"/api/bookings/{theirs.pk}/{action}/", {"start_time": "2030-01-01T10:00:00Z"})
        assert response.status_code == 404
    with tenant_context(studio_a):
        theirs.refresh_from_db()
    assert theirs.status == "confirmed"


def test_another_studio_sees_nothing_of_studio_a(as_user, two_calendars, studio_b):
    mine, _ = two_calendars
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")

    assert as_user(owner_b, studio_b).get("/api/bookings/").json()["results"] == []
    assert as_user(owner_b, studio_b).get(f"/api/bookings/{mine.pk}/").status_code == 404
    assert as_user(owner_b, studio_b).post(f"/api/bookings/{mine.pk}/cancel/").status_code == 404


def test_anonymous_is_refused(anon_a, two_calendars):
    mine, _ = two_calendars

    assert anon_a.get("/api/bookings/").status_code == 401
    assert anon_a.get(f"/api/bookings/{mine.pk}/").status_code == 401


def test_filters(as_user, owner_a, two_calendars, studio_a):
    mine, theirs = two_calendars
    api = as_user(owner_a)

    assert ids(api.get("/api/bookings/", {"trainer": mine.trainer_id})) == {mine.pk}
    assert ids(api.get("/api/bookings/", {"client": theirs.client_id})) == {theirs.pk}
    assert ids(api.get("/api/bookings/", {"status": "cancelled"})) == set()
    assert ids(api.get("/api/bookings/", {"start": at(next_monday(), "09:30").isoformat()})) == {theirs.pk}
    assert ids(api.get("/api/bookings/", {"end": at(next_monday(), "09:30").isoformat()})) == {mine.pk}
    bad = api.get("/api/bookings/", {"status": "maybe", "start": "soon"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"status", "start"}


def test_the_list_costs_the_same_queries_for_2_or_40_bookings(
    as_user, owner_a, schedule_a, studio_a, django_assert_max_num_queries
):
    trainer, session_type = schedule_a
    api = as_user(owner_a)
    with tenant_context(studio_a):
        for week in range(2):
            services.booking_create(
                trainer=trainer,
                client=ClientFactory(),
                session_type=session_type,
                start_time=at(next_monday() + timedelta(weeks=week), "09:00"),
            )
    api.get("/api/bookings/")  # warm the host cache
    with django_assert_max_num_queries(6) as few:
        assert len(api.get("/api/bookings/").json()["results"]) == 2

    with tenant_context(studio_a):
        for index in range(38):
            services.booking_create(
                trainer=trainer,
                client=ClientFactory(),
                session_type=session_type,
                start_time=at(next_monday() + timedelta(days=14 + index // 3), ("09:00", "10:00", "11:00")[index % 3]),
            )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get("/api/bookings/").json()["results"]) == 40
