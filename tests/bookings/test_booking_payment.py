"""How a booking is paid after the fact: attach a package (a credit debited under the package's lock), record a
payment, mark it complimentary. Each writes a history entry and works on unpaid, uncancelled bookings only."""

from datetime import time, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django_tenants.utils import tenant_context
from rest_framework.authtoken.models import Token

from shared_apps.accounts.models import Role, User
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.availability.models import AvailabilitySlot
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking, BookingEvent
from tenant_apps.clients.models import Client
from tenant_apps.packages import services as package_services
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tenant_apps.trainers.models import SessionType, Trainer
from tests.bookings.conftest import STAFF_MATRIX, at, ledger, sell
from tests.conftest import api_client, next_monday, run_committed, run_in_threads
from tests.factories import ClientFactory, SessionTypeFactory

pytestmark = pytest.mark.django_db


def fresh(studio, booking) -> Booking:
    with tenant_context(studio):
        return Booking.objects.get(pk=booking.pk)


def events(studio, booking) -> list[str]:
    with tenant_context(studio):
        return list(BookingEvent.objects.filter(booking=booking).values_list("kind", flat=True))


# -- the service ------------------------------------------------------------------------------------------


def test_attaching_a_package_to_an_unpaid_booking_debits_one_credit(
    studio_a, make_booking, booking_client_a, manager_a
):
    booking = make_booking()
    assert booking.payment_state == "unpaid"
    with tenant_context(studio_a):
        pack = sell(booking_client_a, name="Ten", sessions_count=10)
        paid = services.booking_attach_package(booking=booking, client_package=pack, actor=manager_a)

    assert (paid.payment_state, paid.client_package_id) == ("credit", pack.pk)
    assert ledger(studio_a, pack) == (9, [("purchase", 10, None, 0), ("booking", -1, booking.pk, 0)])
    assert events(studio_a, booking) == ["created", "package_attached"]


def test_a_package_can_be_attached_to_a_completed_session(studio_a, make_booking, booking_client_a, manager_a):
    booking = make_booking()
    with tenant_context(studio_a):
        pack = sell(booking_client_a)
        services.booking_complete(booking=booking, actor=manager_a, now=booking.start_time + timedelta(hours=1))
        services.booking_attach_package(booking=booking, client_package=pack, actor=manager_a)

    assert fresh(studio_a, booking).payment_state == "credit"
    assert ledger(studio_a, pack)[0] == 9


@pytest.mark.parametrize(
    ("problem", "error"),
    [
        ("another_client", package_services.PackageNotApplicable),
        ("other_session_type", package_services.PackageNotApplicable),
        ("expired", package_services.PackageExpired),
        ("empty", package_services.NoCreditsLeft),
    ],
)
def test_a_package_that_cannot_pay_is_refused_and_nothing_moves(
    studio_a, make_booking, booking_client_a, manager_a, problem, error
):
    booking = make_booking()
    with tenant_context(studio_a):
        if problem == "another_client":
            pack = sell(ClientFactory())
        elif problem == "other_session_type":
            pack = sell(booking_client_a, session_types=[SessionTypeFactory(name="Yoga")])
        else:
            pack = sell(booking_client_a)
        if problem == "expired":
            ClientPackage.objects.filter(pk=pack.pk).update(expiry_date=next_monday() - timedelta(days=1))
        if problem == "empty":
            package_services.client_package_adjust(client_package=pack, delta=-10, reason="Used", actor=None)
        balance = ClientPackage.objects.get(pk=pack.pk).sessions_remaining
        with pytest.raises(error):
            services.booking_attach_package(booking=booking, client_package=pack, actor=manager_a)

    assert fresh(studio_a, booking).payment_state == "unpaid"
    assert ledger(studio_a, pack)[0] == balance
    assert events(studio_a, booking) == ["created"]


def test_a_no_show_the_session_type_does_not_charge_for_takes_no_package(
    studio_a, schedule_a, make_booking, booking_client_a, manager_a, as_user
):
    """A credit taken for it would have been given back at the no-show: nothing for a package to pay."""
    with tenant_context(studio_a):
        SessionType.objects.filter(pk=schedule_a[1].pk).update(no_show_forfeits_credit=False)
    booking = make_booking()
    with tenant_context(studio_a):
        pack = sell(booking_client_a)
        services.booking_no_show(booking=booking, actor=manager_a, now=booking.start_time + timedelta(minutes=15))

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/attach-package/", {"client_package": pack.pk})

    assert (response.status_code, response.json()["code"]) == (409, "no_show_not_charged")
    assert fresh(studio_a, booking).payment_state == "unpaid"
    assert ledger(studio_a, pack)[0] == 10


