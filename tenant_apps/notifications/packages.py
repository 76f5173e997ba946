"""A client's package messages: a receipt when a package is sold (``package_purchased``), and a reminder before
it ends while credits are left (``package_expiring``). Rows of the outbox like a booking's (``services.py``):
written in the sale's transaction, sent by ``notification_send``, rendered at send time from the package as it
is then.

The expiry reminder goes at 09:00 in the studio's zone, EXPIRY_REMINDER_DAYS days before the package's last day
(``expiry_date``, a studio day), so at nine on the same wall clock whether or not a DST change falls between
the sale and the reminder. It is written only when that moment is at least EXPIRY_REMINDER_LEAST after the
sale: a reminder arriving beside the receipt, or for a sale recorded late, tells nothing the receipt doesn't.
So a package valid for 7 days or fewer never gets one (its reminder would fall on or before the purchase day),
one valid for 8 days only when sold before 09:00, and a sale recorded long after the fact none once its
reminder's day is near or past. At send time the reminder is cancelled, not sent, when the package is gone,
expired (or past its last day), has no credits left, or its last day moved since the row was written (the row
says which day it was written for, in ``details``): whatever moved it writes the reminder of the new day.

Package rows name the client, and the address is read at send time, as a booking's messages do: a client
erased, deactivated or bouncing since gets nothing (``services._is_suppressed``). ``email_reminders`` (the
client's "remind me before my sessions") is about sessions and doesn't silence these.

Against the dependency arrows (packages → notifications), the package model is never imported here: it is
read through the row's foreign key, and its status and ledger kinds named by value.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from shared_apps.core.mail import render_mail
from shared_apps.core.money import money
from shared_apps.core.tasks import queue_task_on_commit
from shared_apps.core.tenancy import site_url, studio_date, studio_timezone
from tenant_apps.notifications.models import Channel, Kind, Notification

EXPIRY_REMINDER_DAYS = 7
EXPIRY_REMINDER_TIME = time(9, 0)
EXPIRY_REMINDER_LEAST = timedelta(days=1)


def _expiry_reminder_at(client_package) -> datetime:
    """09:00 in the studio's zone, EXPIRY_REMINDER_DAYS before the package's last day (a time that exists on
    every day, DST or not)."""
    day = client_package.expiry_date - timedelta(days=EXPIRY_REMINDER_DAYS)
    return datetime.combine(day, EXPIRY_REMINDER_TIME, tzinfo=ZoneInfo(studio_timezone()))


def _row(client_package, *, kind: str, send_after: datetime, details: dict | None = None) -> Notification:
    return Notification(
        recipient_email=client_package.client.email,
        client=client_package.client,
        channel=Channel.EMAIL,
        kind=kind,
        client_package=client_package,
        details=details or {},
        send_after=send_after,
    )


@transaction.atomic
def package_notifications_write(*, client_package, now: datetime | None = None) -> list[Notification]:
    """Write the receipt of a sale (queued for sending once the caller's transaction commits) and, under the
    rule of the module's docstring, the expiry reminder (left to the sweep); the rows, receipt first."""
    now = now or timezone.now()
    # The receipt goes now: due by the worker's clock too, even when the caller's ``now`` runs ahead of it.
    receipt = _row(client_package, kind=Kind.PACKAGE_PURCHASED, send_after=min(now, timezone.now()))
    rows = [receipt]
    reminder_at = _expiry_reminder_at(client_package)
    if reminder_at >= now + EXPIRY_REMINDER_LEAST:
        details = {"expiry_date": client_package.expiry_date.isoformat()}
        rows.append(_row(client_package, kind=Kind.PACKAGE_EXPIRING, send_after=reminder_at, details=details))
    rows = Notification.objects.bulk_create(rows)
    # Imported here: the tasks module imports the outbox's services, which import this one.
    from tenant_apps.notifications.tasks import send_notification

    # Only the receipt: a reminder weeks away is the sweep's (no eta/countdown in the broker).
    queue_task_on_commit(send_notification, notification_ids=[receipt.pk])
    return rows


def package_obsolete(notification: Notification, *, now: datetime) -> bool:
    """Whether a package message is cancelled rather than sent at ``now``: a receipt only when its package is
    gone; a reminder also when the package expired or reached its last day's end, has no credits left, or its
    last day is no longer the one the reminder was written for."""
    client_package = notification.client_package
    if client_package is None:
        return True
    if notification.kind != Kind.PACKAGE_EXPIRING:
        return False
    return (
        client_package.status == "expired"
        or client_package.expiry_date < studio_date(now)
        or client_package.sessions_remaining <= 0
        or notification.details.get("expiry_date") != client_package.expiry_date.isoformat()
    )


def _sessions_bought(client_package) -> int:
    """The credits the sale gave, from its purchase ledger row: the package on sale may hold another number
    since (changes apply to future sales only)."""
    return client_package.transactions.get(kind="purchase").delta


def package_email(notification: Notification) -> EmailMultiAlternatives:
    """The receipt or the expiry reminder, from the package as it is now (its name, credits left, last day)."""
    client_package, client = notification.client_package, notification.client
    context = {
        "client": client,
        "client_package": client_package,
        "package": client_package.package,
        "sessions_bought": _sessions_bought(client_package),
        "amount_paid": money(client_package.amount_paid, client_package.currency),
        "is_complimentary": client_package.payment_method == "complimentary" or not client_package.amount_paid,
        # Package days are the studio's: its purchase day and last day are dates in the studio's zone.
        "zone": studio_timezone(),
        # A studio's pages, whatever URLconf the sending thread was left with (a platform request's, in tests).
        "account_url": site_url(reverse("account-packages", urlconf=settings.ROOT_URLCONF)),
        "book_url": site_url(reverse("book", urlconf=settings.ROOT_URLCONF)),
    }
    return EmailMultiAlternatives(**render_mail(template=notification.kind, to=client.email, context=context))
