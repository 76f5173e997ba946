"""The outbox. A booking's messages are rows written in the booking's own transaction; Celery sends them after
commit, and a sweep every minute sends what is due (reminders) or was never queued (the broker was down).

Reminders (``reminder_24h`` at the start minus 24 h, ``reminder_1h`` at the start minus 1 h, both in real time,
so a DST change in between doesn't move them) are written for confirmed bookings only, and only when they
would go out at least 2 hours (24 h reminder) or 15 minutes (1 h reminder) from now: a booking made 3 hours
ahead gets the 1 h reminder only, one made 20 minutes ahead none, so no reminder arrives right after the
confirmation or after the session. Reminders belong to a start time: a reschedule to another time cancels the
pending ones and writes the new time's; one that keeps the time (a handover to another trainer) leaves them as
they are, pending or sent (they render the new trainer when they go), and writes only a kind the booking has
none of for that time. A cancellation cancels them; at send time a reminder whose booking is no longer
confirmed, or has started, is cancelled rather than sent. ``NOTIFICATION_REMINDER_LEADS_MINUTES`` changes the
two leads (a demo's "10,2"); the margins stay the same fractions of them (``reminder_rules``).

A booking made or cancelled also tells its trainer (``staff_booking_new``, ``staff_booking_cancelled``), unless
the trainer did it. The client's booking mails carry a calendar invitation (``calendar.py``).

Messages are rendered when they are sent, from the booking as it is then (its time, its trainer, a manage link
of the current link version), never from what it was when the row was written. A confirmation, request or move
mail of a booking cancelled before it went is cancelled too: the cancellation mail, which still goes, tells it.

A failed send is retried on RETRY_DELAYS (1 minute doubling to 8 hours, about a day in all), so an ESP outage
of hours loses nothing; a reminder whose next try would come after its session started ends failed at once.
"""

import logging
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from shared_apps.core.mail import render_mail
from shared_apps.core.tasks import queue_task_on_commit
from shared_apps.core.tenancy import current_studio, site_url, studio_timezone
from tenant_apps.notifications.calendar import booking_invitation_part
from tenant_apps.notifications.models import (
    PACKAGE_KINDS,
    REMINDER_KINDS,
    STAFF_KINDS,
    Channel,
    Kind,
    Notification,
    StaffNotificationPreference,
    Status,
)
from tenant_apps.notifications.packages import package_email, package_obsolete
from tenant_apps.notifications.rendering import booking_message_context, template_of
from tenant_apps.notifications.sms import SmsRefused, SmsUndeliverable, sms_deliver, sms_rows, sms_suppressed

logger = logging.getLogger(__name__)

# The event a booking service reports → the client's message for it.
CLIENT_MESSAGES = {
    "booking_confirmed": Kind.BOOKING_CONFIRMED,
    "booking_requested": Kind.BOOKING_REQUESTED,
    "booking_rescheduled": Kind.BOOKING_RESCHEDULED,
    "booking_cancelled": Kind.BOOKING_CANCELLED,
}
# The staff notice for an event, to the booking's trainer.
STAFF_MESSAGES = {"booking_created": Kind.STAFF_BOOKING_NEW, "booking_cancelled": Kind.STAFF_BOOKING_CANCELLED}
# The client's mails that carry a calendar invitation, with its METHOD.
INVITATION_METHODS = {
    Kind.BOOKING_CONFIRMED: "REQUEST",
    Kind.BOOKING_REQUESTED: "REQUEST",
    Kind.BOOKING_RESCHEDULED: "REQUEST",
    Kind.BOOKING_CANCELLED: "CANCEL",
}
# After the n-th failed attempt the row waits RETRY_DELAYS[n - 1]: 1443 minutes from the first try to the last,
# so an ESP down for most of a day loses nothing. The last one's failure, or a claim after MAX_ATTEMPTS (the
# workers keep dying: at STUCK_AFTER each, two hours), ends the row failed.
RETRY_DELAYS = tuple(timedelta(minutes=minutes) for minutes in (1, 2, 4, 8, 16, 32, 60, 120, 240, 480, 480))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A row claimed this long ago and still "sending" lost its worker; the sweep claims it again.
STUCK_AFTER = timedelta(minutes=10)
SWEEP_BATCH = 500
# The client's news of a booking that a cancellation since makes wrong ("booked"): not sent once it is cancelled.
BOOKING_NEWS_KINDS = (Kind.BOOKING_CONFIRMED, Kind.BOOKING_REQUESTED, Kind.BOOKING_RESCHEDULED)