def test_a_no_show_the_session_type_charges_for_takes_a_package(studio_a, make_booking, booking_client_a, manager_a):
    booking = make_booking()
    with tenant_context(studio_a):
        pack = sell(booking_client_a)
        services.booking_no_show(booking=booking, actor=manager_a, now=booking.start_time + timedelta(minutes=15))
        paid = services.booking_attach_package(booking=booking, client_package=pack, actor=manager_a)

    assert (paid.status, paid.payment_state) == ("no_show", "credit")
    assert ledger(studio_a, pack)[0] == 9


@pytest.mark.parametrize("settled", ["credit", "paid", "complimentary", "cancelled"])
def test_only_an_unpaid_uncancelled_booking_takes_a_payment(
    studio_a, make_booking, booking_client_a, manager_a, settled
):
    booking = make_booking()
    with tenant_context(studio_a):
        pack = sell(booking_client_a)
        if settled == "credit":
            services.booking_attach_package(booking=booking, client_package=pack, actor=manager_a)
        elif settled == "paid":
            services.booking_record_payment(
                booking=booking, payment_method="cash", amount_paid=Decimal("40"), actor=manager_a
            )
        elif settled == "complimentary":
            services.booking_mark_complimentary(booking=booking, actor=manager_a)
        elif settled == "cancelled":
            services.booking_cancel(booking=booking, actor=manager_a)
        balance = ClientPackage.objects.get(pk=pack.pk).sessions_remaining

        for attempt in (
            lambda: services.booking_attach_package(booking=booking, client_package=pack, actor=manager_a),
            lambda: services.booking_record_payment(
                booking=booking, payment_method="card", amount_paid=Decimal("40"), actor=manager_a
            ),
            lambda: services.booking_mark_complimentary(booking=booking, actor=manager_a),
        ):
            with pytest.raises((services.PaymentAlreadySettled, services.InvalidTransition)) as refusal:
                attempt()
            assert refusal.value.status_code == 409

    assert ledger(studio_a, pack)[0] == balance


def test_recording_a_payment_keeps_how_how_much_who_and_when(studio_a, make_booking, manager_a):
    booking = make_booking()
    moment = booking.start_time + timedelta(hours=1)
    with tenant_context(studio_a):
        paid = services.booking_record_payment(
            booking=booking, payment_method="card", amount_paid=Decimal("45.50"), actor=manager_a, now=moment
        )

    paid = fresh(studio_a, paid)
    assert (paid.payment_state, paid.payment_method, paid.amount_paid, paid.payment_currency) == (
        "paid",
        "card",
        Decimal("45.50"),
        "GBP",
    )
    assert (paid.payment_recorded_by_id, paid.payment_recorded_at) == (manager_a.pk, moment)
    assert events(studio_a, booking) == ["created", "payment_recorded"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"payment_method": "complimentary", "amount_paid": Decimal("40")}, "payment_method"),
        ({"payment_method": "barter", "amount_paid": Decimal("40")}, "payment_method"),
        ({"payment_method": "cash", "amount_paid": Decimal("0")}, "amount_paid"),
        ({"payment_method": "cash", "amount_paid": Decimal("-5")}, "amount_paid"),
        ({"payment_method": "cash", "amount_paid": Decimal("1.234")}, "amount_paid"),
        ({"payment_method": "cash", "amount_paid": Decimal("40"), "currency": "euro"}, "currency"),
        # The booking is priced in GBP: a payment in another currency is not one for it.
        ({"payment_method": "cash", "amount_paid": Decimal("40"), "currency": "EUR"}, "currency"),
    ],
)
def test_a_payment_is_validated(studio_a, make_booking, manager_a, fields, field):
    booking = make_booking()
    with tenant_context(studio_a), pytest.raises(ValidationFailed) as refusal:
        services.booking_record_payment(booking=booking, actor=manager_a, **fields)

    assert field in refusal.value.fields
    assert fresh(studio_a, booking).payment_state == "unpaid"


def test_marking_complimentary_is_recorded_with_its_reason(studio_a, make_booking, owner_a):
    booking = make_booking()
    with tenant_context(studio_a):
        services.booking_mark_complimentary(booking=booking, actor=owner_a, reason="Birthday")
        event = BookingEvent.objects.filter(booking=booking).last()

    assert fresh(studio_a, booking).payment_state == "complimentary"
    assert (event.kind, event.note, event.actor_id) == ("complimentary", "Birthday", owner_a.pk)


