"""The desk: trainers' own pages — the weekly hours, one-off windows and time off, the trainer's profile, and
the URL of their private calendar feed (made, replaced or turned off here; notifications.feed serves it).

Writes go through the same services as /api/availability/, /api/breaks/ and /api/trainers/<id>/ (so the public
week sees a change at once: the services save through the ORM, whose signals bump the calendar's version).
Who may change whose hours and profile is the services' rule, which the API asks too (``may_manage_trainer_hours``,
``may_edit_trainer``): owner and managers anyone's, a trainer only their own (403 for another's, 404 for what isn't
the studio's or isn't theirs to see).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views import View

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.validators import (
    EXPERTISE_MAX_COUNT,
    EXPERTISE_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    validate_name,
    validate_timezone,
)
from tenant_apps.availability import selectors as availability_selectors
from tenant_apps.availability import services as availability_services
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenant_apps.desk.forms import BoundedDateField, ServiceErrorsForm, StudioDateTimeField, refused_form
from tenant_apps.notifications import feed
from tenant_apps.trainers import services as trainer_services
from tenant_apps.trainers.models import Trainer
from tenant_apps.trainers.selectors import trainer_list

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class TimesForm(ServiceErrorsForm):
    start_time = forms.TimeField(label="Starts", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(label="Ends", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))

    def clean(self):
        data = super().clean()
        if data.get("start_time") and data.get("end_time") and data["end_time"] <= data["start_time"]:
            self.add_error("end_time", "The window must end after it starts.")
        return data


class WeeklyWindowForm(TimesForm):
    prefix = "weekly"
    day_of_week = forms.TypedChoiceField(label="Day", coerce=int, choices=list(enumerate(WEEKDAYS)))
    field_order = ["day_of_week", "start_time", "end_time"]


class OneOffWindowForm(TimesForm):
    prefix = "once"
    date = BoundedDateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    field_order = ["date", "start_time", "end_time"]


class BreakForm(ServiceErrorsForm):
    """Time off: whole days (inclusive, in the trainer's zone) or a span between two local times."""

    prefix = "off"
    kind = forms.ChoiceField(
        label="Time off for",
        choices=[("days", "Whole days"), ("span", "A span of time")],
        widget=forms.RadioSelect,
        initial="days",
    )
    start_date = BoundedDateField(
        label="First day", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end_date = BoundedDateField(
        label="Last day", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    starts_at = StudioDateTimeField(
        label="From", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = StudioDateTimeField(
        label="Until", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    reason = forms.CharField(label="Reason (optional)", max_length=200, required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        required = ("start_date", "end_date") if data.get("kind") == "days" else ("starts_at", "ends_at")
        for name in required:
            if not data.get(name):
                self.add_error(name, f"Enter the {self.fields[name].label.lower()}.")
        return data

    def service_arguments(self, trainer: Trainer) -> dict:
        """What break_create takes: the days as dates, or the span as instants in the trainer's zone."""
        data = self.cleaned_data
        if data["kind"] == "days":
            return {"start_date": data["start_date"], "end_date": data["end_date"], "reason": data["reason"]}
        zone = ZoneInfo(trainer.timezone)
        return {
            "starts_at": timezone.make_aware(data["starts_at"].replace(tzinfo=None), zone),
            "ends_at": timezone.make_aware(data["ends_at"].replace(tzinfo=None), zone),
            "reason": data["reason"],
        }


def _span(trainer: Trainer, arguments: dict) -> tuple[datetime, datetime]:
    if "start_date" in arguments:
        if arguments["end_date"] < arguments["start_date"]:
            return arguments["start_date"], arguments["start_date"]  # break_create refuses it with its words
        return availability_services.day_bounds(
            trainer=trainer, start_date=arguments["start_date"], end_date=arguments["end_date"]
        )
    return arguments["starts_at"], arguments["ends_at"]


# -- whose calendar ---------------------------------------------------------------------------------------


def _trainer_for(request, trainer_id) -> Trainer | HttpResponse:
    """The trainer whose hours the caller works on: ``trainer_id`` if given (owner and managers: anyone's; a
    trainer: their own, 403 for another's), else the caller's own, else (owner, managers) the first one."""
    trainers = trainer_list(user=request.user)
    own = trainers.filter(user=request.user).first()
    if trainer_id not in (None, ""):
        try:
            trainer = get_object_or_404(trainers, pk=int(trainer_id))
        except ValueError as error:
            raise Http404 from error
        if not trainer_services.may_manage_trainer_hours(request.user, trainer):
            return forbidden(request, trainer_services.NotYourCalendar.message)
        return trainer
    if own is not None:
        return own
    if request.user.manages_studio:
        first = trainers.first()
        if first is not None:
            return first
    return forbidden(request, "There is no trainer's calendar here for you to manage.", status=404)


def _hours_url(trainer: Trainer) -> str:
    return f"{reverse('desk:availability')}?trainer={trainer.pk}"


def _page(request, trainer: Trainer, *, status: int = 200, **forms_) -> HttpResponse:
    zone = ZoneInfo(trainer.timezone)
    today = timezone.now().astimezone(zone).date()
    windows = availability_selectors.availability_list(user=request.user, trainer_id=trainer.pk)
    weekly = [(index, name, []) for index, name in enumerate(WEEKDAYS)]
    one_off = []
    for window in windows.order_by("date", "day_of_week", "start_time"):
        if window.is_recurring:
            weekly[window.day_of_week][2].append(window)
        elif window.date >= today:
            one_off.append(window)
    breaks = availability_selectors.break_list(user=request.user, trainer_id=trainer.pk).filter(
        ends_at__gt=timezone.now()
    )
    context = {
        "trainer": trainer,
        "zone": zone,
        "trainers": trainer_list(user=request.user) if request.user.manages_studio else [trainer],
        "weekly": weekly,
        "one_off": one_off,
        "breaks": [(b, b.starts_at.astimezone(zone), b.ends_at.astimezone(zone)) for b in breaks],
        "weekly_form": forms_.get("weekly_form") or WeeklyWindowForm(),
        "once_form": forms_.get("once_form") or OneOffWindowForm(),
        "break_form": forms_.get("break_form") or BreakForm(),
        "change_errors": forms_.get("change_errors"),
    }
    return render(request, "desk/trainers/hours.html", context, status=status)


class AvailabilityView(StaffRequiredMixin, View):
    def get(self, request):
        trainer = _trainer_for(request, request.GET.get("trainer"))
        if isinstance(trainer, HttpResponse):
            return trainer
        return _page(request, trainer)


class WindowAddView(StaffRequiredMixin, View):
    """A weekly window (``kind=weekly``) or a one-off window on a date (``kind=once``)."""

    def post(self, request):
        trainer = _trainer_for(request, request.POST.get("trainer") or None)
        if isinstance(trainer, HttpResponse):
            return trainer
        once = request.POST.get("kind") == "once"
        form = (OneOffWindowForm if once else WeeklyWindowForm)(request.POST)
        if form.is_valid():
            values = dict(form.cleaned_data)
            if once:
                values["is_recurring"] = False
            try:
                availability_services.availability_create(trainer=trainer, **values)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, "The window was added.")
                return redirect(_hours_url(trainer))
        return _page(request, trainer, status=400, **{"once_form" if once else "weekly_form": form})


def _window(request, window_id: int):
    windows = availability_selectors.availability_list(user=request.user).select_related("trainer")
    return get_object_or_404(windows, pk=window_id)


class WindowChangeView(StaffRequiredMixin, View):
    """Move a window: new start and end times."""

    def post(self, request, window_id: int):
        window = _window(request, window_id)
        form = TimesForm(request.POST, prefix=f"w{window.pk}")
        if form.is_valid():
            try:
                availability_services.availability_update(window=window, **form.cleaned_data)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, "The window was changed.")
                return redirect(_hours_url(window.trainer))
        window.refresh_from_db()
        return _page(request, window.trainer, status=400, change_errors=(window.pk, form))


class WindowRemoveView(StaffRequiredMixin, View):
    def post(self, request, window_id: int):
        window = _window(request, window_id)
        availability_services.availability_delete(window=window)
        messages.success(request, "The window was removed.")
        return redirect(_hours_url(window.trainer))


class BreakAddView(StaffRequiredMixin, View):
    """Time off; when it would meet booked sessions, they are listed and the time off is saved only once the
    caller confirms (it cancels none of them)."""

    def post(self, request):
        trainer = _trainer_for(request, request.POST.get("trainer") or None)
        if isinstance(trainer, HttpResponse):
            return trainer
        form = BreakForm(request.POST)
        if not form.is_valid():
            return _page(request, trainer, status=400, break_form=form)
        arguments = form.service_arguments(trainer)
        starts_at, ends_at = _span(trainer, arguments)
        zone = ZoneInfo(trainer.timezone)
        clashes = list(availability_selectors.break_clashes(trainer=trainer, starts_at=starts_at, ends_at=ends_at))
        if clashes and not form.cleaned_data["confirm"]:
            context = {
                "trainer": trainer,
                "form": form,
                "zone": zone,
                "clashes": [(booking, booking.start_time.astimezone(zone)) for booking in clashes],
                "starts_at": starts_at.astimezone(zone) if isinstance(starts_at, datetime) else None,
                "ends_at": ends_at.astimezone(zone) if isinstance(ends_at, datetime) else None,
            }
            return render(request, "desk/trainers/time_off_confirm.html", context)
        try:
            availability_services.break_create(trainer=trainer, **arguments)
        except ApplicationError as error:
            form.add_application_error(error)
            return _page(request, trainer, status=400, break_form=form)
        message = "The time off was saved."
        if clashes:
            message += f" {len(clashes)} booked session(s) fall in it: move or cancel them from the calendar."
        messages.success(request, message)
        return redirect(_hours_url(trainer))


class BreakRemoveView(StaffRequiredMixin, View):
    def post(self, request, break_id: int):
        breaks = availability_selectors.break_list(user=request.user).select_related("trainer")
        time_off = get_object_or_404(breaks, pk=break_id)
        availability_services.break_delete(time_off=time_off)
        messages.success(request, "The time off was removed.")
        return redirect(_hours_url(time_off.trainer))


# -- profile ----------------------------------------------------------------------------------------------


class ExpertiseField(forms.CharField):
    """Areas of expertise typed as one line, separated by commas."""

    def to_python(self, value) -> list[str]:
        text = super().to_python(value)
        return list(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def validate(self, value):
        if any(len(item) > EXPERTISE_MAX_LENGTH for item in value):
            raise forms.ValidationError(f"Each area is at most {EXPERTISE_MAX_LENGTH} characters.")
        if len(value) > EXPERTISE_MAX_COUNT:
            raise forms.ValidationError(f"At most {EXPERTISE_MAX_COUNT} areas.")

    def run_validators(self, value):
        return None


class ProfileForm(ServiceErrorsForm):
    display_name = forms.CharField(
        label="Name shown to clients", max_length=TITLE_MAX_LENGTH, validators=[validate_name]
    )
    photo = forms.FileField(
        label="Photo (optional)",
        required=False,
        help_text="A PNG, JPEG or WebP image of at most 5 MB; it is resized to 512 pixels.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    bio = forms.CharField(label="About", required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea)
    expertise = ExpertiseField(label="Expertise", required=False, help_text="Separated by commas.")
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        validators=[validate_timezone],
        help_text="A zone name such as Europe/London; the trainer's hours are in this zone.",
    )


def _profile_context(request, trainer: Trainer, form: ProfileForm) -> dict:
    """The profile page's context; the feed's URL only for those who may manage it (the URL is its key)."""
    may_manage_feed = feed.may_manage_calendar_feed(request.user, trainer)
    context = {"trainer": trainer, "form": form, "may_manage_feed": may_manage_feed}
    if may_manage_feed:
        url = feed.feed_url(trainer)
        context["feed_url"] = url
        # The same address for the calendar apps that subscribe through a webcal: link (Apple, Outlook).
        context["feed_webcal_url"] = "webcal://" + url.split("://", 1)[1] if url else ""
    return context


class TrainerProfileView(StaffRequiredMixin, View):
    """A trainer edits their own profile; owner and managers anyone's (the TRAINER_SELF_EDITABLE fields and the
    photo)."""

    template_name = "desk/trainers/profile.html"

    def _trainer(self, request, trainer_id: int | None) -> Trainer | HttpResponse:
        if trainer_id is None:
            own = trainer_list(user=request.user).filter(user=request.user).first()
            if own is None:
                return forbidden(request, "Your account has no trainer profile.", status=404)
            return own
        trainer = get_object_or_404(trainer_list(user=request.user), pk=trainer_id)
        if not trainer_services.may_edit_trainer(request.user, trainer, fields=trainer_services.TRAINER_SELF_EDITABLE):
            return forbidden(request, trainer_services.TrainerProfileManagersOnly.message)
        return trainer

    def get(self, request, trainer_id: int | None = None):
        trainer = self._trainer(request, trainer_id)
        if isinstance(trainer, HttpResponse):
            return trainer
        form = ProfileForm(initial={name: getattr(trainer, name) for name in trainer_services.TRAINER_SELF_EDITABLE})
        return render(request, self.template_name, _profile_context(request, trainer, form))

    def post(self, request, trainer_id: int | None = None):
        trainer = self._trainer(request, trainer_id)
        if isinstance(trainer, HttpResponse):
            return trainer
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > trainer_services.PHOTO_MAX_BYTES + 64 * 1024:
            # Refused before the upload is read (the fields besides the photo are a few kilobytes at most).
            form = refused_form(
                ProfileForm,
                f"The photo is larger than {trainer_services.PHOTO_MAX_BYTES // (1024 * 1024)} MB.",
                initial={name: getattr(trainer, name) for name in trainer_services.TRAINER_SELF_EDITABLE},
            )
            return render(request, self.template_name, _profile_context(request, trainer, form), status=413)
        form = ProfileForm(request.POST, request.FILES)
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in trainer_services.TRAINER_SELF_EDITABLE}
            try:
                trainer = trainer_services.trainer_profile_update(
                    trainer=trainer, photo=form.cleaned_data["photo"], **changes
                )
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, "The profile was saved.")
                return redirect(request.path)
        trainer.refresh_from_db()
        return render(request, self.template_name, _profile_context(request, trainer, form), status=400)


# -- calendar feed ----------------------------------------------------------------------------------------


class CalendarFeedChangeView(StaffRequiredMixin, View):
    """A new private feed URL (``action=rotate``: the first one, or one that revokes the old), or none
    (``action=revoke``). The owner and managers for any trainer, a trainer for their own (403 for another's)."""

    def post(self, request, trainer_id: int):
        trainer = get_object_or_404(trainer_list(user=request.user), pk=trainer_id)
        action = request.POST.get("action")
        if action not in ("rotate", "revoke"):
            return HttpResponse("Unknown action.", status=400, content_type="text/plain")
        had_one = bool(trainer.calendar_feed_token)
        try:
            if action == "rotate":
                feed.feed_token_rotate(trainer, actor=request.user)
            else:
                feed.feed_token_revoke(trainer, actor=request.user)
        except feed.NotYourCalendarFeed as refusal:
            return forbidden(request, refusal.message)
        if action == "revoke":
            done = "The calendar feed was turned off; its address no longer works."
        elif had_one:
            done = "A new feed address was made; the old one no longer works."
        else:
            done = "The feed address was made."
        messages.success(request, done)
        own = trainer.user_id == request.user.pk
        target = reverse("desk:trainer_profile") if own else reverse("desk:trainer_profile", args=[trainer.pk])
        return redirect(f"{target}#calendar-feed")


urlpatterns = [
    path("hours/", AvailabilityView.as_view(), name="availability"),
    path("hours/windows/", WindowAddView.as_view(), name="availability_add"),
    path("hours/windows/<int:window_id>/", WindowChangeView.as_view(), name="availability_change"),
    path("hours/windows/<int:window_id>/remove/", WindowRemoveView.as_view(), name="availability_remove"),
    path("hours/time-off/", BreakAddView.as_view(), name="break_add"),
    path("hours/time-off/<int:break_id>/remove/", BreakRemoveView.as_view(), name="break_remove"),
    path("hours/profile/", TrainerProfileView.as_view(), name="trainer_profile"),
    path("trainers/<int:trainer_id>/profile/", TrainerProfileView.as_view(), name="trainer_profile"),
    path("trainers/<int:trainer_id>/calendar-feed/", CalendarFeedChangeView.as_view(), name="trainer_calendar_feed"),
]
