"""Guest bookings: a visitor without an account picks a slot, gives name, email and phone, and the slot is held
for ``settings.BOOKING_HOLD_MINUTES`` (15) while a link goes to that email. Following the link makes the booking.
So no one fills a calendar, or books in someone else's name, without reading that person's mail.

- A hold is taken like a booking: under the trainer's row lock, with the same checks (``_check_slot``: windows,
  notice, horizon, buffers, breaks, bookings and other live holds). Two guests can't hold one slot.
- "Any available trainer" (``hold_create_any_trainer``) chooses as bookings do
  (``services.any_trainer_candidates``: every offering trainer locked, the free one with the fewest sessions that
  week first, ties by id), and hands on to the next candidate when one can't take it.
- A live hold (unconfirmed, unexpired) keeps the time from everyone: ``availability.selectors.trainer_busy``
  counts it, so slot listings, bookings, reschedules and other holds all see it. An expired hold simply stops
  counting; ``hold_delete_stale`` (periodic) deletes it a day later with the guest's details.
- Confirming finds the studio's client record with that email (case-insensitively) or creates one, never links
  an account, and books through ``booking_create`` under the same lock. A hold confirms once.

Limits (settings, each with an environment variable of the same name), all 429:

- per request address, bucketed (``address_bucket``: an IPv6 client by its /48, which one site usually holds
  whole): ``BOOKING_HOLDS_LIVE_PER_ADDRESS`` (5) live holds at once and ``BOOKING_HOLDS_PER_HOUR_PER_ADDRESS``
  (20) an hour; per guest email ``BOOKING_HOLDS_PER_HOUR_PER_EMAIL`` (5) an hour. The hourly counters span
  studios (platform cache): they protect inboxes, which are not a studio's.
- live holds in the studio: ``BOOKING_HOLDS_LIVE_PER_EMAIL`` (2) per guest email, case-insensitively;
  ``BOOKING_HOLDS_LIVE_PER_TRAINER`` (10) in one trainer's calendar (past it the trainer is not free for guests:
  ``trainer_holds_full``, or the next candidate for "any trainer"); ``BOOKING_HOLDS_LIVE_PER_STUDIO`` (50) in
  all (``studio_holds_full``). So changing addresses can't fill a studio's calendar with unconfirmed holds.

The counts are taken under locks, so concurrent guests can't both pass the last place: the trainer's count under
the trainer's row lock; the studio's, the email's and the address's under a transaction-level advisory lock on the
studio's schema, taken after the trainer locks and last (nothing is locked after it, so it can't deadlock with
them). It serialises only the last step of taking a hold, in one studio: a few milliseconds.
"""

import hashlib
import ipaddress
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status