def reminder_rules() -> tuple[tuple[str, timedelta, timedelta], ...]:
    """(kind, how long before the start, the least time from now it may be written for), from
    ``NOTIFICATION_REMINDER_LEADS_MINUTES`` (the early lead, then the late one; "1440,60" unless a demo
    shortens them). The margins are the same fractions of the leads as 2 h of 24 h and 15 minutes of 1 h."""
    leads = [int(minutes) for minutes in settings.NOTIFICATION_REMINDER_LEADS_MINUTES]
    if len(leads) != 2 or not leads[0] > leads[1] > 0:
        raise ImproperlyConfigured("NOTIFICATION_REMINDER_LEADS_MINUTES: two leads in minutes, longer first.")
    early, late = timedelta(minutes=leads[0]), timedelta(minutes=leads[1])
    return ((Kind.REMINDER_24H, early, early / 12), (Kind.REMINDER_1H, late, late / 4))


def _reminders_cancel(booking) -> int:
    return Notification.objects.filter(booking=booking, kind__in=REMINDER_KINDS, status=Status.PENDING).update(
        status=Status.CANCELLED, updated=timezone.now()
    )


def _written_for(details: dict) -> datetime | None:
    """The start a reminder was written for (None on a row that doesn't say)."""
    written_for = details.get("start_time")
    return datetime.fromisoformat(written_for) if written_for is not None else None


def _reminders_move(booking, *, now: datetime) -> list[Notification]:
    """Fit a confirmed booking's reminders to its start: cancel the pending ones written for another start, and
    write the kinds the current start has no reminder of (pending, sending, sent or gone wrong) under the
    "from now" rule. A move that keeps the time (a handover) so keeps a reminder due in minutes, which the
    rule would not write again, and sends none twice."""
    stale, current_kinds = [], set()
    reminders = Notification.objects.filter(booking=booking, kind__in=REMINDER_KINDS).exclude(status=Status.CANCELLED)
    for pk, kind, status, details in reminders.values_list("pk", "kind", "status", "details"):
        if _written_for(details) == booking.start_time:
            current_kinds.add(kind)
        elif status == Status.PENDING:
            stale.append(pk)
    if stale:
        Notification.objects.filter(pk__in=stale, status=Status.PENDING).update(
            status=Status.CANCELLED, updated=timezone.now()
        )
    return _reminders_write(booking, now=now, skip_kinds=current_kinds)


def _reminders_write(booking, *, now: datetime, skip_kinds=frozenset()) -> list[Notification]:
    """The reminders (and their SMS twins) the rule gives the booking's start, unsaved."""
    rows = []
    for kind, lead, least in reminder_rules():
        send_after = booking.start_time - lead
        if kind not in skip_kinds and send_after >= now + least:
            # The start it tells about: a move that raced a claimed reminder cancels it at send time.
            details = {"start_time": booking.start_time.isoformat()}
            rows.append(
                Notification(
                    recipient_email=booking.client.email,
                    client=booking.client,
                    kind=kind,
                    booking=booking,
                    details=details,
                    send_after=send_after,
                )
            )
            rows += sms_rows(booking=booking, kind=kind, send_after=send_after, details=details)
    return rows


@transaction.atomic
def staff_notice_mutes_set(*, user, received_kinds: list[str]) -> StaffNotificationPreference:
    """``user`` gets the staff notices ``received_kinds`` and none of the other STAFF_KINDS."""
    muted = [kind for kind in STAFF_KINDS if kind not in received_kinds]
    preference, _created = StaffNotificationPreference.objects.update_or_create(
        user=user, defaults={"muted_kinds": muted}
    )
    return preference


def staff_notice_received_kinds(user) -> list[str]:
    """The staff notices ``user`` gets (all of STAFF_KINDS unless muted)."""
    preference = StaffNotificationPreference.objects.filter(user=user).first()
    muted = set(preference.muted_kinds) if preference else set()
    return [kind for kind in STAFF_KINDS if kind not in muted]


