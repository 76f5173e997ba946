"""Bookings of Cleo with Tess (studio A, London) made through the booking service, and their outbox rows."""

import pytest
from django_tenants.utils import tenant_context

from tenant_apps.bookings import services
from tenant_apps.notifications.models import Notification
from tests.bookings.conftest import at
from tests.conftest import next_monday


@pytest.fixture
def make_booking(studio_a, schedule_a, booking_client_a):
    """make_booking(clock="10:00", day=the Monday after next, **service kwargs) → a booking of Cleo with Tess.
    Not next Monday: on a Sunday that is under 26 h away, too close for the 24 h reminder."""
    trainer, session_type = schedule_a

    def build(clock="10:00", day=None, **fields):
        with tenant_context(studio_a):
            return services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=at(day or next_monday(2), clock),
                **fields,
            )

    return build


def rows(studio, booking, **filters) -> list[tuple]:
    """(kind, status, send_after) of the booking's outbox rows, oldest first."""
    with tenant_context(studio):
        return list(
            Notification.objects.filter(booking=booking, **filters)
            .order_by("id")
            .values_list("kind", "status", "send_after")
        )