@pytest.mark.parametrize("caller", ["trainer", "client"])
def test_the_service_refuses_complimentary_to_anyone_but_the_owner_and_managers(
    studio_a, make_booking, trainer_a, client_a, caller
):
    """Whichever endpoint or page asks: the rule is the service's, not the API view's."""
    booking = make_booking()
    actor = {"trainer": trainer_a, "client": client_a}[caller]

    with tenant_context(studio_a), pytest.raises(services.ComplimentaryManagersOnly) as refusal:
        services.booking_mark_complimentary(booking=booking, actor=actor, reason="Free")

    assert (refusal.value.status_code, refusal.value.code) == (403, "permission_denied")
    assert fresh(studio_a, booking).payment_state == "unpaid"
    assert events(studio_a, booking) == ["created"]


def test_who_may_mark_complimentary(owner_a, manager_a, trainer_a, client_a):
    assert [services.may_mark_complimentary(user) for user in (owner_a, manager_a, None)] == [True, True, True]
    assert [services.may_mark_complimentary(user) for user in (trainer_a, client_a)] == [False, False]


# -- the race: attaching while the last credit is spent elsewhere -------------------------------------------

RACERS = 6
RACE_EMAIL = "attach-race@alpha.test"


def committed_race_setup(studio):
    """RACERS trainers with the same hours; RACERS - 1 unpaid bookings of one client (one per trainer but the
    first) and a one-credit package; a manager. Committed, so that threads see it."""

    def create():
        with tenant_context(studio):
            session_type = SessionType.objects.create(name="Attach race", duration_minutes=60, price=10, currency="GBP")
            trainers = []
            for index in range(RACERS):
                user = User.objects.create_user(f"attach-coach{index}@alpha.test", role=Role.TRAINER)
                trainer = Trainer.objects.create(user=user, display_name="Race coach", timezone="Europe/London")
                for day in range(7):
                    AvailabilitySlot.objects.create(
                        trainer=trainer, day_of_week=day, start_time=time(9), end_time=time(12)
                    )
                session_type.trainers.add(trainer)
                trainers.append(trainer)
            client = Client.objects.create(email=RACE_EMAIL, first_name="Racer")
            manager = User.objects.create_user("attach-manager@alpha.test", role=Role.MANAGER)
            start = at(next_monday(), "10:00")
            unpaid = [
                services.booking_create(trainer=trainer, client=client, session_type=session_type, start_time=start)
                for trainer in trainers[1:]
            ]
            package = SessionPackage.objects.create(
                name="Attach race", sessions_count=1, price=10, currency="GBP", validity_days=30
            )
            client_package = package_services.package_assign(
                package=package, client=client, payment_method="cash", amount_paid=Decimal("10")
            )
            return {
                "token": Token.objects.create(user=manager).key,
                "unpaid": [booking.pk for booking in unpaid],
                "client_package": client_package.pk,
                "client": client.pk,
                "trainer": trainers[0].pk,
                "session_type": session_type.pk,
                "start": start.isoformat(),
            }

    def remove():
        with tenant_context(studio):
            CreditTransaction.objects.filter(client_package__client__email=RACE_EMAIL).delete()
            BookingEvent.objects.filter(booking__client__email=RACE_EMAIL).delete()
            Booking.objects.filter(client__email=RACE_EMAIL).delete()
            ClientPackage.objects.filter(client__email=RACE_EMAIL).delete()
            SessionPackage.objects.filter(name="Attach race").delete()
            Client.objects.filter(email=RACE_EMAIL).delete()
            SessionType.objects.filter(name="Attach race").delete()
            AvailabilitySlot.objects.filter(trainer__user__email__startswith="attach-coach").delete()
            Trainer.objects.filter(user__email__startswith="attach-coach").delete()
            User.objects.filter(email__startswith="attach-").delete()

    return create, remove


