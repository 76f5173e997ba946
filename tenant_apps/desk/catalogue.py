"""The desk's catalogue: the session types the studio offers and the packages it sells, made, changed,
deactivated and activated again by the owner and managers (the API's rule for writing them: IsStudioManager).

The forms parse what the page sends with the API's input serializers' rules (the same bounds, and the serializer
itself run over the parsed values), then call the API's services, whose model checks (``full_clean``) answer in
the API's words. A package that stops being sold keeps working for the clients who bought it; its page says how
many of those copies are still in use.
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views import View

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.money import money
from shared_apps.core.tenancy import current_studio, studio_currency, studio_date
from shared_apps.core.validators import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name
from tenant_apps.desk.access import ManagersRequiredMixin
from tenant_apps.desk.forms import ServiceErrorsForm
from tenant_apps.packages import services as package_services
from tenant_apps.packages.api import SessionPackageInput
from tenant_apps.packages.models import ClientPackage, SessionPackage
from tenant_apps.packages.selectors import package_list
from tenant_apps.trainers import services as trainer_services
from tenant_apps.trainers.api import SessionTypeInput
from tenant_apps.trainers.models import SessionType
from tenant_apps.trainers.selectors import session_type_list, trainer_list

MANAGERS_ONLY = "Only the studio's owner and managers can change the session types and packages."


class ManagersOnlyMixin(ManagersRequiredMixin):
    managers_only = MANAGERS_ONLY


# -- forms ------------------------------------------------------------------------------------------------


class ApiRulesForm(ServiceErrorsForm):
    """A form whose parsed values are checked once more by the API's input serializer, so that the page can't
    accept what the API refuses; its refusals land by their field."""

    serializer_class: type

    def api_payload(self) -> dict:
        data = dict(self.cleaned_data)
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelMultipleChoiceField):
                data[name] = [item.pk for item in data[name]]
        return data

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        serializer = self.serializer_class(data=self.api_payload())
        if not serializer.is_valid():
            for name, problems in serializer.errors.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    self.add_error(name if name in self.fields else None, str(problem))
        return data

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelMultipleChoiceField):
                data[name] = list(data[name])
        return data


def _api_bounds(name: str) -> dict:
    """The minimum and maximum SessionTypeInput allows for ``name``: the form offers the same range."""
    rule = SessionTypeInput().fields[name]
    return {"min_value": rule.min_value, "max_value": rule.max_value}


def _minutes(label: str, name: str, *, required: bool = True, help_text: str = "") -> forms.IntegerField:
    return forms.IntegerField(label=label, required=required, help_text=help_text, **_api_bounds(name))


class ChoicesField(forms.ModelMultipleChoiceField):
    """Checkboxes of the studio's records; an id that isn't one of them is refused in words."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, label: str, refusal: str, **kwargs):
        super().__init__(
            queryset=kwargs.pop("queryset", None),
            label=label,
            required=False,
            error_messages={"invalid_choice": refusal, "invalid_pk_value": refusal, "invalid_list": refusal},
            **kwargs,
        )


