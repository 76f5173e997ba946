"""Deactivating a trainer with future bookings (tenant_apps/bookings/handover.py, POST /api/staff/{id}/deactivate/):
a preview says how many; without a choice nothing happens (409); keep, move (each checked like a reschedule, all
or nothing) or cancel (studio cancellations: credits back, clients told)."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from shared_apps.accounts.models import Role, User
from shared_apps.accounts.services import staff_reactivate
from shared_apps.core.exceptions import ApplicationError
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings import handover
from tenant_apps.bookings import services as booking_services
from tenant_apps.bookings.models import Booking, BookingEvent, BookingStatus
from tenant_apps.clients.models import Client
from tenant_apps.packages import services as package_services
from tenant_apps.trainers.models import SessionType, Trainer
from tests.conftest import make_user, next_monday, run_committed, run_in_threads
from tests.factories import ClientFactory, SessionPackageFactory, TrainerFactory, UserFactory, WindowFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(day, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON)


def url(user) -> str:
    return f"/api/staff/{user.pk}/deactivate/"


@pytest.fixture
def colleague_a(studio_a, schedule_a):
    """A second trainer of studio A, free 09:00-12:00 every day, who offers the same session type."""
    _, session_type = schedule_a
    with tenant_context(studio_a):
        colleague = TrainerFactory(user=UserFactory(role=Role.TRAINER, email="colin@alpha.test"), display_name="Colin")
        for day in range(7):
            WindowFactory(trainer=colleague, day_of_week=day, start_time="09:00", end_time="12:00")
        session_type.trainers.add(colleague)
    return colleague


@pytest.fixture
def future_bookings(studio_a, schedule_a, booking_client_a):
    """Two future bookings of trainer A (Monday 09:00 and 10:00), each paid by a credit of a 5-session package,
    plus a cancelled one that does not count."""
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        pack = package_services.package_assign(
            package=SessionPackageFactory(sessions_count=5),
            client=booking_client_a,
            payment_method="cash",
            amount_paid=Decimal("100"),
        )
        bookings = [
            booking_services.booking_create(
                trainer=trainer,
                client=booking_client_a,
                session_type=session_type,
                start_time=at(next_monday(), clock),
                client_package=pack,
            )
            for clock in ("09:00", "10:00", "11:00")
        ]
        booking_services.booking_cancel(booking=bookings[2], actor=None)
        pack.refresh_from_db()
    mail.outbox.clear()
    return bookings[:2], pack


def statuses(studio, bookings) -> list[tuple[int, str]]:
    with tenant_context(studio):
        return list(
            Booking.objects.filter(pk__in=[b.pk for b in bookings]).order_by("pk").values_list("trainer", "status")
        )


def account_and_profile_active(studio, user) -> tuple[bool, bool]:
    with tenant_context(studio):
        return User.objects.get(pk=user.pk).is_active, Trainer.objects.get(user=user).is_active


# -- preview and the choice -------------------------------------------------------------------------------------


def test_the_preview_counts_the_active_future_bookings(as_user, owner_a, trainer_a, future_bookings):
    bookings, _ = future_bookings

    response = as_user(owner_a).get(url(trainer_a))

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert [row["booking"] for row in response.json()["bookings"]] == [booking.pk for booking in bookings]


def test_without_a_choice_nothing_happens_and_the_answer_lists_the_bookings(
    as_user, owner_a, trainer_a, studio_a, future_bookings
):
    bookings, _ = future_bookings

    response = as_user(owner_a).post(url(trainer_a), {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "future_bookings"
    assert response.json()["count"] == 2
    assert [row["booking"] for row in response.json()["bookings"]] == [booking.pk for booking in bookings]
    assert account_and_profile_active(studio_a, trainer_a) == (True, True)


def test_someone_without_bookings_is_deactivated_without_a_choice(as_user, owner_a, trainer_a, studio_a, schedule_a):
    response = as_user(owner_a).post(url(trainer_a), {}, format="json")

    assert response.status_code == 200
    assert response.json()["bookings"] == []
    assert account_and_profile_active(studio_a, trainer_a) == (False, False)


def test_keep_leaves_the_bookings_with_the_trainer_who_takes_no_new_ones(
    as_user, owner_a, trainer_a, studio_a, schedule_a, future_bookings, booking_client_a
):
    bookings, _ = future_bookings
    trainer, session_type = schedule_a

    response = as_user(owner_a).post(url(trainer_a), {"future_bookings": "keep"}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["future_bookings"] == "keep"
    assert response.json()["bookings"] == [booking.pk for booking in bookings]
    assert statuses(studio_a, bookings) == [(trainer.pk, BookingStatus.CONFIRMED)] * 2
    assert account_and_profile_active(studio_a, trainer_a) == (False, False)
    with tenant_context(studio_a), pytest.raises(ApplicationError):
        booking_services.booking_create(
            trainer=trainer, client=booking_client_a, session_type=session_type, start_time=at(next_monday(), "11:00")
        )


def test_move_hands_every_booking_to_the_colleague_and_tells_the_clients(
    as_user,
    manager_a,
    trainer_a,
    studio_a,
    colleague_a,
    future_bookings,
    booking_client_a,
    django_capture_on_commit_callbacks,
):
    bookings, pack = future_bookings

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(manager_a).post(
            url(trainer_a), {"future_bookings": "move", "to_trainer": colleague_a.pk}, format="json"
        )

    assert response.status_code == 200, response.json()
    assert statuses(studio_a, bookings) == [(colleague_a.pk, BookingStatus.CONFIRMED)] * 2
    with tenant_context(studio_a):
        assert [b.start_time for b in Booking.objects.filter(pk__in=[b.pk for b in bookings]).order_by("pk")] == [
            b.start_time for b in bookings
        ]
        assert BookingEvent.objects.filter(booking__in=bookings, kind=BookingEvent.Kind.RESCHEDULED).count() == 2
        pack.refresh_from_db()
    assert pack.sessions_remaining == 3  # the credits stay spent: the sessions still happen
    assert sorted(message.to[0] for message in mail.outbox) == [booking_client_a.email] * 2
    assert account_and_profile_active(studio_a, trainer_a) == (False, False)


def test_when_one_booking_cannot_move_nothing_changes_and_the_answer_names_it(
    as_user, owner_a, trainer_a, studio_a, schedule_a, colleague_a, future_bookings, django_capture_on_commit_callbacks
):
    bookings, pack = future_bookings
    _, session_type = schedule_a
    with tenant_context(studio_a):
        # The colleague is busy at 10:00 with another client.
        booking_services.booking_create(
            trainer=colleague_a,
            client=ClientFactory(),
            session_type=session_type,
            start_time=at(next_monday(), "10:00"),
        )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner_a).post(
            url(trainer_a), {"future_bookings": "move", "to_trainer": colleague_a.pk}, format="json"
        )

    assert response.status_code == 409
    assert response.json()["code"] == "bookings_not_moved"
    assert [(row["booking"], row["code"]) for row in response.json()["bookings"]] == [
        (bookings[1].pk, "slot_unavailable")
    ]
    trainer, _ = schedule_a
    assert statuses(studio_a, bookings) == [(trainer.pk, BookingStatus.CONFIRMED)] * 2
    assert account_and_profile_active(studio_a, trainer_a) == (True, True)
    with tenant_context(studio_a):
        pack.refresh_from_db()
    assert pack.sessions_remaining == 3
    assert mail.outbox == []


def test_cancel_is_a_studio_cancellation_that_returns_the_credit_even_inside_the_window(
    as_user,
    owner_a,
    trainer_a,
    studio_a,
    schedule_a,
    future_bookings,
    booking_client_a,
    django_capture_on_commit_callbacks,
):
    bookings, pack = future_bookings
    _, session_type = schedule_a
    with tenant_context(studio_a):
        # Inside the window: a client cancelling now would be late.
        SessionType.objects.filter(pk=session_type.pk).update(cancellation_window_hours=24 * 60)

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner_a).post(
            url(trainer_a), {"future_bookings": "cancel", "reason": "Coach has left."}, format="json"
        )

    assert response.status_code == 200, response.json()
    trainer, _ = schedule_a
    assert statuses(studio_a, bookings) == [(trainer.pk, BookingStatus.CANCELLED)] * 2
    with tenant_context(studio_a):
        cancelled = list(Booking.objects.filter(pk__in=[b.pk for b in bookings]))
        pack.refresh_from_db()
    assert {(b.cancelled_by, b.credit_returned, b.cancellation_reason) for b in cancelled} == {
        ("studio", True, "Coach has left.")
    }
    assert pack.sessions_remaining == 5
    assert sorted(message.to[0] for message in mail.outbox) == [booking_client_a.email] * 2


@pytest.mark.parametrize(
    "body",
    [
        {"future_bookings": "move"},
        {"future_bookings": "keep", "to_trainer": "COLLEAGUE"},
        {"future_bookings": "move", "to_trainer": "SELF"},
        {"future_bookings": "later"},
        {"future_bookings": "move", "to_trainer": 1.5},
    ],
)
def test_an_incomplete_or_wrong_choice_is_refused(
    as_user, owner_a, trainer_a, studio_a, schedule_a, colleague_a, future_bookings, body
):
    trainer, _ = schedule_a
    names = {"COLLEAGUE": colleague_a.pk, "SELF": trainer.pk}
    body = {key: names.get(value, value) if isinstance(value, str) else value for key, value in body.items()}

    response = as_user(owner_a).post(url(trainer_a), body, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) <= {"future_bookings", "to_trainer"}
    assert account_and_profile_active(studio_a, trainer_a) == (True, True)


def test_bookings_cannot_move_to_an_inactive_trainer(
    as_user, owner_a, trainer_a, studio_a, colleague_a, future_bookings
):
    with tenant_context(studio_a):
        Trainer.objects.filter(pk=colleague_a.pk).update(is_active=False)

    response = as_user(owner_a).post(
        url(trainer_a), {"future_bookings": "move", "to_trainer": colleague_a.pk}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"to_trainer"}
    assert account_and_profile_active(studio_a, trainer_a) == (True, True)


# -- who may see and choose ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), [("trainer_a", 403), ("client_a", 403), ("manager_a", 200)])
def test_the_preview_is_for_who_may_deactivate(request, as_user, trainer_a, future_bookings, actor, status):
    response = as_user(request.getfixturevalue(actor)).get(url(trainer_a))

    assert response.status_code == status
    if status != 200:
        assert "bookings" not in response.json()


def test_a_manager_cannot_preview_or_deactivate_another_manager(as_user, manager_a, studio_a):
    other = make_user(studio_a, role=Role.MANAGER, email="other.manager@alpha.test")

    assert as_user(manager_a).get(url(other)).status_code == 403
    assert as_user(manager_a).post(url(other), {"future_bookings": "keep"}, format="json").status_code == 403


def test_another_studios_owner_sees_and_changes_nothing(
    as_user, anon_a, trainer_a, studio_a, studio_b, future_bookings
):
    owner_b = make_user(studio_b, role=Role.OWNER, email="boss@bravo.test")
    coach = make_user(studio_a, pk=9201, role=Role.TRAINER, email="far.coach@alpha.test")

    assert as_user(owner_b, studio_b).get(url(coach)).status_code == 404
    assert as_user(owner_b, studio_b).post(url(coach), {"future_bookings": "cancel"}, format="json").status_code == 404
    assert anon_a.get(url(trainer_a)).status_code == 401
    bookings, _ = future_bookings
    assert {status for _, status in statuses(studio_a, bookings)} == {BookingStatus.CONFIRMED}


# -- the race with a new booking ------------------------------------------------------------------------------


def test_a_booking_racing_the_deactivation_is_either_refused_or_cancelled_with_the_rest(studio_a, owner_a):
    """Under the trainer's lock, a booking made at the same time is either seen (and cancelled with the others)
    or refused (the trainer is no longer taking bookings): never left active with a deactivated trainer."""
    rounds = 4

    def create():
        with tenant_context(studio_a):
            user = User.objects.create_user("leaving-coach@alpha.test", role=Role.TRAINER)
            trainer = Trainer.objects.create(user=user, display_name="Leaving Coach", timezone="Europe/London")
            for day in range(7):
                AvailabilitySlot.objects.create(trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12))
            session_type = SessionType.objects.create(name="Leaving", duration_minutes=60, price=10, currency="GBP")
            session_type.trainers.add(trainer)
            client = Client.objects.create(email="loyal@alpha.test", first_name="Loyal")
            return user, trainer, session_type, client

    def remove():
        with tenant_context(studio_a):
            BookingEvent.objects.filter(booking__trainer__display_name="Leaving Coach").delete()
            Booking.objects.filter(trainer__display_name="Leaving Coach").delete()
            Client.objects.filter(email="loyal@alpha.test").delete()
            SessionType.objects.filter(name="Leaving").delete()
            Trainer.objects.filter(display_name="Leaving Coach").delete()
            User.objects.filter(email="leaving-coach@alpha.test").delete()

    created = run_committed(create)
    if isinstance(created, Exception):
        run_committed(remove)
        raise created
    user, trainer, session_type, client = created
    outcomes = []
    try:
        for round_number in range(rounds):

            def race(index: int, round_number=round_number):
                with tenant_context(studio_a):
                    if index == 0:
                        return handover.staff_deactivate_with_bookings(
                            user=user, actor=owner_a, future_bookings="cancel"
                        )
                    return booking_services.booking_create(
                        trainer=trainer,
                        client=client,
                        session_type=session_type,
                        start_time=at(next_monday() + timedelta(days=round_number), "10:00"),
                    )

            deactivation, booking = run_in_threads(2, race)

            def look(booking=booking):
                with tenant_context(studio_a):
                    active = Booking.objects.filter(trainer=trainer, status__in=Booking.ACTIVE_STATUSES).count()
                    staff_reactivate(user=User.objects.get(pk=user.pk), actor=owner_a)
                    return active

            outcomes.append((deactivation, booking, run_committed(look)))
    finally:
        run_committed(remove)

    for deactivation, booking, active_left in outcomes:
        assert isinstance(deactivation, handover.Handover), deactivation
        assert active_left == 0
        if isinstance(booking, Booking):
            assert [b.pk for b in deactivation.bookings] == [booking.pk]
        else:
            assert isinstance(booking, ApplicationError), booking
            assert deactivation.bookings == []
