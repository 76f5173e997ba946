"""A mail's times are in the zone it names: the date filter converts an aware time to the active zone, which
outside a page is UTC (a guest's hold mail said 10:00 for an 11:00 session all summer in London)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tenant_apps.bookings.holds import hold_create

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_a_summer_hold_mail_shows_the_london_time(studio_a, schedule_a, django_capture_on_commit_callbacks):
    trainer, session_type = schedule_a
    start = datetime(2027, 7, 5, 11, 0, tzinfo=LONDON)  # a Monday in British Summer Time (UTC+1)
    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=True):
        session_type.max_advance_days = 1000
        session_type.save()
        hold_create(
            trainer=trainer,
            session_type=session_type,
            start_time=start,
            first_name="Gina",
            email="gina@example.com",
            phone="07911 123456",
            client_address="198.51.100.9",
            now=datetime(2027, 7, 1, 9, 0, tzinfo=LONDON),
        )
    body = mail.outbox[-1].body
    assert "11:00" in body and "10:00" not in body, body
