"""The front desk's day: the day's sessions in time order, who still owes payment, and check-in / no-show.

The list reads through the API's booking selector (a trainer: their own sessions; owner and managers: all), and
the buttons call the same services as POST /api/bookings/<id>/complete/, /no-show/ and /undo/.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import View

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.money import money
from tenant_apps.bookings import services as booking_services
from tenant_apps.bookings.models import Booking, BookingEvent, BookingStatus, PaymentState
from tenant_apps.bookings.selectors import booking_list
from tenant_apps.desk.access import StaffRequiredMixin
from tenant_apps.desk.forms import FIRST_DAY, LAST_DAY, BoundedDateField


def payment_words(booking: Booking) -> str:
    """How the session is paid for, in words (never by colour alone); what an unpaid one still owes."""
    if booking.status == BookingStatus.CANCELLED:
        return "Nothing to pay (cancelled)"
    if booking.payment_state == PaymentState.UNPAID:
        return f"Owes {money(booking.price, booking.currency)}"
    if booking.payment_state == PaymentState.CREDIT:
        name = booking.client_package.package.name if booking.client_package_id else "a package"
        return f"Paid with a credit of {name}"
    if booking.payment_state == PaymentState.PAID:
        amount = money(booking.amount_paid, booking.payment_currency) if booking.amount_paid is not None else ""
        method = f"({booking.get_payment_method_display().lower()})" if booking.payment_method else ""
        return " ".join(part for part in ("Paid", amount, method) if part)
    return "Complimentary"


@dataclass
class Row:
    """One session on the list, with what the desk may do to it now."""

    booking: Booking
    starts: datetime
    ends: datetime
    payment: str
    can_mark: bool  # check-in or no-show: a confirmed session that has started
    can_undo: bool
    notice: str = ""
    error: str = ""

    @property
    def time_range(self) -> str:
        return f"{self.starts:%H:%M}\u2013{self.ends:%H:%M}"

    @property
    def owes(self) -> bool:
        return self.booking.status != BookingStatus.CANCELLED and self.booking.payment_state == PaymentState.UNPAID


def _row(
    booking: Booking,
    *,
    zone: ZoneInfo,
    now: datetime,
    notice: str = "",
    error: str = "",
    events: Iterable[BookingEvent] | None = None,
) -> Row:
    # The services' own rules (booking_complete / booking_no_show refuse a session not started yet, booking_undo
    # one past its deadline), so the buttons show only when pressing them can work.
    started = booking.start_time <= now
    undo_deadline = booking_services.booking_undo_deadline(booking, events=events)
    return Row(
        booking=booking,
        starts=booking.start_time.astimezone(zone),
        ends=booking.end_time.astimezone(zone),
        payment=payment_words(booking),
        can_mark=booking.status == BookingStatus.CONFIRMED and started,
        can_undo=undo_deadline is not None and now <= undo_deadline,
        notice=notice,
        error=error,
    )


class DayForm(forms.Form):
    date = BoundedDateField(
        label="Day", required=False, widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"]
    )


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The studio's day from its midnight to the next (23 or 25 hours on the days the clocks change)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def today_url(day: date | None) -> str:
    url = reverse("desk:today")
    return f"{url}?date={day.isoformat()}" if day else url


class TodayView(StaffRequiredMixin, View):
    """GET ?date=YYYY-MM-DD (default: today in the studio's zone)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        zone = ZoneInfo(request.tenant.timezone)
        now = timezone.now()
        today = now.astimezone(zone).date()
        form = DayForm(request.GET)
        day, status = today, 200
        if form.is_valid():
            day = form.cleaned_data["date"] or today
        else:
            status = 400
        start, end = _day_bounds(day, zone)
        bookings = (
            booking_list(user=request.user)
            .filter(start_time__gte=start, start_time__lt=end)
            .order_by("start_time", "trainer__display_name", "id")
            # The markings the undo deadline counts from, for the whole day in one query.
            .prefetch_related(
                Prefetch(
                    "events",
                    queryset=BookingEvent.objects.filter(to_status__in=booking_services.UNDOABLE_STATUSES),
                    to_attr="markings",
                )
            )
        )
        context = {
            "form": form,
            "day": day,
            "is_today": day == today,
            # No link past the years the desk (and the API) accept.
            "previous_day": day - timedelta(days=1) if day > FIRST_DAY else None,
            "next_day": day + timedelta(days=1) if day < LAST_DAY else None,
            "zone": request.tenant.timezone,
            "rows": [_row(booking, zone=zone, now=now, events=booking.markings) for booking in bookings],
            "show_trainer": request.user.manages_studio,
        }
        return render(request, "desk/today.html", context, status=status)


class TodayActionView(StaffRequiredMixin, View):
    """POST: check a session in (completed), mark a no-show, or undo either; the same services as the API.

    A plain form goes back to the day with a message; htmx gets the session's row back, saying what happened.
    """

    change = None  # the service, set for each URL
    done = ""

    def post(self, request: HttpRequest, booking_id: int) -> HttpResponse:
        # The API's lookup: a booking the caller may see (a trainer: their own), anything else a 404.
        booking = get_object_or_404(booking_list(user=request.user), pk=booking_id)
        notice = error = ""
        try:
            booking = self.change(booking=booking, actor=request.user)
            notice = self.done.format(client=booking.client)
        except ApplicationError as refusal:
            error = refusal.message
            booking.refresh_from_db()
        if request.htmx:
            zone = ZoneInfo(request.tenant.timezone)
            booking = booking_list(user=request.user).get(pk=booking.pk)
            row = _row(booking, zone=zone, now=timezone.now(), notice=notice, error=error)
            context = {"row": row, "show_trainer": request.user.manages_studio, "day": row.starts.date()}
            # htmx swaps only a 2xx answer: a refusal comes back as the row saying why.
            response = render(request, "desk/_today_item.html", context)
            patch_vary_headers(response, ["HX-Request"])
            return response
        if error:
            messages.error(request, error)
        else:
            messages.success(request, notice)
        day = DayForm(request.POST)
        return redirect(today_url(day.cleaned_data["date"] if day.is_valid() else None))


urlpatterns = [
    path("today/", TodayView.as_view(), name="today"),
    path(
        "today/<int:booking_id>/check-in/",
        TodayActionView.as_view(change=booking_services.booking_complete, done="{client} is checked in."),
        name="today_check_in",
    ),
    path(
        "today/<int:booking_id>/no-show/",
        TodayActionView.as_view(change=booking_services.booking_no_show, done="{client} is marked as a no-show."),
        name="today_no_show",
    ),
    path(
        "today/<int:booking_id>/undo/",
        TodayActionView.as_view(change=booking_services.booking_undo, done="Undone: {client} is booked again."),
        name="today_undo",
    ),
]
