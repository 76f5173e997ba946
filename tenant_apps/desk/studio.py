"""The desk: the studio's settings page. Every member of staff reads it; the owner alone changes it, as the API
decides (/api/studio/: IsStudioMember reads, IsStudioOwner writes; /api/studio/logo/ and
/api/staff/security/: IsStudioOwner). Saves go through the same services: ``studio_update``,
``studio_logo_set`` / ``studio_logo_remove`` and ``studio_staff_mfa_set``, so the page and the API can't disagree.

The preview of the booking site is an <iframe> of ``desk:studio_preview_site``: the theme's own stylesheet and
templates restyle the whole document (``:root``, ``.site-header``), so they can't be dropped into the desk's page
without restyling the desk too; a document of its own also keeps the brand colour in the nonce'd <style> the site
already uses. Changing the theme or colour swaps the frame (htmx GET of this page with ``theme`` and ``brand_color``),
saving nothing.
"""

import copy
import re
from functools import cache
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template import Engine, engines
from django.template.context import make_context
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django.utils.csp import CSP
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csp import csp_override

from shared_apps.accounts.mfa import mfa_enabled
from shared_apps.accounts.models import Role
from shared_apps.accounts.services import studio_staff_mfa_set
from shared_apps.core.exceptions import ApplicationError
from shared_apps.core.phone_numbers import InvalidPhoneNumber, phone_number_e164, studio_phone_region
from shared_apps.core.validators import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name, validate_timezone
from tenant_apps.desk.access import StaffRequiredMixin, forbidden
from tenant_apps.desk.forms import ServiceErrorsForm
from tenants import services
from tenants.countries import COUNTRY_CODES
from tenants.models import CANCELLATION_WINDOW_MAX_HOURS, SMS_KIND_CHOICES, Studio
from tenants.themes import available_themes

OWNER_ONLY = "Only the studio's owner changes its settings."
BRAND_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
PAGE_TEMPLATE = "desk/studio/settings.html"
PREVIEW_TEMPLATE = "desk/studio/_preview.html"


def _refusal_on(form: ServiceErrorsForm, error: ApplicationError, field: str) -> None:
    """A service's refusal by the fields it names, or else by ``field``, the one the form is about."""
    if error.fields:
        form.add_application_error(error)
    else:
        form.add_error(field, error.message)


def may_change_settings(user) -> bool:
    """The API's rule (IsStudioOwner on every write of /api/studio/)."""
    return user.role == Role.OWNER


