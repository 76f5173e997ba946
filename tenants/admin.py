from allauth.account.decorators import secure_admin_login
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from shared_apps.core.exceptions import ApplicationError
from tenants import services
from tenants.countries import COUNTRY_CODES
from tenants.models import Domain, Studio
from tenants.themes import available_themes

STUDIO_FIELDS = ["name", "slug", "timezone", "theme", "currency", "country", "brand_color"]

# The admin's own login form has no rate limit and no second factor: send it to allauth's login page, which
# has both (failed logins throttled like the API's, then the authenticator code).
admin.site.login = secure_admin_login(admin.site.login)
OWNER_FIELDS = ["owner_email", "owner_password", "owner_first_name", "owner_last_name"]


class StudioCreationForm(forms.ModelForm):
    """Onboarding from the admin goes through the same provisioning service as the API and the command."""

    owner_email = forms.EmailField()
    owner_password = forms.CharField(
        required=False, widget=forms.PasswordInput, help_text="Leave empty to mail the owner a link instead."
    )
    owner_first_name = forms.CharField(required=False)
    owner_last_name = forms.CharField(required=False)

    class Meta:
        model = Studio
        fields = STUDIO_FIELDS
        widgets = {"theme": forms.Select(choices=[]), "country": forms.Select(choices=[])}
        help_texts = {"country": "The region of phone numbers typed without their country code."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].widget.choices = [(theme, theme) for theme in available_themes()]
        self.fields["country"].widget.choices = [(code, code) for code in sorted(COUNTRY_CODES)]

    def _post_clean(self):
        # The provisioning service validates the whole studio (the model alone would want a schema name).
        if self.errors:
            return
        try:
            services.studio_validate(**self.cleaned_data)
        except ApplicationError as error:
            for field, problems in error.fields.items():
                self.add_error(field if field in self.fields else None, problems)

    def save(self, commit=True):
        try:
            fields = {name: self.cleaned_data.get(name) for name in STUDIO_FIELDS + OWNER_FIELDS}
            return services.studio_create(**{**fields, "owner_password": fields["owner_password"] or None})
        except ApplicationError as error:
            raise ValidationError(error.fields or error.message) from error

    def save_m2m(self):
        pass


class DomainInline(admin.TabularInline):
    """Shown, never changed here: a domain is added, verified, approved, made primary or removed through
    tenants.domains, which check who may and what the DNS says, and log it."""

    model = Domain
    extra = 0
    can_delete = False
    fields = ["domain", "status", "is_primary", "verified_at", "created"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Studio)
class StudioAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "schema_name", "theme", "status", "created"]
    list_filter = ["status", "theme"]
    search_fields = ["name", "slug", "domains__domain"]
    # Suspending and reactivating take a reason, given on the platform's own pages (/platform/): here the status
    # is read only.
    readonly_fields = ["schema_name", "slug", "status", "created", "updated"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StudioCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                *StudioCreationForm.Meta.fields,
                "owner_email",
                "owner_password",
                "owner_first_name",
                "owner_last_name",
            ]
        return [
            "name",
            "slug",
            "schema_name",
            "theme",
            "brand_color",
            "logo",
            "timezone",
            "currency",
            "country",
            "staff_mfa_required",
            "status",
            "created",
            "updated",
        ]

    def get_inlines(self, request, obj):
        return [DomainInline] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        # A new studio was already created by the form's save(), through the provisioning service.
