"""Pages reached from a mail, without signing in: a booking's manage link (``/b/<token>/``: see it, cancel it,
move it) and a guest's confirmation link (``/book/confirm/<token>/``).

Nothing changes on GET: mail scanners and link previews follow links. Every change is a POST with CSRF, after a
page that says what it will do. The token is the only key: a bad, revoked or expired one gets a page in the
studio's theme with the status the API would answer (404, 410, 409).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import View
from django_htmx.http import HttpResponseClientRedirect

from shared_apps.core.exceptions import ApplicationError, ValidationFailed
from shared_apps.core.tenancy import studio_date, studio_timezone
from tenant_apps.availability.selectors import booking_horizon
from tenant_apps.bookings.holds import HoldAlreadyConfirmed, HoldExpired, HoldNotFound, hold_confirm, hold_token_hash
from tenant_apps.bookings.models import ACTIVE_STATUSES, Booking, BookingHold, PaymentState
from tenant_apps.bookings.services import (
    SlotUnavailable,
    booking_cancel,
    booking_cancel_outcome,
    booking_move_refusal,
    booking_reschedule,
)
from tenant_apps.bookings.tokens import booking_from_manage_token, booking_manage_token
from tenant_apps.site.book import (
    FIRST_WEEK,
    Choice,
    _monday,
    _query,
    _tz,
    first_free_monday,
    free_starts,
    nearest_free_starts,
    week_context,
)

ERROR_TEMPLATE = "site/manage/link_error.html"


def _link_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return render(request, ERROR_TEMPLATE, {"message": error.message, "code": error.code}, status=error.status_code)


def _local(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(studio_timezone()))


def _booking_context(booking: Booking, token: str) -> dict:
    return {
        "booking": booking,
        "token": token,
        "local_start": _local(booking.start_time),
        "local_end": _local(booking.end_time),
        "zone": studio_timezone(),
        "is_active": booking.status in ACTIVE_STATUSES,
    }


class ManageLinkView(View):
    """Base of the manage pages: the booking the token names, or the page that says why the link doesn't work."""

    def dispatch(self, request: HttpRequest, *args, token: str, **kwargs) -> HttpResponse:
        try:
            self.booking = booking_from_manage_token(token)
        except ApplicationError as error:
            return _link_error(request, error)
        self.token = token
        return super().dispatch(request, *args, **kwargs)

    def render(self, template: str, status: int = 200, **extra) -> HttpResponse:
        context = _booking_context(self.booking, self.token) | extra
        return render(self.request, template, context, status=status)

    def act(self, action) -> HttpResponse:
        """Run ``action`` as the booking's client: its account when it has one (the history names it), or no
        account and ``by_client`` so the client's rules (windows, refunds) apply all the same. ``action``
        returns what to tell the client; a domain error is shown on the page it came from."""
        try:
            message = action(actor=self.booking.client.user, by_client=True)
        except ApplicationError as error:
            return self.refused(error)
        messages.success(self.request, message)
        return redirect("manage_booking", token=self.token)

    def refused(self, error: ApplicationError) -> HttpResponse:
        return self.get(self.request, error=error, status=error.status_code)