class StudioSettingsForm(ServiceErrorsForm):
    """What /api/studio/ (PATCH) takes, with the same rules and words (StudioSettingsInput)."""

    name = forms.CharField(label="Studio name", max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    theme = forms.ChoiceField(
        label="Theme of the booking site",
        choices=[],
        error_messages={"invalid_choice": "Choose one of the installed themes."},
    )
    brand_color = forms.RegexField(
        label="Brand colour",
        regex=BRAND_COLOR,
        max_length=7,
        help_text="Buttons, links and the header's rule on the booking site, and the desk's accents.",
        error_messages={"invalid": "Use a hex colour such as #2563eb."},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    timezone = forms.CharField(
        label="Time zone",
        max_length=64,
        validators=[validate_timezone],
        help_text="A zone name such as Europe/London. Changing it moves no booking: each keeps its moment.",
    )
    currency = forms.RegexField(
        label="Currency",
        regex=r"^[A-Z]{3}$",
        max_length=3,
        help_text="An ISO 4217 code such as GBP or EUR, for new prices.",
        error_messages={"invalid": "Use an ISO 4217 code such as EUR."},
    )
    country = forms.ChoiceField(
        label="Country",
        choices=[(code, code) for code in sorted(COUNTRY_CODES)],
        help_text="Phone numbers typed without their country code are read as this country's.",
        error_messages={"invalid_choice": "Use an ISO 3166 country code such as GB."},
    )
    contact_email = forms.EmailField(label="Contact email (optional)", required=False, max_length=254)
    contact_phone = forms.CharField(
        label="Contact phone (optional)",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    address = forms.CharField(
        label="Address (optional)", required=False, max_length=TEXT_MAX_LENGTH, widget=forms.Textarea({"rows": 3})
    )
    cancellation_policy = forms.CharField(
        label="Cancellation policy (optional)",
        required=False,
        max_length=TEXT_MAX_LENGTH,
        help_text="Shown to clients when they book and cancel.",
        widget=forms.Textarea({"rows": 4}),
    )
    default_cancellation_window_hours = forms.IntegerField(
        label="Default cancellation window, in hours",
        min_value=0,
        max_value=CANCELLATION_WINDOW_MAX_HOURS,
        help_text="What a new session type takes when it names no window of its own.",
    )
    guest_booking_enabled = forms.BooleanField(
        label="Visitors without an account may book (they confirm by a link mailed to them)", required=False
    )
    sms_kinds = forms.MultipleChoiceField(
        label="Messages that also go by SMS to clients who agreed to texts",
        required=False,
        choices=SMS_KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, read_only: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [(theme, theme.capitalize()) for theme in available_themes()]
        if read_only:
            for field in self.fields.values():
                field.disabled = True

    def clean_sms_kinds(self) -> list[str]:
        # In the order of SMS_KIND_CHOICES, as the API stores them, so the same choice always reads the same.
        chosen = self.cleaned_data["sms_kinds"]
        return [kind for kind, _label in SMS_KIND_CHOICES if kind in chosen]

    def clean(self):
        data = super().clean()
        phone = data.get("contact_phone")
        if phone:
            # A number without its country code belongs to the country sent with it (the API's rule).
            region = data["country"] if data.get("country") in COUNTRY_CODES else studio_phone_region()
            try:
                data["contact_phone"] = phone_number_e164(phone, region=region)
            except InvalidPhoneNumber as error:
                self.add_error("contact_phone", str(error))
        return data


class LogoForm(ServiceErrorsForm):
    prefix = "logo"
    logo = forms.FileField(
        label="New logo",
        help_text=(
            f"A PNG, JPEG or WebP image of at most {services.LOGO_MAX_BYTES // (1024 * 1024)} MB and "
            f"{services.LOGO_MAX_SIDE} pixels a side."
        ),
        error_messages={"required": "Choose an image to upload."},
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )


class StaffSecurityForm(ServiceErrorsForm):
    prefix = "security"
    staff_mfa_required = forms.BooleanField(
        label="Staff (owner, managers and trainers) must use two-factor authentication", required=False
    )


# -- the preview ------------------------------------------------------------------------------------------


def preview_values(studio: Studio, data) -> dict:
    """The theme and colour to preview: those asked for when they are valid, the saved ones otherwise."""
    theme, brand_color = data.get("theme"), data.get("brand_color")
    problems = []
    if theme is not None and theme not in available_themes():
        problems.append("Choose one of the installed themes.")
    if brand_color is not None and not BRAND_COLOR.fullmatch(brand_color):
        problems.append("Use a hex colour such as #2563eb.")
    if theme not in available_themes():
        theme = studio.theme
    if not (isinstance(brand_color, str) and BRAND_COLOR.fullmatch(brand_color)):
        brand_color = studio.brand_color
    return {
        "theme": theme,
        "brand_color": brand_color,
        "problems": problems,
        "is_saved": (theme, brand_color.lower()) == (studio.theme, studio.brand_color.lower()),
        "src": f"{reverse('desk:studio_preview_site')}?{urlencode({'theme': theme, 'brand_color': brand_color})}",
    }


@cache
def _theme_engine(theme: str) -> Engine:
    """The site's templates as a studio of ``theme`` sees them (its folder, then themes/base), whatever the
    current studio's theme: the theme loader follows the saved theme, the preview the one being chosen."""
    default = engines["django"].engine
    return Engine(
        dirs=[settings.THEMES_DIR / theme / "templates", settings.THEMES_DIR / "base" / "templates"],
        context_processors=default.context_processors,
        libraries=default.libraries,
        builtins=default.builtins,
        debug=default.debug,
    )


# The frame may be shown by the desk's own pages and no others' (the site forbids framing everywhere else).
_FRAMED_BY_SELF = {**settings.SECURE_CSP, "frame-ancestors": [CSP.SELF]}


@method_decorator([xframe_options_sameorigin, csp_override(_FRAMED_BY_SELF)], name="dispatch")
class StudioPreviewSiteView(StaffRequiredMixin, View):
    """The booking site's page frame (its header, a button, a few free times) in a theme and colour not yet
    saved: the saved studio, copied, with the two changed. Nothing is written."""

    def get(self, request):
        values = preview_values(request.tenant, request.GET)
        studio = copy.copy(request.tenant)
        studio.theme, studio.brand_color = values["theme"], values["brand_color"]
        context = {"studio": studio, "messages": [], "times": ["09:00", "10:30", "17:15"]}
        template = _theme_engine(values["theme"]).get_template("desk/studio/preview_site.html")
        # make_context puts ``context`` above the context processors' (whose ``studio`` is the saved one).
        return HttpResponse(template.render(make_context(context, request)))


# -- the page ---------------------------------------------------------------------------------------------


def _settings_initial(studio: Studio) -> dict:
    return {name: getattr(studio, name) for name in services.STUDIO_SETTINGS_FIELDS}


def _page(request, *, status: int = 200, preview_data=None, **forms_):
    studio = request.tenant
    may_change = may_change_settings(request.user)
    form = forms_.get("form") or StudioSettingsForm(initial=_settings_initial(studio), read_only=not may_change)
    context = {
        "may_change": may_change,
        "form": form,
        "logo_form": forms_.get("logo_form") or LogoForm(),
        "security_form": forms_.get("security_form")
        or StaffSecurityForm(initial={"staff_mfa_required": studio.staff_mfa_required}),
        "owner_has_mfa": may_change and mfa_enabled(request.user),
        "preview": preview_values(studio, preview_data if preview_data is not None else {}),
    }
    return render(request, PAGE_TEMPLATE, context, status=status)


class StudioSettingsView(StaffRequiredMixin, View):
    """GET: the settings (read-only but for the owner); with ``theme``/``brand_color``, their preview (only the
    preview, for htmx). POST: the owner saves them."""

    def get(self, request):
        response = self._get(request)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def _get(self, request):
        asked = {name: request.GET[name] for name in ("theme", "brand_color") if name in request.GET}
        if request.htmx and asked:
            return render(request, PREVIEW_TEMPLATE, {"preview": preview_values(request.tenant, asked)})
        if not asked:
            return _page(request)
        # Without JavaScript the same preview is a link: the form starts from the values previewed.
        studio = request.tenant
        initial = _settings_initial(studio)
        preview = preview_values(studio, asked)
        initial.update(theme=preview["theme"], brand_color=preview["brand_color"])
        form = StudioSettingsForm(initial=initial, read_only=not may_change_settings(request.user))
        return _page(request, form=form, preview_data=asked)

    def post(self, request):
        if not may_change_settings(request.user):
            return forbidden(request, OWNER_ONLY)
        form = StudioSettingsForm(request.POST)
        if form.is_valid():
            try:
                result = services.studio_update(studio=request.tenant, **form.cleaned_data)
            except ApplicationError as error:
                form.add_application_error(error)
            else:
                messages.success(request, "The studio's settings were saved.")
                for notice in result.notices:
                    messages.info(request, notice)
                return redirect(reverse("desk:studio_settings"))
        return _page(request, status=400, form=form, preview_data=request.POST)


class StudioLogoView(StaffRequiredMixin, View):
    """POST a new logo (``logo-logo``), or ``remove`` to take it off. The owner's, as /api/studio/logo/."""

    def post(self, request):
        if not may_change_settings(request.user):
            return forbidden(request, OWNER_ONLY)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > services.LOGO_MAX_BYTES + 64 * 1024:
            # Refused before the upload is read, as the API refuses it.
            form = LogoForm()
            form.cleaned_data = {}  # add_error needs it; an unbound form has none
            form.add_error("logo", services.LogoTooLarge.message)
            return _page(request, status=services.LogoTooLarge.status_code, logo_form=form)
        if "remove" in request.POST:
            services.studio_logo_remove(studio=request.tenant)
            messages.success(request, "The logo was removed.")
            return redirect(reverse("desk:studio_settings"))
        form = LogoForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.studio_logo_set(studio=request.tenant, logo=form.cleaned_data["logo"])
            except ApplicationError as error:
                _refusal_on(form, error, "logo")
                return _page(request, status=error.status_code, logo_form=form)
            messages.success(request, "The logo was saved.")
            return redirect(reverse("desk:studio_settings"))
        return _page(request, status=400, logo_form=form)


class StaffSecurityView(StaffRequiredMixin, View):
    """The owner requires (or stops requiring) two-factor authentication of the staff, as
    /api/staff/security/ (the owner must have it first: OwnMFAMissing)."""

    def post(self, request):
        if not may_change_settings(request.user):
            return forbidden(request, OWNER_ONLY)
        form = StaffSecurityForm(request.POST)
        if form.is_valid():
            required = form.cleaned_data["staff_mfa_required"]
            try:
                studio_staff_mfa_set(owner=request.user, required=required)
            except ApplicationError as error:
                _refusal_on(form, error, "staff_mfa_required")
            else:
                if required:
                    messages.success(request, "Staff must now use two-factor authentication.")
                else:
                    messages.success(request, "Staff no longer have to use two-factor authentication.")
                return redirect(reverse("desk:studio_settings"))
        return _page(request, status=400, security_form=form)


urlpatterns = [
    path("settings/", StudioSettingsView.as_view(), name="studio_settings"),
    path("settings/logo/", StudioLogoView.as_view(), name="studio_logo"),
    path("settings/staff-security/", StaffSecurityView.as_view(), name="studio_staff_security"),
    path("settings/preview/", StudioPreviewSiteView.as_view(), name="studio_preview_site"),
]