class SessionTypeForm(ApiRulesForm):
    serializer_class = SessionTypeInput

    name = forms.CharField(label="Name", max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    duration_minutes = _minutes("Length (minutes)", "duration_minutes")
    slot_interval_minutes = _minutes(
        "Start a slot every (minutes, optional)",
        "slot_interval_minutes",
        required=False,
        help_text="Left empty, slots follow one another back to back.",
    )
    price = forms.DecimalField(label="Price", max_digits=10, decimal_places=2, min_value=Decimal("0"))
    buffer_before_minutes = _minutes(
        "Buffer before (minutes)", "buffer_before_minutes", help_text="Kept free before each session."
    )
    buffer_after_minutes = _minutes(
        "Buffer after (minutes)", "buffer_after_minutes", help_text="Kept free after each session."
    )
    min_notice_minutes = _minutes(
        "Notice (minutes)", "min_notice_minutes", help_text="How long before its start a session can still be booked."
    )
    max_advance_days = _minutes(
        "Horizon (days)", "max_advance_days", help_text="How many days ahead a session can be booked."
    )
    cancellation_window_hours = _minutes(
        "Cancellation window (hours)",
        "cancellation_window_hours",
        help_text="A client's cancellation later than this before the start is a late cancellation.",
    )
    requires_confirmation = forms.BooleanField(label="Bookings wait for the studio to confirm them", required=False)
    late_cancel_forfeits_credit = forms.BooleanField(label="A late cancellation keeps the credit spent", required=False)
    no_show_forfeits_credit = forms.BooleanField(label="A no-show keeps the credit spent", required=False)
    color = forms.RegexField(
        label="Colour in calendars",
        regex=r"^#[0-9a-fA-F]{6}$",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": "Use a hex colour such as #2563eb."},
    )
    trainers = ChoicesField(label="Trainers who offer it", refusal="Choose among the trainers listed.")

    def __init__(self, *args, trainers, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainers"].queryset = trainers
        self.fields["trainers"].label_from_instance = lambda trainer: (
            trainer.display_name if trainer.is_active else f"{trainer.display_name} (not taking bookings)"
        )
        self.fields["price"].label = f"Price ({currency})"


class PackageForm(ApiRulesForm):
    """The ranges (at least one session, a price above zero, at least one day) are the service's to check,
    as they are for the API, so both answer with the same words."""

    serializer_class = SessionPackageInput

    name = forms.CharField(label="Name", max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sessions_count = forms.IntegerField(label="Sessions", widget=forms.NumberInput(attrs={"min": 1}))
    price = forms.DecimalField(
        label="Price", max_digits=10, decimal_places=2, widget=forms.NumberInput(attrs={"min": "0.01", "step": "0.01"})
    )
    validity_days = forms.IntegerField(
        label="Valid for (days)",
        help_text="Counted from the day it is sold.",
        widget=forms.NumberInput(attrs={"min": 1}),
    )
    session_types = ChoicesField(
        label="Session types it pays for",
        refusal="Choose among the session types listed.",
        help_text="None ticked: it pays for every session type.",
    )

    def __init__(self, *args, session_types, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session_types"].queryset = session_types
        self.fields["session_types"].label_from_instance = lambda session_type: (
            session_type.name if session_type.is_active else f"{session_type.name} (not offered)"
        )
        self.fields["price"].label = f"Price ({currency})"


# -- reads ------------------------------------------------------------------------------------------------


def _in_use() -> Q:
    """A sold copy still in use: it holds credits and its last day hasn't passed."""
    return Q(
        sales__status=ClientPackage.Status.ACTIVE,
        sales__sessions_remaining__gt=0,
        sales__expiry_date__gte=studio_date(timezone.now()),
    )


def _packages(request: HttpRequest):
    return package_list(user=request.user).annotate(in_use=Count("sales", filter=_in_use()))


def _session_type(request: HttpRequest, session_type_id: int) -> SessionType:
    return get_object_or_404(session_type_list(user=request.user), pk=session_type_id)


def _package(request: HttpRequest, package_id: int) -> SessionPackage:
    return get_object_or_404(_packages(request), pk=package_id)


class CatalogueView(ManagersOnlyMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        session_types = session_type_list(user=request.user)
        packages = _packages(request)
        context = {
            "session_types": [(item, money(item.price, item.currency)) for item in session_types],
            "packages": [(item, money(item.price, item.currency)) for item in packages],
        }
        return render(request, "desk/catalogue/list.html", context)


# -- session types ----------------------------------------------------------------------------------------


def _session_type_form(request: HttpRequest, session_type: SessionType | None, data=None) -> SessionTypeForm:
    if session_type is None:
        studio = current_studio()
        initial = {
            name: SessionType._meta.get_field(name).default
            for name in (
                "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_advance_days",
                "requires_confirmation", "late_cancel_forfeits_credit", "no_show_forfeits_credit", "color",
            )
        }  # fmt: skip
        initial["price"] = Decimal("0.00")
        initial["cancellation_window_hours"] = studio.default_cancellation_window_hours
        currency = studio_currency()
    else:
        initial = {name: getattr(session_type, name) for name in SessionTypeForm.base_fields if name != "trainers"}
        initial["trainers"] = [trainer.pk for trainer in session_type.trainers.all()]
        currency = session_type.currency
    return SessionTypeForm(data, initial=initial, trainers=trainer_list(user=request.user), currency=currency)


def _session_type_page(request, form, session_type=None, *, status: int = 200) -> HttpResponse:
    return render(
        request, "desk/catalogue/session_type.html", {"form": form, "session_type": session_type}, status=status
    )


class SessionTypeNewView(ManagersOnlyMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _session_type_page(request, _session_type_form(request, None))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = _session_type_form(request, None, request.POST)
        if form.is_valid():
            try:
                session_type = trainer_services.session_type_create(**form.service_arguments())
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, f"{session_type.name} is added to the session types.")
                return redirect("desk:catalogue")
        return _session_type_page(request, form, status=400)


class SessionTypeEditView(ManagersOnlyMixin, View):
    def get(self, request: HttpRequest, session_type_id: int) -> HttpResponse:
        session_type = _session_type(request, session_type_id)
        return _session_type_page(request, _session_type_form(request, session_type), session_type)

    def post(self, request: HttpRequest, session_type_id: int) -> HttpResponse:
        session_type = _session_type(request, session_type_id)
        form = _session_type_form(request, session_type, request.POST)
        if form.is_valid():
            try:
                trainer_services.session_type_update(session_type=session_type, **form.service_arguments())
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, f"{session_type.name} is saved.")
                return redirect("desk:catalogue")
        # The refused values were set on the instance: show the stored ones around the form.
        return _session_type_page(request, form, _session_type(request, session_type_id), status=400)


class SessionTypeActiveView(ManagersOnlyMixin, View):
    """Deactivate (no new bookings; those made stay) or activate again, as DELETE and PATCH is_active do."""

    activate = False

    def post(self, request: HttpRequest, session_type_id: int) -> HttpResponse:
        session_type = _session_type(request, session_type_id)
        try:
            if self.activate:
                trainer_services.session_type_update(session_type=session_type, is_active=True)
            else:
                trainer_services.session_type_deactivate(session_type=session_type)
        except ApplicationError as error:
            change = "activated" if self.activate else "deactivated"
            messages.error(request, f"{session_type.name} can't be {change}: {error.message}")
        else:
            done = "can be booked again" if self.activate else "can no longer be booked; bookings made stay"
            messages.success(request, f"{session_type.name} {done}.")
        return redirect("desk:catalogue_session_type", session_type_id=session_type.pk)


# -- packages ---------------------------------------------------------------------------------------------


def _package_form(request: HttpRequest, package: SessionPackage | None, data=None) -> PackageForm:
    if package is None:
        initial, currency = {}, studio_currency()
    else:
        initial = {name: getattr(package, name) for name in PackageForm.base_fields if name != "session_types"}
        initial["session_types"] = [session_type.pk for session_type in package.session_types.all()]
        currency = package.currency
    return PackageForm(data, initial=initial, session_types=session_type_list(user=request.user), currency=currency)


def _package_page(request, form, package=None, *, status: int = 200) -> HttpResponse:
    return render(request, "desk/catalogue/package.html", {"form": form, "package": package}, status=status)


class PackageNewView(ManagersOnlyMixin, View):
    def get(self, request: HttpRequest) -> HttpResponse:
        return _package_page(request, _package_form(request, None))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = _package_form(request, None, request.POST)
        if form.is_valid():
            try:
                package = package_services.package_create(**form.service_arguments())
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, f"{package.name} is added to the packages.")
                return redirect("desk:catalogue")
        return _package_page(request, form, status=400)


class PackageEditView(ManagersOnlyMixin, View):
    def get(self, request: HttpRequest, package_id: int) -> HttpResponse:
        package = _package(request, package_id)
        return _package_page(request, _package_form(request, package), package)

    def post(self, request: HttpRequest, package_id: int) -> HttpResponse:
        package = _package(request, package_id)
        form = _package_form(request, package, request.POST)
        if form.is_valid():
            try:
                package_services.package_update(package=package, **form.service_arguments())
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, f"{package.name} is saved; packages already sold keep their terms.")
                return redirect("desk:catalogue")
        return _package_page(request, form, _package(request, package_id), status=400)


class PackageActiveView(ManagersOnlyMixin, View):
    """Stop selling (copies already sold keep working) or sell again, as DELETE and PATCH is_active do."""

    activate = False

    def post(self, request: HttpRequest, package_id: int) -> HttpResponse:
        package = _package(request, package_id)
        try:
            if self.activate:
                package_services.package_update(package=package, is_active=True)
            else:
                package_services.package_deactivate(package=package)
        except ApplicationError as error:
            change = "put on sale again" if self.activate else "taken off sale"
            messages.error(request, f"{package.name} can't be {change}: {error.message}")
        else:
            if self.activate:
                messages.success(request, f"{package.name} is on sale again.")
            else:
                messages.success(request, f"{package.name} is no longer sold; the copies clients bought keep working.")
        return redirect("desk:catalogue_package", package_id=package.pk)


urlpatterns = [
    path("catalogue/", CatalogueView.as_view(), name="catalogue"),
    path("catalogue/session-types/new/", SessionTypeNewView.as_view(), name="catalogue_session_type_new"),
    path(
        "catalogue/session-types/<int:session_type_id>/",
        SessionTypeEditView.as_view(),
        name="catalogue_session_type",
    ),
    path(
        "catalogue/session-types/<int:session_type_id>/deactivate/",
        SessionTypeActiveView.as_view(activate=False),
        name="catalogue_session_type_deactivate",
    ),
    path(
        "catalogue/session-types/<int:session_type_id>/activate/",
        SessionTypeActiveView.as_view(activate=True),
        name="catalogue_session_type_activate",
    ),
    path("catalogue/packages/new/", PackageNewView.as_view(), name="catalogue_package_new"),
    path("catalogue/packages/<int:package_id>/", PackageEditView.as_view(), name="catalogue_package"),
    path(
        "catalogue/packages/<int:package_id>/deactivate/",
        PackageActiveView.as_view(activate=False),
        name="catalogue_package_deactivate",
    ),
    path(
        "catalogue/packages/<int:package_id>/activate/",
        PackageActiveView.as_view(activate=True),
        name="catalogue_package_activate",
    ),
]
