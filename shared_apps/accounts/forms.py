from allauth.account.forms import ResetPasswordForm, SignupForm
from django import forms

from shared_apps.accounts import services
from shared_apps.core.phone_numbers import (
    PHONE_INPUT_MAX_LENGTH,
    form_phone_e164,
)
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, validate_name


class StudioSignupForm(SignupForm):
    """allauth's sign-up page asking for the client's name (the client book shows it) and, optionally, a phone
    number, read as a number of the studio's country unless it starts with its country code. The adapter's
    save_user stores them on the account; the client book copies them from there."""

    first_name = forms.CharField(
        label="First name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label="Last name",
        max_length=PERSON_NAME_MAX_LENGTH,
        validators=[validate_name],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    phone = forms.CharField(
        label="Phone (optional)",
        required=False,
        max_length=PHONE_INPUT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    field_order = ["first_name", "last_name", "email", "phone", "password1", "password2"]

    def clean_first_name(self) -> str:
        return self._required_name("first_name")

    def clean_last_name(self) -> str:
        return self._required_name("last_name")

    def _required_name(self, field: str) -> str:
        # Django strips the value already; a name of spaces alone is no name.
        value = self.cleaned_data[field]
        if not value:
            raise forms.ValidationError("This field is required.", code="required")
        return value

    def clean_phone(self) -> str:
        return form_phone_e164(self.cleaned_data["phone"])


class PasswordResetForm(ResetPasswordForm):
    """allauth's reset page, sending through the same Celery task as the API: no account lookup in the
    request, so the page answers as fast for an unknown address as for a known one."""

    def clean_email(self) -> str:
        return self.cleaned_data["email"]

    def save(self, request, **kwargs) -> str:
        email = self.cleaned_data["email"]
        services.password_reset_request(email=email)
        return email
