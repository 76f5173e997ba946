"""The week's free times are cached under the studio's calendar version (availability/versions.py): every
change that decides free times is seen by the next page load, and one studio's cache never answers another."""

import re
from datetime import datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import tenant_context

from shared_apps.accounts.services import staff_deactivate
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.availability.versions import calendar_version
from tenant_apps.bookings.services import booking_cancel, booking_create
from tests.conftest import next_monday
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, UserFactory, WindowFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
INSTANT = re.compile(r'data-instant="([^"]+)"')


def _nine(days_ahead: int = 0) -> datetime:
    return datetime.combine(next_monday() + timedelta(days=days_ahead), datetime.min.time(), LONDON).replace(hour=9)


def _week(studio, session_type, trainer="any") -> str:
    browser = Client(HTTP_HOST=f"{studio.slug}.localhost")
    response = browser.get(f"/book/?type={session_type.pk}&trainer={trainer}&week={next_monday()}")
    assert response.status_code == 200, response
    return response.content.decode()


def _offered(page: str, start: datetime) -> bool:
    return f'data-instant="{start.isoformat()}"' in page


@pytest.fixture
def week(studio_a, schedule_a):
    """The week is cached once before each test changes something."""
    trainer, session_type = schedule_a
    assert _offered(_week(studio_a, session_type), _nine())
    return trainer, session_type


def test_a_cached_week_takes_fewer_queries_and_shows_the_same_times(studio_a, schedule_a):
    _trainer, session_type = schedule_a
    _week(studio_a, session_type, trainer="none")  # the host's lookup, cached after the first request
    with CaptureQueriesContext(connection) as first:
        page = _week(studio_a, session_type)
    with CaptureQueriesContext(connection) as second:
        again = _week(studio_a, session_type)
    assert re.findall(INSTANT, page) == re.findall(INSTANT, again) != []
    assert not [query for query in second if "bookings_booking" in query["sql"]]
    assert [query for query in first if "bookings_booking" in query["sql"]]
    assert len(second) < len(first)


def test_a_booking_and_its_cancellation_change_the_week_at_once(studio_a, week):
    trainer, session_type = week
    with tenant_context(studio_a):
        client = ClientFactory()
        booking = booking_create(
            trainer=trainer, client=client, session_type=session_type, start_time=_nine(), created_by=None
        )
    assert not _offered(_week(studio_a, session_type), _nine())
    assert not _offered(_week(studio_a, session_type, trainer.pk), _nine())
    with tenant_context(studio_a):
        booking_cancel(booking=booking, actor=None)
    assert _offered(_week(studio_a, session_type), _nine())


def test_a_break_a_window_and_offering_change_the_week(studio_a, week):
    trainer, session_type = week
    with tenant_context(studio_a):
        TrainerBreak.objects.create(trainer=trainer, starts_at=_nine(), ends_at=_nine() + timedelta(hours=1))
    assert not _offered(_week(studio_a, session_type), _nine())

    with tenant_context(studio_a):
        TrainerBreak.objects.all().delete()
    assert _offered(_week(studio_a, session_type), _nine())

    with tenant_context(studio_a):
        window = AvailabilitySlot.objects.get(trainer=trainer, day_of_week=0)
        window.start_time = "10:00"
        window.save()
    assert not _offered(_week(studio_a, session_type), _nine())

    with tenant_context(studio_a):
        session_type.trainers.remove(trainer)
    assert "No free times this week" in _week(studio_a, session_type)


def test_a_deactivated_trainers_times_go_from_the_week(studio_a, owner_a, trainer_a, week):
    _trainer, session_type = week
    with tenant_context(studio_a):
        staff_deactivate(user=trainer_a, actor=owner_a)
    assert not _offered(_week(studio_a, session_type), _nine())


def test_times_inside_the_notice_are_dropped_from_a_cached_week(studio_a, schedule_a, settings):
    """The cached week was computed a moment ago; what is read is cut to the notice as of now."""
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        session_type.min_notice_minutes = 0
        session_type.save()
    start = _nine()
    from tenant_apps.site import book

    with tenant_context(studio_a):
        choice = book.Choice(session_type=session_type, trainer=trainer)
        monday = next_monday()
        early = book.free_starts(choice=choice, first_day=monday, last_day=monday, now=start - timedelta(days=1))
        assert start in early
        later = book.free_starts(choice=choice, first_day=monday, last_day=monday, now=start + timedelta(minutes=1))
    assert start not in later and later  # the same cached list, cut at the new now
    assert all(moment > start for moment in later)