def test_attaching_while_the_last_credit_is_spent_elsewhere_one_wins_the_others_409(studio_a):
    """RACERS - 1 staff attach the same one-credit package to unpaid bookings while a new booking names it: one
    gets the credit, every other is 409 no_credits_left, and the ledger holds exactly one debit."""
    create, remove = committed_race_setup(studio_a)
    made = run_committed(create)
    assert isinstance(made, dict), made
    try:

        def act(index):
            api = api_client("alpha.localhost", made["token"])
            if index == 0:
                body = {
                    "trainer": made["trainer"],
                    "session_type": made["session_type"],
                    "client": made["client"],
                    "start_time": made["start"],
                    "client_package": made["client_package"],
                }
                return api.post("/api/bookings/", body)
            url = f"/api/bookings/{made['unpaid'][index - 1]}/attach-package/"
            return api.post(url, {"client_package": made["client_package"]})

        results = run_in_threads(RACERS, act)

        statuses = [getattr(result, "status_code", repr(result)) for result in results]
        winners = [status for status in statuses if status in (200, 201)]
        assert len(winners) == 1 and statuses.count(409) == RACERS - 1, statuses
        assert all(result.json()["code"] == "no_credits_left" for result in results if result.status_code == 409)

        def outcome():
            with tenant_context(studio_a):
                client_package = ClientPackage.objects.get(pk=made["client_package"])
                moves = list(client_package.transactions.values_list("kind", "delta", "booking"))
                paid = list(
                    Booking.objects.filter(client_id=made["client"], payment_state="credit").values_list(
                        "pk", flat=True
                    )
                )
                bookings = Booking.objects.filter(client_id=made["client"]).count()
                return client_package.sessions_remaining, moves, paid, bookings

        balance, moves, paid, bookings = run_committed(outcome)
        assert balance == 0
        assert [(kind, delta) for kind, delta, _ in moves] == [("purchase", 1), ("booking", -1)]
        assert paid == [moves[1][2]]
        # The new booking exists only if it won; the unpaid ones are all still there.
        assert bookings == RACERS - 1 + (statuses[0] == 201)
    finally:
        run_committed(remove)


# -- the API and who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", sorted(STAFF_MATRIX))
def test_attach_package_permission_matrix(callers, caller, studio_a, make_booking, booking_client_a):
    booking = make_booking()
    with tenant_context(studio_a):
        pack = sell(booking_client_a, name="Ten")

    response = callers[caller].post(f"/api/bookings/{booking.pk}/attach-package/", {"client_package": pack.pk})

    assert response.status_code == STAFF_MATRIX[caller], response.content
    if response.status_code == 200:
        body = response.json()
        assert (body["payment_state"], body["client_package"], body["client_package_name"]) == (
            "credit",
            pack.pk,
            "Ten",
        )
        assert body["client_package_sessions_remaining"] == 9
        assert ledger(studio_a, pack)[0] == 9
    else:
        assert fresh(studio_a, booking).payment_state == "unpaid"
        assert ledger(studio_a, pack)[0] == 10


@pytest.mark.parametrize("caller", sorted(STAFF_MATRIX))
def test_record_payment_permission_matrix(callers, caller, studio_a, make_booking):
    booking = make_booking()

    response = callers[caller].post(
        f"/api/bookings/{booking.pk}/record-payment/", {"payment_method": "cash", "amount_paid": "40.00"}
    )

    assert response.status_code == STAFF_MATRIX[caller], response.content
    expected = "paid" if response.status_code == 200 else "unpaid"
    assert fresh(studio_a, booking).payment_state == expected
    if response.status_code == 200:
        body = response.json()
        assert (body["payment_method"], body["amount_paid"], body["payment_currency"]) == ("cash", "40.00", "GBP")
        assert body["payment_recorded_by"] is not None and body["payment_recorded_at"]


# Giving a session away is the owner's or a manager's call, not a trainer's.
COMPLIMENTARY_MATRIX = {**STAFF_MATRIX, "trainer_own": 403}


@pytest.mark.parametrize("caller", sorted(COMPLIMENTARY_MATRIX))
def test_complimentary_permission_matrix(callers, caller, studio_a, make_booking):
    booking = make_booking()

    response = callers[caller].post(f"/api/bookings/{booking.pk}/complimentary/", {"reason": "Trial"})

    assert response.status_code == COMPLIMENTARY_MATRIX[caller], response.content
    expected = "complimentary" if response.status_code == 200 else "unpaid"
    assert fresh(studio_a, booking).payment_state == expected


def test_a_trainer_s_complimentary_is_refused_in_the_service_s_words(as_user, trainer_a, studio_a, make_booking):
    booking = make_booking()

    response = as_user(trainer_a).post(f"/api/bookings/{booking.pk}/complimentary/", {"reason": "Trial"})

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "Only the owner or a manager can make a session complimentary.",
        "fields": {},
    }
    assert fresh(studio_a, booking).payment_state == "unpaid"


