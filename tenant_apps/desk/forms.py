"""Forms of the desk. They parse what a page sends; the rules are the services' and their refusals
(ApplicationError) land on the form with the API's words."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.fields import EARLIEST_YEAR, LATEST_YEAR
from shared_apps.core.tenancy import studio_timezone
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, REASON_MAX_LENGTH, TEXT_MAX_LENGTH
from tenant_apps.bookings.models import SESSION_PAYMENT_METHODS
from tenant_apps.clients.models import Client
from tenant_apps.packages.models import ClientPackage
from tenant_apps.trainers.models import SessionType, Trainer

# How a new booking is paid when no package pays.
UNPAID = "unpaid"
COMPLIMENTARY = "complimentary"
# The packages service's refusals, all about the package chosen to pay.
PACKAGE_ERRORS = {"no_credits_left", "package_expired", "package_not_applicable"}
NEW_CLIENT_FIELDS = ("first_name", "last_name", "email", "phone")


def package_label(client_package: ClientPackage) -> str:
    left = client_package.sessions_remaining
    return (
        f"{client_package.package.name}: {left} credit{'' if left == 1 else 's'} left, valid until "
        f"{client_package.expiry_date:%a %-d %b %Y}"
    )


# The API's bounds (shared_apps.core.fields): the desk accepts the days and times the API does, no others.
FIRST_DAY, LAST_DAY = date(EARLIEST_YEAR, 1, 1), date(LATEST_YEAR, 12, 31)


def within_bounds(day: date) -> bool:
    """Whether a day may be asked for: a link to a day past the bounds is not offered."""
    return FIRST_DAY <= day <= LAST_DAY


class BoundedDateField(forms.DateField):
    """A date within the API's years (its BoundedDateField): past them the calendar's ends overflow."""

    default_error_messages = {"out_of_range": f"Give a date between the years {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_python(self, value) -> date | None:
        result = super().to_python(value)
        if result is not None and not within_bounds(result):
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        return result


class StudioDateTimeField(forms.DateTimeField):
    """A time with its offset (from a link), or without one (a datetime-local input): then in the studio's zone.
    Within the API's years (its AwareDateTimeField), so a session's end or a zone's offset can't overflow."""

    default_error_messages = {"out_of_range": f"Give a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def to_python(self, value) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        if not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range")
        if timezone.is_naive(result):
            result = result.replace(tzinfo=ZoneInfo(studio_timezone()))
        try:
            result.astimezone(UTC)
        except OverflowError:  # a time at the calendar's ends that no zone can hold
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return result


def refused_form(form_class: type[forms.Form], message: str, **kwargs) -> forms.Form:
    """An unbound form that shows one error in its summary: for a request refused before its fields are read
    (an upload too large to accept). Django's add_error needs the cleaned data an unbound form lacks."""
    form = form_class(**kwargs)
    form.cleaned_data = {}
    form.add_error(None, message)
    return form


class ClientSearchForm(forms.Form):
    """The client search's text: Django's CharField refuses a NUL byte, which the database can't hold."""

    q = forms.CharField(
        required=False,
        error_messages={"null_characters_not_allowed": "Search by name, email or phone: that text can't be searched."},
    )


class ServiceErrorsMixin:
    """A service's refusal in the error summary, and by the field it is about when the form has it."""

    FIELD_OF: dict[str, str] = {}
    # The panel shows several forms at once: each its own ids (the cancel and complimentary reasons, say).
    AUTO_ID = "id_%s"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", self.AUTO_ID)
        super().__init__(*args, **kwargs)

    def add_application_error(self, error: ApplicationError) -> None:
        self.add_error(None, error.message)
        fields = dict(error.fields)
        if not fields and error.code in PACKAGE_ERRORS:
            fields = {"client_package": [error.message]}
        for name, messages in fields.items():
            field = self.FIELD_OF.get(name, name)
            if field in self.fields:
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(field, str(message))


class ServiceErrorsForm(forms.Form):
    """A form of one page (the desk's settings, staff, catalogue, hours): a service's refusal goes by the field it
    names (the summary lists it), or into the summary when it names none. The booking panel's forms, several on a
    page, use ServiceErrorsMixin instead."""

    def add_application_error(self, error: ApplicationError) -> None:
        if not error.fields:
            self.add_error(None, error.message)
        for name, messages_ in dict(error.fields).items():
            for message in messages_ if isinstance(messages_, list) else [messages_]:
                self.add_error(name if name in self.fields else None, str(message))


