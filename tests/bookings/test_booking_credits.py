"""Booking with package credits: the debit, the automatic choice, refusals, refunds on timely cancellations only,
reschedules that keep the debit, and the race for the last credit through separate connections."""

import contextlib
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Sum
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from shared_apps.accounts.models import Role, User
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.packages import services as package_services
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.conftest import api_client, next_monday, run_committed, run_in_threads
from tests.factories import ClientFactory, SessionPackageFactory, SessionTypeFactory

pytestmark = pytest.mark.django_db
URL = "/api/bookings/"
LONDON = ZoneInfo("Europe/London")


def at(day, clock: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), tzinfo=LONDON)


def sell(package, client, **fields) -> ClientPackage:
    return package_services.package_assign(
        package=package, client=client, payment_method="cash", amount_paid=Decimal("100"), **fields
    )


def state(studio, client_package) -> tuple[int, list[tuple]]:
    """The balance and the ledger (kind, delta, booking) of one package; the two always agree."""
    with tenant_context(studio):
        client_package.refresh_from_db()
        ledger = list(client_package.transactions.values_list("kind", "delta", "booking"))
        assert sum(delta for _, delta, _ in ledger) == client_package.sessions_remaining
        return client_package.sessions_remaining, ledger


@pytest.fixture
def pack(studio_a, booking_client_a):
    """Studio A's client holds a 5-session package for every session type."""
    with tenant_context(studio_a):
        return sell(SessionPackageFactory(name="Five", sessions_count=5), booking_client_a)


def book(studio, schedule, client, clock="10:00", day=None, **fields) -> Booking:
    trainer, session_type = schedule
    with tenant_context(studio):
        return services.booking_create(
            trainer=trainer,
            client=client,
            session_type=session_type,
            start_time=at(day or next_monday(), clock),
            **fields,
        )


# -- the debit --------------------------------------------------------------------------------------------


def test_a_client_books_with_a_named_package_and_one_credit_is_debited(as_user, client_a, schedule_a, studio_a, pack):
    trainer, session_type = schedule_a

    response = as_user(client_a).post(
        URL,
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "start_time": at(next_monday(), "10:00").isoformat(),
            "client_package": pack.pk,
        },
    )

    assert response.status_code == 201, response.json()
    booking_id = response.json()["id"]
    assert response.json()["client_package"] == pack.pk
    assert state(studio_a, pack) == (4, [("purchase", 5, None), ("booking", -1, booking_id)])


def test_the_only_usable_package_is_used_when_none_is_named(as_user, manager_a, schedule_a, studio_a, pack):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        # Not usable: for another session type, used up, or expired before the session.
        elsewhere = SessionPackageFactory(session_types=[SessionTypeFactory(name="Yoga")])
        sell(elsewhere, pack.client)
        empty = sell(SessionPackageFactory(sessions_count=1), pack.client)
        package_services.client_package_adjust(client_package=empty, delta=-1, reason="Used", actor=None)
        short = sell(SessionPackageFactory(validity_days=1), pack.client)

    response = as_user(manager_a).post(
        URL,
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "client": pack.client_id,
            "start_time": at(next_monday(), "10:00").isoformat(),
        },
    )

    assert response.status_code == 201, response.json()
    assert response.json()["client_package"] == pack.pk
    assert state(studio_a, pack)[0] == 4
    assert state(studio_a, short)[0] == 10


def test_with_several_usable_packages_and_none_named_the_one_expiring_first_pays(schedule_a, studio_a, pack):
    with tenant_context(studio_a):
        later = sell(SessionPackageFactory(validity_days=120), pack.client)
        sooner = sell(SessionPackageFactory(validity_days=30), pack.client)

    booking = book(studio_a, schedule_a, pack.client)

    assert (booking.payment_state, booking.client_package_id) == ("credit", sooner.pk)
    assert state(studio_a, sooner) == (9, [("purchase", 10, None), ("booking", -1, booking.pk)])
    assert state(studio_a, pack) == (5, [("purchase", 5, None)])
    assert state(studio_a, later) == (10, [("purchase", 10, None)])


