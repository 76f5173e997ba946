"""A package sale's messages: the receipt goes at once, the expiry reminder at 09:00 studio time a week before the
last day (across a DST change too), none when that is less than a day after the sale; at send time a reminder of
a package used up, expired or moved is cancelled, and every mail tells the package as it is then."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_erase
from tenant_apps.notifications.models import Notification
from tenant_apps.notifications.packages import package_email, package_obsolete
from tenant_apps.notifications.services import notification_send
from tenant_apps.packages import services
from tenant_apps.packages.models import ClientPackage, CreditTransaction, SessionPackage
from tests.factories import ClientFactory, SessionPackageFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
# A winter Monday: London is on UTC.
WINTER = datetime(2027, 1, 11, 10, 0, tzinfo=UTC)


@pytest.fixture
def buyer(studio_a):
    with tenant_context(studio_a):
        return ClientFactory(first_name="Bea", last_name="Buyer", email="bea@example.test")


def sell(studio, client, *, now: datetime = WINTER, amount_paid="280.00", payment_method="card", **package):
    """Sell a new package (``package``: the factory's fields) to ``client`` at ``now``, through the service."""
    with tenant_context(studio):
        return services.package_assign(
            package=SessionPackageFactory(**{"name": "Ten pack", "sessions_count": 10, **package}),
            client=client,
            payment_method=payment_method,
            amount_paid=Decimal(amount_paid),
            now=now,
        )


def package_rows(studio, client_package) -> list[tuple]:
    """(kind, status, send_after, details, client, recipient_email) of the package's rows, oldest first."""
    with tenant_context(studio):
        return list(
            Notification.objects.filter(client_package=client_package)
            .order_by("id")
            .values_list("kind", "status", "send_after", "details", "client", "recipient_email")
        )


def row(studio, client_package, kind) -> Notification:
    """The package's message of ``kind``, as the sender reads it."""
    with tenant_context(studio):
        pk = Notification.objects.get(client_package=client_package, kind=kind).pk
    return reread(studio, pk)


def reread(studio, pk) -> Notification:
    with tenant_context(studio):
        return Notification.objects.select_related("client", "client_package__package").get(pk=pk)


# -- writing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validity_days", "expiry_date", "reminder_utc"),
    [
        # Sold 20 Feb 2027 (GMT); UK summer time starts 28 March 2027.
        (41, date(2027, 4, 2), datetime(2027, 3, 26, 9, 0, tzinfo=UTC)),  # reminder before the change: GMT
        (45, date(2027, 4, 6), datetime(2027, 3, 30, 8, 0, tzinfo=UTC)),  # after it: BST, 09:00 is 08:00 UTC
    ],
)
def test_a_sale_writes_the_receipt_now_and_the_reminder_at_nine_studio_time_a_week_before_the_last_day(
    studio_a, buyer, validity_days, expiry_date, reminder_utc
):
    sold = sell(studio_a, buyer, validity_days=validity_days, now=datetime(2027, 2, 20, 12, 0, tzinfo=UTC))

    assert sold.expiry_date == expiry_date
    [receipt, reminder] = package_rows(studio_a, sold)
    assert receipt[:2] == ("package_purchased", "pending") and receipt[3:] == ({}, buyer.pk, "bea@example.test")
    # Due at once, by the worker's clock (the sale's ``now`` runs ahead of it here).
    assert receipt[2] <= timezone.now()
    assert reminder == (
        "package_expiring",
        "pending",
        reminder_utc,
        {"expiry_date": expiry_date.isoformat()},
        buyer.pk,
        "bea@example.test",
    )
    local = reminder[2].astimezone(LONDON)
    assert (local.date(), local.hour, local.minute) == (expiry_date - timedelta(days=7), 9, 0)


@pytest.mark.parametrize(
    ("validity_days", "sold_at_london", "reminder_utc"),
    [
        (1, "08:00", None),
        (7, "07:00", None),  # the reminder would be the purchase day's 09:00: two hours after the sale
        (8, "10:00", None),  # tomorrow's 09:00 is 23 hours away
        (8, "08:00", datetime(2027, 1, 12, 9, 0, tzinfo=UTC)),  # 25 hours away
        (9, "23:00", datetime(2027, 1, 13, 9, 0, tzinfo=UTC)),
    ],
)
def test_the_expiry_reminder_is_written_only_a_day_or_more_after_the_sale(
    studio_a, buyer, validity_days, sold_at_london, reminder_utc
):
    hour, minute = map(int, sold_at_london.split(":"))
    sold = sell(studio_a, buyer, validity_days=validity_days, now=WINTER.replace(hour=hour, minute=minute))

    kinds = [(kind, send_after) for kind, _status, send_after, *_rest in package_rows(studio_a, sold)]
    assert kinds[0][0] == "package_purchased"
    assert kinds[1:] == ([] if reminder_utc is None else [("package_expiring", reminder_utc)])


