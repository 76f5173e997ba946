"""Pages reached from a mail, without signing in: a booking's manage link (``/b/<token>/``: see it, cancel it,
move it) and a guest's confirmation link (``/book/confirm/<token>/``).

Nothing changes on GET: mail scanners and link previews follow links. Every change is a POST with CSRF, after a
page that says what it will do. The token is the only key: a bad, revoked or expired one gets a page in the
studio's theme with the status the API would answer (404, 410, 409).
"""

from datetime import datetime, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views import View

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import studio_date, studio_timezone
from tenant_apps.availability.selectors import available_slots
from tenant_apps.bookings.holds import HoldAlreadyConfirmed, HoldExpired, HoldNotFound, hold_confirm, hold_token_hash
from tenant_apps.bookings.models import ACTIVE_STATUSES, Booking, BookingHold, PaymentState
from tenant_apps.bookings.services import booking_cancel, booking_cancel_outcome, booking_reschedule
from tenant_apps.bookings.tokens import booking_from_manage_token, booking_manage_token

RESCHEDULE_DAYS = 14
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
            return self.get(self.request, error=error, status=error.status_code)
        messages.success(self.request, message)
        return redirect("manage_booking", token=self.token)


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


class RescheduleForm(forms.Form):
    start_time = forms.ChoiceField(label="New time", widget=forms.RadioSelect)

    def __init__(self, *args, starts: list[datetime], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["start_time"].choices = [(start.isoformat(), start.isoformat()) for start in starts]
        self.fields["start_time"].error_messages["invalid_choice"] = "This time is no longer free. Pick another one."


class RescheduleBookingView(ManageLinkView):
    """The trainer's free starts for the booking's session type over the next two weeks, in the studio's zone;
    the move goes through ``booking_reschedule`` as the client (same trainer, the client's window)."""

    def _starts(self) -> list[datetime]:
        if self.booking.status not in ACTIVE_STATUSES:
            return []
        today = studio_date(timezone.now())
        try:
            return available_slots(
                trainer=self.booking.trainer,
                session_type=self.booking.session_type,
                first_day=today,
                last_day=today + timedelta(days=RESCHEDULE_DAYS - 1),
            )
        except ApplicationError:  # the trainer no longer offers the session type: no time to move to
            return []

    def _page(self, form: RescheduleForm, *, starts: list[datetime], error=None, status: int = 200) -> HttpResponse:
        local = [(start.isoformat(), _local(start)) for start in starts if start != self.booking.start_time]
        days = [(day, list(group)) for day, group in groupby(local, key=lambda item: item[1].date())]
        return self.render("site/manage/reschedule.html", status=status, form=form, days=days, error=error)

    def get(self, request: HttpRequest, error: ApplicationError | None = None, status: int = 200) -> HttpResponse:
        starts = self._starts()
        return self._page(RescheduleForm(starts=starts), starts=starts, error=error, status=status)

    def post(self, request: HttpRequest) -> HttpResponse:
        starts = self._starts()
        form = RescheduleForm(request.POST, starts=starts)
        if not form.is_valid():
            return self._page(form, starts=starts, status=400)
        start = datetime.fromisoformat(form.cleaned_data["start_time"])

        def move(**actor) -> str:
            booking_reschedule(booking=self.booking, start_time=start, **actor)
            return f"Your booking now starts {_local(start):%a %-d %b %Y %H:%M} ({studio_timezone()})."

        return self.act(move)


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
