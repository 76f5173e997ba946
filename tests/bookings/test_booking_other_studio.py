"""Another studio's owner cannot see or touch a studio A booking, and studio A's token means nothing on studio B."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking
from tests.conftest import api_client, make_user, next_monday, token_of
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")

# (method, path under /api/bookings/{id}/, body)
CALLS = [
    ("get", "", None),
    ("patch", "", {"notes": "Taken over by Bravo"}),
    ("delete", "", None),
    ("post", "confirm/", None),
    ("post", "cancel/", {"reason": "Bravo says no"}),
    ("post", "complete/", None),
    ("post", "no-show/", None),
    ("post", "reschedule/", {"start_time": datetime.combine(next_monday(2), time(10), tzinfo=LONDON).isoformat()}),
    ("get", "history/", None),
    ("post", "undo/", None),
    ("post", "attach-package/", {"client_package": 1}),
    ("post", "record-payment/", {"payment_method": "cash", "amount_paid": "40.00"}),
    ("post", "complimentary/", {"reason": "Bravo says so"}),
    ("post", "revoke-links/", None),
]
CALL_IDS = [f"{method}-{path.rstrip('/') or 'detail'}" for method, path, _ in CALLS]


@pytest.fixture
def booking_a(studio_a, studio_b, schedule_a):
    """A confirmed booking in studio A, with notes; studio B has no booking at all, so any id is unknown there."""
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        booking = services.booking_create(
            trainer=trainer,
            client=ClientFactory(),
            session_type=session_type,
            start_time=datetime.combine(next_monday(), time(9), tzinfo=LONDON),
            notes="Bring a towel",
        )
    with tenant_context(studio_b):
        assert not Booking.objects.exists()
    return booking


def snapshot(studio, booking) -> tuple:
    with tenant_context(studio):
        fresh = Booking.objects.get(pk=booking.pk)
        return (
            fresh.status,
            fresh.notes,
            fresh.start_time,
            fresh.end_time,
            fresh.payment_state,
            fresh.events.count(),
        )


def call(api, method: str, booking_id: int, path: str, body):
    url = f"/api/bookings/{booking_id}/{path}"
    return getattr(api, method)(url, body, format="json") if body is not None else getattr(api, method)(url)


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=CALL_IDS)
def test_studio_b_owner_gets_404_and_studio_a_booking_is_untouched(
    as_user, studio_a, studio_b, booking_a, method, path, body
):
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")
    before = snapshot(studio_a, booking_a)
    assert before[0] == "confirmed"
    assert before[1] == "Bring a towel"

    response = call(as_user(owner_b, studio_b), method, booking_a.pk, path, body)

    assert response.status_code == 404, response.content
    assert snapshot(studio_a, booking_a) == before


def test_studio_b_owner_gets_404_for_every_call_in_a_row(as_user, studio_a, studio_b, booking_a):
    owner_b = make_user(studio_b, role="owner", email="boss@bravo.test")
    api = as_user(owner_b, studio_b)
    before = snapshot(studio_a, booking_a)

    statuses = {
        f"{method} {path}": call(api, method, booking_a.pk, path, body).status_code for method, path, body in CALLS
    }

    assert set(statuses.values()) == {404}, statuses
    assert snapshot(studio_a, booking_a) == before
    with tenant_context(studio_b):
        assert not Booking.objects.exists()


@pytest.mark.parametrize(("method", "path", "body"), CALLS, ids=CALL_IDS)
def test_studio_a_owner_token_on_studio_b_host_is_401(owner_a, studio_a, booking_a, method, path, body):
    before = snapshot(studio_a, booking_a)
    api = api_client("bravo.localhost", token_of(owner_a, studio_a))

    response = call(api, method, booking_a.pk, path, body)

    assert response.status_code == 401, response.content
    assert snapshot(studio_a, booking_a) == before
