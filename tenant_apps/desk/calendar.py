"""The desk's calendar: a day with one column per trainer, or a trainer's week (every trainer's, stacked), in the
studio's zone. State lives in the query string (?date=&view=&trainer=) so back, reload and a shared link agree.

What the caller may see comes from the API's scoped selectors (booking_list, availability_list, break_list):
owners and managers every trainer, a trainer their own. The data of any number of trainers and bookings comes in
a fixed number of queries (trainers, windows, session types, breaks, bookings), and the grid's cells are worked
out and formatted here, once each: the grid is the page's hot loop, and the template only prints rows of strings.
A free row links to the booking form only where a session type the trainer offers starts by its grid.
"""

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.views import View

from shared_apps.accounts.models import User
from shared_apps.core.tenancy import studio_date, studio_timezone
from tenant_apps.availability import slots
from tenant_apps.availability.selectors import (
    availability_list,
    booking_horizon,
    break_list,
    slot_rules,
    studio_day_bounds,
)
from tenant_apps.availability.versions import cached
from tenant_apps.bookings.models import ACTIVE_STATUSES, BookingHold, BookingStatus, PaymentState
from tenant_apps.bookings.selectors import booking_list
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenant_apps.desk.forms import BoundedDateField, within_bounds
from tenant_apps.trainers.models import SessionType, Trainer
from tenant_apps.trainers.selectors import calendar_trainers, session_type_list

DAY, WEEK = "day", "week"
ALL_TRAINERS = "all"
ROW_MINUTES = 15
ROW = timedelta(minutes=ROW_MINUTES)
# A day with no working hours and no bookings still shows a working day's grid.
EMPTY_DAY = (8 * 60, 18 * 60)
PAYMENT_WORDS = {
    PaymentState.CREDIT: "Paid by credit",
    PaymentState.UNPAID: "Unpaid",
    PaymentState.PAID: "Paid",
    PaymentState.COMPLIMENTARY: "Complimentary",
}
STATUS_WORDS = dict(BookingStatus.choices)


class CalendarQuery(forms.Form):
    date = BoundedDateField(
        required=False, input_formats=["%Y-%m-%d"], error_messages={"invalid": "Use a date such as 2026-12-01."}
    )
    view = forms.ChoiceField(choices=[(DAY, "Day"), (WEEK, "Week")], required=False)
    trainer = forms.RegexField(
        regex=rf"^({ALL_TRAINERS}|[0-9]{{1,9}})$",
        required=False,
        error_messages={"invalid": "Choose a trainer, or all trainers."},
    )


@dataclass(frozen=True, slots=True)
class Shown:
    """What the grid shows of a booking: read as plain values (no model instances: a day may hold hundreds)."""

    pk: int
    trainer_id: int
    start_time: datetime
    end_time: datetime
    status: str
    payment_state: str
    client_name: str
    type_name: str
    color: str


