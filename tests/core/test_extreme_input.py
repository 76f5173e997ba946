"""Dates at the ends of the calendar and over-long values are refused with a 400, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from tenant_apps.clients.api import IMPORT_MAX_BYTES, FileTooLarge, SizeLimitHandler
from tests.factories import ClientFactory, SessionPackageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("start", "end"), [("9999-12-30", "9999-12-31"), ("0001-01-01", "0001-01-02")])
def test_available_slots_at_the_ends_of_the_calendar(anon_a, schedule_a, start, end):
    trainer, session_type = schedule_a

    response = anon_a.get(
        "/api/availability/available-slots/",
        {"trainer": trainer.pk, "session_type": session_type.pk, "start": start, "end": end},
    )

    assert response.status_code == 400
    assert "start" in response.json()["fields"]


@pytest.mark.parametrize(
    "body",
    [
        {"start_date": "9999-12-31", "end_date": "9999-12-31"},
        {"start_date": "0001-01-01", "end_date": "0001-01-01"},
        {"starts_at": "9999-12-31T20:00:00Z", "ends_at": "9999-12-31T23:00:00Z"},
    ],
)
def test_breaks_at_the_ends_of_the_calendar(as_user, manager_a, schedule_a, body):
    trainer, _ = schedule_a

    response = as_user(manager_a).post("/api/availability/breaks/", {"trainer": trainer.pk, **body})

    assert response.status_code == 400


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_a_sale_or_a_booking_at_the_ends_of_the_calendar(as_user, manager_a, schedule_a, studio_a, moment):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        package = SessionPackageFactory()
        client = ClientFactory()

    sale = as_user(manager_a).post(
        f"/api/packages/{package.pk}/assign/",
        {"client": client.pk, "payment_method": "cash", "amount_paid": "10.00", "purchased_at": moment},
    )
    booking = as_user(manager_a).post(
        "/api/bookings/",
        {"trainer": trainer.pk, "session_type": session_type.pk, "client": client.pk, "start_time": moment},
    )

    assert sale.status_code == 400
    assert booking.status_code == 400


def test_an_email_longer_than_the_column_is_a_row_error(as_user, manager_a):
    long_email = f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.test"
    content = f"email,first_name\n{long_email},Long\n".encode()

    response = as_user(manager_a).post(
        "/api/clients/import/", {"file": SimpleUploadedFile("c.csv", content, "text/csv")}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "email"


def test_an_upload_without_a_length_is_stopped_once_it_passes_the_limit():
    handler = SizeLimitHandler(limit=IMPORT_MAX_BYTES)
    chunk = b"x" * (1024 * 1024)

    for offset in range(IMPORT_MAX_BYTES // len(chunk)):
        handler.receive_data_chunk(chunk, offset * len(chunk))
    with pytest.raises(FileTooLarge):
        handler.receive_data_chunk(chunk, IMPORT_MAX_BYTES)
