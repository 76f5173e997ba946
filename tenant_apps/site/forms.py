"""Forms of the booking site. Domain errors (ApplicationError) land on them with the API's words."""

from decimal import Decimal

import phonenumbers
from django import forms

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.phone_numbers import (
    PHONE_INPUT_MAX_LENGTH,
    form_phone_e164,
    studio_phone_region,
)
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, TEXT_MAX_LENGTH

PAY_AT_STUDIO = "studio"
# The packages service's refusals, all about the package chosen to pay.
PACKAGE_ERRORS = {"no_credits_left", "package_expired", "package_not_applicable"}


class BookingDetailsForm(forms.Form):
    """Which of the client's usable packages pays, or none (pay at the studio), and a note for the trainer."""

    payment = forms.ChoiceField(label="How will you pay?", widget=forms.RadioSelect)
    notes = forms.CharField(
        label="A note for your trainer (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    # Where the service's error fields show on this form; anything else goes to the summary only.
    FIELD_OF = {"client_package": "payment", "notes": "notes"}

    def __init__(self, *args, packages, session_type, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (
                str(package.pk),
                f"{package.package.name}: {package.sessions_remaining} "
                f"credit{'' if package.sessions_remaining == 1 else 's'} left, valid until "
                f"{package.expiry_date:%a %-d %b %Y}",
            )
            for package in packages
        ]
        is_free = Decimal(session_type.price) == 0
        choices.append((PAY_AT_STUDIO, "Nothing to pay: this session is free" if is_free else "Pay at the studio"))
        self.fields["payment"].choices = choices
        # The package the service would take when none is named: the one that expires first.
        self.fields["payment"].initial = choices[0][0] if not is_free else PAY_AT_STUDIO

    def add_application_error(self, error: ApplicationError) -> None:
        """The service's refusal, in the summary and by the field it is about (when this form has that field)."""
        self.add_error(None, error.message)
        fields = dict(error.fields)
        if not fields and error.code in PACKAGE_ERRORS:
            fields = {"client_package": [error.message]}
        for name, messages in fields.items():
            field = self.FIELD_OF.get(name)
            if field is not None:
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(field, str(message))


class GuestForm(forms.Form):
    """A visitor without an account: who they are and how to reach them. The hold service checks the details
    again (the phone in the studio's country, the names) and its refusals land here with the API's words."""

    first_name = forms.CharField(
        label="First name", max_length=PERSON_NAME_MAX_LENGTH, error_messages={"required": "Enter your first name."}
    )
    last_name = forms.CharField(label="Last name (optional)", max_length=PERSON_NAME_MAX_LENGTH, required=False)
    email = forms.EmailField(
        label="Email",
        max_length=254,
        help_text="We send the link that confirms the booking here.",
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address in the correct format, like name@example.com.",
        },
    )
    phone = forms.CharField(label="Phone", max_length=32, error_messages={"required": "Enter your phone number."})
    note = forms.CharField(
        label="A note for your trainer (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].widget.attrs["autocomplete"] = "given-name"
        self.fields["last_name"].widget.attrs["autocomplete"] = "family-name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["phone"].widget = forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"})
        self.fields["phone"].help_text = _phone_hint(studio_phone_region())

    def add_application_error(self, error: ApplicationError) -> None:
        """The hold service's refusal, in the summary and by the field it is about."""
        self.add_error(None, error.message)
        for name, messages in dict(error.fields).items():
            if name in self.fields:
                for message in messages if isinstance(messages, list) else [messages]:
                    self.add_error(name, str(message))


def _phone_hint(region: str | None) -> str:
    if region is None:
        return "With its country code, for example +44 7400 123456."
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return f"With the country code (+{phonenumbers.country_code_for_region(region)} here) or without it."
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"For example {national}, or {international} from abroad."


# The zones a client picks from on My account, by region; a zone set some other way is added to them.
COMMON_TIMEZONES = {
    "Europe": [
        "Europe/Amsterdam", "Europe/Athens", "Europe/Berlin", "Europe/Dublin", "Europe/Helsinki", "Europe/Istanbul",
        "Europe/Lisbon", "Europe/London", "Europe/Madrid", "Europe/Paris", "Europe/Rome", "Europe/Stockholm",
        "Europe/Warsaw", "Europe/Zurich",
    ],
    "Americas": [
        "America/Anchorage", "America/Argentina/Buenos_Aires", "America/Bogota", "America/Chicago", "America/Denver",
        "America/Halifax", "America/Los_Angeles", "America/Mexico_City", "America/New_York", "America/Phoenix",
        "America/Sao_Paulo", "America/Toronto", "America/Vancouver", "Pacific/Honolulu",
    ],
    "Africa and Asia": [
        "Africa/Cairo", "Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi", "Asia/Bangkok", "Asia/Dubai",
        "Asia/Hong_Kong", "Asia/Jerusalem", "Asia/Kolkata", "Asia/Shanghai", "Asia/Singapore", "Asia/Tokyo",
    ],
    "Oceania": ["Australia/Brisbane", "Australia/Perth", "Australia/Sydney", "Pacific/Auckland"],
    "Other": ["UTC"],
}  # fmt: skip


def _zone_label(name: str) -> str:
    return name.replace("_", " ")


class NotificationsForm(forms.Form):
    """A client's channels: reminders by email, texts (only where the studio sends any) to their mobile, and
    the zone times are given in. The number is read here as the channels service reads it (so its mistakes
    show with the others); the service's own refusals land on the field they name."""

    email_reminders = forms.BooleanField(label="Email me a reminder before my sessions", required=False)
    sms_opt_in = forms.BooleanField(required=False)
    phone = forms.CharField(
        label="Mobile number",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="The times in your reminders and texts are given in this zone.",
        error_messages={"invalid_choice": "Choose a time zone from the list."},
    )

    def __init__(self, *args, studio, current_zone: str, texts_sent: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if texts_sent:
            self.fields[
                "sms_opt_in"
            ].label = f"I agree to receive appointment texts from {studio.name}. Reply STOP to opt out."
            self.fields["phone"].help_text = _phone_hint(studio_phone_region())
        else:
            del self.fields["sms_opt_in"], self.fields["phone"]
        groups = {region: list(zones) for region, zones in COMMON_TIMEZONES.items()}
        listed = {zone for zones in groups.values() for zone in zones}
        if current_zone and current_zone not in listed:
            groups["Other"].insert(0, current_zone)
        self.fields["timezone"].choices = [("", f"The studio's ({studio.timezone})")] + [
            (region, [(zone, _zone_label(zone)) for zone in zones]) for region, zones in groups.items()
        ]

    def clean_phone(self) -> str:
        return form_phone_e164(self.cleaned_data["phone"])

    def add_application_error(self, error: ApplicationError) -> None:
        """The service's refusal by the field it is about, or in the summary when this form has no such field."""
        fields = {name: problems for name, problems in dict(error.fields).items() if name in self.fields}
        for name, problems in fields.items():
            for problem in problems if isinstance(problems, list) else [problems]:
                self.add_error(name, str(problem))
        if not fields:
            self.add_error(None, error.message)