def _staff_notice(booking, *, event: str, latest, now: datetime) -> Notification | None:
    """The trainer's notice (unsaved) of a booking made or cancelled, unless the trainer did it themselves, as
    ``latest`` (the BookingEvent the booking service recorded just before) says. A request confirmed later is
    not new (its notice went when it was made)."""
    if event in ("booking_confirmed", "booking_requested") and latest is not None and latest.kind == "created":
        kind = STAFF_MESSAGES["booking_created"]
    elif event == "booking_cancelled":
        kind = STAFF_MESSAGES["booking_cancelled"]
    else:
        return None
    user = booking.trainer.user
    if not user.email or not user.is_active:
        return None
    if latest is not None and latest.kind in ("created", "cancelled") and latest.actor_id == user.pk:
        return None
    # Written whether or not the trainer wants it: their choice is read when it is sent (_is_suppressed).
    return Notification(
        recipient_email=user.email, staff_user=user, channel=Channel.EMAIL, kind=kind, booking=booking, send_after=now
    )


# No savepoint of its own: it runs inside a booking service's transaction, whose failure undoes it all.
@transaction.atomic(savepoint=False)
def booking_notifications_write(
    *, booking, event: str, previous_trainer=None, latest_event=None, now: datetime | None = None
) -> list[Notification]:
    """Write the client's message for ``event`` (a key of CLIENT_MESSAGES), the trainer's notice of a booking
    made or cancelled, and move the reminders, in the caller's transaction, with one INSERT; the messages are
    queued for sending once it commits. Reminder rule: the module's docstring. ``previous_trainer``: the
    trainer before a reschedule that changed it. ``latest_event``: the BookingEvent the caller just recorded
    (who did it; read from the booking's history when not given)."""
    now = now or timezone.now()
    # The messages go now: due by the worker's clock too, even when the caller's ``now`` runs ahead of it.
    due = min(now, timezone.now())
    if latest_event is None:
        latest_event = booking.events.order_by("-id").first()
    details = {"previous_trainer_name": previous_trainer.display_name} if previous_trainer is not None else {}
    kind = CLIENT_MESSAGES[event]
    message = Notification(
        recipient_email=booking.client.email,
        client=booking.client,
        channel=Channel.EMAIL,
        kind=kind,
        booking=booking,
        details=details,
        send_after=due,
    )
    now_due = [message, *sms_rows(booking=booking, kind=kind, send_after=due, details=details)]
    staff_notice = _staff_notice(booking, event=event, latest=latest_event, now=due)
    if staff_notice is not None:
        now_due.append(staff_notice)
    reminders = []
    if event == "booking_cancelled":
        _reminders_cancel(booking)
    elif booking.status == "confirmed":
        if latest_event is not None and latest_event.kind == "created":
            reminders = _reminders_write(booking, now=now)  # a new booking has none to move
        else:
            reminders = _reminders_move(booking, now=now)
    rows = Notification.objects.bulk_create([*now_due, *reminders])
    # Imported here: the tasks module imports this one.
    from tenant_apps.notifications.tasks import send_notification

    # Only the messages due now, in one task; reminders hours away are left to the sweep (no eta/countdown in
    # the broker).
    queue_task_on_commit(send_notification, notification_ids=[row.pk for row in rows[: len(now_due)]])
    return rows


def _staff_email(notification: Notification) -> EmailMultiAlternatives:
    booking = notification.booking
    zone = ZoneInfo(studio_timezone())
    context = {
        "booking": booking,
        "local_start": booking.start_time.astimezone(zone),
        "zone": zone.key,
        # A studio's URL, whatever URLconf the sending thread was left with (a platform request's, in tests).
        "desk_url": site_url(reverse("desk:booking", kwargs={"booking_id": booking.pk}, urlconf=settings.ROOT_URLCONF)),
    }
    # Rendered in the zone the context names (render_mail): the date filter would show UTC in a worker.
    return EmailMultiAlternatives(
        **render_mail(template=notification.kind, to=notification.staff_user.email, context=context)
    )


def _with_tracking(email: EmailMultiAlternatives, notification: Notification) -> EmailMultiAlternatives:
    # Echoed back by the ESP's tracking webhooks (on the platform host): the studio and the row it is about.
    email.metadata = {"studio": connection.schema_name, "notification": str(notification.pk)}
    email.tags = [notification.kind]
    return email


