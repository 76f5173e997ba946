"""The desk: a booking made from a free time, and a booking's panel with its actions.

The views parse and render; who may see or do what, and every rule of a booking, are the services' and selectors'
the API calls (``booking_list(user=...)`` scopes every booking id, ``client_list(user=...)`` every client id), so
the desk and the API can't disagree. A refusal shows on the form or the panel with the API's words; a slot taken
meanwhile (409) also offers the nearest free times.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views import View
from django_htmx.http import trigger_client_event

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.tenancy import studio_date, studio_timezone
from tenant_apps.availability.selectors import booking_horizon, offering_trainers
from tenant_apps.bookings import services
from tenant_apps.bookings.models import ACTIVE_STATUSES, Booking, BookingEvent, BookingStatus, PaymentState
from tenant_apps.bookings.selectors import booking_history, booking_list
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_list, client_search
from tenant_apps.clients.services import client_create, may_create_clients
from tenant_apps.desk import forms
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenant_apps.notifications.selectors import may_see_delivery_errors, notification_list
from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.selectors import usable_client_packages
from tenant_apps.site.book import Choice, free_starts, nearest_free_starts
from tenant_apps.trainers.models import SessionType, Trainer
from tenant_apps.trainers.selectors import calendar_trainers, session_type_list

# A search needs this many characters; it answers at most this many clients (type more to narrow it).
SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 10
# htmx swaps only 2xx answers: a refusal sent to htmx comes back as a 200 page that shows it.
HTMX_REFUSAL_STATUS = 200
# Told to the page when a booking changed, so a calendar showing it can refresh.
CHANGED_EVENT = "deskBookingChanged"
# A booking moved again and again gathers messages; the panel lists the latest ones.
MESSAGES_SHOWN = 30


def _zone() -> ZoneInfo:
    return ZoneInfo(studio_timezone())


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 10 else None


def _start(value: str | None) -> datetime | None:
    """A start from the query: ISO 8601 with its offset (a calendar's link), or without (the studio's zone)."""
    try:
        return forms.StudioDateTimeField(required=False).clean(value)
    except ValidationError:  # unreadable reads as "no start given": the form asks for one
        return None


def _query(**params) -> str:
    return "?" + urlencode({key: value for key, value in params.items() if value not in (None, "")})


def _render(request: HttpRequest, template: str, partial: str, context: dict, status: int = 200) -> HttpResponse:
    """The whole page, or for htmx only the part it swaps; one URL, so caches must tell the two apart."""
    response = render(request, partial if request.htmx else template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# -- a new booking ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewState:
    """What the booking form is about, from the query (a calendar's link, the search, the selects) or the POST:
    each checked against what the caller may name, and None when it isn't one."""

    trainer: Trainer | None
    session_type: SessionType | None
    start: datetime | None
    client: Client | None

    def url(self, **override) -> str:
        values = {
            "trainer": self.trainer.pk if self.trainer else None,
            "session_type": self.session_type.pk if self.session_type else None,
            "start": self.start.astimezone(_zone()).isoformat() if self.start else None,
            "client": self.client.pk if self.client else None,
        } | override
        return reverse("desk:booking_new") + _query(**values)


def _trainers(request: HttpRequest):
    """The trainers the caller may book for: the calendars they see (a trainer: their own)."""
    return calendar_trainers(user=request.user).order_by("display_name", "pk")


def _session_types(trainer: Trainer | None):
    if trainer is None:
        return SessionType.objects.none()
    return session_type_list(user=None).filter(trainers=trainer).order_by("name", "pk")


def _new_state(request: HttpRequest, params) -> NewState | HttpResponse:
    """The state, or the refusal of a trainer the caller may not book for: another's calendar is refused as the
    calendar refuses it (403), a trainer who isn't there is not found."""
    trainers = _trainers(request)
    trainer = None
    if (trainer_id := _int(params.get("trainer"))) is not None:
        trainer = trainers.filter(pk=trainer_id).first()
        if trainer is None:
            if not Trainer.objects.filter(pk=trainer_id, is_active=True).exists():
                raise Http404
            return forbidden(request, services.OwnCalendarOnly.message)
    if trainer is None and request.user.role == Role.TRAINER:
        trainer = trainers.filter(user=request.user).first()
    session_types = _session_types(trainer)
    session_type = None
    if (session_type_id := _int(params.get("session_type"))) is not None:
        session_type = session_types.filter(pk=session_type_id).first()
    session_type = session_type or session_types.first()
    client = None
    if (client_id := _int(params.get("client"))) is not None:
        client = client_list(user=request.user).filter(pk=client_id).first()
    return NewState(trainer=trainer, session_type=session_type, start=_start(params.get("start")), client=client)


def _usable_packages(*, client: Client | None, session_type: SessionType | None, start: datetime | None) -> list:
    if client is None or session_type is None:
        return []
    on_date = studio_date(start or timezone.now())
    usable = usable_client_packages(client=client, session_type=session_type, on_date=on_date)
    # The order the service takes them in when none is named: the one that expires first.
    return list(usable.select_related("package").order_by("expiry_date", "id"))


def _client_results(request: HttpRequest, state: NewState) -> dict:
    """The clients matching ``q`` among those the caller may see, each linked to the form with it chosen."""
    search = forms.ClientSearchForm(request.GET)
    if not search.is_valid():
        return {"q": "", "searched": False, "results": [], "error": " ".join(search.errors["q"])}
    text = search.cleaned_data["q"][:100]
    if len(text) < SEARCH_MIN_LENGTH:
        return {"q": text, "searched": False, "results": []}
    clients = client_search(client_list(user=request.user).filter(is_active=True), text)
    found = list(clients.order_by("last_name", "first_name", "pk")[: SEARCH_LIMIT + 1])
    results = [{"client": client, "url": state.url(client=client.pk)} for client in found[:SEARCH_LIMIT]]
    return {"q": text, "searched": True, "results": results, "more": len(found) > SEARCH_LIMIT}


class BookingNewView(StaffRequiredMixin, View):
    """GET ?trainer=<id>&start=<ISO 8601 with offset>: the booking form for that free time; POST books.

    The client is found by the search (``client=<id>`` in the URL once chosen) or added on the form (the owner
    and managers: adding a client is theirs, as in the API). The packages listed are the chosen client's that
    can pay for the session type on that day."""

    def form(self, request: HttpRequest, state: NewState, data=None) -> forms.BookingNewForm:
        initial = {
            "client": state.client,
            "trainer": state.trainer,
            "session_type": state.session_type,
            "start": state.start.astimezone(_zone()) if state.start else None,
        }
        return forms.BookingNewForm(
            data,
            initial=initial,
            clients=client_list(user=request.user),
            trainers=_trainers(request),
            session_types=_session_types(state.trainer),
            packages=_usable_packages(client=state.client, session_type=state.session_type, start=state.start),
            may_add_clients=may_create_clients(request.user),
            may_waive=services.may_mark_complimentary(request.user),
        )

    def page(self, request, state: NewState, form, *, status: int = 200, nearest=None) -> HttpResponse:
        zone = _zone()
        search = _client_results(request, state)
        if search.get("error") and status == 200 and not request.htmx:
            status = 400
        context = {
            "state": state,
            "form": form,
            "zone": zone.key,
            "search": search,
            "change_client_url": state.url(client=None),
            "nearest": nearest or [],
            "may_add_clients": may_create_clients(request.user),
        }
        return _render(request, "desk/bookings/new.html", "desk/bookings/_new.html", context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        state = _new_state(request, request.GET)
        if isinstance(state, HttpResponse):
            return state
        return self.page(request, state, self.form(request, state))

    def post(self, request: HttpRequest) -> HttpResponse:
        state = _new_state(request, request.POST)
        if isinstance(state, HttpResponse):
            return state
        form = self.form(request, state, request.POST)
        if not form.is_valid():
            return self.page(request, state, form, status=400)
        data = form.cleaned_data
        paying = form.paying_package()
        try:
            # One transaction, as in the API: a refused booking leaves no client added for it behind.
            with transaction.atomic():
                client = data["client"] or client_create(actor=request.user, **form.new_client())
                booking = services.booking_create(
                    trainer=data["trainer"],
                    client=client,
                    session_type=data["session_type"],
                    start_time=data["start"],
                    notes=data["notes"],
                    client_package=paying,
                    pay_with_credit=paying is not None,
                    created_by=request.user,
                    off_grid=data["off_grid"],
                )
                if data["payment"] == forms.COMPLIMENTARY and booking.payment_state == PaymentState.UNPAID:
                    booking = services.booking_mark_complimentary(booking=booking, actor=request.user)
        except services.SlotUnavailable as error:
            # Read before the errors are added: Django drops a field's cleaned value when it gets an error.
            choice = Choice(session_type=data["session_type"], trainer=data["trainer"])
            nearest = [
                {"start": start.astimezone(_zone()), "url": state.url(start=start.astimezone(_zone()).isoformat())}
                for start in nearest_free_starts(choice=choice, start=data["start"])
            ]
            form.add_application_error(error)
            form.add_error("start", "Choose another time.")
            return self.page(request, state, form, status=error.status_code, nearest=nearest)
        except ApplicationError as error:
            form.add_application_error(error)
            return self.page(request, state, form, status=error.status_code)
        messages.success(request, f"Booked {booking.session_type.name} for {booking.client.full_name}.")
        return redirect("desk:booking", booking_id=booking.pk)


class ClientSearchView(StaffRequiredMixin, View):
    """The search as you type: the matching clients, as links to the booking form with the client chosen."""

    def get(self, request: HttpRequest) -> HttpResponse:
        state = _new_state(request, request.GET)
        if isinstance(state, HttpResponse):
            return state
        context = {"search": _client_results(request, state), "state": state}
        # htmx swaps only a 2xx answer: the refusal comes back as the results saying why.
        status = 400 if context["search"].get("error") and not request.htmx else 200
        return render(request, "desk/bookings/_client_results.html", context, status=status)


# -- a booking's panel -----------------------------------------------------------------------------------------


def _panel(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    return _render(request, "desk/bookings/panel.html", "desk/bookings/_panel.html", context, status=status)


def _booking(request: HttpRequest, booking_id: int) -> Booking:
    """A booking the caller may see, as the API decides; anything else, another studio's included, is a 404."""
    return get_object_or_404(booking_list(user=request.user), pk=booking_id)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _reschedule_week(request: HttpRequest, booking: Booking, trainer: Trainer) -> dict:
    """The free starts of ``trainer`` for the booking's session type in the week asked for (``?week=``, the
    booking's week by default), by day, in the studio's zone, with links to the weeks around it."""
    zone = _zone()
    now = timezone.now()
    this_monday = _monday(studio_date(now))
    try:
        asked = date.fromisoformat(request.GET.get("week", ""))
    except ValueError:
        asked = studio_date(booking.start_time)
    _earliest, latest = booking_horizon(booking.session_type, now)
    last_monday = _monday(latest.astimezone(zone).date())
    monday = min(max(_monday(asked), this_monday), max(last_monday, this_monday))
    sunday = monday + timedelta(days=6)
    choice = Choice(session_type=booking.session_type, trainer=trainer)
    starts = free_starts(choice=choice, first_day=monday, last_day=sunday, now=now, fresh=True)
    days: dict[date, list[datetime]] = {monday + timedelta(days=offset): [] for offset in range(7)}
    for start in starts:
        local = start.astimezone(zone)
        if local.date() in days and not (start == booking.start_time and trainer.pk == booking.trainer_id):
            days[local.date()].append(local)
    panel = reverse("desk:booking", kwargs={"booking_id": booking.pk})
    other = trainer.pk if trainer.pk != booking.trainer_id else None

    def week_url(week: date) -> str:
        return panel + _query(week=week.isoformat(), trainer=other) + "#reschedule"

    return {
        "monday": monday,
        "sunday": sunday,
        "days": [{"day": day, "starts": day_starts} for day, day_starts in days.items()],
        "has_starts": bool(starts),
        "trainer": trainer,
        "previous_url": week_url(monday - timedelta(days=7)) if monday > this_monday else None,
        "next_url": week_url(monday + timedelta(days=7)) if monday < last_monday else None,
    }


def _panel_context(request: HttpRequest, booking: Booking, bound: dict | None = None, error: str = "") -> dict:
    """Everything the panel shows, and the forms of the actions this booking's status allows (``bound``: the
    one just posted, with its errors)."""
    bound = bound or {}
    user = request.user
    now = timezone.now()
    zone = _zone()
    events = list(booking_history(booking=booking).select_related("previous_trainer", "new_trainer"))
    is_active = booking.status in ACTIVE_STATUSES
    has_started = booking.start_time <= now
    settles = booking.payment_state == PaymentState.UNPAID and booking.status != BookingStatus.CANCELLED
    may_attach = settles and not (
        booking.status == BookingStatus.NO_SHOW and not booking.session_type.no_show_forfeits_credit
    )
    client_packages = ClientPackage.objects.none()
    if may_attach:
        client_packages = usable_client_packages(
            client=booking.client, session_type=booking.session_type, on_date=studio_date(booking.start_time)
        ).select_related("package")
    # The owner and managers move a booking to another trainer; a trainer keeps it in their calendar (the service
    # says so too).
    move_trainers = offering_trainers(booking.session_type) if user.manages_studio else Trainer.objects.none()
    undo_deadline = services.booking_undo_deadline(booking, events=events)
    # The client's messages, the reminders due and the trainer's notices, as GET /api/notifications/?booking=<id>
    # lists them for the caller: the latest, shown in the order they go out.
    latest = notification_list(user=user).filter(booking=booking).order_by("-send_after", "-id")
    notifications = list(latest[: MESSAGES_SHOWN + 1])
    context = {
        "booking": booking,
        "start": booking.start_time.astimezone(zone),
        "end": booking.end_time.astimezone(zone),
        "zone": zone.key,
        "events": [
            {"event": event, "at": event.created.astimezone(zone), "actor": _actor_name(event)} for event in events
        ],
        "error": error,
        "may_confirm": BookingStatus.CONFIRMED in services.TRANSITIONS.get(booking.status, set()),
        "may_cancel": BookingStatus.CANCELLED in services.TRANSITIONS.get(booking.status, set()),
        "may_mark": booking.status == BookingStatus.CONFIRMED and has_started,
        "marks_later": booking.status == BookingStatus.CONFIRMED and not has_started,
        "may_undo": undo_deadline is not None and now <= undo_deadline,
        "undo_days": settings.BOOKING_UNDO_DAYS,
        "undo_label": f"Undo {booking.get_status_display().lower()}",
        "may_reschedule": is_active,
        "may_attach": may_attach,
        "may_pay": settles,
        "may_waive": settles and services.may_mark_complimentary(user),
        "cancel_outcome": services.booking_cancel_outcome(booking=booking, now=now, by_client=False),
        "forms": {
            "cancel": bound.get("cancel") or forms.CancelForm(),
            "reschedule": bound.get("reschedule") or forms.RescheduleForm(trainers=move_trainers),
            "attach": bound.get("attach") or forms.AttachPackageForm(client_packages=client_packages),
            "payment": bound.get("payment") or forms.PaymentForm(initial={"amount_paid": booking.price}),
            "complimentary": bound.get("complimentary") or forms.ComplimentaryForm(),
            "notes": bound.get("notes") or forms.NotesForm(initial={"notes": booking.notes}),
        },
        "has_packages": may_attach and client_packages.exists(),
        "move_trainers": list(move_trainers),
        "notifications": list(reversed(notifications[:MESSAGES_SHOWN])),
        "more_notifications": len(notifications) > MESSAGES_SHOWN,
        "may_see_errors": may_see_delivery_errors(user),
    }
    if is_active:
        shown = booking.trainer
        if (trainer_id := _int(request.GET.get("trainer"))) is not None:
            shown = next((trainer for trainer in context["move_trainers"] if trainer.pk == trainer_id), shown)
        context["week"] = _reschedule_week(request, booking, shown)
    return context


def _actor_name(event: BookingEvent) -> str:
    if event.actor is None:
        return "The system"
    return event.actor.get_full_name() or event.actor.email


class BookingPanelView(StaffRequiredMixin, View):
    """A booking: details, history, and the actions its status allows the caller."""

    def get(self, request: HttpRequest, booking_id: int) -> HttpResponse:
        booking = _booking(request, booking_id)
        return _render(
            request, "desk/bookings/panel.html", "desk/bookings/_panel.html", _panel_context(request, booking)
        )


class BookingActionView(StaffRequiredMixin, View):
    """POST one action on a booking: the same service as the API's action endpoint. Done: back to the panel with
    a message (htmx: the refreshed panel). Refused: the panel again, the refusal on the action's form."""

    name = ""  # the key of the action's form in the panel
    done = ""

    def make_form(self, request: HttpRequest, booking: Booking):
        return forms.NoInputForm(request.POST)

    def act(self, request: HttpRequest, booking: Booking, data: dict) -> Booking:
        raise NotImplementedError

    def post(self, request: HttpRequest, booking_id: int) -> HttpResponse:
        booking = _booking(request, booking_id)
        form = self.make_form(request, booking)
        if not form.is_valid():
            return self.refused(request, booking, form, status=400)
        try:
            booking = self.act(request, booking, form.cleaned_data)
        except ApplicationError as error:
            form.add_application_error(error)
            booking = _booking(request, booking_id)  # as it is now, whatever the refusal found
            return self.refused(request, booking, form, status=error.status_code, error=error.message)
        messages.success(request, self.done)
        if request.htmx:
            response = _panel(request, _panel_context(request, _booking(request, booking_id)))
            return trigger_client_event(response, CHANGED_EVENT, {"booking": booking.pk})
        return redirect("desk:booking", booking_id=booking.pk)

    def refused(self, request, booking: Booking, form, *, status: int, error: str = "") -> HttpResponse:
        context = _panel_context(request, booking, bound={self.name: form}, error=error or "There is a problem.")
        return _panel(request, context, status=HTMX_REFUSAL_STATUS if request.htmx else status)


class ConfirmView(BookingActionView):
    name, done = "confirm", "Booking confirmed; the client is sent the confirmation."

    def act(self, request, booking, data):
        return services.booking_confirm(booking=booking, actor=request.user)


class CancelView(BookingActionView):
    name, done = "cancel", "Booking cancelled by the studio."

    def make_form(self, request, booking):
        return forms.CancelForm(request.POST)

    def act(self, request, booking, data):
        booking = services.booking_cancel(booking=booking, actor=request.user, reason=data["reason"])
        if booking.credit_returned:
            self.done = "Booking cancelled by the studio; the client's credit is back."
        return booking


class CompleteView(BookingActionView):
    name, done = "complete", "Marked completed."

    def act(self, request, booking, data):
        return services.booking_complete(booking=booking, actor=request.user)


class NoShowView(BookingActionView):
    name, done = "no_show", "Marked no-show."

    def act(self, request, booking, data):
        return services.booking_no_show(booking=booking, actor=request.user)


class UndoView(BookingActionView):
    name, done = "undo", "Undone: the booking is confirmed again."

    def act(self, request, booking, data):
        return services.booking_undo(booking=booking, actor=request.user)


class RescheduleView(BookingActionView):
    name, done = "reschedule", "Booking moved."

    def make_form(self, request, booking):
        # Any trainer may be named: the service says who may move it to whom.
        return forms.RescheduleForm(request.POST, trainers=Trainer.objects.all())

    def act(self, request, booking, data):
        return services.booking_reschedule(
            booking=booking, start_time=data["start"], trainer=data["trainer"], actor=request.user
        )


class AttachPackageView(BookingActionView):
    name, done = "attach", "Paid by a package credit."

    def make_form(self, request, booking):
        # Only the booking's client's packages can be named; another's reads as not one of them.
        return forms.AttachPackageForm(
            request.POST, client_packages=ClientPackage.objects.filter(client_id=booking.client_id)
        )

    def act(self, request, booking, data):
        return services.booking_attach_package(
            booking=booking, client_package=data["client_package"], actor=request.user
        )


class RecordPaymentView(BookingActionView):
    name, done = "payment", "Payment recorded."

    def make_form(self, request, booking):
        return forms.PaymentForm(request.POST)

    def act(self, request, booking, data):
        return services.booking_record_payment(booking=booking, actor=request.user, **data)


class ComplimentaryView(BookingActionView):
    name, done = "complimentary", "Marked complimentary."

    def make_form(self, request, booking):
        return forms.ComplimentaryForm(request.POST)

    def act(self, request, booking, data):
        return services.booking_mark_complimentary(booking=booking, actor=request.user, reason=data["reason"])


class NotesView(BookingActionView):
    name, done = "notes", "Notes saved."

    def make_form(self, request, booking):
        return forms.NotesForm(request.POST)

    def act(self, request, booking, data):
        return services.booking_update_notes(booking=booking, actor=request.user, notes=data["notes"])


def _action(route: str, view: type[BookingActionView], name: str):
    return path(f"bookings/<int:booking_id>/{route}/", view.as_view(), name=name)


urlpatterns = [
    path("bookings/new/", BookingNewView.as_view(), name="booking_new"),
    path("bookings/clients/search/", ClientSearchView.as_view(), name="booking_client_search"),
    path("bookings/<int:booking_id>/", BookingPanelView.as_view(), name="booking"),
    _action("confirm", ConfirmView, "booking_confirm"),
    _action("cancel", CancelView, "booking_cancel"),
    _action("complete", CompleteView, "booking_complete"),
    _action("no-show", NoShowView, "booking_no_show"),
    _action("undo", UndoView, "booking_undo"),
    _action("reschedule", RescheduleView, "booking_reschedule"),
    _action("attach-package", AttachPackageView, "booking_attach_package"),
    _action("payment", RecordPaymentView, "booking_record_payment"),
    _action("complimentary", ComplimentaryView, "booking_complimentary"),
    _action("notes", NotesView, "booking_notes"),
]