class ManageBookingView(ManageLinkView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render("site/manage/booking.html")


class CancelBookingView(ManageLinkView):
    """Says what cancelling now would do with the credit (the rule ``booking_cancel`` applies), then does it."""

    def get(self, request: HttpRequest, error: ApplicationError | None = None, status: int = 200) -> HttpResponse:
        outcome = booking_cancel_outcome(booking=self.booking, now=timezone.now(), by_client=True)
        return self.render("site/manage/cancel.html", status=status, outcome=outcome, error=error)

    def post(self, request: HttpRequest) -> HttpResponse:
        def cancel(**actor) -> str:
            booking = booking_cancel(booking=self.booking, **actor)
            if booking.payment_state != PaymentState.CREDIT:
                return "Your booking is cancelled."
            if booking.credit_returned:
                package = booking.client_package
                return (
                    f"Your booking is cancelled and your credit came back: {package.sessions_remaining} "
                    f"left in {package.package.name}."
                )
            return "Your booking is cancelled. It was a late cancellation, so the credit is not returned."

        return self.act(cancel)


def _aware_start(value: str | None) -> datetime | None:
    """A start from the query string or the form: an ISO 8601 instant with its offset, in UTC; None otherwise."""
    try:
        start = datetime.fromisoformat(value or "")
        return None if timezone.is_naive(start) else start.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one at the calendar's ends that no zone can hold
        return None


def _week_of(start: datetime | None) -> str:
    """The Monday of ``start``'s week in the studio's zone, for ?week=; "" (this week) for none or one at the
    calendar's ends."""
    try:
        return _monday(studio_date(start)).isoformat() if start is not None else ""
    except OverflowError:
        return ""


class RescheduleBookingView(ManageLinkView):
    """Another time with the same trainer: the week of free times /book/ shows (the same selectors, notice and
    horizon as the API's free slots), week by week; a time leads (GET, ``?start=``) to a page that asks "Move
    from … to …?", and only its POST moves the booking, through ``booking_reschedule`` as the client (same
    trainer, the client's window). A time taken meanwhile gets the nearest free ones instead (409)."""

    slot_action = "Move to"

    @property
    def choice(self) -> Choice:
        return Choice(
            session_type=self.booking.session_type, trainer=self.booking.trainer, exclude_booking_id=self.booking.pk
        )

    def url(self, **params) -> str:
        return reverse("manage_booking_reschedule", kwargs={"token": self.token}) + _query(**params)

    def refusal(self) -> ApplicationError | None:
        return (
            booking_move_refusal(booking=self.booking, now=timezone.now())
            if self.booking.status in ACTIVE_STATUSES
            else None
        )

    def get(self, request: HttpRequest) -> HttpResponse:
        refusal = self.refusal()
        if refusal is None and self.booking.status in ACTIVE_STATUSES:
            if "start" in request.GET:
                return self.confirm(request)
            if request.GET.get("week") == FIRST_WEEK:
                # As on /book/: on to the first week with a free time, so the URL names the week shown.
                return redirect(self.url(week=first_free_monday(choice=self.choice).isoformat(), tz=_tz(request)))
        return self.week_page(request, week=request.GET.get("week", ""), refusal=refusal)

    def week_page(
        self,
        request: HttpRequest,
        *,
        week: str,
        refusal: ApplicationError | None = None,
        error: ApplicationError | None = None,
        status: int = 200,
    ) -> HttpResponse:
        """The booking and, when it may move, a week of the trainer's free times; an htmx request (the week
        arrows) gets only the week."""
        tz = _tz(request)
        context = {"slot_action": self.slot_action, "refusal": refusal}
        if error is not None and (refusal is None or error.code != refusal.code):
            context["error"] = error
        if refusal is None and self.booking.status in ACTIVE_STATUSES:
            context |= week_context(
                choice=self.choice,
                asked=week,
                tz=tz,
                week_url=lambda week, tz: self.url(week=str(week), tz=tz),
                slot_href=lambda start: self.url(start=start.isoformat(), tz=tz),
                skip=self.booking.start_time,
                action=self.slot_action,
            )
            if request.htmx:
                response = render(request, "site/book/_week.html", context, status=status)
                patch_vary_headers(response, ["HX-Request"])
                return response
        elif request.htmx:
            return HttpResponseClientRedirect(request.get_full_path())  # no week any more: the whole page says why
        response = self.render("site/manage/reschedule.html", status=status, **context)
        # One URL, two answers: a cache (the browser's, when going back) must not hand the week alone to a page load.
        patch_vary_headers(response, ["HX-Request"])
        return response

    def confirm(self, request: HttpRequest) -> HttpResponse:
        """?start=: "Move from … to …?" and the button; nothing moves on GET (mail scanners follow links). A start
        that isn't one of the trainer's free times now gets the week with the problem (400)."""
        start = _aware_start(request.GET.get("start"))
        if start is None or not self.is_free(start):
            error = ValidationFailed("This time is not free. Pick one of the free times.")
            return self.week_page(request, week=_week_of(start), error=error, status=400)
        zone = ZoneInfo(studio_timezone())
        local = start.astimezone(zone)
        return self.render(
            "site/manage/reschedule_confirm.html",
            new_start=local,
            new_end=local + timedelta(minutes=self.booking.session_type.duration_minutes),
            new_start_value=local.isoformat(),
            week_url=self.url(week=_week_of(start), tz=_tz(request)),
        )

    def is_free(self, start: datetime) -> bool:
        """One of the trainer's free starts now, as the week would show it (computed afresh), and not its own."""
        now = timezone.now()
        earliest, latest = booking_horizon(self.booking.session_type, now)
        if start == self.booking.start_time or not earliest <= start <= latest:
            return False
        day = studio_date(start)
        return start in free_starts(choice=self.choice, first_day=day, last_day=day, now=now, fresh=True)

    def post(self, request: HttpRequest) -> HttpResponse:
        start = _aware_start(request.POST.get("start_time"))
        if start is None:
            return self.week_page(request, week="", error=ValidationFailed("Pick one of the free times."), status=400)
        self.start = start

        def move(**actor) -> str:
            booking_reschedule(booking=self.booking, start_time=start, **actor)
            return f"Your booking now starts {_local(start):%a %-d %b %Y %H:%M} ({studio_timezone()})."

        return self.act(move)

    def refused(self, error: ApplicationError) -> HttpResponse:
        """The service said no: a time taken meanwhile gets the nearest free ones; anything else, the week of the
        time asked for with the service's words."""
        if isinstance(error, SlotUnavailable):
            return self.just_taken(error)
        return self.week_page(
            self.request, week=_week_of(self.start), refusal=self.refusal(), error=error, status=error.status_code
        )

    def just_taken(self, error: ApplicationError) -> HttpResponse:
        zone = ZoneInfo(studio_timezone())
        nearest = nearest_free_starts(choice=self.choice, start=self.start)
        return self.render(
            "site/manage/just_taken.html",
            status=409,
            message=error.message,
            nearest=[
                (start.astimezone(zone), self.url(start=start.astimezone(zone).isoformat()))
                for start in nearest
                if start != self.booking.start_time
            ],
            week_url=self.url(week=_week_of(self.start)),
        )


class ConfirmHoldView(View):
    """A guest's link: GET shows the held slot and a button; only the POST books (``hold_confirm``)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        hold = (
            BookingHold.objects.select_related("trainer", "session_type")
            .filter(token_hash=hold_token_hash(token))
            .first()
        )
        if hold is None:
            return _link_error(request, HoldNotFound())
        if hold.confirmed_at is not None:
            return _link_error(request, HoldAlreadyConfirmed())
        now = timezone.now()
        if hold.expires_at <= now or hold.start_time <= now:
            return _link_error(request, HoldExpired())
        context = {
            "hold": hold,
            "token": token,
            "local_start": _local(hold.start_time),
            "local_expires": _local(hold.expires_at),
            "zone": studio_timezone(),
        }
        return render(request, "site/manage/confirm_hold.html", context)

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            booking = hold_confirm(token=token)
        except ApplicationError as error:
            return _link_error(request, error)
        messages.success(
            request,
            "Your booking is confirmed. Keep this page's address: it is your link to see, move or cancel it.",
        )
        return redirect("manage_booking", token=booking_manage_token(booking))