def _email(notification: Notification) -> EmailMultiAlternatives:
    if notification.staff_user_id is not None:
        return _staff_email(notification)
    if notification.kind in PACKAGE_KINDS:
        return package_email(notification)
    booking = notification.booking
    previous_trainer_name = notification.details.get("previous_trainer_name")
    context = {
        **booking_message_context(notification),
        "previous_trainer": {"display_name": previous_trainer_name} if previous_trainer_name else None,
    }
    # Rendered in the zone the context names (render_mail): the date filter would show UTC in a worker.
    email = EmailMultiAlternatives(
        **render_mail(template=template_of(notification.kind), to=booking.client.email, context=context)
    )
    method = INVITATION_METHODS.get(notification.kind)
    if method is not None:
        # The news of a booking cancelled since doesn't go (_is_obsolete): only the cancellation's invitation
        # can meet a cancelled booking.
        email.attach(booking_invitation_part(booking=booking, studio=current_studio(), method=method))
    return email


def _is_obsolete(notification: Notification, *, now: datetime) -> bool:
    if notification.kind in PACKAGE_KINDS:
        return package_obsolete(notification, now=now)
    booking = notification.booking
    if booking is None:
        return True
    if notification.staff_user_id is not None:
        # A trainer whose account was turned off since (a handover cancels their bookings, then deactivates).
        staff_user = notification.staff_user
        return staff_user is None or not staff_user.is_active
    if notification.kind in BOOKING_NEWS_KINDS:
        # Queued before a cancellation that went first (the broker was down, the sweep came later): "booked"
        # would be wrong, and the cancellation mail tells the client.
        return booking.status == "cancelled"
    if notification.kind not in REMINDER_KINDS:
        return False
    written_for = _written_for(notification.details)
    if written_for is not None and written_for != booking.start_time:
        return True  # moved since: the move wrote the reminders of the new time
    return booking.status != "confirmed" or booking.start_time <= now


def _is_suppressed(notification: Notification) -> bool:
    """A client erased or deactivated since the row was written gets nothing (the address is read at send
    time, never the copy in ``recipient_email``)."""
    if notification.staff_user_id is not None:
        # The notice turned off (My notifications) since it was written, or before.
        return not notification.staff_user.email or notification.kind not in staff_notice_received_kinds(
            notification.staff_user
        )
    client = notification.client
    if client is None or client.erased_at is not None or not client.is_active:
        return True
    if notification.channel == Channel.SMS:
        return sms_suppressed(notification)
    if notification.kind in REMINDER_KINDS and not client.email_reminders:
        return True
    # A hard bounce: nothing more to the address until staff or the client change it.
    return not client.email or client.email_bounced_at is not None


def _finish(notification: Notification, **fields) -> bool:
    """Record the outcome of this worker's claim, unless the row was claimed again since (its worker looked
    dead): the claim's ``attempts`` is the token."""
    return bool(
        Notification.objects.filter(pk=notification.pk, status=Status.SENDING, attempts=notification.attempts).update(
            updated=timezone.now(), **fields
        )
    )


def _record_accepted(notification: Notification, **accepted) -> None:
    """Record that the provider accepted the message (when, its id, the address or number it went to) in an
    UPDATE of its own, the first thing after the provider's answer: the worker runs in autocommit, so it is
    committed before anything else can fail or the worker die, and a later claim of the row marks it sent
    instead of sending it again. Not bound to the claim's token: whichever worker's copy went, one did."""
    Notification.objects.filter(pk=notification.pk).update(sent_at=timezone.now(), **accepted)


def _claimable(now: datetime) -> Q:
    """Rows a worker may claim at ``now``: pending and due, or stuck in sending (their worker was lost)."""
    return Q(status=Status.PENDING, send_after__lte=now) | Q(status=Status.SENDING, updated__lt=now - STUCK_AFTER)