class BookingNewForm(ServiceErrorsMixin, forms.Form):
    """A booking made at the desk: a known client (found by the search) or a new one, what, with whom, when, and
    how it is paid."""

    client = forms.ModelChoiceField(
        queryset=Client.objects.none(),
        required=False,
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": "Choose a client from the search, or add a new one."},
    )
    first_name = forms.CharField(label="First name", max_length=PERSON_NAME_MAX_LENGTH, required=False)
    last_name = forms.CharField(label="Last name (optional)", max_length=PERSON_NAME_MAX_LENGTH, required=False)
    email = forms.EmailField(label="Email", max_length=254, required=False)
    phone = forms.CharField(label="Phone (optional)", max_length=32, required=False)
    trainer = forms.ModelChoiceField(
        label="Trainer",
        queryset=Trainer.objects.none(),
        empty_label=None,
        error_messages={"required": "Choose a trainer.", "invalid_choice": "Choose one of the trainers listed."},
    )
    session_type = forms.ModelChoiceField(
        label="Session type",
        queryset=SessionType.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Choose a session type.",
            "invalid_choice": "Choose one of the session types this trainer offers.",
        },
    )
    start = StudioDateTimeField(
        label="Start",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": "Give the start.", "invalid": "Give the start as a date and a time."},
    )
    off_grid = forms.BooleanField(
        label="Off the grid: a walk-in, or any time the trainer is free outside the offered times", required=False
    )
    payment = forms.ChoiceField(label="How is it paid?", widget=forms.RadioSelect)
    notes = forms.CharField(
        label="Note (optional)", required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    FIELD_OF = {"start_time": "start", "client_package": "payment", "client": "client"}

    def __init__(self, *args, clients, trainers, session_types, packages, may_add_clients, may_waive, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients
        self.fields["trainer"].queryset = trainers
        self.fields["session_type"].queryset = session_types
        self.packages = {str(package.pk): package for package in packages}
        choices = [(key, package_label(package)) for key, package in self.packages.items()]
        choices.append((UNPAID, "Unpaid: pay at the studio"))
        if may_waive:
            choices.append((COMPLIMENTARY, "Complimentary: nothing to pay"))
        self.fields["payment"].choices = choices
        # The package the service would take when none is named: the one that expires first.
        self.fields["payment"].initial = choices[0][0]
        self.may_add_clients = may_add_clients
        self.fields["phone"].widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})

    def clean(self):
        data = super().clean()
        if self.errors.get("client"):
            return data
        new_client = {name: data.get(name) for name in NEW_CLIENT_FIELDS}
        if data.get("client") is None:
            if not self.may_add_clients:
                self.add_error("client", "Choose a client from the search.")
            elif not any(new_client.values()):
                self.add_error("client", "Choose a client from the search, or add a new one.")
            else:
                if not new_client["first_name"]:
                    self.add_error("first_name", "Enter the new client's first name.")
                if not new_client["email"] and "email" not in self.errors:
                    self.add_error("email", "Enter the new client's email address.")
        return data

    def new_client(self) -> dict:
        """What client_create needs, for a client added on this form."""
        return {name: self.cleaned_data.get(name) or "" for name in NEW_CLIENT_FIELDS}

    def paying_package(self) -> ClientPackage | None:
        return self.packages.get(self.cleaned_data["payment"])


class CancelForm(ServiceErrorsMixin, forms.Form):
    AUTO_ID = "cancel-%s"

    reason = forms.CharField(label="Reason (optional)", required=False, max_length=REASON_MAX_LENGTH)


class RescheduleForm(ServiceErrorsMixin, forms.Form):
    """A free start picked from the week shown (the booking's trainer's, or the one the panel was asked to show)."""

    AUTO_ID = "reschedule-%s"

    start = StudioDateTimeField(
        label="New start",
        error_messages={"required": "Choose a new time.", "invalid": "Choose one of the times listed."},
    )
    trainer = forms.ModelChoiceField(
        label="Trainer",
        queryset=Trainer.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Choose one of the trainers who offer this session type."},
    )

    FIELD_OF = {"start_time": "start"}

    def __init__(self, *args, trainers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["trainer"].queryset = trainers


class AttachPackageForm(ServiceErrorsMixin, forms.Form):
    AUTO_ID = "attach-%s"

    client_package = forms.ModelChoiceField(
        label="Package",
        queryset=ClientPackage.objects.none(),
        widget=forms.RadioSelect,
        error_messages={"required": "Choose a package.", "invalid_choice": "Choose one of the client's packages."},
    )

    def __init__(self, *args, client_packages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_package"].queryset = client_packages
        self.fields["client_package"].label_from_instance = package_label


class PaymentForm(ServiceErrorsMixin, forms.Form):
    AUTO_ID = "payment-%s"

    payment_method = forms.ChoiceField(
        label="Paid by", choices=SESSION_PAYMENT_METHODS, error_messages={"required": "Choose how it was paid."}
    )
    amount_paid = forms.DecimalField(
        label="Amount",
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        error_messages={"required": "Give the amount paid."},
    )


class ComplimentaryForm(ServiceErrorsMixin, forms.Form):
    AUTO_ID = "complimentary-%s"

    reason = forms.CharField(label="Reason (optional)", required=False, max_length=REASON_MAX_LENGTH)


class NotesForm(ServiceErrorsMixin, forms.Form):
    AUTO_ID = "notes-%s"

    notes = forms.CharField(
        label="Notes", required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoInputForm(ServiceErrorsMixin, forms.Form):
    """Confirm, complete, no-show, undo: the button is all there is."""
