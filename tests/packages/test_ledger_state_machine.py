"""The ledger explains every balance, whatever happens in whatever order.

A hypothesis state machine buys packages, books (naming a package or not), cancels in time and late, marks
no-shows, reschedules, expires and corrects, through the services, and keeps a model of what each balance should
be. After every step: each package's balance equals the sum of its ledger, is never negative, and is what the
model says.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_tenants.utils import tenant_context
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import ValidationFailed
from tenant_apps.bookings import services as bookings
from tenant_apps.bookings.models import Booking
from tenant_apps.packages import services as packages
from tenant_apps.packages.models import ClientPackage
from tests.factories import ClientFactory, SessionTypeFactory, TrainerFactory, UserFactory, WindowFactory

LONDON = ZoneInfo("Europe/London")
FIRST_HOUR, LAST_HOUR = 6, 21  # the trainer works 06:00-22:00 every day: 16 one-hour slots a day


@dataclass
class Sold:
    """The model of one client package."""

    client: int
    covers: set[int] | None  # session type ids; None = every session type
    expiry_date: date
    balance: int
    is_expired: bool = False

    def usable(self, session_type: int, on_date: date) -> bool:
        return not self.is_expired and self.expiry_date >= on_date and self.balance > 0 and self.pays_for(session_type)

    def pays_for(self, session_type: int) -> bool:
        return self.covers is None or session_type in self.covers


@dataclass
class Booked:
    id: int
    start: datetime
    paid_by: int | None
    active: bool = True


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Every example starts from the same empty studio: its rows live in a savepoint rolled back in teardown.
        self.savepoint = transaction.atomic()
        self.savepoint.__enter__()
        self.now = timezone.now()
        self.today = self.now.astimezone(LONDON).date()
        trainer = TrainerFactory(user=UserFactory(role=Role.TRAINER, email="machine-coach@alpha.test"))
        for day in range(7):
            WindowFactory(trainer=trainer, day_of_week=day, start_time="06:00", end_time="22:00")
        self.trainer = trainer
        self.session_types = [
            SessionTypeFactory(name=name, trainers=[trainer], min_notice_minutes=0, cancellation_window_hours=24)
            for name in ("PT", "Yoga")
        ]
        self.clients = [ClientFactory(email=f"machine{index}@alpha.test") for index in range(2)]
        # Who cancels decides the refund; any client user's cancellation is a client's.
        self.client_user = UserFactory(role=Role.CLIENT, email="machine-client@alpha.test")
        self.sold: dict[int, Sold] = {}
        self.booked: list[Booked] = []
        self.hours_taken: dict[int, int] = {}

    def teardown(self):
        transaction.set_rollback(True)
        self.savepoint.__exit__(None, None, None)

    # -- helpers ------------------------------------------------------------------------------------------

    def next_start(self, days_ahead: int) -> datetime:
        """A slot on that day no booking ever took. Two days ahead at least, so that "now" is always before the
        cancellation window (24 hours) and a cancellation at "now" is a timely one."""
        hour = FIRST_HOUR + self.hours_taken.get(days_ahead, 0)
        assert hour <= LAST_HOUR, "more steps than slots in a day"
        self.hours_taken[days_ahead] = self.hours_taken.get(days_ahead, 0) + 1
        return datetime.combine(self.today + timedelta(days=days_ahead), time(hour), tzinfo=LONDON)

    def booking(self, booked: Booked) -> Booking:
        return Booking.objects.get(pk=booked.id)

    def package_at(self, index: int) -> ClientPackage:
        return ClientPackage.objects.get(pk=sorted(self.sold)[index % len(self.sold)])

    def active_booking(self, index: int) -> Booked:
        # Bookings paid by a credit first: they are the interesting ones, and small indexes are drawn most.
        active = sorted((booked for booked in self.booked if booked.active), key=lambda booked: booked.paid_by is None)
        return active[index % len(active)]

    def has_active_bookings(self) -> bool:
        return any(booked.active for booked in self.booked)

    # -- rules --------------------------------------------------------------------------------------------

    # Mostly packages that can pay for what is booked, so that most bookings move credits.
    purchases = {
        "client": st.sampled_from([0, 0, 1]),
        "sessions": st.integers(1, 3),
        "validity_days": st.integers(1, 30),
        "covers": st.sampled_from(["all", "all", "pt", "yoga", "both"]),
    }

    @initialize(**purchases)
    def first_purchase(self, client, sessions, validity_days, covers):
        self.purchase(client, sessions, validity_days, covers)

    @rule(**purchases)
    def purchase(self, client, sessions, validity_days, covers):
        types = {"all": [], "pt": self.session_types[:1], "yoga": self.session_types[1:], "both": self.session_types}
        package = packages.package_create(
            name="Pack",
            sessions_count=sessions,
            price=Decimal("50"),
            validity_days=validity_days,
            session_types=types[covers],
        )
        sold = packages.package_assign(
            package=package, client=self.clients[client], payment_method="cash", amount_paid=Decimal("50")
        )
        assert sold.expiry_date == self.today + timedelta(days=validity_days)
        self.sold[sold.pk] = Sold(
            client=self.clients[client].pk,
            covers={session_type.pk for session_type in types[covers]} or None,
            expiry_date=sold.expiry_date,
            balance=sessions,
        )

    @rule(
        client=st.sampled_from([0, 0, 1]),
        session_type=st.integers(0, 1),
        named=st.sampled_from(["none", "own", "own", "any"]),
        index=st.integers(0, 20),
        days_ahead=st.integers(2, 16),
    )
    def book(self, client, session_type, named, index, days_ahead):
        """Naming no package, one of the client's own, or any package (perhaps another client's)."""
        client, session_type = self.clients[client], self.session_types[session_type]
        start = self.next_start(days_ahead)
        on_date = start.astimezone(LONDON).date()
        own = sorted(pk for pk, model in self.sold.items() if model.client == client.pk)
        candidates = {"none": [], "own": own, "any": sorted(self.sold)}[named]
        chosen = ClientPackage.objects.get(pk=candidates[index % len(candidates)]) if candidates else None

        expected_error, paid_by = None, None
        if chosen is not None:
            model = self.sold[chosen.pk]
            if model.client != client.pk or not model.pays_for(session_type.pk):
                expected_error = packages.PackageNotApplicable
            elif model.is_expired or model.expiry_date < on_date:
                expected_error = packages.PackageExpired
            elif model.balance <= 0:
                expected_error = packages.NoCreditsLeft
            else:
                paid_by = chosen.pk
        else:
            usable = [
                pk
                for pk, model in self.sold.items()
                if model.client == client.pk and model.usable(session_type.pk, on_date)
            ]
            # The one expiring first pays (ties: the one sold first).
            usable.sort(key=lambda pk: (self.sold[pk].expiry_date, pk))
            paid_by = usable[0] if usable else None

        def create():
            return bookings.booking_create(
                trainer=self.trainer,
                client=client,
                session_type=session_type,
                start_time=start,
                client_package=chosen,
                now=self.now,
            )

        if expected_error is not None:
            with pytest.raises(expected_error):
                create()
            return
        booking = create()
        assert booking.client_package_id == paid_by
        if paid_by is not None:
            self.sold[paid_by].balance -= 1
        self.booked.append(Booked(id=booking.pk, start=start, paid_by=paid_by))

    @precondition(has_active_bookings)
    @rule(index=st.integers(0, 20))
    def cancel_in_time(self, index):
        booked = self.active_booking(index)
        cancelled = bookings.booking_cancel(booking=self.booking(booked), actor=self.client_user, now=self.now)
        assert cancelled.is_late_cancellation is False
        booked.active = False
        if booked.paid_by is not None:
            self.sold[booked.paid_by].balance += 1

    @precondition(has_active_bookings)
    @rule(index=st.integers(0, 20), hours_before=st.integers(0, 23))
    def cancel_late(self, index, hours_before):
        booked = self.active_booking(index)
        moment = booked.start - timedelta(hours=hours_before, minutes=30)
        cancelled = bookings.booking_cancel(booking=self.booking(booked), actor=self.client_user, now=moment)
        assert cancelled.is_late_cancellation is True
        booked.active = False

    @precondition(has_active_bookings)
    @rule(index=st.integers(0, 20), hours_before=st.integers(0, 23))
    def cancel_by_the_studio(self, index, hours_before):
        """Staff cancel, even at the last minute: the credit always comes back."""
        booked = self.active_booking(index)
        moment = booked.start - timedelta(hours=hours_before, minutes=30)
        cancelled = bookings.booking_cancel(booking=self.booking(booked), actor=self.trainer.user, now=moment)
        assert (cancelled.cancelled_by, cancelled.is_late_cancellation) == ("studio", False)
        booked.active = False
        if booked.paid_by is not None:
            self.sold[booked.paid_by].balance += 1

    @precondition(has_active_bookings)
    @rule(index=st.integers(0, 20))
    def no_show(self, index):
        booked = self.active_booking(index)
        bookings.booking_no_show(booking=self.booking(booked), actor=None, now=booked.start + timedelta(minutes=15))
        booked.active = False

    @precondition(has_active_bookings)
    @rule(index=st.integers(0, 20), days_ahead=st.integers(2, 16))
    def reschedule(self, index, days_ahead):
        booked = self.active_booking(index)
        start = self.next_start(days_ahead)
        paid_by = self.sold.get(booked.paid_by)
        if paid_by is not None and paid_by.expiry_date < start.astimezone(LONDON).date():
            with pytest.raises(packages.PackageExpired):
                bookings.booking_reschedule(booking=self.booking(booked), start_time=start, actor=None, now=self.now)
            return
        moved = bookings.booking_reschedule(booking=self.booking(booked), start_time=start, actor=None, now=self.now)
        assert moved.client_package_id == booked.paid_by
        booked.start = start

    @rule(days_ahead=st.integers(0, 20))
    def expire(self, days_ahead):
        today = self.today + timedelta(days=days_ahead)
        changed = packages.package_expire_due(today=today)
        expected = 0
        for model in self.sold.values():
            if model.expiry_date < today and (model.balance > 0 or not model.is_expired):
                expected += 1
                model.balance = 0
                model.is_expired = True
        assert changed == expected

    @precondition(lambda self: self.sold)
    @rule(index=st.integers(0, 20), delta=st.integers(-3, 3))
    def adjust(self, index, delta):
        client_package = self.package_at(index)
        model = self.sold[client_package.pk]
        if delta == 0:
            error = ValidationFailed
        elif model.is_expired or model.expiry_date < self.today:
            error = packages.PackageExpired
        elif model.balance + delta < 0:
            error = packages.InsufficientBalance
        else:
            error = None

        def correct():
            packages.client_package_adjust(
                client_package=client_package, delta=delta, reason="Machine", actor=None, today=self.today
            )

        if error is not None:
            with pytest.raises(error):
                correct()
            return
        correct()
        model.balance += delta

    # -- what must always hold ----------------------------------------------------------------------------

    @invariant()
    def every_balance_is_its_ledger_sum_and_never_negative(self):
        rows = ClientPackage.objects.annotate(ledger=Coalesce(Sum("transactions__delta"), 0)).values_list(
            "pk", "sessions_remaining", "ledger", "status"
        )
        seen = {}
        for pk, balance, ledger, status in rows:
            assert balance == ledger, (pk, balance, ledger)
            assert balance >= 0
            seen[pk] = (balance, status == ClientPackage.Status.EXPIRED)
        assert seen == {pk: (model.balance, model.is_expired) for pk, model in self.sold.items()}


@pytest.mark.django_db
def test_the_ledger_explains_every_balance(studio_a):
    with tenant_context(studio_a):
        run_state_machine_as_test(
            LedgerMachine, settings=settings(max_examples=25, stateful_step_count=15, deadline=None)
        )