def test_a_sale_recorded_late_gets_no_reminder_once_its_day_has_passed(studio_a, buyer):
    with tenant_context(studio_a):
        sold = services.package_assign(
            package=SessionPackageFactory(validity_days=30),
            client=buyer,
            payment_method="cash",
            amount_paid=Decimal("100"),
            purchased_at=WINTER - timedelta(days=25),
            now=WINTER,
        )

    assert [kind for kind, *_rest in package_rows(studio_a, sold)] == ["package_purchased"]


def test_a_sale_in_one_studio_writes_nothing_in_the_other(studio_a, studio_b, buyer):
    with tenant_context(studio_b):
        before_b = Notification.objects.count()

    sold = sell(studio_a, buyer, validity_days=60)

    with tenant_context(studio_b):
        assert Notification.objects.count() == before_b
    assert len(package_rows(studio_a, sold)) == 2


def test_a_sale_that_fails_writes_no_message(studio_a, buyer):
    with tenant_context(studio_a):
        Client.objects.filter(pk=buyer.pk).update(is_active=False)
        buyer.refresh_from_db()
        before = Notification.objects.count()

        with pytest.raises(services.ValidationFailed):
            services.package_assign(
                package=SessionPackageFactory(), client=buyer, payment_method="cash", amount_paid=Decimal("10")
            )

        assert Notification.objects.count() == before


# -- obsolete at send time ---------------------------------------------------------------------------------


def _use_up(client_package):
    services.client_package_adjust(client_package=client_package, delta=-10, reason="Used elsewhere", actor=None)


def _expire(client_package):
    services.package_expire_due(today=client_package.expiry_date + timedelta(days=1))


def _move(client_package):
    ClientPackage.objects.filter(pk=client_package.pk).update(expiry_date=client_package.expiry_date + timedelta(14))


def _delete(client_package):
    CreditTransaction.objects.filter(client_package=client_package).delete()
    client_package.delete()


@pytest.mark.parametrize(
    ("change", "expiring_obsolete", "purchased_obsolete"),
    [
        (None, False, False),
        (_use_up, True, False),
        (_expire, True, False),
        (_move, True, False),
        (_delete, True, True),
    ],
)
def test_an_expiry_reminder_of_a_package_used_up_expired_moved_or_gone_is_obsolete(
    studio_a, buyer, change, expiring_obsolete, purchased_obsolete
):
    sold = sell(studio_a, buyer, validity_days=60)
    reminder, receipt = row(studio_a, sold, "package_expiring"), row(studio_a, sold, "package_purchased")
    if change is not None:
        with tenant_context(studio_a):
            change(sold)
    reminder, receipt = reread(studio_a, reminder.pk), reread(studio_a, receipt.pk)

    with tenant_context(studio_a):
        assert package_obsolete(reminder, now=reminder.send_after) is expiring_obsolete
        assert package_obsolete(receipt, now=reminder.send_after) is purchased_obsolete


def test_a_reminder_claimed_after_the_package_s_last_day_is_obsolete_before_the_expiry_run(studio_a, buyer):
    sold = sell(studio_a, buyer, validity_days=60)
    reminder = row(studio_a, sold, "package_expiring")
    last_day_end = datetime.combine(sold.expiry_date + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)

    with tenant_context(studio_a):
        assert package_obsolete(reminder, now=last_day_end - timedelta(seconds=1)) is False
        assert package_obsolete(reminder, now=last_day_end) is True


# -- rendering ---------------------------------------------------------------------------------------------


def test_the_receipt_tells_the_sale_and_the_package_as_it_is_at_send_time(studio_a, buyer):
    sold = sell(studio_a, buyer, validity_days=90, amount_paid="280.00", payment_method="card")
    with tenant_context(studio_a):
        # Since the sale: the package on sale renamed and grown (future sales only), three credits used.
        SessionPackage.objects.filter(pk=sold.package_id).update(name="Ten pack (2027)", sessions_count=12)
        services.client_package_adjust(client_package=sold, delta=-3, reason="Used", actor=None)
        Client.objects.filter(pk=buyer.pk).update(email="bea.new@example.test")

        message = package_email(row(studio_a, sold, "package_purchased"))

    assert message.subject == "Your receipt: Ten pack (2027), 10 sessions"
    assert message.to == ["bea.new@example.test"]
    assert message.from_email == "Alpha Strength <no-reply@localhost>"
    body = message.body
    assert body.startswith("Hello Bea,\n")
    assert "Ten pack (2027): 10 sessions\n" in body
    assert "Paid £280.00 (card) on 11 January 2027\n" in body
    assert "Valid up to and including Sunday 11 April 2027\n" in body
    assert "Credits left now: 7\n" in body
    assert "http://alpha.localhost/account/packages/" in body and "http://alpha.localhost/book/" in body
    # No account yet: the address to sign up with is the one the mail went to.
    assert "(sign up with this email address)" in body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "£280.00 (card)" in html