from shared_apps.accounts.models import UserManager
from shared_apps.core.exceptions import (
    ApplicationError,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from shared_apps.core.mail import send_mail_on_commit
from shared_apps.core.phone_numbers import InvalidPhoneNumber, phone_number_e164, studio_phone_region
from shared_apps.core.tenancy import current_studio, platform_cache, site_url
from tenant_apps.availability.selectors import check_offers
from tenant_apps.availability.services import lock_trainer
from tenant_apps.bookings.models import Booking, BookingHold
from tenant_apps.bookings.services import (
    NotASlot,
    NotTakingBookings,
    SlotUnavailable,
    StartInPast,
    _check_bookable,
    _check_slot,
    _check_when,
    _times,
    _utc,
    any_trainer_candidates,
    booking_create,
)
from tenant_apps.clients.models import Client
from tenant_apps.clients.services import client_create
from tenant_apps.trainers.models import SessionType, Trainer

# Expired holds are kept this long, so a late click on the link says "expired" rather than "not valid".
STALE_AFTER = timedelta(days=1)
HOUR = 60 * 60
# Stored addresses fit BookingHold.client_address.
ADDRESS_MAX_LENGTH = 64
IPV6_BUCKET_PREFIX = 48


class GuestBookingDisabled(Forbidden):
    code = "guest_booking_disabled"
    message = "This studio takes bookings from signed-in clients only. Sign in or create an account to book."


class TooManyHolds(ApplicationError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_holds"
    message = "Too many bookings waiting for confirmation. Confirm the ones in your mail, or try again later."


class TrainerHoldsFull(TooManyHolds):
    code = "trainer_holds_full"
    message = (
        "Too many bookings with this trainer are waiting for confirmation just now. Sign in to book, or try again "
        "in a few minutes."
    )


class StudioHoldsFull(TooManyHolds):
    code = "studio_holds_full"
    message = (
        "Too many bookings at this studio are waiting for confirmation just now. Sign in to book, or try again in "
        "a few minutes."
    )


class HoldNotFound(NotFound):
    code = "hold_not_found"
    message = "This confirmation link is not valid. Use the link in the mail we sent you, or book again."


class HoldAlreadyConfirmed(Conflict):
    code = "hold_already_confirmed"
    message = "This booking was already confirmed with this link; see the mail we sent you then."


class HoldExpired(Conflict):
    code = "hold_expired"
    message = "This link has expired and the time was released. Please book again."


def hold_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def hold_confirm_url(token: str) -> str:
    """The link in the guest's mail, on the studio's primary domain; the booking site's confirm page."""
    return site_url(f"/book/confirm/{token}/")


def address_bucket(address: str) -> str:
    """What the per-address limits count by: an IPv4 address as it is, an IPv4-mapped IPv6 one as its IPv4, any
    other IPv6 one by its /48 network ("2001:db8:1::/48"): one site usually holds a whole /48, so counting by a
    longer prefix would let one visitor step through addresses. Anything else is kept, cut to the column."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:ADDRESS_MAX_LENGTH]
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network((parsed, IPV6_BUCKET_PREFIX), strict=False))
    return str(parsed)


def _hold_live_filter(now: datetime) -> dict:
    return {"confirmed_at__isnull": True, "expires_at__gt": now}


def _count_in_hour(key: str) -> int:
    cache = platform_cache()
    cache.add(key, 0, HOUR)
    try:
        return cache.incr(key)
    except ValueError:  # the hour ended between the two calls
        cache.set(key, 1, HOUR)
        return 1


def _lock_studio_holds() -> None:
    """The studio's live holds are counted by one request at a time (see the module's docstring): without it, two
    guests holding with two trainers (two different row locks) could both pass the studio's, an email's or an
    address's last place. Released with the transaction."""
    digest = hashlib.sha256(f"bookings.holds:{connection.schema_name}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


def _check_limits(*, hold: BookingHold, now: datetime) -> None:
    _lock_studio_holds()
    live = BookingHold.objects.filter(**_hold_live_filter(now))
    if live.filter(email__iexact=hold.email).count() >= settings.BOOKING_HOLDS_LIVE_PER_EMAIL:
        raise TooManyHolds()
    if live.filter(client_address=hold.client_address).count() >= settings.BOOKING_HOLDS_LIVE_PER_ADDRESS:
        raise TooManyHolds()
    if live.count() >= settings.BOOKING_HOLDS_LIVE_PER_STUDIO:
        raise StudioHoldsFull()
    # Counted last, so that a refusal above doesn't use up the hour's allowance.
    address_key = "holds:address:" + hashlib.sha256(hold.client_address.encode()).hexdigest()
    email_key = "holds:email:" + hashlib.sha256(hold.email.lower().encode("utf-8", "surrogatepass")).hexdigest()
    if _count_in_hour(address_key) > settings.BOOKING_HOLDS_PER_HOUR_PER_ADDRESS:
        raise TooManyHolds()
    if _count_in_hour(email_key) > settings.BOOKING_HOLDS_PER_HOUR_PER_EMAIL:
        raise TooManyHolds()


def _phone(phone: str) -> str:
    if not (phone or "").strip():
        raise ValidationFailed(fields={"phone": ["Give a phone number, so the studio can reach you."]})
    try:
        return phone_number_e164(phone, region=studio_phone_region())
    except InvalidPhoneNumber as error:
        raise ValidationFailed(fields={"phone": [str(error)]}) from error


def _guest_hold(
    *,
    session_type: SessionType,
    start_time: datetime,
    first_name: str,
    last_name: str,
    email: str,
    phone: str,
    note: str,
    client_address: str,
    now: datetime,
) -> BookingHold:
    """The hold, checked and unsaved, without its trainer: before any lock, the studio takes guests (403) and the
    guest's details are valid (400)."""
    studio = current_studio()
    if studio is None or not studio.guest_booking_enabled:
        raise GuestBookingDisabled()
    start = _utc(start_time)
    problems: dict[str, list[str]] = {}
    try:
        phone_e164 = _phone(phone)
    except ValidationFailed as error:
        problems.update(error.fields)
        phone_e164 = ""
    hold = BookingHold(
        session_type=session_type,
        first_name=(first_name or "").strip(),
        last_name=(last_name or "").strip(),
        email=UserManager.normalize_email((email or "").strip()),
        phone=phone_e164,
        note=note,
        expires_at=now + timedelta(minutes=settings.BOOKING_HOLD_MINUTES),
        client_address=address_bucket(client_address),
        **_times(session_type, start),
    )
    try:
        hold.full_clean(
            exclude=["trainer", "session_type", "booking", "phone", "token_hash"],
            validate_unique=False,
            validate_constraints=False,
        )
    except DjangoValidationError as error:
        problems.update(error.message_dict)
    if problems:
        raise ValidationFailed(fields=problems)
    return hold


def _check_trainer_takes(hold: BookingHold, *, trainer: Trainer, now: datetime) -> None:
    """``trainer`` (locked) can take the hold: the booking service's checks for the slot, and room in the
    trainer's calendar for one more live hold (TrainerHoldsFull: the trainer is not free for a guest)."""
    _check_bookable(trainer=trainer, session_type=hold.session_type)
    check_offers(trainer=trainer, session_type=hold.session_type)
    _check_slot(trainer=trainer, session_type=hold.session_type, start=hold.start_time, now=now)
    live = BookingHold.objects.filter(trainer=trainer, **_hold_live_filter(now)).count()
    if live >= settings.BOOKING_HOLDS_LIVE_PER_TRAINER:
        raise TrainerHoldsFull()


def _hold_save(hold: BookingHold, *, trainer: Trainer, now: datetime) -> BookingHold:
    """Past the limits, save the hold with ``trainer`` (whose lock the transaction holds) and mail the guest the
    link that confirms it (the only copy of the token)."""
    _check_limits(hold=hold, now=now)
    token = secrets.token_urlsafe(32)
    hold.trainer = trainer
    hold.token_hash = hold_token_hash(token)
    hold.save()
    zone = ZoneInfo(trainer.timezone)
    send_mail_on_commit(
        template="booking_hold",
        to=hold.email,
        context={
            "hold": hold,
            "confirm_url": hold_confirm_url(token),
            "local_start": hold.start_time.astimezone(zone),
            "local_expires": hold.expires_at.astimezone(zone),
            "zone": zone.key,
        },
    )
    return hold


@transaction.atomic
def hold_create(
    *,
    trainer: Trainer,
    session_type: SessionType,
    start_time: datetime,
    first_name: str,
    last_name: str = "",
    email: str,
    phone: str,
    note: str = "",
    client_address: str,
    now: datetime | None = None,
) -> BookingHold:
    """Hold a slot with ``trainer`` for a guest and mail them the link that confirms it.

    GuestBookingDisabled (403) when the studio takes no guests; ValidationFailed (400) for the guest's details;
    TooManyHolds (429) past the limits, TrainerHoldsFull (429) when the trainer's calendar has all the live holds
    it takes; the booking service's errors for the slot (SlotUnavailable 409 when it is booked or held meanwhile).
    """
    now = now or timezone.now()
    hold = _guest_hold(
        session_type=session_type,
        start_time=start_time,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        note=note,
        client_address=client_address,
        now=now,
    )
    # As booking_create: the trainer's lock first, then every check under it, so two guests (or a guest and a
    # client) can't both take the slot.
    trainer = lock_trainer(trainer)
    _check_trainer_takes(hold, trainer=trainer, now=now)
    return _hold_save(hold, trainer=trainer, now=now)


@transaction.atomic
def hold_create_any_trainer(
    *,
    session_type: SessionType,
    start_time: datetime,
    first_name: str,
    last_name: str = "",
    email: str,
    phone: str,
    note: str = "",
    client_address: str,
    now: datetime | None = None,
) -> BookingHold:
    """Hold a slot for a guest with whichever trainer offering ``session_type`` is free then, chosen as
    ``booking_create_any_trainer`` chooses (``any_trainer_candidates``); then as ``hold_create``.

    The same refusals as ``hold_create``, and those of "any trainer": the notice or horizon (400), a start no
    trainer's windows offer (400 ``not_a_slot``), every free trainer's calendar full of live holds (429
    ``trainer_holds_full``: one may expire in minutes), else every trainer taken then (409 ``slot_unavailable``).
    """
    now = now or timezone.now()
    hold = _guest_hold(
        session_type=session_type,
        start_time=start_time,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone=phone,
        note=note,
        client_address=client_address,
        now=now,
    )
    if not session_type.is_active:
        message = "This session type is no longer offered."
        raise NotTakingBookings(message, fields={"session_type": [message]})
    _check_when(session_type=session_type, start=hold.start_time, now=now)
    refusal: ApplicationError = SlotUnavailable("This time was just taken with every trainer who offers this session.")
    # The checks below only read, under the locks any_trainer_candidates took: a refused candidate leaves
    # nothing behind to roll back.
    for trainer in any_trainer_candidates(session_type=session_type, start=hold.start_time, now=now):
        try:
            _check_trainer_takes(hold, trainer=trainer, now=now)
        except TrainerHoldsFull as full:
            refusal = full
        except (SlotUnavailable, NotASlot):
            continue
        else:
            return _hold_save(hold, trainer=trainer, now=now)
    raise refusal


def _client_for_guest(hold: BookingHold) -> Client:
    """The studio's client with the hold's email, or a new one made from the hold. An existing record is not
    changed (whoever follows the link proved the address, not that the name or phone on file should change),
    and no account is linked: signing up links it later (clients.services.client_for_user)."""
    client = Client.objects.filter(email__iexact=hold.email).first()
    if client is not None:
        return client
    try:
        return client_create(
            email=hold.email, first_name=hold.first_name, last_name=hold.last_name, phone=str(hold.phone)
        )
    except ValidationFailed:
        # Another confirmation (another trainer, so another lock) created this client a moment ago.
        client = Client.objects.filter(email__iexact=hold.email).first()
        if client is None:
            raise
        return client


@transaction.atomic
def hold_confirm(*, token: str, now: datetime | None = None) -> Booking:
    """Turn the hold the link names into a booking for the client with the guest's email.

    HoldNotFound (404) for a link that names no hold (or one deleted long after it expired), HoldExpired (409)
    past its time, HoldAlreadyConfirmed (409) the second time. The notice the session type asks for was checked
    when the slot was held: taking the 15 minutes to confirm doesn't make it "too soon" (a start that has passed
    is refused all the same).
    """
    now = now or timezone.now()
    found = BookingHold.objects.filter(token_hash=hold_token_hash(token or "")).values_list("trainer_id").first()
    if found is None:
        raise HoldNotFound()
    # Locks in the booking service's order: the trainer first, then the hold.
    trainer = lock_trainer(Trainer(pk=found[0]))
    hold = (
        BookingHold.objects.select_for_update(of=("self",))
        .select_related("session_type")
        .filter(token_hash=hold_token_hash(token))
        .first()
    )
    if hold is None:  # cleaned up between the two looks
        raise HoldNotFound()
    if hold.confirmed_at is not None:
        raise HoldAlreadyConfirmed()
    if hold.expires_at <= now:
        raise HoldExpired()
    if hold.start_time <= now:
        raise StartInPast(fields={"start_time": [StartInPast.message]})
    # Used first: from here on the hold no longer keeps the slot from the booking made of it.
    hold.confirmed_at = now
    hold.save(update_fields=["confirmed_at"])
    booking = booking_create(
        trainer=trainer,
        client=_client_for_guest(hold),
        session_type=hold.session_type,
        start_time=hold.start_time,
        notes=hold.note,
        created_by=None,
        # A guest never chose how to pay: an existing client's package is not spent behind their back.
        pay_with_credit=False,
        now=min(now, hold.created),
    )
    hold.booking = booking
    hold.save(update_fields=["booking"])
    return booking


@transaction.atomic
def hold_delete_stale(*, now: datetime | None = None) -> int:
    """Delete the holds that expired more than a day ago, with the guest's details; how many went."""
    now = now or timezone.now()
    deleted, _ = BookingHold.objects.filter(expires_at__lt=now - STALE_AFTER).delete()
    return deleted