def notification_send(*, notification_id: int, now: datetime | None = None) -> str | None:
    """Send one message if it is due (or stuck in sending); the status it ends in, None when not claimed (or
    claimed again by another worker before this one finished).

    The claim is one conditional UPDATE (pending and due → sending) that counts the attempt: of two workers, or
    a worker and the sweep, only the one whose update changed the row sends, and the attempts value it set is
    its token: the outcome is recorded only while the row is still sending with that value, so a slow worker
    whose row was claimed again can't overwrite the second one's result. A failure puts it back to pending with
    a later ``send_after`` (RETRY_DELAYS); the last attempt's failure marks it failed, and so does a claim after
    MAX_ATTEMPTS (the workers keep dying). The provider's acceptance is recorded on its own before the outcome
    (``_record_accepted``): a row claimed again after its worker was lost between the two (STUCK_AFTER) is
    marked sent, not sent twice. Only a worker lost inside the provider's call, before its answer, leaves
    nothing to tell by. ``now`` says what is due; the times written are the clock's at the claim (a sweep's
    ``now`` is read once, minutes before its last claim).
    """
    now = now or timezone.now()
    claimed_at = max(now, timezone.now())
    claimed = (
        Notification.objects.filter(pk=notification_id)
        .filter(_claimable(now))
        .update(status=Status.SENDING, attempts=F("attempts") + 1, updated=claimed_at)
    )
    if not claimed:
        return None
    notification = Notification.objects.select_related(
        "staff_user",
        "client",
        "client_package__package",
        "booking__trainer__user",
        "booking__client",
        "booking__session_type",
        "booking__client_package__package",
    ).get(pk=notification_id)
    if notification.sent_at is not None:
        # The provider accepted it on an earlier claim; that worker was lost before it could say so.
        status = Status.SENT
        _finish(notification, status=status)
    elif notification.attempts > MAX_ATTEMPTS:
        status = Status.FAILED
        _finish(notification, status=status, last_error="The worker was lost on every attempt.")
    elif _is_obsolete(notification, now=now):
        status = Status.CANCELLED
        _finish(notification, status=status)
    elif _is_suppressed(notification):
        status = Status.SUPPRESSED
        _finish(notification, status=status, recipient_email="")
    else:
        return _send(notification, now=now)
    return status


def _retry_at(notification: Notification, *, now: datetime) -> datetime | None:
    """When a failed attempt is tried again; None when never: it was the last, or the message is a reminder
    that would then come after its session started (no use to anyone, and cancelled at send time anyway)."""
    if notification.attempts >= MAX_ATTEMPTS:
        return None
    retry_at = max(now, timezone.now()) + RETRY_DELAYS[notification.attempts - 1]
    if notification.kind in REMINDER_KINDS and retry_at >= notification.booking.start_time:
        return None
    return retry_at


def _send(notification: Notification, *, now: datetime) -> str | None:
    try:
        if notification.channel == Channel.SMS:
            recipient, provider_id = sms_deliver(notification)
            accepted = {"recipient_phone": recipient, "provider_message_id": provider_id[:255]}
        else:
            email = _with_tracking(_email(notification), notification)
            email.send()
            # Anymail's answer (none from Django's own backends): one recipient, so one id, a string from an ESP.
            message_id = getattr(getattr(email, "anymail_status", None), "message_id", None)
            accepted = {
                "recipient_email": email.to[0],
                "provider_message_id": "" if message_id is None else str(message_id)[:255],
            }
    except SmsRefused as refusal:
        finished = _finish(notification, status=Status.SUPPRESSED, last_error=str(refusal)[:2000])
        return Status.SUPPRESSED if finished else None
    except SmsUndeliverable as error:
        finished = _finish(notification, status=Status.FAILED, last_error=str(error)[:2000])
        return Status.FAILED if finished else None
    except Exception as error:  # any ESP or rendering failure (or the task's soft time limit): retried by the row
        logger.warning("Notification %s not sent", notification.pk, exc_info=True)
        retry_at = _retry_at(notification, now=now)
        outcome = {"status": Status.FAILED} if retry_at is None else {"status": Status.PENDING, "send_after": retry_at}
        finished = _finish(notification, last_error=f"{type(error).__name__}: {error}"[:2000], **outcome)
        return outcome["status"] if finished else None
    _record_accepted(notification, **accepted)
    finished = _finish(notification, status=Status.SENT)
    return Status.SENT if finished else None


def notifications_send_due(*, now: datetime | None = None, deadline: float | None = None) -> int:
    """Send the current studio's messages that are due, or stuck in sending; how many were sent. Safe to run
    twice at once: each row is claimed by ``notification_send``. A row that fails outside the sending itself (a
    database error) is logged and left to the next sweep, not the end of this one; past ``deadline`` (a
    ``time.monotonic()`` value) the rest is left to the next sweep too."""
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(_claimable(now))
        .order_by("send_after", "id")
        .values_list("id", flat=True)[:SWEEP_BATCH]
    )
    sent = 0
    for pk in ids:
        if deadline is not None and time.monotonic() > deadline:
            break
        try:
            sent += notification_send(notification_id=pk, now=now) == Status.SENT
        except Exception:
            logger.exception("Notification %s: the sweep could not handle it", pk)
    return sent