def test_packages_expiring_the_same_day_are_used_in_the_order_they_were_sold(schedule_a, studio_a, pack):
    with tenant_context(studio_a):
        twin = sell(SessionPackageFactory(validity_days=90), pack.client)

    booking = book(studio_a, schedule_a, pack.client)

    assert twin.expiry_date == pack.expiry_date and twin.pk > pack.pk
    assert booking.client_package_id == pack.pk
    assert state(studio_a, twin)[0] == 10


def test_a_client_with_only_an_expired_package_is_booked_unpaid(as_user, client_a, schedule_a, studio_a, pack):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        ClientPackage.objects.filter(pk=pack.pk).update(expiry_date=next_monday() - timedelta(days=1))

    response = as_user(client_a).post(
        URL,
        {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00").isoformat()},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["payment_state"], body["client_package"], body["client_package_name"]) == ("unpaid", None, None)
    assert body["price"] == "40.00"
    assert state(studio_a, pack) == (5, [("purchase", 5, None)])


def test_a_free_session_type_is_complimentary_and_takes_no_credit_unless_named(schedule_a, studio_a, pack):
    _, session_type = schedule_a
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=session_type.pk).update(price=Decimal("0"))
        session_type.refresh_from_db()

    free = book(studio_a, schedule_a, pack.client)
    named = book(studio_a, schedule_a, pack.client, clock="11:00", client_package=pack)

    assert (free.payment_state, free.client_package_id) == ("complimentary", None)
    assert (named.payment_state, named.client_package_id) == ("credit", pack.pk)
    assert state(studio_a, pack)[0] == 4


def test_the_booking_output_names_the_package_and_its_credits_left(as_user, client_a, schedule_a, studio_a, pack):
    booking = book(studio_a, schedule_a, pack.client, client_package=pack)

    body = as_user(client_a).get(f"/api/bookings/{booking.pk}/").json()

    assert body["payment_state"] == "credit"
    assert body["client_package"] == pack.pk
    assert body["client_package_name"] == "Five"
    assert body["client_package_sessions_remaining"] == 4
    assert body["credit_returned"] is False


def test_without_a_package_the_booking_is_made_without_credits(schedule_a, studio_a, booking_client_a):
    booking = book(studio_a, schedule_a, booking_client_a)

    assert booking.client_package_id is None
    with tenant_context(studio_a):
        assert CreditTransaction.objects.count() == 0


def test_a_package_for_the_right_session_type_pays(schedule_a, studio_a, booking_client_a):
    _, session_type = schedule_a
    with tenant_context(studio_a):
        right = sell(SessionPackageFactory(session_types=[session_type]), booking_client_a)

    booking = book(studio_a, schedule_a, booking_client_a, client_package=right)

    assert booking.client_package_id == right.pk
    assert state(studio_a, right)[0] == 9


# -- refusals: nothing is booked, nothing is debited ------------------------------------------------------


def refused(as_user, user, schedule, body_extra):
    trainer, session_type = schedule
    body = {"trainer": trainer.pk, "session_type": session_type.pk, "start_time": at(next_monday(), "10:00")}
    return as_user(user).post(URL, {**body, "start_time": body["start_time"].isoformat(), **body_extra})


def no_bookings(studio) -> bool:
    with tenant_context(studio):
        return not Booking.objects.exists()


def test_a_named_package_past_its_last_day_is_409_package_expired(as_user, client_a, schedule_a, studio_a, pack):
    with tenant_context(studio_a):
        ClientPackage.objects.filter(pk=pack.pk).update(expiry_date=next_monday() - timedelta(days=1))

    response = refused(as_user, client_a, schedule_a, {"client_package": pack.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "package_expired"
    assert no_bookings(studio_a)
    assert state(studio_a, pack)[0] == 5


def test_a_named_package_marked_expired_is_409_package_expired(as_user, client_a, schedule_a, studio_a, pack):
    with tenant_context(studio_a):
        ClientPackage.objects.filter(pk=pack.pk).update(status=ClientPackage.Status.EXPIRED)

    response = refused(as_user, client_a, schedule_a, {"client_package": pack.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "package_expired"
    assert no_bookings(studio_a)


def test_another_client_s_package_is_400_package_not_applicable(
    as_user, client_a, manager_a, schedule_a, studio_a, booking_client_a, pack
):
    trainer, session_type = schedule_a
    with tenant_context(studio_a):
        theirs = sell(SessionPackageFactory(), ClientFactory())

    # A client can't even name it: to them, someone else's package reads as one that doesn't exist.
    by_client = refused(as_user, client_a, schedule_a, {"client_package": theirs.pk})
    # The front desk sees every package, and is told why this one can't pay.
    by_manager = as_user(manager_a).post(
        URL,
        {
            "trainer": trainer.pk,
            "session_type": session_type.pk,
            "client": booking_client_a.pk,
            "client_package": theirs.pk,
            "start_time": datetime.combine(next_monday(), time(10), tzinfo=ZoneInfo("Europe/London")).isoformat(),
        },
    )

    assert by_client.status_code == 400
    assert "does not exist" in by_client.json()["fields"]["client_package"][0]
    assert by_manager.status_code == 400
    assert by_manager.json()["code"] == "package_not_applicable"
    assert "client_package" in by_manager.json()["fields"]
    assert no_bookings(studio_a)
    assert state(studio_a, theirs)[0] == 10


def test_a_package_for_another_session_type_is_400_package_not_applicable(
    as_user, client_a, schedule_a, studio_a, booking_client_a
):
    with tenant_context(studio_a):
        yoga = sell(SessionPackageFactory(session_types=[SessionTypeFactory(name="Yoga")]), booking_client_a)

    response = refused(as_user, client_a, schedule_a, {"client_package": yoga.pk})

    assert response.status_code == 400
    assert response.json()["code"] == "package_not_applicable"
    assert no_bookings(studio_a)
    assert state(studio_a, yoga)[0] == 10


def test_an_empty_named_package_is_409_no_credits_left(as_user, client_a, schedule_a, studio_a, pack):
    with tenant_context(studio_a):
        package_services.client_package_adjust(client_package=pack, delta=-5, reason="Used elsewhere", actor=None)

    response = refused(as_user, client_a, schedule_a, {"client_package": pack.pk})

    assert response.status_code == 409
    assert response.json()["code"] == "no_credits_left"
    assert no_bookings(studio_a)
    assert state(studio_a, pack)[0] == 0


def test_an_unknown_package_id_is_400(as_user, client_a, schedule_a, studio_a, pack):
    response = refused(as_user, client_a, schedule_a, {"client_package": 999999})

    assert response.status_code == 400
    assert "client_package" in response.json()["fields"]
    assert no_bookings(studio_a)


def test_a_slot_refusal_debits_nothing(schedule_a, studio_a, pack):
    with tenant_context(studio_a), pytest.raises(services.NotASlot):
        book(studio_a, schedule_a, pack.client, clock="15:00", client_package=pack)

    assert state(studio_a, pack)[0] == 5


# -- cancellation, no-show, reschedule --------------------------------------------------------------------


def test_a_timely_cancellation_refunds_the_credit_once(as_user, client_a, schedule_a, studio_a, pack):
    booking = book(studio_a, schedule_a, pack.client, client_package=pack)

    response = as_user(client_a).post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Away"})
    again = as_user(client_a).post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Away"})

    assert response.status_code == 200
    assert response.json()["is_late_cancellation"] is False
    assert again.status_code == 409
    assert state(studio_a, pack) == (
        5,
        [("purchase", 5, None), ("booking", -1, booking.pk), ("refund", 1, booking.pk)],
    )


def test_a_late_cancellation_keeps_the_credit_spent(schedule_a, studio_a, pack, client_a):
    booking = book(studio_a, schedule_a, pack.client, client_package=pack)

    with tenant_context(studio_a):
        cancelled = services.booking_cancel(
            booking=booking, actor=client_a, now=booking.start_time - timedelta(hours=2)
        )

    assert cancelled.is_late_cancellation is True
    assert state(studio_a, pack) == (4, [("purchase", 5, None), ("booking", -1, booking.pk)])


def test_a_no_show_keeps_the_credit_spent(schedule_a, studio_a, pack, manager_a):
    booking = book(studio_a, schedule_a, pack.client, client_package=pack)

    with tenant_context(studio_a):
        services.booking_no_show(booking=booking, actor=manager_a, now=booking.start_time + timedelta(minutes=20))

    assert state(studio_a, pack) == (4, [("purchase", 5, None), ("booking", -1, booking.pk)])


def test_a_reschedule_keeps_the_same_debit(as_user, client_a, schedule_a, studio_a, pack):
    booking = book(studio_a, schedule_a, pack.client, client_package=pack)

    response = as_user(client_a).post(
        f"/api/bookings/{booking.pk}/reschedule/", {"start_time": at(next_monday(), "11:00").isoformat()}
    )

    assert response.status_code == 200, response.json()
    assert response.json()["client_package"] == pack.pk
    assert state(studio_a, pack) == (4, [("purchase", 5, None), ("booking", -1, booking.pk)])


def test_a_reschedule_past_the_package_s_last_day_is_refused(as_user, client_a, schedule_a, studio_a, pack):
    booking = book(studio_a, schedule_a, pack.client, client_package=pack)
    with tenant_context(studio_a):
        ClientPackage.objects.filter(pk=pack.pk).update(expiry_date=next_monday())

    response = as_user(client_a).post(
        f"/api/bookings/{booking.pk}/reschedule/",
        {"start_time": at(next_monday() + timedelta(days=1), "10:00").isoformat()},
    )

    assert response.status_code == 409
    assert response.json()["code"] == "package_expired"
    with tenant_context(studio_a):
        assert Booking.objects.get().start_time == at(next_monday(), "10:00")
    assert state(studio_a, pack)[0] == 4


def test_a_timely_cancellation_of_an_unpaid_booking_writes_no_ledger_row(schedule_a, studio_a, booking_client_a):
    booking = book(studio_a, schedule_a, booking_client_a)

    with tenant_context(studio_a):
        services.booking_cancel(booking=booking, actor=None)
        assert CreditTransaction.objects.count() == 0


# -- the race for the last credit -------------------------------------------------------------------------

RACERS = 4


@contextlib.contextmanager
def committed_last_credit(studio):
    """RACERS trainers with the same hours and session type, one client with one credit left, a manager;
    committed, and removed afterwards."""
    emails = [f"credit-coach{index}@alpha.test" for index in range(RACERS)]
    emails += ["credit-client@alpha.test", "credit-manager@alpha.test"]

    def create():
        with tenant_context(studio):
            session_type = SessionType.objects.create(name="Credit race", duration_minutes=60, price=10, currency="GBP")
            trainer_ids = []
            for email in emails[:RACERS]:
                user = User.objects.create_user(email, role=Role.TRAINER)
                trainer = Trainer.objects.create(user=user, display_name="Credit coach", timezone="Europe/London")
                for day in range(7):
                    AvailabilitySlot.objects.create(
                        trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12)
                    )
                session_type.trainers.add(trainer)
                trainer_ids.append(trainer.pk)
            client_user = User.objects.create_user("credit-client@alpha.test", role=Role.CLIENT)
            client = Client.objects.create(email=client_user.email, first_name="Last", user=client_user)
            manager = User.objects.create_user("credit-manager@alpha.test", role=Role.MANAGER)
            package = SessionPackage.objects.create(
                name="Credit race", sessions_count=1, price=10, currency="GBP", validity_days=30
            )
            client_package = sell(package, client)
            tokens = {
                "client": Token.objects.create(user=client_user).key,
                "manager": Token.objects.create(user=manager).key,
            }
            return {
                "trainers": trainer_ids,
                "session_type": session_type.pk,
                "client": client.pk,
                "client_package": client_package.pk,
                "tokens": tokens,
            }

    def remove():
        with tenant_context(studio):
            CreditTransaction.objects.filter(client_package__client__email="credit-client@alpha.test").delete()
            BookingEvent.objects.filter(booking__client__email="credit-client@alpha.test").delete()
            Booking.objects.filter(client__email="credit-client@alpha.test").delete()
            ClientPackage.objects.filter(client__email="credit-client@alpha.test").delete()
            SessionPackage.objects.filter(name="Credit race").delete()
            Client.objects.filter(email="credit-client@alpha.test").delete()
            SessionType.objects.filter(name="Credit race").delete()
            AvailabilitySlot.objects.filter(trainer__display_name="Credit coach").delete()
            Trainer.objects.filter(display_name="Credit coach").delete()
            User.objects.filter(email__in=emails).delete()

    created = run_committed(create)
    if isinstance(created, Exception):
        run_committed(remove)
        raise created
    try:
        yield created
    finally:
        outcome = run_committed(remove)
        if isinstance(outcome, Exception):
            raise outcome


def committed_outcome(studio, setup) -> dict:
    def read():
        with tenant_context(studio):
            client_package = ClientPackage.objects.get(pk=setup["client_package"])
            return {
                "balance": client_package.sessions_remaining,
                "ledger": client_package.transactions.aggregate(total=Sum("delta"))["total"],
                "debits": client_package.transactions.filter(kind="booking").count(),
                "bookings": Booking.objects.filter(client_id=setup["client"]).count(),
                "paid": Booking.objects.filter(client_id=setup["client"], client_package__isnull=False).count(),
            }

    return run_committed(read)


def race(setup, who: str, *, name_the_package: bool) -> list:
    """RACERS bookings at once, each with another trainer, all at the same time: only the credit is shared."""
    start = at(next_monday(), "10:00").isoformat()

    def post(index):
        body = {"trainer": setup["trainers"][index], "session_type": setup["session_type"], "start_time": start}
        if who == "manager":
            body["client"] = setup["client"]
        if name_the_package:
            body["client_package"] = setup["client_package"]
        return api_client("alpha.localhost", setup["tokens"][who]).post(URL, body)

    return run_in_threads(RACERS, post)


@pytest.mark.parametrize("who", ["client", "manager"])
def test_bookings_racing_for_the_last_credit_get_one_201_and_409_no_credits_left(studio_a, who):
    """The client books for themself, or the front desk books for them (then nothing but the package lock and
    the balance constraint stands between the racers: the trainers all differ)."""
    with committed_last_credit(studio_a) as setup:
        results = race(setup, who, name_the_package=True)

        statuses = sorted(getattr(result, "status_code", repr(result)) for result in results)
        assert statuses == [201] + [409] * (RACERS - 1), results
        assert all(r.json()["code"] == "no_credits_left" for r in results if r.status_code == 409)
        assert committed_outcome(studio_a, setup) == {
            "balance": 0,
            "ledger": 0,
            "debits": 1,
            "bookings": 1,
            "paid": 1,
        }


def test_bookings_racing_for_the_only_package_without_naming_it_debit_it_once(studio_a):
    """Not named, the package is used while it has a credit; the bookings that come after it are made without
    credits, exactly as if they had come a minute later."""
    with committed_last_credit(studio_a) as setup:
        results = race(setup, "manager", name_the_package=False)

        statuses = [getattr(result, "status_code", repr(result)) for result in results]
        assert statuses == [201] * RACERS, results
        assert sorted(r.json()["client_package"] is not None for r in results) == [False] * (RACERS - 1) + [True]
        assert committed_outcome(studio_a, setup) == {
            "balance": 0,
            "ledger": 0,
            "debits": 1,
            "bookings": RACERS,
            "paid": 1,
        }
