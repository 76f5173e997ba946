"""Guest bookings: a hold keeps the slot from everyone while the guest confirms by the mailed link; confirming
makes the booking (and the client) once; an expired hold frees the slot; studios may turn guests off; limits
per address and per email."""

import re
from datetime import time, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from config.celery import app
from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from shared_apps.core.tenancy import site_url
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.availability.selectors import available_slots
from tenant_apps.bookings import holds, tasks
from tenant_apps.bookings.models import Booking, BookingEvent, BookingHold, BookingStatus
from tenant_apps.bookings.services import NotASlot, SlotUnavailable, booking_create
from tenant_apps.bookings.tokens import booking_from_manage_token
from tenant_apps.clients.models import Client
from tenant_apps.trainers.models import SessionType, Trainer
from tenants.models import Studio
from tests.bookings.conftest import at
from tests.conftest import next_monday, run_committed, run_in_threads

pytestmark = pytest.mark.django_db
GUEST = {
    "first_name": "Gina",
    "last_name": "Guest",
    "email": "Gina.Guest@Example.com",
    "phone": "07911 123456",  # a GB number typed without its country code (studio A is in GB)
    "client_address": "203.0.113.7",
}
CONFIRM_LINK = re.compile(r"(\S+/book/confirm/([\w-]+)/)")


@pytest.fixture
def hold(studio_a, schedule_a):
    """hold(clock="10:00", **overrides) → a guest's hold on Tess's next Monday, made through the service."""
    trainer, session_type = schedule_a

    def build(clock="10:00", day=None, **fields):
        with tenant_context(studio_a):
            return holds.hold_create(
                trainer=fields.pop("trainer", trainer),
                session_type=fields.pop("session_type", session_type),
                start_time=at(day or next_monday(), clock),
                **{**GUEST, **fields},
            )

    return build


def mailed_token(django_capture_on_commit_callbacks, make) -> tuple[BookingHold, str, mail.EmailMessage]:
    """Make a hold with its mail sent; the hold, the token in the mail's link, and the mail."""
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        made = make()
    [message] = mail.outbox
    _link, token = CONFIRM_LINK.search(message.body).groups()
    return made, token, message


def free_starts(studio, schedule) -> list:
    trainer, session_type = schedule
    with tenant_context(studio):
        return available_slots(
            trainer=trainer, session_type=session_type, first_day=next_monday(), last_day=next_monday()
        )


def test_a_live_hold_keeps_the_slot_from_listings_bookings_and_other_guests(
    hold, studio_a, schedule_a, booking_client_a
):
    trainer, session_type = schedule_a
    ten = at(next_monday(), "10:00")
    assert ten in free_starts(studio_a, schedule_a)

    hold("10:00")

    assert ten not in free_starts(studio_a, schedule_a)
    assert at(next_monday(), "11:00") in free_starts(studio_a, schedule_a)
    with tenant_context(studio_a), pytest.raises(SlotUnavailable):
        booking_create(trainer=trainer, client=booking_client_a, session_type=session_type, start_time=ten)
    with pytest.raises(SlotUnavailable):
        hold("10:00", email="someone.else@example.com", client_address="198.51.100.1")
    with tenant_context(studio_a):
        assert not Booking.objects.exists()
        assert BookingHold.objects.count() == 1


def test_a_hold_blocks_with_its_buffers_like_a_booking(hold, studio_a, schedule_a):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(buffer_after_minutes=30, slot_interval_minutes=30)
        session_type.refresh_from_db()

    made = hold("09:00", session_type=session_type)

    assert (made.blocked_from, made.blocked_until) == (at(next_monday(), "09:00"), at(next_monday(), "10:30"))
    starts = free_starts(studio_a, (trainer, session_type))
    assert at(next_monday(), "10:00") not in starts  # inside the hold's buffer
    assert at(next_monday(), "10:30") in starts


def test_an_expired_hold_frees_the_slot(hold, studio_a, schedule_a, booking_client_a):
    trainer, session_type = schedule_a
    made = hold("10:00")
    with tenant_context(studio_a):
        BookingHold.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert at(next_monday(), "10:00") in free_starts(studio_a, schedule_a)
    with tenant_context(studio_a):
        booking = booking_create(
            trainer=trainer, client=booking_client_a, session_type=session_type, start_time=at(next_monday(), "10:00")
        )
    assert booking.status == BookingStatus.CONFIRMED


def test_a_hold_lasts_the_configured_minutes(hold, studio_a):
    before = timezone.now()

    made = hold("10:00")

    expected = before + timedelta(minutes=settings.BOOKING_HOLD_MINUTES)
    assert settings.BOOKING_HOLD_MINUTES == 15
    assert expected <= made.expires_at <= expected + timedelta(seconds=5)
    assert made.confirmed_at is None and made.booking is None


