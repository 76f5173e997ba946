"""The caps on live holds (per guest email, per trainer, per studio) and the per-address limits counting an IPv6
client by its /48: each refuses at its limit and admits under it; expired and confirmed holds don't count."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.bookings import holds
from tenant_apps.bookings.models import BookingHold
from tests.bookings.conftest import at
from tests.conftest import next_monday

pytestmark = pytest.mark.django_db
GUEST = {
    "first_name": "Gina",
    "last_name": "Guest",
    "email": "gina@example.com",
    "phone": "07911 123456",
}


@pytest.fixture
def hold(studio_a, schedule_a):
    """hold(clock, address, **overrides) → a guest's hold with Tess next Monday (or another ``trainer``)."""
    trainer, session_type = schedule_a

    def build(clock: str, address: str, day=None, **fields):
        with tenant_context(studio_a):
            return holds.hold_create(
                trainer=fields.pop("trainer", trainer),
                session_type=session_type,
                start_time=at(day or next_monday(), clock),
                client_address=address,
                **{**GUEST, **fields},
            )

    return build


def expire(studio, made: BookingHold) -> None:
    with tenant_context(studio):
        BookingHold.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(seconds=1))


def confirm(studio, made: BookingHold) -> None:
    with tenant_context(studio):
        BookingHold.objects.filter(pk=made.pk).update(confirmed_at=timezone.now())


def test_the_caps_default_to_2_per_email_10_per_trainer_50_per_studio():
    assert (
        django_settings.BOOKING_HOLDS_LIVE_PER_EMAIL,
        django_settings.BOOKING_HOLDS_LIVE_PER_TRAINER,
        django_settings.BOOKING_HOLDS_LIVE_PER_STUDIO,
    ) == (2, 10, 50)


def test_two_live_holds_per_email_whatever_its_case_and_address(hold, studio_a):
    hold("09:00", "198.51.100.1", email="Gina@Example.com")
    second = hold("10:00", "198.51.100.2", email="GINA@example.com")

    with pytest.raises(holds.TooManyHolds) as refused:
        hold("11:00", "198.51.100.3", email="gina@EXAMPLE.COM")

    assert (refused.value.status_code, refused.value.code) == (429, "too_many_holds")
    hold("11:00", "198.51.100.3", email="other@example.com")  # another email is not held back
    expire(studio_a, second)
    hold("10:00", "198.51.100.4", email="gina@example.com")  # an expired hold no longer counts
    with tenant_context(studio_a):
        assert BookingHold.objects.filter(email__iexact="gina@example.com").count() == 3


def test_a_confirmed_hold_no_longer_counts_for_its_email(hold, studio_a):
    first = hold("09:00", "198.51.100.1")
    hold("10:00", "198.51.100.2")
    confirm(studio_a, first)

    made = hold("11:00", "198.51.100.3")

    assert made.pk is not None


def test_a_trainers_calendar_takes_so_many_live_holds(hold, studio_a, colleague_a, settings):
    settings.BOOKING_HOLDS_LIVE_PER_TRAINER = 2
    first = hold("09:00", "198.51.100.1", email="a@example.com")
    hold("10:00", "198.51.100.2", email="b@example.com")

    with pytest.raises(holds.TrainerHoldsFull) as refused:
        hold("11:00", "198.51.100.3", email="c@example.com")

    assert (refused.value.status_code, refused.value.code) == (429, "trainer_holds_full")
    assert refused.value.message == (
        "Too many bookings with this trainer are waiting for confirmation just now. Sign in to book, or try again "
        "in a few minutes."
    )
    assert isinstance(refused.value, holds.TooManyHolds)  # the booking page answers it as it answers any limit
    hold("11:00", "198.51.100.3", email="c@example.com", trainer=colleague_a)  # another trainer has room
    confirm(studio_a, first)
    hold("11:00", "198.51.100.4", email="d@example.com")  # a confirmed hold no longer counts
    with pytest.raises(holds.TrainerHoldsFull):
        hold("11:00", "198.51.100.5", email="e@example.com", day=next_monday() + timedelta(days=1))


