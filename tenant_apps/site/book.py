"""The booking flow for signed-in clients: /book/ → a session type → a trainer (or any available one) → a week of
free slots → details (which package pays, a note) → done (a summary, an .ics file, the manage link).

State lives in the query string (type, trainer, week, tz) so back, reload and a shared link show the same page.
The views only parse and render: what is free comes from the availability selectors, and a booking is made by
the same services the API calls, so the page and the API can't disagree.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.views import View

from shared_apps.accounts.throttles import client_address
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import studio_date, studio_timezone
from tenant_apps.availability.selectors import (
    available_slots_any_trainer,
    available_slots_on_studio_days,
    booking_horizon,
    offering_trainers,
)
from tenant_apps.availability.versions import cached
from tenant_apps.bookings import services
from tenant_apps.bookings.holds import GuestBookingDisabled, TooManyHolds, hold_create, hold_create_any_trainer
from tenant_apps.bookings.models import Booking, BookingHold
from tenant_apps.bookings.selectors import booking_list
from tenant_apps.bookings.tokens import booking_manage_token
from tenant_apps.clients.selectors import NoClientProfile, client_of_user
from tenant_apps.clients.services import client_for_user
from tenant_apps.notifications.calendar import booking_calendar
from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.selectors import usable_client_packages
from tenant_apps.site.forms import PAY_AT_STUDIO, BookingDetailsForm, GuestForm
from tenant_apps.trainers.models import SessionType, Trainer
from tenant_apps.trainers.selectors import session_type_list

ANY_TRAINER = "any"
# ?week=first: the first week with a free time, found when asked for (the link on a week that has free times).
FIRST_WEEK = "first"
# The search for the first week with a free time looks this many weeks at a time, twice as many each time after.
FIRST_SEARCH_WEEKS = 2
FIRST_SEARCH_MAX_DAYS = 13 * 7
# How many free slots a "just taken" answer offers instead.
NEAREST_COUNT = 6


@dataclass(frozen=True)
class Slot:
    """A free start as the week shows it: where its button leads, the instant, and the time on the button."""

    href: str
    instant: str  # ISO 8601 with the studio's offset
    label: str  # "09:30", in the studio's zone


@dataclass(frozen=True)
class Day:
    day: date
    slots: list[Slot]
    action: str = "Book"  # the words a screen reader hears before each slot's day and time

    @property
    def slots_html(self) -> SafeString:
        """The day's slots as list items: built here, not in a template loop, as the week is the page's hot loop
        (a few hundred slots). Every value is escaped (the link) or made here from a date (the rest)."""
        spoken, iso = self.spoken, self.iso
        return mark_safe(  # noqa: S308 (escaped here)
            "".join(
                f'<li><a class="slot" href="{escape(slot.href)}"><span class="visually-hidden">{escape(self.action)} '
                f'{spoken} at </span><time datetime="{slot.instant}" data-instant="{slot.instant}" data-day="{iso}">'
                f"{slot.label}</time></a></li>"
                for slot in self.slots
            )
        )

    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def spoken(self) -> str:
        """How a screen reader names the day on each of its slots: "Tuesday 8 December"."""
        return f"{self.day:%A} {self.day.day} {self.day:%B}"


@dataclass(frozen=True)
class Choice:
    """What the query string asks for, checked: the session type, and the trainer (None: any available one)."""

    session_type: SessionType
    trainer: Trainer | None
    # A booking being moved (the manage link's week): its own time doesn't keep the trainer busy.
    exclude_booking_id: int | None = None

    @property
    def trainer_param(self) -> str:
        return ANY_TRAINER if self.trainer is None else str(self.trainer.pk)


def _zone() -> ZoneInfo:
    return ZoneInfo(studio_timezone())


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


def _session_type(value: str | None) -> SessionType | None:
    pk = _int(value)
    # Without the trainers' prefetch: the pages that list them ask for them.
    return None if pk is None else session_type_list(user=None).prefetch_related(None).filter(pk=pk).first()


def _trainer(session_type: SessionType, value: str | None) -> Trainer | None:
    pk = _int(value)
    return None if pk is None else offering_trainers(session_type).filter(pk=pk).first()


def _tz(request: HttpRequest) -> str:
    """The zone asked for: "local" (the browser's, shown by site.js), "studio", or "" (not said: the choice the
    browser remembers, else the studio's). Links carry it on, so a remembered choice isn't overridden."""
    value = request.GET.get("tz")
    return value if value in ("local", "studio") else ""


def _query(**params) -> str:
    return "?" + urlencode({key: value for key, value in params.items() if value not in (None, "")})


def free_starts(
    *, choice: Choice, first_day: date, last_day: date, now: datetime, fresh: bool = False
) -> list[datetime]:
    """Free starts (UTC, sorted) for the choice, from the same selectors the available-slots API uses; kept
    for a minute under the studio's calendar version (a booking anywhere in the studio starts a new one), and
    cut to the session type's notice as of ``now`` when read. ``fresh``: computed now, whatever is cached."""

    def compute() -> list[datetime]:
        if choice.trainer is None:
            found = available_slots_any_trainer(
                session_type=choice.session_type, first_day=first_day, last_day=last_day, now=now
            )
            return [slot.start for slot in found]
        return available_slots_on_studio_days(
            trainer=choice.trainer,
            session_type=choice.session_type,
            first_day=first_day,
            last_day=last_day,
            now=now,
            exclude_booking_id=choice.exclude_booking_id,
        )

    if fresh:
        return compute()
    # The studio's zone is in the key: its days are what first_day..last_day mean.
    key = ":".join(
        str(part)
        for part in (
            "free",
            studio_timezone(),
            choice.session_type.pk,
            choice.trainer_param,
            choice.exclude_booking_id or "",
            first_day,
            last_day,
        )
    )
    starts = cached(key, compute)
    earliest, _latest = booking_horizon(choice.session_type, now)
    return [start for start in starts if start >= earliest]


def first_free_week(*, choice: Choice, first_day: date, last_day: date, now: datetime, zone: ZoneInfo) -> date | None:
    """The Monday of the first week from ``first_day`` (a Monday) up to ``last_day`` with a free start, or None.
    Looked for in chunks (2 weeks, then 4, 8...) and stopped at the first chunk with one: a near free time costs one
    short look, and even a horizon with nothing free only a few, each with queries that don't grow with trainers."""
    weeks = FIRST_SEARCH_WEEKS
    # Anyone may ask (an empty week, ?week=first): look no further than the slots API answers in one request.
    last_day = min(last_day, first_day + timedelta(days=FIRST_SEARCH_MAX_DAYS - 1))
    while first_day <= last_day:
        chunk_end = min(first_day + timedelta(days=7 * weeks - 1), last_day)
        starts = free_starts(choice=choice, first_day=first_day, last_day=chunk_end, now=now)
        if starts:
            return _monday(starts[0].astimezone(zone).date())
        first_day, weeks = chunk_end + timedelta(days=1), weeks * 2
    return None


def week_days(
    *, monday: date, starts: list[datetime], zone: ZoneInfo, slot_href: Callable[[datetime], str], action: str = "Book"
) -> list[Day]:
    """The seven days from ``monday``, each with its free starts in ``zone`` (the studio's), each linked to
    ``slot_href(start)``. Formatted here, once per slot: the week is the page's hot loop, and the template then
    only prints strings."""
    by_day: dict[date, list[Slot]] = {monday + timedelta(days=offset): [] for offset in range(7)}
    for start in starts:
        local = start.astimezone(zone)
        if local.date() in by_day:
            by_day[local.date()].append(Slot(href=slot_href(local), instant=local.isoformat(), label=f"{local:%H:%M}"))
    return [Day(day=day, slots=day_slots, action=action) for day, day_slots in by_day.items()]


class BookView(View):
    """Step by step on one URL: no type → the session types; a type → its trainers; both → a week of slots.
    An htmx request (the week arrows) gets only the week."""

    def get(self, request: HttpRequest) -> HttpResponse:
        tz = _tz(request)
        session_type = _session_type(request.GET.get("type"))
        if session_type is None:
            session_types = list(session_type_list(user=None).order_by("name", "pk"))
            return render(request, "site/book/start.html", {"session_types": session_types, "tz": tz})
        trainer_value = request.GET.get("trainer")
        trainer = None if trainer_value == ANY_TRAINER else _trainer(session_type, trainer_value)
        if trainer is None and trainer_value != ANY_TRAINER:
            trainers = list(offering_trainers(session_type))
            return render(
                request, "site/book/trainer.html", {"session_type": session_type, "trainers": trainers, "tz": tz}
            )
        choice = Choice(session_type=session_type, trainer=trainer)
        if request.GET.get("week") == FIRST_WEEK:
            return self.first_week_redirect(choice, tz)
        context = self.week_context(request, choice, tz)
        template = "site/book/_week.html" if request.htmx else "site/book/week.html"
        response = render(request, template, context)
        # One URL, two answers: a cache (the browser's, when going back) must not hand the week alone to a page load.
        patch_vary_headers(response, ["HX-Request"])
        return response

    def first_week_redirect(self, choice: Choice, tz: str) -> HttpResponse:
        """?week=first: on to the first week with a free time (this week when none is free), so the URL names the
        week shown; htmx follows the redirect and pushes the URL it ends at."""
        return redirect(_book_week_url(choice, first_free_monday(choice=choice), tz))

    def week_context(self, request: HttpRequest, choice: Choice, tz: str) -> dict:
        details = reverse("book_details") + _query(type=choice.session_type.pk, trainer=choice.trainer_param)
        tz_param = f"&tz={tz}" if tz else ""
        context = week_context(
            choice=choice,
            asked=request.GET.get("week", ""),
            tz=tz,
            week_url=lambda week, tz: _book_week_url(choice, week, tz),
            slot_href=lambda start: f"{details}&start={quote(start.isoformat())}{tz_param}",
        )
        return context | {"change_trainer_url": reverse("book") + _query(type=choice.session_type.pk, tz=tz)}


def first_free_monday(*, choice: Choice) -> date:
    """Where ?week=first leads: the Monday of the first week with a free time, or this week's when none is free."""
    zone = _zone()
    now = timezone.now()
    this_monday = _monday(studio_date(now))
    _earliest, latest = booking_horizon(choice.session_type, now)
    first_week = first_free_week(
        choice=choice, first_day=this_monday, last_day=latest.astimezone(zone).date(), now=now, zone=zone
    )
    return first_week or this_monday


def week_context(
    *,
    choice: Choice,
    asked: str,
    tz: str,
    week_url: Callable[[date | str, str], str],
    slot_href: Callable[[datetime], str],
    skip: datetime | None = None,
    action: str = "Book",
) -> dict:
    """The week of free slots ``site/book/_week.html`` shows, for /book/ and for moving a booking: the week
    ``asked`` (an ISO date; this week when not one) kept inside the booking horizon, its previous, next and
    first-free-week links built by ``week_url(week, tz)``, and each slot linked to ``slot_href(start)``.
    ``skip``: a start not to offer (a booking's own)."""
    zone = _zone()
    now = timezone.now()
    today = studio_date(now)
    this_monday = _monday(today)
    try:
        asked_day = date.fromisoformat(asked)
    except ValueError:
        asked_day = today
    _earliest, latest = booking_horizon(choice.session_type, now)
    last_bookable = latest.astimezone(zone).date()
    monday = min(max(_monday(asked_day), this_monday), _monday(last_bookable))
    # Only the week shown is computed (a week's free slots, whatever the horizon).
    starts = free_starts(choice=choice, first_day=monday, last_day=monday + timedelta(days=6), now=now)
    days = week_days(
        monday=monday,
        starts=[start for start in starts if start != skip],
        zone=zone,
        slot_href=slot_href,
        action=action,
    )
    has_slots = any(day.slots for day in days)
    if has_slots:
        # An earlier week may have free times too: found only when the link is followed (?week=first).
        first_url = week_url(FIRST_WEEK, tz) if monday > this_monday else None
    else:
        # Nothing free this week: look for the first week that has (from this week on, skipping this one when
        # it is the first), a few bounded looks that stop at the first free time or at the horizon.
        first_week = first_free_week(
            choice=choice,
            first_day=this_monday if monday > this_monday else monday + timedelta(days=7),
            last_day=last_bookable,
            now=now,
            zone=zone,
        )
        first_url = week_url(first_week, tz) if first_week and first_week != monday else None
    return {
        "choice": choice,
        "days": days,
        "has_slots": has_slots,
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "zone": zone.key,
        "tz": tz,
        "previous_url": week_url(monday - timedelta(days=7), tz) if monday > this_monday else None,
        "next_url": week_url(monday + timedelta(days=7), tz) if monday + timedelta(days=7) <= last_bookable else None,
        "first_url": first_url,
        "tz_studio_url": week_url(monday.isoformat(), "studio"),
        "tz_local_url": week_url(monday.isoformat(), "local"),
    }


def nearest_free_starts(*, choice: Choice, start: datetime) -> list[datetime]:
    """The free starts (UTC, sorted) nearest ``start``, over the two weeks from its day: what a "just taken"
    answer offers instead. Computed afresh: the answer exists because what was shown as free wasn't."""
    zone = _zone()
    now = timezone.now()
    _earliest, latest = booking_horizon(choice.session_type, now)
    day = max(studio_date(start), studio_date(now))
    starts = free_starts(
        choice=choice,
        first_day=day,
        last_day=max(day, min(day + timedelta(days=13), latest.astimezone(zone).date())),
        now=now,
        fresh=True,
    )
    return sorted(sorted(starts, key=lambda free: (abs(free - start), free))[:NEAREST_COUNT])


def _book_week_url(choice: Choice, week: date | str, tz: str) -> str:
    return reverse("book") + _query(type=choice.session_type.pk, trainer=choice.trainer_param, week=str(week), tz=tz)


def _details_choice(request: HttpRequest) -> tuple[Choice, datetime]:
    params = request.GET
    session_type = _session_type(params.get("type"))
    if session_type is None:
        raise Http404
    trainer_value = params.get("trainer")
    trainer = None if trainer_value == ANY_TRAINER else _trainer(session_type, trainer_value)
    if trainer is None and trainer_value != ANY_TRAINER:
        raise Http404
    try:
        start = datetime.fromisoformat(params.get("start", ""))
        if timezone.is_naive(start):
            raise Http404
        return Choice(session_type=session_type, trainer=trainer), start.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one at the calendar's ends that no zone can hold
        raise Http404 from None


def guest_hold_create(*, choice: Choice, start: datetime, details: dict, address: str) -> BookingHold:
    """Hold the slot for a guest: with the trainer chosen (``holds.hold_create``), or with whichever trainer
    is free then by the rule bookings follow (``holds.hold_create_any_trainer``: the fewest sessions that week)."""
    fields = {"session_type": choice.session_type, "start_time": start, "client_address": address, **details}
    if choice.trainer is not None:
        return hold_create(trainer=choice.trainer, **fields)
    return hold_create_any_trainer(**fields)


class BookDetailsView(LoginRequiredMixin, View):
    """Which package pays (or pay at the studio), a note, and the booking itself: made by the API's services for
    the signed-in client, never for someone else (staff book in their own tools).

    A visitor who isn't signed in, on a studio that takes guests, chooses: sign in, or book as a guest (name,
    email, phone): the slot is held and the booking made when they follow the link mailed to them."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            if not getattr(request.tenant, "guest_booking_enabled", False):
                return self.handle_no_permission()
            self.client = None
            self.choice, self.start = _details_choice(request)
            if request.method == "POST":
                return self.guest_post(request)
            if request.method in ("GET", "HEAD"):
                return self.render_form(request, GuestForm(), [])
            return self.http_method_not_allowed(request, *args, **kwargs)
        try:
            self.client = client_of_user(user=request.user)
        except NoClientProfile:
            self.client = None  # a new account: its client record is made with the first booking
        except ApplicationError as error:  # staff: NotAClient
            return render(request, "site/book/not_client.html", {"message": error.message}, status=403)
        self.choice, self.start = _details_choice(request)
        return super().dispatch(request, *args, **kwargs)

    def packages(self) -> list[ClientPackage]:
        if self.client is None:
            return []
        usable = usable_client_packages(
            client=self.client, session_type=self.choice.session_type, on_date=studio_date(self.start)
        )
        # The order the service takes them in when none is named: the one that expires first pays.
        return list(usable.select_related("package").order_by("expiry_date", "id"))

    def render_form(self, request, form, packages, status=200, guest_refused: str = "") -> HttpResponse:
        zone = _zone()
        context = {
            "choice": self.choice,
            "start": self.start.astimezone(zone),
            "end": (self.start + timedelta(minutes=self.choice.session_type.duration_minutes)).astimezone(zone),
            "zone": zone.key,
            "form": form,
            "packages": packages,
            "is_guest": isinstance(form, GuestForm),
            "guest_refused": guest_refused,
            "hold_minutes": settings.BOOKING_HOLD_MINUTES,
            "login_url": redirect_to_login(request.get_full_path()).url,
            "back_url": reverse("book")
            + _query(
                type=self.choice.session_type.pk,
                trainer=self.choice.trainer_param,
                week=_monday(self.start.astimezone(zone).date()).isoformat(),
                tz=_tz(request),
            ),
        }
        return render(request, "site/book/details.html", context, status=status)

    def get(self, request):
        packages = self.packages()
        return self.render_form(
            request, BookingDetailsForm(packages=packages, session_type=self.choice.session_type), packages
        )

    def post(self, request):
        packages = self.packages()
        form = BookingDetailsForm(request.POST, packages=packages, session_type=self.choice.session_type)
        if not form.is_valid():
            return self.render_form(request, form, packages, status=400)
        payment = form.cleaned_data["payment"]
        paying = None if payment == PAY_AT_STUDIO else next(p for p in packages if str(p.pk) == payment)
        fields = {
            "session_type": self.choice.session_type,
            "start_time": self.start,
            "notes": form.cleaned_data["notes"],
            "client_package": paying,
            "pay_with_credit": paying is not None,
            "created_by": request.user,
        }
        try:
            with transaction.atomic():
                fields["client"] = client_for_user(user=request.user)
                if self.choice.trainer is None:
                    booking = services.booking_create_any_trainer(**fields)
                else:
                    booking = services.booking_create(trainer=self.choice.trainer, **fields)
        except services.SlotUnavailable as error:
            return self.just_taken(request, error)
        except ApplicationError as error:
            form.add_application_error(error)
            return self.render_form(request, form, packages, status=400)
        return redirect("book_done", booking_id=booking.pk)

    def guest_post(self, request) -> HttpResponse:
        form = GuestForm(request.POST)
        if not form.is_valid():
            return self.render_form(request, form, [], status=400)
        try:
            hold = guest_hold_create(
                choice=self.choice, start=self.start, details=form.cleaned_data, address=client_address(request)
            )
        except services.SlotUnavailable as error:
            return self.just_taken(request, error)
        except TooManyHolds as error:
            return render(request, "site/book/too_many.html", {"message": error.message}, status=error.status_code)
        except GuestBookingDisabled as error:
            # Turned off since the page was shown: offer signing in only.
            return self.render_form(request, None, [], status=error.status_code, guest_refused=error.message)
        except ApplicationError as error:
            form.add_application_error(error)
            return self.render_form(request, form, [], status=400)
        zone = _zone()
        context = {
            "hold": hold,
            "choice": self.choice,
            "start": hold.start_time.astimezone(zone),
            "expires": hold.expires_at.astimezone(zone),
            "zone": zone.key,
            "hold_minutes": settings.BOOKING_HOLD_MINUTES,
            "retry_url": request.get_full_path(),
        }
        return render(request, "site/book/check_email.html", context)

    def just_taken(self, request, error: ApplicationError) -> HttpResponse:
        """The slot went to someone else meanwhile: say so, and offer the nearest free starts instead."""
        zone = _zone()
        context = {
            "choice": self.choice,
            "message": error.message,
            "nearest": [start.astimezone(zone) for start in nearest_free_starts(choice=self.choice, start=self.start)],
            "zone": zone.key,
            "details_url": reverse("book_details"),
            "tz": _tz(request),
        }
        return render(request, "site/book/just_taken.html", context, status=409)


def _own_booking(request: HttpRequest, booking_id: int) -> Booking:
    # Scoped like the API: a client sees only their own bookings; anyone else's id reads as not found.
    booking = booking_list(user=request.user).filter(pk=booking_id, created_by=request.user).first()
    if booking is None:
        raise Http404
    return booking


class BookDoneView(LoginRequiredMixin, View):
    def get(self, request, booking_id: int):
        booking = _own_booking(request, booking_id)
        zone = _zone()
        context = {
            "booking": booking,
            "start": booking.start_time.astimezone(zone),
            "end": booking.end_time.astimezone(zone),
            "zone": zone.key,
            "manage_url": f"/b/{booking_manage_token(booking)}/",
            "calendar_url": reverse("book_calendar", kwargs={"booking_id": booking.pk}),
        }
        return render(request, "site/book/done.html", context)


class BookCalendarView(LoginRequiredMixin, View):
    def get(self, request, booking_id: int):
        booking = _own_booking(request, booking_id)
        response = HttpResponse(booking_calendar(booking=booking, studio=request.tenant), content_type="text/calendar")
        response["Content-Disposition"] = f'attachment; filename="booking-{booking.pk}.ics"'
        return response