@dataclass
class Column:
    """One column of a grid: a trainer on a studio day, and what fills it."""

    trainer: Trainer
    day: date
    heading: str
    spoken: str  # how a free time's link names the column to a screen reader
    link: str = ""  # the heading's link: the trainer's week (day view) or the day (week view)
    link_text: str = ""
    note: str = ""
    windows: list[slots.Interval] = field(default_factory=list)
    breaks: list[tuple[slots.Interval, str]] = field(default_factory=list)
    bookings: list[Shown] = field(default_factory=list)
    cancelled: list[Shown] = field(default_factory=list)
    # The instants a session type the trainer offers may start at by its grid, each with the first such type (by
    # name): only those free rows link to the booking form, which would refuse any other start.
    starts: dict[datetime, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    label: str
    cells: SafeString


@dataclass(frozen=True)
class Grid:
    caption: str
    heading: str  # a stacked week's trainer, else ""
    columns: list[Column]
    rows: list[Row]
    cancelled: list[SafeString]


def _minute(moment: datetime, zone: ZoneInfo, day: date, *, end: bool) -> int:
    """``moment``'s wall-clock minute on the studio's ``day`` (clamped to the day), to a row's edge."""
    local = moment.astimezone(zone)
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    minute = local.hour * 60 + local.minute + (1 if end and (local.second or local.microsecond) else 0)
    return -(-minute // ROW_MINUTES) * ROW_MINUTES if end else minute // ROW_MINUTES * ROW_MINUTES


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= 24 * 60:
        return slots.local_midnight(day + timedelta(days=1), zone)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone).astimezone(UTC)


def _span(columns: list[Column], zone: ZoneInfo) -> tuple[int, int]:
    """The rows a grid needs: from the earliest window or booking to the latest end, in the studio's wall time."""
    starts, ends = [], []
    for column in columns:
        for interval in column.windows:
            starts.append(_minute(interval.start, zone, column.day, end=False))
            ends.append(_minute(interval.end, zone, column.day, end=True))
        for booking in column.bookings:
            starts.append(_minute(booking.start_time, zone, column.day, end=False))
            ends.append(_minute(booking.end_time, zone, column.day, end=True))
    if not starts:
        return EMPTY_DAY
    first, last = min(starts), max(ends)
    return (first, last) if last > first else (first, first + ROW_MINUTES)


def _card(booking: Shown, zone: ZoneInfo, href: str) -> str:
    start, end = booking.start_time.astimezone(zone), booking.end_time.astimezone(zone)
    # SVG's fill is an attribute, not a style: the type's colour shows under the CSP (which refuses style="").
    swatch = (
        '<svg class="cal-swatch" width="10" height="10" aria-hidden="true" focusable="false">'
        f'<rect width="10" height="10" rx="2" fill="{escape(booking.color)}"/></svg>'
    )
    return (
        f'<a class="cal-card cal-{booking.status}" href="{href}">'
        f'<span class="cal-when">{start:%H:%M}&ndash;{end:%H:%M}</span> '
        f'<strong class="cal-client">{escape(booking.client_name)}</strong> '
        f'<span class="cal-type">{swatch}{escape(booking.type_name)}</span> '
        f'<span class="cal-state">{STATUS_WORDS[booking.status]} · {PAYMENT_WORDS[booking.payment_state]}</span>'
        "</a>"
    )


def _kind(column: Column, start: datetime, end: datetime, now: datetime) -> tuple[str, str]:
    """What a row of a column shows when no booking is in it: a break, a free time, a past one, or off hours."""
    for interval, reason in column.breaks:
        if interval.start < end and start < interval.end:
            return "break", f"Break: {escape(reason)}" if reason else "Break"
    if any(interval.start <= start < interval.end for interval in column.windows):
        if start < now:
            return "past", ""
        # Free, but no session type starts then: plain free time, said in words to a screen reader.
        return ("free", "") if start in column.starts else ("open", '<span class="visually-hidden">Free</span>')
    return "off", "Not working"


def _cells(column: Column, instants: list[datetime], now: datetime, zone: ZoneInfo, urls: "Urls") -> list[list[str]]:
    """The column's cells, by row: a ``<td>`` where a cell starts, nothing where a cell above spans the row."""
    count = len(instants) - 1
    cells: list[list[str]] = [[] for _ in range(count)]
    covered = [False] * count
    # Bookings first; overlapping ones (a no-show and the walk-in booked over it) share one cell.
    clusters: list[tuple[int, int, list[Shown]]] = []
    for booking in column.bookings:
        first = max(bisect_right(instants, booking.start_time) - 1, 0)
        last = min(max(bisect_left(instants, booking.end_time), first + 1), count)
        if clusters and first < clusters[-1][1]:
            clusters[-1] = (clusters[-1][0], max(clusters[-1][1], last), [*clusters[-1][2], booking])
        else:
            clusters.append((first, last, [booking]))
    for first, last, bookings in clusters:
        cards = "".join(_card(booking, zone, urls.booking(booking.pk)) for booking in bookings)
        cells[first].append(f'<td class="cal-booked" rowspan="{last - first}">{cards}</td>')
        covered[first:last] = [True] * (last - first)

    kinds = [
        None if covered[index] else _kind(column, instants[index], instants[index + 1], now) for index in range(count)
    ]
    index = 0
    while index < count:
        kind = kinds[index]
        if kind is None:
            index += 1
            continue
        if kind[0] == "free":
            start_param, label = urls.start(instants[index])
            cells[index].append(
                f'<td class="cal-free"><a href="{urls.new}?trainer={column.trainer.pk}&amp;start={start_param}'
                f'&amp;session_type={column.starts[instants[index]]}">Book'
                f'<span class="visually-hidden"> {escape(column.spoken)} at</span> {label}</a></td>'
            )
            index += 1
            continue
        # Rows alike in a run make one cell, labelled once.
        last = index + 1
        while last < count and kinds[last] == kind:
            last += 1
        cells[index].append(f'<td class="cal-{kind[0]}" rowspan="{last - index}">{kind[1]}</td>')
        index = last
    return cells


class Urls:
    """The grid's links, reversed once per page instead of once per cell."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._booking = reverse("desk:booking", kwargs={"booking_id": 1})[: -len("1/")]
        self.new = reverse("desk:booking_new")
        self._zone = zone
        self._starts: dict[datetime, tuple[str, str]] = {}

    def booking(self, booking_id: int) -> str:
        return f"{self._booking}{booking_id}/"

    def start(self, instant: datetime) -> tuple[str, str]:
        """A row's start as the booking form's ?start= (ISO 8601, the studio's offset) and as its label; worked
        out once per row, whatever the number of columns."""
        found = self._starts.get(instant)
        if found is None:
            local = instant.astimezone(self._zone)
            found = self._starts[instant] = (quote(local.isoformat(), safe=""), f"{local:%H:%M}")
        return found


def _grid(*, columns: list[Column], zone: ZoneInfo, now: datetime, urls: Urls, caption: str, heading: str = "") -> Grid:
    first, last = _span(columns, zone)
    minutes = list(range(first, last + 1, ROW_MINUTES))
    instants_by_day: dict[date, list[datetime]] = {}
    by_column = []
    for column in columns:
        if column.day not in instants_by_day:
            instants_by_day[column.day] = [_instant(column.day, minute, zone) for minute in minutes]
        by_column.append(_cells(column, instants_by_day[column.day], now, zone, urls))
    rows = [
        Row(
            label=f"{minute // 60:02d}:{minute % 60:02d}",
            cells=mark_safe("".join(cell for cells in by_column for cell in cells[index])),  # noqa: S308 (escaped in _cells)
        )
        for index, minute in enumerate(minutes[:-1])
    ]
    cancelled = [
        mark_safe(  # noqa: S308 (escaped here)
            f'<a href="{urls.booking(booking.pk)}"><s>{escape(column.spoken)}, '
            f"{booking.start_time.astimezone(zone):%H:%M}: {escape(booking.client_name)}, "
            f"{escape(booking.type_name)}</s> (cancelled)</a>"
        )
        for column in columns
        for booking in column.cancelled
    ]
    return Grid(caption=caption, heading=heading, columns=columns, rows=rows, cancelled=cancelled)


def _html_cached(key: str, render) -> str:
    """``cached(key, render)``, refusing anything but a string under the key (an entry another release left):
    the page prints it as HTML."""
    html = cached(key, render)
    return html if isinstance(html, str) else render()


def _spoken(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def _calendar_url(*, day: date, view: str, trainer: str) -> str:
    return reverse("desk:calendar") + "?" + urlencode({"date": day.isoformat(), "view": view, "trainer": trainer})


def _fill(columns: list[Column], *, user: User, zone: ZoneInfo, first_day: date, last_day: date, now: datetime) -> None:
    """Each column's windows, breaks, bookings and the starts free for one of the trainer's session types on its
    day (by the booking service's rules, as of ``now``): five queries for every trainer and day shown, through
    the API's scoped selectors."""
    ids = sorted({column.trainer.pk for column in columns})
    since, until = studio_day_bounds(first_day, last_day)
    windows: dict[int, list[slots.Window]] = defaultdict(list)
    # Clocks around the world are at most 26 hours apart: a studio day meets a trainer's days two either side.
    for trainer_id, start, end, is_recurring, day_of_week, on_date in (
        availability_list(user=user)
        .filter(trainer_id__in=ids, is_active=True)
        .filter(
            Q(is_recurring=True) | Q(date__gte=first_day - timedelta(days=2), date__lte=last_day + timedelta(days=2))
        )
        .order_by()
        .values_list("trainer_id", "start_time", "end_time", "is_recurring", "day_of_week", "date")
    ):
        windows[trainer_id].append(
            slots.Window(
                start=start,
                end=end,
                day_of_week=day_of_week if is_recurring else None,
                on_date=None if is_recurring else on_date,
            )
        )
    # The active session types each trainer offers, by name (the booking form's order, so the one it preselects).
    offered: dict[int, list[SessionType]] = defaultdict(list)
    for session_type in (
        session_type_list(user=None)
        .filter(trainers__in=ids)
        .prefetch_related(None)
        .annotate(offered_by=F("trainers"))
        .only(
            "name",
            "duration_minutes",
            "slot_interval_minutes",
            "buffer_before_minutes",
            "buffer_after_minutes",
            "min_notice_minutes",
            "max_advance_days",
        )
        .order_by("name", "pk")
    ):
        offered[session_type.offered_by].append(session_type)
    # A session starting on the days shown, with its buffers, reaches past them: what may keep the trainer from
    # it is looked up that much wider (as the booking service's day_span does), what is shown stays the days'.
    reach = max(
        (
            timedelta(minutes=session_type.duration_minutes + session_type.buffer_before_minutes)
            + timedelta(minutes=session_type.buffer_after_minutes)
            for types in offered.values()
            for session_type in types
        ),
        default=timedelta(0),
    ) + timedelta(days=1)
    breaks: dict[int, list[tuple[slots.Interval, str]]] = defaultdict(list)
    for trainer_id, starts_at, ends_at, reason in (
        break_list(user=user)
        .filter(trainer_id__in=ids, ends_at__gt=since - reach, starts_at__lt=until + reach)
        .order_by("starts_at")
        .values_list("trainer_id", "starts_at", "ends_at", "reason")
    ):
        breaks[trainer_id].append((slots.Interval(starts_at, ends_at), reason))
    bookings: dict[int, list[Shown]] = defaultdict(list)
    # What keeps each trainer from a new session (active bookings and guests' live holds, with their buffers):
    # the same the booking service checks, so a "Book" link leads to a start it accepts.
    busy: dict[int, list[slots.Busy]] = defaultdict(list)
    for (
        pk,
        trainer_id,
        start,
        end,
        blocked_from,
        blocked_until,
        status,
        payment_state,
        first_name,
        last_name,
        email,
        type_name,
        color,
    ) in (
        booking_list(user=user)
        .filter(trainer_id__in=ids, start_time__lt=until + reach, end_time__gt=since - reach)
        .order_by("start_time", "pk")
        .values_list(
            "pk",
            "trainer_id",
            "start_time",
            "end_time",
            "blocked_from",
            "blocked_until",
            "status",
            "payment_state",
            "client__first_name",
            "client__last_name",
            "client__email",
            "session_type__name",
            "session_type__color",
        )
    ):
        # The client's name as Client.__str__ gives it.
        client_name = f"{first_name} {last_name}".strip() or email
        bookings[trainer_id].append(
            Shown(pk, trainer_id, start, end, status, payment_state, client_name, type_name, color)
        )
        if status in ACTIVE_STATUSES:
            busy[trainer_id].append(slots.Busy(start, end, blocked_from, blocked_until))
    for trainer_id, *times in BookingHold.objects.filter(
        trainer_id__in=ids,
        confirmed_at__isnull=True,
        expires_at__gt=timezone.now(),
        blocked_until__gt=since - reach,
        blocked_from__lt=until + reach,
    ).values_list("trainer_id", "start_time", "end_time", "blocked_from", "blocked_until"):
        busy[trainer_id].append(slots.Busy(*times))

    # Each type's grid worked out once per trainer for all the days shown (by the booking services' own rules),
    # the first type by name kept for each start.
    starts: dict[int, dict[datetime, int]] = {}
    for trainer in {column.trainer.pk: column.trainer for column in columns}.values():
        trainer_zone = ZoneInfo(trainer.timezone)
        local_first = since.astimezone(trainer_zone).date()
        local_last = (until - timedelta(microseconds=1)).astimezone(trainer_zone).date()
        found = starts[trainer.pk] = {}
        trainer_breaks = [interval for interval, _reason in breaks[trainer.pk]]
        for session_type in offered[trainer.pk] if windows[trainer.pk] else ():
            rules = slot_rules(session_type)
            # The earliest as of the next row (the grid's "now", conservative), the latest as of now.
            earliest = booking_horizon(session_type, now)[0]
            latest = booking_horizon(session_type, timezone.now())[1]
            grid = slots.candidate_starts(windows[trainer.pk], trainer_zone, local_first, local_last, rules)
            for start in slots.free_among(
                grid, rules=rules, busy=busy[trainer.pk], breaks=trainer_breaks, earliest=earliest, latest=latest
            ):
                found.setdefault(start, session_type.pk)

    for column in columns:
        column.starts = starts[column.trainer.pk]
        trainer_zone = ZoneInfo(column.trainer.timezone)
        day_start, day_end = studio_day_bounds(column.day, column.day)
        local_day = day_start.astimezone(trainer_zone).date()
        local_last = (day_end - timedelta(microseconds=1)).astimezone(trainer_zone).date()
        while local_day <= local_last:
            for window in windows[column.trainer.pk]:
                if window.applies_to(local_day):
                    bounds = slots.window_bounds(window, local_day, trainer_zone)
                    if bounds.start < day_end and day_start < bounds.end:
                        column.windows.append(slots.Interval(max(bounds.start, day_start), min(bounds.end, day_end)))
            local_day += timedelta(days=1)
        column.breaks = [
            item for item in breaks[column.trainer.pk] if item[0].start < day_end and day_start < item[0].end
        ]
        for booking in bookings[column.trainer.pk]:
            if booking.start_time < day_end and day_start < booking.end_time:
                target = column.cancelled if booking.status == BookingStatus.CANCELLED else column.bookings
                target.append(booking)


def _own_zone_note(user: User, trainers: list[Trainer], zone: ZoneInfo, first_day: date, last_day: date) -> str:
    """For a trainer who lives in another zone than the studio: the days shown, in their own time."""
    own = next((trainer for trainer in trainers if trainer.user_id == user.pk), None)
    if own is None or own.timezone == zone.key:
        return ""
    trainer_zone = ZoneInfo(own.timezone)
    since, until = studio_day_bounds(first_day, last_day)
    noon = datetime.combine(first_day, time(12), tzinfo=zone)
    return (
        f"Your own zone is {own.timezone}: this {'day' if first_day == last_day else 'week'} runs from "
        f"{since.astimezone(trainer_zone):%a %d %b %H:%M} to "
        f"{until.astimezone(trainer_zone):%a %d %b %H:%M} your time, "
        f"and 12:00 here is {noon.astimezone(trainer_zone):%H:%M} for you."
    )


class CalendarView(StaffRequiredMixin, View):
    """GET ?date=YYYY-MM-DD&view=day|week&trainer=all|<id>. An htmx request (the arrows, the chooser) gets the
    calendar alone."""

    def get(self, request: HttpRequest) -> HttpResponse:
        query = CalendarQuery(request.GET)
        if not query.is_valid():
            messages = [message for errors in query.errors.values() for message in errors]
            return forbidden(request, " ".join(messages), status=400)
        zone = ZoneInfo(studio_timezone())
        now = timezone.now()
        day = query.cleaned_data["date"] or studio_date(now)
        view = query.cleaned_data["view"] or DAY
        trainer_param = query.cleaned_data["trainer"] or ALL_TRAINERS
        visible = list(calendar_trainers(user=request.user))
        shown = visible
        if trainer_param != ALL_TRAINERS:
            shown = [trainer for trainer in visible if trainer.pk == int(trainer_param)]
            if not shown:
                # Someone else's calendar is refused as the API refuses it; a trainer who isn't there is not found.
                if not Trainer.objects.filter(pk=int(trainer_param), is_active=True).exists():
                    raise Http404
                return forbidden(request, "You can open your own calendar only.")
        context = self.context(request, zone=zone, now=now, day=day, view=view, trainer_param=trainer_param)
        # The grids depend on the trainers shown (the caller's scope), the days, and which rows are past: cached
        # under the studio's calendar version (every booking, break, window, client... bumps it) until the next row
        # starts, when a free row turns past.
        next_row = now + (-(now - datetime.min.replace(tzinfo=UTC)) % ROW)
        # The HTML depends on the caller only through the trainers shown: the scoped selectors give a trainer what
        # the owner sees of that trainer. The studio's zone is in it (its days and rows).
        shown_ids = ",".join(str(trainer.pk) for trainer in shown)
        key = f"desk-calendar-html:{zone.key}:{view}:{day}:{trainer_param}:{shown_ids}:{next_row:%Y%m%d%H%M}"
        # Cached as the HTML the grids' template makes of them: a hit is one string, not objects to unpickle and
        # a template to run. Rendered by our template (autoescaped), so safe to print as it is.
        context["grids_html"] = mark_safe(  # noqa: S308
            _html_cached(
                key,
                lambda: render_to_string(
                    "desk/calendar/_grids.html",
                    {
                        "grids": self.grids(
                            request,
                            zone=zone,
                            now=next_row,
                            day=day,
                            view=view,
                            shown=shown,
                            trainer_param=trainer_param,
                        )
                    },
                ),
            )
        )
        first_day, last_day = context["first_day"], context["last_day"]
        context["own_zone_note"] = _own_zone_note(request.user, shown, zone, first_day, last_day)
        context["visible"] = visible
        template = "desk/calendar/_calendar.html" if request.htmx else "desk/calendar/page.html"
        response = render(request, template, context)
        # One URL, two answers: a cache (the browser's, going back) must not hand the calendar alone to a page load.
        patch_vary_headers(response, ["HX-Request"])
        return response

    def context(self, request, *, zone: ZoneInfo, now: datetime, day: date, view: str, trainer_param: str) -> dict:
        step = timedelta(days=7 if view == WEEK else 1)
        first = day - timedelta(days=day.weekday()) if view == WEEK else day
        return {
            "view": view,
            "day": day,
            "first_day": first,
            "last_day": first + step - timedelta(days=1),
            "trainer_param": trainer_param,
            "zone": zone.key,
            # No arrow past the years the desk (and the API) accept.
            "previous_url": (
                _calendar_url(day=first - step, view=view, trainer=trainer_param) if within_bounds(first - step) else ""
            ),
            "next_url": (
                _calendar_url(day=first + step, view=view, trainer=trainer_param) if within_bounds(first + step) else ""
            ),
            "today_url": _calendar_url(day=studio_date(now), view=view, trainer=trainer_param),
            "day_url": _calendar_url(day=day, view=DAY, trainer=trainer_param),
            "week_url": _calendar_url(day=day, view=WEEK, trainer=trainer_param),
        }

    def grids(
        self, request, *, zone: ZoneInfo, now: datetime, day: date, view: str, shown: list[Trainer], trainer_param: str
    ) -> list[Grid]:
        urls = Urls(zone)
        if view == DAY:
            columns = [
                Column(
                    trainer=trainer,
                    day=day,
                    heading=trainer.display_name,
                    spoken=trainer.display_name,
                    link=_calendar_url(day=day, view=WEEK, trainer=str(trainer.pk)),
                    link_text="Week",
                    note="" if trainer.timezone == zone.key else f"Works in {trainer.timezone}",
                )
                for trainer in shown
            ]
            first_day = last_day = day
        else:
            first_day = day - timedelta(days=day.weekday())
            last_day = first_day + timedelta(days=6)
            days = [first_day + timedelta(days=offset) for offset in range(7)]
            columns = [
                Column(
                    trainer=trainer,
                    day=column_day,
                    heading=f"{column_day:%a} {column_day.day} {column_day:%b}",
                    spoken=f"{trainer.display_name} on {_spoken(column_day)}",
                    link=_calendar_url(day=column_day, view=DAY, trainer=trainer_param)
                    if within_bounds(column_day)
                    else "",
                    link_text="Day",
                )
                for trainer in shown
                for column_day in days
            ]
        _fill(columns, user=request.user, zone=zone, first_day=first_day, last_day=last_day, now=now)
        if view == DAY:
            grids = [
                _grid(columns=columns, zone=zone, now=now, urls=urls, caption=f"{_spoken(day)} {day:%Y}, by trainer")
            ]
        else:
            grids = [
                _grid(
                    columns=columns[index * 7 : index * 7 + 7],
                    zone=zone,
                    now=now,
                    urls=urls,
                    caption=f"{trainer.display_name}, week of {_spoken(first_day)} {first_day:%Y}",
                    heading=trainer.display_name,
                )
                for index, trainer in enumerate(shown)
            ]
        return grids


urlpatterns = [path("calendar/", CalendarView.as_view(), name="calendar")]