def test_a_studio_takes_so_many_live_holds_in_all(hold, studio_a, colleague_a, settings):
    settings.BOOKING_HOLDS_LIVE_PER_STUDIO = 3
    hold("09:00", "198.51.100.1", email="a@example.com")
    second = hold("10:00", "198.51.100.2", email="b@example.com")
    hold("09:00", "198.51.100.3", email="c@example.com", trainer=colleague_a)

    with pytest.raises(holds.StudioHoldsFull) as refused:
        hold("10:00", "198.51.100.4", email="d@example.com", trainer=colleague_a)

    assert (refused.value.status_code, refused.value.code) == (429, "studio_holds_full")
    assert "Sign in" in refused.value.message and "a few minutes" in refused.value.message
    expire(studio_a, second)
    hold("10:00", "198.51.100.4", email="d@example.com", trainer=colleague_a)
    with tenant_context(studio_a):
        assert BookingHold.objects.count() == 4


def test_another_studios_holds_dont_count(hold, studio_a, studio_b, settings):
    """Studio B has a live hold (same guest email, same address): studio A, capped at one live hold per email,
    per address and in all, still admits its first one."""
    from tests.factories import SessionTypeFactory, TrainerFactory, UserFactory, WindowFactory

    settings.BOOKING_HOLDS_LIVE_PER_STUDIO = 1
    settings.BOOKING_HOLDS_LIVE_PER_EMAIL = 1
    settings.BOOKING_HOLDS_LIVE_PER_ADDRESS = 1
    with tenant_context(studio_b):
        theirs = TrainerFactory(user=UserFactory(role="trainer", email="t@bravo.test"), timezone="Europe/London")
        WindowFactory(trainer=theirs, day_of_week=0, start_time="09:00", end_time="12:00")
        holds.hold_create(
            trainer=theirs,
            session_type=SessionTypeFactory(name="Yoga", trainers=[theirs]),
            start_time=at(next_monday(), "09:00"),
            client_address="198.51.100.1",
            **GUEST,
        )
        assert BookingHold.objects.count() == 1

    made = hold("09:00", "198.51.100.1")
    with tenant_context(studio_a):
        assert list(BookingHold.objects.values_list("pk", flat=True)) == [made.pk]
    with pytest.raises(holds.StudioHoldsFull):  # and A's own cap still holds
        hold("10:00", "198.51.100.2", email="b@example.com")


def test_ipv6_clients_in_one_48_share_the_live_limit_and_another_48_does_not(hold, studio_a, settings):
    settings.BOOKING_HOLDS_LIVE_PER_ADDRESS = 1
    made = hold("09:00", "2001:db8:1:2::", email="a@example.com")  # as throttles.client_address gives it (/64)

    with pytest.raises(holds.TooManyHolds):
        hold("10:00", "2001:db8:1:ffff::", email="b@example.com")
    hold("10:00", "2001:db8:2::", email="b@example.com")

    assert made.client_address == "2001:db8:1::/48"
    with tenant_context(studio_a):
        assert sorted(BookingHold.objects.values_list("client_address", flat=True)) == [
            "2001:db8:1::/48",
            "2001:db8:2::/48",
        ]


def test_ipv6_clients_in_one_48_share_the_hourly_limit(hold, settings):
    settings.BOOKING_HOLDS_PER_HOUR_PER_ADDRESS = 1
    hold("09:00", "2001:db8:1:2::", email="a@example.com")

    with pytest.raises(holds.TooManyHolds):
        hold("10:00", "2001:db8:1:3::", email="b@example.com")
    hold("10:00", "2001:db8:ff::", email="b@example.com")


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("2001:db8:1::", "2001:db8:1::/48"),
        ("unknown", "unknown"),
        ("x" * 100, "x" * 64),
    ],
)
def test_address_bucket(address, bucket):
    assert holds.address_bucket(address) == bucket
