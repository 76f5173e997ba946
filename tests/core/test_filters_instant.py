"""Times in query strings (InstantFilter): any offset Python reads is compared in UTC (PostgreSQL refuses offsets
past 15:59, which was a 500), and years outside the API's are a 400 on the field."""

import pytest
from django_tenants.utils import tenant_context

from tests.conftest import api_client, host_of, token_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/bookings/", "/api/clients/"])
def test_an_offset_postgresql_would_refuse_is_compared_in_utc(studio_a, owner_a, path):
    name = "start" if "bookings" in path else "created_after"
    client = api_client(host_of(studio_a), token_of(owner_a, studio_a))
    response = client.get(path, {name: "2026-04-18T03:47:04.849534-18:23"})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("path", ["/api/bookings/", "/api/clients/"])
def test_a_year_outside_the_apis_is_a_400_on_the_field(studio_a, owner_a, path):
    name = "end" if "bookings" in path else "created_before"
    client = api_client(host_of(studio_a), token_of(owner_a, studio_a))
    response = client.get(path, {name: "0544-04-18T03:47:04Z"})
    assert response.status_code == 400
    assert "between the years" in str(response.json()["fields"][name])


def test_the_booking_list_still_filters_by_the_instant(studio_a, owner_a, schedule_a):
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from tenant_apps.bookings.services import booking_create
    from tests.conftest import next_monday
    from tests.factories import ClientFactory

    trainer, session_type = schedule_a
    start = datetime.combine(next_monday(), datetime.min.time(), ZoneInfo("Europe/London")).replace(hour=9)
    with tenant_context(studio_a):
        booking_create(
            trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=start, created_by=None
        )
    client = api_client(host_of(studio_a), token_of(owner_a, studio_a))
    # A minute before the session, written with an offset PostgreSQL would refuse: the same instant all the same.
    far = (start - timedelta(minutes=1)).astimezone(timezone(-timedelta(hours=18, minutes=23))).isoformat()
    assert client.get("/api/bookings/", {"start": far}).json()["count"] == 1
    after = (start + timedelta(minutes=1)).isoformat()
    assert client.get("/api/bookings/", {"start": after}).json()["count"] == 0