def test_a_complimentary_receipt_says_so_and_other_currencies_carry_their_code(studio_a, buyer):
    free = sell(studio_a, buyer, amount_paid="0", payment_method="complimentary", validity_days=60)
    swiss = sell(studio_a, buyer, amount_paid="95.50", payment_method="cash", currency="CHF", validity_days=60)

    with tenant_context(studio_a):
        free_body = package_email(row(studio_a, free, "package_purchased")).body
        swiss_body = package_email(row(studio_a, swiss, "package_purchased")).body

    assert "  Complimentary on 11 January 2027\n" in free_body and "Paid" not in free_body
    assert "Paid 95.50 CHF (cash) on 11 January 2027\n" in swiss_body


def test_the_expiry_reminder_tells_the_credits_left_and_the_last_day(studio_a, buyer):
    sold = sell(studio_a, buyer, validity_days=30)
    with tenant_context(studio_a):
        services.client_package_adjust(client_package=sold, delta=-9, reason="Used", actor=None)

        message = package_email(row(studio_a, sold, "package_expiring"))

    assert message.subject == "1 credit left: Ten pack ends on Wed 10 Feb"
    assert "Ten pack: 1 credit left\n" in message.body
    assert "Last day to use them: Wednesday 10 February 2027\n" in message.body
    assert "http://alpha.localhost/account/packages/" in message.body


def test_a_client_with_an_account_is_not_asked_to_sign_up(studio_a, buyer, client_a):
    with tenant_context(studio_a):
        Client.objects.filter(pk=buyer.pk).update(user=client_a)
        buyer.refresh_from_db()
    sold = sell(studio_a, buyer, validity_days=30)

    with tenant_context(studio_a):
        body = package_email(row(studio_a, sold, "package_purchased")).body

    assert "in your account: http://alpha.localhost/account/packages/" in body and "sign up" not in body


# -- end to end, through the outbox's sender ---------------------------------------------------------------


def test_the_receipt_is_sent_once_the_sale_commits(studio_a, buyer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        sold = sell(studio_a, buyer, validity_days=60)

    [message] = mail.outbox
    assert message.subject == "Your receipt: Ten pack, 10 sessions" and message.to == ["bea@example.test"]
    assert [(kind, status) for kind, status, *_rest in package_rows(studio_a, sold)] == [
        ("package_purchased", "sent"),
        ("package_expiring", "pending"),
    ]


def test_the_sweep_sends_the_reminder_when_due_and_cancels_it_once_the_credits_are_used(studio_a, buyer):
    kept, used = sell(studio_a, buyer, validity_days=60), sell(studio_a, buyer, validity_days=60)
    with tenant_context(studio_a):
        _use_up(used)
        first, second = row(studio_a, kept, "package_expiring"), row(studio_a, used, "package_expiring")

        assert notification_send(notification_id=first.pk, now=first.send_after - timedelta(seconds=1)) is None
        assert notification_send(notification_id=first.pk, now=first.send_after) == "sent"
        assert notification_send(notification_id=second.pk, now=second.send_after) == "cancelled"

    [message] = mail.outbox
    assert message.subject == "10 credits left: Ten pack ends on Fri 12 Mar"


@pytest.mark.parametrize("change", [{"is_active": False}, {"erased_at": datetime(2026, 1, 1, tzinfo=UTC)}])
def test_a_client_deactivated_or_erased_since_the_sale_gets_no_package_mail(studio_a, buyer, change):
    sold = sell(studio_a, buyer, validity_days=60)
    with tenant_context(studio_a):
        Client.objects.filter(pk=buyer.pk).update(**change)
        for kind in ("package_purchased", "package_expiring"):
            message = row(studio_a, sold, kind)

            assert notification_send(notification_id=message.pk, now=message.send_after) == "suppressed"

    assert mail.outbox == []


def test_erasing_a_client_suppresses_their_pending_package_reminder(studio_a, buyer):
    sold = sell(studio_a, buyer, validity_days=60)
    reminder = row(studio_a, sold, "package_expiring")
    with tenant_context(studio_a):
        client_erase(client=buyer)

        assert notification_send(notification_id=reminder.pk, now=reminder.send_after) == "suppressed"

    assert mail.outbox == []