def test_one_studios_cached_week_never_answers_for_another(studio_a, studio_b, week):
    """Studio B's session type may have the same id; its week is its own."""
    trainer, _session_type = week
    with tenant_context(studio_b):
        other = TrainerFactory(user=UserFactory(role="trainer", email="t@bravo.test"), timezone="Europe/London")
        WindowFactory(trainer=other, day_of_week=0, start_time="14:00", end_time="16:00")
        theirs = SessionTypeFactory(name="Yoga", trainers=[other])
        connection.set_schema_to_public()
    page = _week(studio_b, theirs)
    assert _offered(page, _nine().replace(hour=14)) and not _offered(page, _nine())
    # and a change in one studio leaves the other's version alone
    with tenant_context(studio_b):
        version_b = calendar_version()
    with tenant_context(studio_a):
        TrainerBreak.objects.create(trainer=trainer, starts_at=_nine(), ends_at=_nine() + timedelta(hours=1))
    with tenant_context(studio_b):
        assert calendar_version() == version_b


def test_with_the_cache_off_every_load_computes(studio_a, week, settings):
    settings.AVAILABILITY_CACHE_SECONDS = 0
    _trainer, session_type = week
    _week(studio_a, session_type)
    with CaptureQueriesContext(connection) as captured:
        _week(studio_a, session_type)
    assert any("bookings_booking" in query["sql"] for query in captured)


def test_the_booking_page_link_for_a_cached_slot_still_books(studio_a, client_a, week):
    """A cached time is a real link: following it books through the service (which checks the slot again)."""
    _trainer, session_type = week
    browser = Client(HTTP_HOST=f"{studio_a.slug}.localhost")
    with tenant_context(studio_a):
        browser.force_login(client_a)
    response = browser.post(
        f"/book/details/?type={session_type.pk}&trainer=any&start={quote(_nine().isoformat())}",
        {"payment": "studio", "notes": ""},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert not _offered(_week(studio_a, session_type), _nine())


UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def test_with_the_cache_unreachable_bookings_still_commit_and_weeks_are_computed(studio_a, schedule_a, settings):
    """A cache outage costs speed, never a booking: the write commits (no 500 after the commit, when the
    version is bumped again) and the week is computed without the cache."""
    trainer, session_type = schedule_a
    settings.CACHES = UNREACHABLE_REDIS
    with tenant_context(studio_a):
        from tenant_apps.site import book

        monday = next_monday()
        choice = book.Choice(session_type=session_type, trainer=trainer)
        assert _nine() in book.free_starts(
            choice=choice, first_day=monday, last_day=monday, now=_nine() - timedelta(days=3)
        )
        from django.test import TestCase

        with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
            booking_create(
                trainer=trainer, client=ClientFactory(), session_type=session_type, start_time=_nine(), created_by=None
            )
        assert callbacks  # the after-commit bump ran, and failed quietly
        assert _nine() not in book.free_starts(
            choice=choice, first_day=monday, last_day=monday, now=_nine() - timedelta(days=3)
        )


def test_a_trainer_in_another_zone_shows_on_the_studios_days(studio_a, trainer_a):
    """A Tokyo trainer's 07:00-09:00 is 22:00-00:00 London the evening before: the studio's Sunday shows it."""
    with tenant_context(studio_a):
        tokyo = TrainerFactory(user=trainer_a, display_name="Kei", timezone="Asia/Tokyo")
        WindowFactory(trainer=tokyo, day_of_week=0, start_time="07:00", end_time="09:00")  # Monday in Tokyo
        session_type = SessionTypeFactory(name="Dawn", trainers=[tokyo])
    sunday_evening = datetime.combine(next_monday(2) - timedelta(days=1), datetime.min.time(), LONDON).replace(hour=22)
    browser = Client(HTTP_HOST=f"{studio_a.slug}.localhost")
    monday = next_monday()
    page = browser.get(f"/book/?type={session_type.pk}&trainer={tokyo.pk}&week={monday}").content.decode()
    assert _offered(page, sunday_evening), re.findall(INSTANT, page)


def test_a_client_import_that_renames_clients_starts_a_new_calendar_version(studio_a):
    """The import writes in bulk (no model signals): it says so itself, and the desk's calendar shows the names."""
    from tenant_apps.clients.services import client_import_csv

    with tenant_context(studio_a):
        ClientFactory(email="rita@example.com", first_name="Rita")
        before = calendar_version()
        client_import_csv(content=b"email,first_name\nrita@example.com,Rosa\n")
        assert calendar_version() != before