def test_another_client_s_package_reads_as_not_existing(as_user, manager_a, studio_a, make_booking):
    booking = make_booking()
    with tenant_context(studio_a):
        theirs = sell(ClientFactory())

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/attach-package/", {"client_package": theirs.pk})

    assert response.status_code == 400
    assert "does not exist" in response.json()["fields"]["client_package"][0]
    assert ledger(studio_a, theirs)[0] == 10


def test_attaching_to_a_paid_booking_is_409_and_says_why(as_user, manager_a, studio_a, make_booking, booking_client_a):
    booking = make_booking()
    with tenant_context(studio_a):
        pack = sell(booking_client_a)
    as_user(manager_a).post(f"/api/bookings/{booking.pk}/complimentary/")

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/attach-package/", {"client_package": pack.pk})

    assert (response.status_code, response.json()["code"]) == (409, "payment_already_settled")
    assert ledger(studio_a, pack)[0] == 10


@pytest.mark.parametrize(
    "body",
    [
        {"payment_method": "complimentary", "amount_paid": "40"},
        {"payment_method": "cash", "amount_paid": "0"},
        {"payment_method": "cash", "amount_paid": "12.345"},
        {"payment_method": "cash", "amount_paid": "40", "currency": "gbp"},
        {"amount_paid": "40"},
    ],
)
def test_record_payment_input_is_validated(as_user, manager_a, studio_a, make_booking, body):
    booking = make_booking()

    response = as_user(manager_a).post(f"/api/bookings/{booking.pk}/record-payment/", body)

    assert response.status_code == 400
    assert fresh(studio_a, booking).payment_state == "unpaid"


def test_a_payment_is_in_the_booking_s_currency(as_user, manager_a, studio_a, make_booking):
    booking = make_booking()
    api = as_user(manager_a)

    other = api.post(
        f"/api/bookings/{booking.pk}/record-payment/",
        {"payment_method": "cash", "amount_paid": "40", "currency": "EUR"},
    )
    assert (other.status_code, list(other.json()["fields"])) == (400, ["currency"])
    assert "GBP" in other.json()["fields"]["currency"][0]
    assert fresh(studio_a, booking).payment_state == "unpaid"

    same = api.post(
        f"/api/bookings/{booking.pk}/record-payment/",
        {"payment_method": "cash", "amount_paid": "40", "currency": "GBP"},
    )
    assert (same.status_code, same.json()["payment_currency"]) == (200, "GBP")


def test_a_studio_cancellation_of_a_paid_booking_says_the_studio_refunds_the_money(
    as_user, manager_a, studio_a, make_booking, django_capture_on_commit_callbacks
):
    booking = make_booking()
    api = as_user(manager_a)
    api.post(f"/api/bookings/{booking.pk}/record-payment/", {"payment_method": "card", "amount_paid": "45.50"})
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/bookings/{booking.pk}/cancel/", {"reason": "Trainer off sick"})
    history = api.get(f"/api/bookings/{booking.pk}/history/").json()

    assert (response.status_code, response.json()["payment_state"]) == (200, "paid")
    assert history[-1]["kind"] == "cancelled"
    assert history[-1]["note"] == "The studio is to refund the 45.50 GBP paid. Trainer off sick"
    [message] = [message for message in mail.outbox if message.to == [booking.client.email]]
    assert "Alpha Strength will refund the 45.50 GBP you paid for it." in message.body


def test_a_client_s_cancellation_of_a_paid_booking_promises_no_refund(
    as_user, manager_a, client_a, studio_a, make_booking, django_capture_on_commit_callbacks
):
    booking = make_booking()
    as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/record-payment/", {"payment_method": "cash", "amount_paid": "40"}
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        as_user(client_a).post(f"/api/bookings/{booking.pk}/cancel/")
    history = as_user(manager_a).get(f"/api/bookings/{booking.pk}/history/").json()

    assert "refund" not in history[-1]["note"]
    assert "refund" not in mail.outbox[-1].body


def test_the_history_shows_each_payment_step(as_user, manager_a, studio_a, make_booking):
    booking = make_booking()
    as_user(manager_a).post(
        f"/api/bookings/{booking.pk}/record-payment/", {"payment_method": "bank_transfer", "amount_paid": "40"}
    )

    history = as_user(manager_a).get(f"/api/bookings/{booking.pk}/history/").json()

    assert [event["kind"] for event in history] == ["created", "payment_recorded"]
    assert history[-1]["actor"] == manager_a.pk
    assert history[-1]["note"] == "40.00 GBP by bank transfer."