def test_the_mail_holds_the_confirm_link_on_the_studios_domain_and_no_token_is_stored(
    hold, studio_a, django_capture_on_commit_callbacks
):
    made, token, message = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00"))

    with tenant_context(studio_a):
        assert CONFIRM_LINK.search(message.body).group(1) == site_url(f"/book/confirm/{token}/")
        assert site_url("/").startswith(f"{settings.SITE_SCHEME}://{studio_a.get_primary_domain().domain}")
        stored = BookingHold.objects.get(pk=made.pk)
    assert message.to == ["gina.guest@example.com"]
    assert message.subject.startswith("Confirm your booking: PT 60 on Mon")
    assert "(Europe/London)" in message.body
    assert "Alpha Strength" in message.from_email
    assert "trainerhub" not in (message.subject + message.body + message.from_email).lower()
    assert token not in str(vars(stored))
    assert stored.token_hash == holds.hold_token_hash(token)
    assert str(stored.phone) == "+447911123456"


def test_confirming_creates_the_client_and_the_booking_and_mails_the_manage_link(
    hold, studio_a, schedule_a, django_capture_on_commit_callbacks
):
    trainer, session_type = schedule_a
    made, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00", note="Bad knee"))
    mail.outbox.clear()

    with tenant_context(studio_a), django_capture_on_commit_callbacks(execute=True):
        booking = holds.hold_confirm(token=token)

    with tenant_context(studio_a):
        client = Client.objects.get(email__iexact="gina.guest@example.com")
        assert (client.first_name, client.last_name, str(client.phone), client.user) == (
            "Gina",
            "Guest",
            "+447911123456",
            None,
        )
        booking.refresh_from_db()
        assert (booking.client, booking.trainer, booking.session_type) == (client, trainer, session_type)
        assert (booking.start_time, booking.status, booking.notes) == (made.start_time, "confirmed", "Bad knee")
        assert booking.created_by is None
        made.refresh_from_db()
        assert made.booking == booking and made.confirmed_at is not None
        # The slot is the booking's now: still not offered, and no longer the hold's.
        assert at(next_monday(), "10:00") not in free_starts(studio_a, schedule_a)
        # The client's mail (the trainer is told too).
        [message] = [message for message in mail.outbox if message.to == [client.email]]
        assert message.subject.startswith("Booked: PT 60")
        [manage_url] = re.findall(r"\S+/b/\S+/", message.body)
        assert manage_url.startswith(site_url("/b/"))
        assert booking_from_manage_token(manage_url.rsplit("/", 2)[1]) == booking


def test_confirming_books_the_existing_client_with_that_email_unchanged(
    hold, studio_a, booking_client_a, client_a, django_capture_on_commit_callbacks
):
    _, token, _ = mailed_token(
        django_capture_on_commit_callbacks, lambda: hold("10:00", email="CLIENT@alpha.test", first_name="Someone")
    )

    with tenant_context(studio_a):
        booking = holds.hold_confirm(token=token)
        booking_client_a.refresh_from_db()
        assert booking.client == booking_client_a
        assert (booking_client_a.first_name, booking_client_a.user_id) == ("Cleo", client_a.pk)
        assert Client.objects.count() == 1


def test_confirming_twice_books_once(hold, studio_a, django_capture_on_commit_callbacks):
    _, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00"))
    with tenant_context(studio_a):
        holds.hold_confirm(token=token)

        with pytest.raises(holds.HoldAlreadyConfirmed) as refused:
            holds.hold_confirm(token=token)

        assert refused.value.status_code == 409
        assert Booking.objects.count() == 1


def test_confirming_after_expiry_is_refused_and_the_slot_stays_free(
    hold, studio_a, schedule_a, django_capture_on_commit_callbacks
):
    made, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00"))
    with tenant_context(studio_a):
        with pytest.raises(holds.HoldExpired) as refused:
            holds.hold_confirm(token=token, now=made.expires_at)

        assert refused.value.code == "hold_expired"
        assert not Booking.objects.exists()
        assert not Client.objects.exists()


def test_an_unknown_or_changed_token_names_no_hold(hold, studio_a, django_capture_on_commit_callbacks):
    _, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00"))
    with tenant_context(studio_a):
        for wrong in ("", "nonsense", token[:-1] + ("A" if token[-1] != "A" else "B")):
            with pytest.raises(holds.HoldNotFound):
                holds.hold_confirm(token=wrong)
        assert not Booking.objects.exists()


