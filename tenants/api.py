from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.fields import PhoneNumberField
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsPlatformAdmin
from shared_apps.core.schema import paginated
from shared_apps.core.validators import PERSON_NAME_MAX_LENGTH, REASON_MAX_LENGTH, TITLE_MAX_LENGTH, validate_name
from tenants import services
from tenants.countries import COUNTRY_CODES
from tenants.models import Studio
from tenants.selectors import studio_list
from tenants.themes import available_themes


class StudioOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    schema_name = serializers.CharField()
    domains = serializers.SerializerMethodField()
    theme = serializers.CharField()
    brand_color = serializers.CharField()
    timezone = serializers.CharField()
    currency = serializers.CharField()
    country = serializers.CharField(
        help_text="ISO 3166 alpha-2. Phone numbers typed without a country code are read as this country's."
    )
    logo_url = serializers.SerializerMethodField()
    contact_email = serializers.CharField()
    contact_phone = PhoneNumberField(help_text="E.164, or empty.")
    address = serializers.CharField()
    cancellation_policy = serializers.CharField()
    default_cancellation_window_hours = serializers.IntegerField()
    status = serializers.CharField()
    created = serializers.DateTimeField()

    def get_domains(self, studio) -> list[str]:
        return [domain.domain for domain in studio.domains.all()]

    def get_logo_url(self, studio: Studio) -> str | None:
        if not studio.logo:
            return None
        return self.context["request"].build_absolute_uri(studio.logo.url)


class StudioListCreateApi(APIView):
    """Platform admins list and onboard studios (platform host only)."""

    permission_classes = [IsPlatformAdmin]

    class StudioListCreateInput(serializers.Serializer):
        name = serializers.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
        slug = serializers.CharField(max_length=40)
        owner_email = serializers.EmailField()
        owner_password = serializers.CharField(required=False, trim_whitespace=False, write_only=True)
        owner_first_name = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name]
        )
        owner_last_name = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name]
        )
        timezone = serializers.CharField(required=False, default="UTC")
        theme = serializers.ChoiceField(choices=[], required=False)
        currency = serializers.CharField(required=False, default="USD", max_length=3)
        brand_color = serializers.CharField(required=False, default="#2563eb", max_length=7)
        # Set at creation: a US number such as (201) 555-0123 is also a valid London one, so a studio left on
        # the default would store its people's numbers wrongly without any error.
        country = serializers.ChoiceField(
            choices=sorted(COUNTRY_CODES),
            required=False,
            default="GB",
            help_text="ISO 3166 alpha-2 (default GB): the region of phone numbers typed without a country code.",
            error_messages={"invalid_choice": "Use an ISO 3166 country code such as GB or US."},
        )

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.fields["theme"].choices = available_themes()

    @extend_schema(responses=paginated(StudioOutput))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(studio_list(), request, view=self)
        return paginator.get_paginated_response(StudioOutput(page, many=True, context={"request": request}).data)

    @extend_schema(request=StudioListCreateInput, responses={201: StudioOutput})
    def post(self, request):
        data = self.StudioListCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        studio = services.studio_create(**data.validated_data, actor=request.user)
        return Response(StudioOutput(studio, context={"request": request}).data, status=status.HTTP_201_CREATED)


class StudioDetailApi(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses=StudioOutput)
    def get(self, request, studio_id: int):
        studio = get_object_or_404(studio_list(), pk=studio_id)
        return Response(StudioOutput(studio, context={"request": request}).data)


class StudioStatusInput(serializers.Serializer):
    # Required; the service says so when it is missing or blank (one rule for the API, the pages and the admin).
    reason = serializers.CharField(
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        help_text="Why (required): kept with the platform admin's name in the studio's audit log.",
    )


class StudioSuspendApi(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(request=StudioStatusInput, responses=StudioOutput)
    def post(self, request, studio_id: int):
        data = StudioStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        studio = services.studio_suspend(
            studio=get_object_or_404(studio_list(), pk=studio_id), actor=request.user, **data.validated_data
        )
        return Response(StudioOutput(studio, context={"request": request}).data)


class StudioActivateApi(APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(request=StudioStatusInput, responses=StudioOutput)
    def post(self, request, studio_id: int):
        data = StudioStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        studio = services.studio_activate(
            studio=get_object_or_404(studio_list(), pk=studio_id), actor=request.user, **data.validated_data
        )
        return Response(StudioOutput(studio, context={"request": request}).data)
