"""A trainer's private calendar feed: ``/calendar/<token>.ics`` on the studio's host, which Google, Apple and
Outlook calendars subscribe to and fetch again every so often, without signing in.

The token in the URL is the only credential. A trainer has at most one (``Trainer.calendar_feed_token``; blank:
no feed); a new one revokes the old URL at once, and an unknown, revoked or blank token, or a deactivated
trainer's, gets the same 404 (nothing tells which tokens once existed).

The feed carries the trainer's sessions from 30 days ago to 180 days ahead, each with the UID and SEQUENCE of the
booking's invitations and .ics download (``calendar.py``), so a calendar that has both treats them as one entry.
It names the client by first name only: the URL ends up in calendar apps and their sync services, so it holds no
email, phone or last name. Cancelled bookings are left out rather than sent as STATUS:CANCELLED: a subscribed
calendar mirrors the feed on each refresh, so a booking that leaves the feed leaves every calendar, while clients
differ on showing a STATUS:CANCELLED event in a subscription (some show it as busy, struck through or not at all),
and a cancelled slot that is booked again would show twice.
"""

import secrets
from datetime import UTC, timedelta

import icalendar
from django.apps import apps
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from shared_apps.core.exceptions import Forbidden
from shared_apps.core.tenancy import site_url
from tenant_apps.notifications.calendar import EVENT_STATUS, booking_calendar_sequence, booking_calendar_uid

FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=180)
FEED_STATUSES = ("pending", "confirmed", "completed")
# A subscribed calendar may fetch it again after this long; the same for the hint in the feed and the cache.
FEED_MAX_AGE_SECONDS = 300


class NotYourCalendarFeed(Forbidden):
    message = "You can only manage your own calendar feed."


def may_manage_calendar_feed(user, trainer) -> bool:
    """Showing, rotating or revoking ``trainer``'s feed URL: the owner and managers anyone's, a trainer their own."""
    return user.is_authenticated and user.is_studio_staff and (user.manages_studio or trainer.user_id == user.pk)


def _check_may_manage(actor, trainer) -> None:
    # No actor: the system (a command, a test's set-up).
    if actor is not None and not may_manage_calendar_feed(actor, trainer):
        raise NotYourCalendarFeed()


def feed_token_rotate(trainer, *, actor=None) -> str:
    """A new feed URL for ``trainer`` (the first one, or one that replaces, and so revokes, the previous one);
    NotYourCalendarFeed unless ``actor`` may manage it."""
    _check_may_manage(actor, trainer)
    token = secrets.token_urlsafe(32)
    _feed_token_set(trainer, token)
    return token


def feed_token_revoke(trainer, *, actor=None) -> None:
    """No feed for ``trainer``: the URL they had answers 404 from now on. NotYourCalendarFeed unless ``actor``
    may manage it."""
    _check_may_manage(actor, trainer)
    _feed_token_set(trainer, "")


def _feed_token_set(trainer, token: str) -> None:
    # An update of the one column, not save(): a save from a trainer object read before would write back
    # whatever token it was read with.
    type(trainer).objects.filter(pk=trainer.pk).update(calendar_feed_token=token, updated=timezone.now())
    trainer.calendar_feed_token = token


def feed_url(trainer) -> str:
    """The absolute URL of ``trainer``'s feed on the studio's own host; blank when they have none."""
    if not trainer.calendar_feed_token:
        return ""
    return site_url(reverse("calendar_feed:feed", kwargs={"token": trainer.calendar_feed_token}))


def _trainer_by_feed_token(token: str):
    """The active trainer whose feed token is exactly ``token``; 404 alike for every other case."""
    if not token:
        raise Http404
    Trainer = apps.get_model("trainers", "Trainer")
    trainer = Trainer.objects.filter(calendar_feed_token=token, is_active=True).first()
    if trainer is None:
        raise Http404
    return trainer


def _feed_bookings(trainer, *, now):
    """The trainer's bookings the feed shows, with what their events need, in two queries however many there
    are: the session type and client joined, the history (booking_calendar_sequence counts it) prefetched as
    bare ids."""
    BookingEvent = apps.get_model("bookings", "BookingEvent")
    return (
        trainer.bookings.filter(status__in=FEED_STATUSES, start_time__lt=now + FEED_AHEAD, end_time__gt=now - FEED_PAST)
        .select_related("session_type", "client")
        .only("id", "start_time", "end_time", "status", "updated", "session_type__name", "client__first_name")
        .prefetch_related(Prefetch("events", queryset=BookingEvent.objects.only("id", "booking_id")))
        .order_by("start_time", "id")
    )


def trainer_feed(*, trainer, studio) -> bytes:
    """The trainer's sessions as an iCalendar feed (times in UTC; the calendar app shows them in its own zone)."""
    now = timezone.now()
    domain = studio.get_primary_domain().domain  # read once, not per event
    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//{studio.name}//Trainer calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # NAME (RFC 7986) and X-WR-CALNAME, the name the calendar apps read.
    calendar.calendar_name = f"{studio.name} — {trainer.display_name}"
    # How often to fetch it again (RFC 7986, and Outlook's older name for it); Google keeps its own pace.
    refresh = timedelta(seconds=FEED_MAX_AGE_SECONDS)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", icalendar.vDuration(refresh))
    origin = site_url("")  # read once: each call asks for the studio's primary domain too
    for booking in _feed_bookings(trainer, now=now):
        event = icalendar.Event()
        event.add("uid", booking_calendar_uid(booking=booking, domain=domain))
        event.add("sequence", booking_calendar_sequence(booking))
        event.add("dtstamp", now)
        event.add("last-modified", booking.updated.astimezone(UTC))
        event.add("dtstart", booking.start_time.astimezone(UTC))
        event.add("dtend", booking.end_time.astimezone(UTC))
        first_name = booking.client.first_name
        event.add("summary", f"{booking.session_type.name} — {first_name}" if first_name else booking.session_type.name)
        event.add("status", EVENT_STATUS.get(booking.status, "CONFIRMED"))
        # The booking on the desk (staff sign in there): the way to the client's details the feed leaves out.
        event.add("url", origin + reverse("desk:booking", kwargs={"booking_id": booking.pk}))
        calendar.add_component(event)
    return calendar.to_ical()


@require_safe
def calendar_feed(request, token: str) -> HttpResponse:
    """GET /calendar/<token>.ics: no sign-in, the token is the credential."""
    trainer = _trainer_by_feed_token(token)
    response = HttpResponse(
        trainer_feed(trainer=trainer, studio=request.tenant), content_type="text/calendar; charset=utf-8"
    )
    # Private: the URL is a secret, so no shared cache may keep (or answer another request with) its body.
    response["Cache-Control"] = f"private, max-age={FEED_MAX_AGE_SECONDS}"
    response["X-Robots-Tag"] = "noindex"
    return response
