"""The studio's own settings, on the studio's host: every member reads them, the owner changes them."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadhandler import FileUploadHandler
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.fields import PhoneNumberField
from shared_apps.core.permissions import IsStudioMember, IsStudioOwner
from shared_apps.core.validators import TEXT_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name, validate_timezone
from tenants import services
from tenants.countries import COUNTRY_CODES
from tenants.models import CANCELLATION_WINDOW_MAX_HOURS, SMS_KIND_CHOICES, Studio
from tenants.models import validate_sms_kinds as sms_kinds_check
from tenants.themes import available_themes

SMS_KINDS_HELP = (
    "The client messages that also go by SMS to clients who agreed to texts (the rest go by email only): any of "
    + ", ".join(f"`{kind}`" for kind, _label in SMS_KIND_CHOICES)
    + ". A new studio texts the 1-hour reminder only."
)


class StudioSettingsOutput(serializers.Serializer):
    name = serializers.CharField()
    slug = serializers.CharField(help_text="Fixed when the studio was created; part of its host name.")
    logo_url = serializers.SerializerMethodField()
    brand_color = serializers.CharField()
    theme = serializers.CharField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    country = serializers.CharField(
        help_text="ISO 3166 alpha-2. Phone numbers typed without a country code are read as this country's."
    )
    contact_email = serializers.CharField()
    contact_phone = PhoneNumberField(help_text="E.164, or empty.")
    address = serializers.CharField()
    cancellation_policy = serializers.CharField()
    default_cancellation_window_hours = serializers.IntegerField(
        help_text="What a new session type takes as its cancellation window when it names none."
    )
    guest_booking_enabled = serializers.BooleanField(
        help_text="Visitors without an account may book on the studio's site: the slot is held for them while "
        "they confirm by the link mailed to them."
    )
    sms_kinds = serializers.ListField(child=serializers.CharField(), help_text=SMS_KINDS_HELP)
    updated = serializers.DateTimeField()

    def get_logo_url(self, studio: Studio) -> str | None:
        if not studio.logo:
            return None
        return self.context["request"].build_absolute_uri(studio.logo.url)


class StudioSettingsUpdateOutput(StudioSettingsOutput):
    notices = serializers.ListField(
        child=serializers.CharField(),
        help_text="What the change did not do that one might expect, e.g. that a new time zone moves no booking.",
    )


class StudioSettingsInput(serializers.Serializer):
    name = serializers.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    brand_color = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$", max_length=7, error_messages={"invalid": "Use a hex colour such as #2563eb."}
    )
    theme = serializers.ChoiceField(choices=[])
    timezone = serializers.CharField(max_length=64, validators=[validate_timezone])
    currency = serializers.RegexField(
        r"^[A-Z]{3}$", max_length=3, error_messages={"invalid": "Use an ISO 4217 code such as EUR."}
    )
    country = serializers.ChoiceField(
        choices=sorted(COUNTRY_CODES), error_messages={"invalid_choice": "Use an ISO 3166 country code such as GB."}
    )
    contact_email = serializers.EmailField(allow_blank=True, max_length=254)
    contact_phone = PhoneNumberField(allow_blank=True)
    address = serializers.CharField(allow_blank=True, max_length=TEXT_MAX_LENGTH)
    cancellation_policy = serializers.CharField(allow_blank=True, max_length=TEXT_MAX_LENGTH)
    default_cancellation_window_hours = serializers.IntegerField(min_value=0, max_value=CANCELLATION_WINDOW_MAX_HOURS)
    guest_booking_enabled = serializers.BooleanField()
    sms_kinds = serializers.ListField(child=serializers.CharField(max_length=32), help_text=SMS_KINDS_HELP)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = available_themes()

    def to_internal_value(self, data):
        # A phone typed without its country code belongs to the country sent with it, when the same request
        # changes the studio's country.
        country = data.get("country") if hasattr(data, "get") else None
        if isinstance(country, str) and country in COUNTRY_CODES:
            self.fields["contact_phone"].region = country
        return super().to_internal_value(data)

    def validate_sms_kinds(self, value: list[str]) -> list[str]:
        """Only kinds that can go by SMS (the model's rule and words), each once, in the order of
        SMS_KIND_CHOICES so the same choice always reads the same."""
        try:
            sms_kinds_check(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return [kind for kind, _label in SMS_KIND_CHOICES if kind in value]


class StudioSettingsApi(APIView):
    def get_permissions(self):
        return [IsStudioMember()] if self.request.method == "GET" else [IsStudioOwner()]

    @extend_schema(
        responses=StudioSettingsOutput,
        description="The studio's settings. Anyone logged in to the studio (staff and clients) may read them.",
    )
    def get(self, request):
        return Response(StudioSettingsOutput(request.tenant, context={"request": request}).data)

    @extend_schema(
        request=StudioSettingsInput,
        responses=StudioSettingsUpdateOutput,
        description=(
            "The owner changes any of the fields sent (managers, trainers and clients: 403). The slug and the "
            "studio's status are not settings. A phone number without its country code is read as one of the "
            "studio's country (the one sent in the same request, if any) and stored as E.164. `sms_kinds` lists the "
            "client messages that also go by SMS; a kind that can't is refused (400).\n\n"
            "Changing `timezone` moves no booking: bookings are instants, shown from then on in the new zone; "
            "`notices` says so (and what else a change did not do)."
        ),
    )
    def patch(self, request):
        data = StudioSettingsInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        result = services.studio_update(studio=request.tenant, **data.validated_data)
        body = StudioSettingsOutput(result.studio, context={"request": request}).data
        return Response({**body, "notices": result.notices})


class LogoSizeLimitHandler(FileUploadHandler):
    """Stops an upload as soon as it passes the limit, for requests that didn't say their length up front."""

    def __init__(self, request=None):
        super().__init__(request)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > services.LOGO_MAX_BYTES:
            raise services.LogoTooLarge()
        return raw_data

    def file_complete(self, file_size):
        return None


class StudioLogoApi(APIView):
    """The studio's logo (the owner's): a PNG, JPEG or WebP image of at most 2 MB and 4096 pixels a side."""

    permission_classes = [IsStudioOwner]
    parser_classes = [MultiPartParser]

    class LogoInput(serializers.Serializer):
        logo = serializers.FileField()

    def initial(self, request, *args, **kwargs):
        # Refuse an oversized upload before any of it is read (authentication may read a form body).
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > services.LOGO_MAX_BYTES + 64 * 1024:
            raise services.LogoTooLarge()
        request._request.upload_handlers.insert(0, LogoSizeLimitHandler(request._request))
        super().initial(request, *args, **kwargs)

    @extend_schema(request=LogoInput, responses=StudioSettingsOutput)
    def put(self, request):
        data = self.LogoInput(data=request.data)
        data.is_valid(raise_exception=True)
        studio = services.studio_logo_set(studio=request.tenant, logo=data.validated_data["logo"])
        return Response(StudioSettingsOutput(studio, context={"request": request}).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.studio_logo_remove(studio=request.tenant)
        return Response(status=status.HTTP_204_NO_CONTENT)