def test_a_token_of_one_studio_means_nothing_on_another(hold, studio_b, django_capture_on_commit_callbacks):
    _, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00"))

    with tenant_context(studio_b), pytest.raises(holds.HoldNotFound):
        holds.hold_confirm(token=token)


def test_a_slot_booked_after_the_hold_expired_cant_be_confirmed(
    hold, studio_a, schedule_a, booking_client_a, django_capture_on_commit_callbacks
):
    trainer, session_type = schedule_a
    made, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00"))
    with tenant_context(studio_a):
        BookingHold.objects.filter(pk=made.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        booking_create(trainer=trainer, client=booking_client_a, session_type=session_type, start_time=made.start_time)

        with pytest.raises(holds.HoldExpired):
            holds.hold_confirm(token=token)
        assert Booking.objects.count() == 1


def test_the_notice_is_judged_when_the_slot_was_held(hold, studio_a, schedule_a, django_capture_on_commit_callbacks):
    """A guest who holds a slot right at the notice limit and takes ten minutes to confirm still gets it."""
    _, session_type = schedule_a
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(min_notice_minutes=60 * 24 * 3)
        session_type.refresh_from_db()
    made, token, _ = mailed_token(
        django_capture_on_commit_callbacks, lambda: hold("10:00", day=next_monday(2), session_type=session_type)
    )
    late = made.start_time - timedelta(minutes=session_type.min_notice_minutes - 10)

    with tenant_context(studio_a):
        with pytest.raises(holds.HoldExpired):  # but not past the hold's own expiry
            holds.hold_confirm(token=token, now=late)
        BookingHold.objects.filter(pk=made.pk).update(expires_at=late + timedelta(minutes=1))
        booking = holds.hold_confirm(token=token, now=late)
    assert booking.start_time == made.start_time


def test_guest_booking_turned_off_is_refused(hold, studio_a, monkeypatch):
    monkeypatch.setattr(studio_a, "guest_booking_enabled", False)

    with pytest.raises(holds.GuestBookingDisabled) as refused:
        hold("10:00")

    assert (refused.value.status_code, refused.value.code) == (403, "guest_booking_disabled")
    with tenant_context(studio_a):
        assert not BookingHold.objects.exists()


def test_the_owner_turns_guest_booking_off_through_the_studio_settings(as_user, owner_a, manager_a, client_a, studio_a):
    assert as_user(owner_a).get("/api/studio/").json()["guest_booking_enabled"] is True

    changed = as_user(owner_a).patch("/api/studio/", {"guest_booking_enabled": False}, format="json")
    refused = as_user(manager_a).patch("/api/studio/", {"guest_booking_enabled": True}, format="json")

    assert (changed.status_code, changed.json()["guest_booking_enabled"]) == (200, False)
    assert refused.status_code == 403
    with schema_context("public"):
        assert Studio.objects.get(pk=studio_a.pk).guest_booking_enabled is False


def test_the_guests_details_are_checked(hold, studio_a):
    with pytest.raises(ValidationFailed) as refused:
        hold("10:00", first_name="", email="not-an-email", phone="12")

    assert set(refused.value.fields) == {"first_name", "email", "phone"}
    with pytest.raises(ValidationFailed) as no_phone:
        hold("10:00", phone="")
    assert "phone" in no_phone.value.fields
    with pytest.raises(NotASlot):
        hold("13:00")
    with tenant_context(studio_a):
        assert not BookingHold.objects.exists()


def test_live_holds_per_address_are_limited(hold, studio_a, settings):
    settings.BOOKING_HOLDS_LIVE_PER_ADDRESS = 2
    hold("09:00", email="a@example.com")
    second = hold("10:00", email="b@example.com")

    with pytest.raises(holds.TooManyHolds) as refused:
        hold("11:00", email="c@example.com")

    assert refused.value.status_code == 429
    hold("11:00", email="c@example.com", client_address="198.51.100.9")  # another address is not held back
    with tenant_context(studio_a):
        BookingHold.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    hold("10:00", email="d@example.com")  # an expired hold no longer counts


def test_new_holds_an_hour_are_limited_per_address_and_per_email(hold, studio_a, settings):
    settings.BOOKING_HOLDS_PER_HOUR_PER_ADDRESS = 2
    settings.BOOKING_HOLDS_PER_HOUR_PER_EMAIL = 1
    hold("09:00", email="a@example.com")
    hold("10:00", email="b@example.com")

    with pytest.raises(holds.TooManyHolds):
        hold("11:00", email="c@example.com")  # the address's third this hour, though none expired yet
    with pytest.raises(holds.TooManyHolds):
        hold("11:00", email="A@example.com", client_address="198.51.100.9")  # a's second mail this hour
    hold("11:00", email="c@example.com", client_address="198.51.100.9")
    with tenant_context(studio_a):
        assert BookingHold.objects.count() == 3


def test_the_cleanup_deletes_holds_expired_over_a_day_ago_in_every_studio(hold, studio_a, studio_b):
    stale, recent, live = hold("09:00"), hold("10:00", email="r@example.com"), hold("11:00", email="l@example.com")
    now = timezone.now()
    with tenant_context(studio_a):
        BookingHold.objects.filter(pk=stale.pk).update(expires_at=now - timedelta(days=1, minutes=1))
        BookingHold.objects.filter(pk=recent.pk).update(expires_at=now - timedelta(hours=23))

    with schema_context("public"):
        queued = tasks.holds_cleanup_all_studios.delay().result

    assert queued >= 2
    with tenant_context(studio_a):
        assert set(BookingHold.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert connection.schema_name == "public"


def test_beat_runs_the_cleanup_every_hour():
    [entry] = [entry for entry in settings.CELERY_BEAT_SCHEDULE.values() if entry["task"].startswith("bookings.")]

    assert entry["task"] == tasks.holds_cleanup_all_studios.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] == 60 * 60


# -- the race --------------------------------------------------------------------------------------------

GUESTS = 6


def test_guests_racing_for_one_slot_get_one_hold(studio_a):
    """Every guest asks for the same slot at once, each on its own connection: one hold, the rest a clean 409."""

    def create():
        with tenant_context(studio_a):
            user = User.objects.create_user("hold-racer@alpha.test", role=Role.TRAINER)
            trainer = Trainer.objects.create(user=user, display_name="Hold Racer", timezone="Europe/London")
            for day in range(7):
                AvailabilitySlot.objects.create(trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12))
            session_type = SessionType.objects.create(name="Hold race", duration_minutes=60, price=10, currency="GBP")
            session_type.trainers.add(trainer)
            return trainer.pk, session_type.pk

    def remove():
        with tenant_context(studio_a):
            BookingHold.objects.filter(trainer__display_name="Hold Racer").delete()
            BookingEvent.objects.filter(booking__trainer__display_name="Hold Racer").delete()
            Booking.objects.filter(trainer__display_name="Hold Racer").delete()
            SessionType.objects.filter(name="Hold race").delete()
            Trainer.objects.filter(display_name="Hold Racer").delete()
            User.objects.filter(email="hold-racer@alpha.test").delete()

    created = run_committed(create)
    try:
        assert not isinstance(created, Exception), created
        trainer_id, session_type_id = created

        def take(index: int):
            with tenant_context(studio_a):
                return holds.hold_create(
                    trainer=Trainer.objects.get(pk=trainer_id),
                    session_type=SessionType.objects.get(pk=session_type_id),
                    start_time=at(next_monday(), "10:00"),
                    **{**GUEST, "email": f"guest{index}@example.com", "client_address": f"198.51.100.{index + 1}"},
                )

        results = run_in_threads(GUESTS, take)

        held = [result for result in results if isinstance(result, BookingHold)]
        refused = [result for result in results if isinstance(result, SlotUnavailable)]
        assert (len(held), len(refused)) == (1, GUESTS - 1), results
        assert {error.status_code for error in refused} == {409}

        def count():
            with tenant_context(studio_a):
                return BookingHold.objects.filter(trainer_id=trainer_id).count()

        assert run_committed(count) == 1
    finally:
        run_committed(remove)


