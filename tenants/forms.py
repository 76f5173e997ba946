"""Forms of the platform admins' pages. They parse what a page sends; the rules are the provisioning services'
(tenants.services), and their refusals (ApplicationError) land on the form in the API's words."""

from django import forms
from django.conf import settings

from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.validators import (
    PERSON_NAME_MAX_LENGTH,
    REASON_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    timezone_names,
    validate_name,
)
from tenants.countries import COUNTRY_CODES
from tenants.models import Studio
from tenants.themes import available_themes


def add_application_error(form: forms.Form, error: ApplicationError) -> None:
    """The service's refusal: by the field it is about, else in the summary."""
    for name, problems in error.fields.items():
        for problem in problems if isinstance(problems, list) else [problems]:
            form.add_error(name if name in form.fields else None, str(problem))
    if not error.fields:
        form.add_error(None, error.message)


class StudioSearchForm(forms.Form):
    """The list's filters, read from the query string (so a search is a link)."""

    q = forms.CharField(label="Name, slug or domain", required=False, max_length=253)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any status"), *Studio.Status.choices])


class StudioOnboardForm(forms.Form):
    """The fields of POST /api/platform/studios/ a platform admin fills in; the owner is always invited by mail
    (a password typed by someone else would be known to them)."""

    name = forms.CharField(label="Studio name", max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    slug = forms.CharField(
        label="Slug",
        max_length=40,
        help_text=f"The studio's address: <slug>.{settings.PLATFORM_DOMAIN}. Lower-case letters, digits and "
        "hyphens; it can't be changed later.",
    )
    owner_email = forms.EmailField(label="Owner's email address", help_text="The owner is mailed an invitation.")
    owner_first_name = forms.CharField(
        label="Owner's first name", required=False, max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name]
    )
    owner_last_name = forms.CharField(
        label="Owner's last name", required=False, max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name]
    )
    timezone = forms.ChoiceField(label="Time zone", initial="Europe/London")
    theme = forms.ChoiceField(label="Theme")
    country = forms.ChoiceField(
        label="Country",
        initial="GB",
        help_text="Phone numbers typed without a country code are read as this country's.",
    )
    currency = forms.CharField(
        label="Currency", initial="GBP", max_length=3, help_text="An ISO 4217 code such as GBP, EUR or USD."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = [(name, name) for name in sorted(timezone_names())]
        self.fields["theme"].choices = [(theme, theme) for theme in available_themes()]
        self.fields["theme"].initial = settings.DEFAULT_THEME
        self.fields["country"].choices = [(code, code) for code in sorted(COUNTRY_CODES)]

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()


class StudioStatusForm(forms.Form):
    """Suspending or reactivating a studio: the reason goes into its audit log."""

    reason = forms.CharField(
        label="Reason",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the studio's audit log with your name.",
        error_messages={"required": "Say why: the reason is kept in the studio's audit log."},
    )