def test_a_guest_booking_spends_no_credit_of_an_existing_client_s_package(
    hold, studio_a, booking_client_a, django_capture_on_commit_callbacks
):
    """The guest never chose how to pay: the booking is to be paid at the studio, the package untouched."""
    from decimal import Decimal

    from tenant_apps.packages.services import package_assign
    from tests.factories import SessionPackageFactory

    with tenant_context(studio_a):
        package = SessionPackageFactory(sessions_count=5, price="100.00", validity_days=60)
        bought = package_assign(
            package=package, client=booking_client_a, payment_method="cash", amount_paid=Decimal("100.00")
        )
    _, token, _ = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00", email="client@alpha.test"))

    with tenant_context(studio_a):
        booking = holds.hold_confirm(token=token)
        bought.refresh_from_db()
        assert (booking.client_package_id, booking.payment_state) == (None, "unpaid")
        assert bought.sessions_remaining == 5


def test_the_hold_mail_does_not_repeat_the_name_a_visitor_typed(hold, django_capture_on_commit_callbacks):
    """The address is not verified yet: a name like "Visit evil.example" must not ride in a studio's mail."""
    _, _, message = mailed_token(django_capture_on_commit_callbacks, lambda: hold("10:00", first_name="Visit evil"))

    assert "Visit evil" not in message.body
    assert message.body.startswith("Hello,")
