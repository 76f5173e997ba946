from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.exceptions import Forbidden
from shared_apps.core.fields import StrictPrimaryKeyRelatedField
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import ReadOnlyOrStudioManager, ReadOnlyOrStudioStaff
from shared_apps.core.schema import paginated
from shared_apps.core.validators import (
    EXPERTISE_MAX_COUNT,
    EXPERTISE_MAX_LENGTH,
    PERSON_NAME_MAX_LENGTH,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    validate_name,
    validate_timezone,
)
from tenant_apps.trainers import services
from tenant_apps.trainers.models import SessionType, Trainer
from tenant_apps.trainers.selectors import session_type_list, trainer_list


class TrainerPublicOutput(serializers.ModelSerializer):
    session_types = serializers.SerializerMethodField()

    class Meta:
        model = Trainer
        fields = ["id", "display_name", "bio", "expertise", "rating", "session_types"]

    def get_session_types(self, trainer) -> list[int]:
        return sorted(session_type.pk for session_type in trainer.session_types.all())


class TrainerStaffOutput(TrainerPublicOutput):
    user = serializers.IntegerField(source="user_id")
    email = serializers.EmailField(source="user.email")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    phone = serializers.CharField(source="user.phone")

    class Meta(TrainerPublicOutput.Meta):
        fields = [
            *TrainerPublicOutput.Meta.fields,
            "user", "email", "first_name", "last_name", "phone", "timezone", "total_sessions", "is_active",
            "created", "updated",
        ]  # fmt: skip


def trainer_output(request, trainer_or_page, *, many=False):
    """Owner and managers see trainers' contact details; a trainer their own; everyone else the public card."""
    user = request.user
    if user.is_authenticated and user.manages_studio:
        return TrainerStaffOutput(trainer_or_page, many=many).data
    if many:
        return [trainer_output(request, trainer) for trainer in trainer_or_page]
    own = user.is_authenticated and trainer_or_page.user_id == user.pk
    return (TrainerStaffOutput if own else TrainerPublicOutput)(trainer_or_page).data


class TrainerListCreateApi(APIView):
    permission_classes = [ReadOnlyOrStudioManager]

    class TrainerCreateInput(serializers.Serializer):
        email = serializers.EmailField()
        first_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
        last_name = serializers.CharField(max_length=PERSON_NAME_MAX_LENGTH, validators=[validate_name])
        display_name = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False, validators=[validate_name])
        timezone = serializers.CharField(required=False, validators=[validate_timezone])
        bio = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)
        expertise = serializers.ListField(
            child=serializers.CharField(max_length=EXPERTISE_MAX_LENGTH), required=False, max_length=EXPERTISE_MAX_COUNT
        )

    @extend_schema(responses=paginated(TrainerPublicOutput), auth=[])
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(trainer_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(trainer_output(request, page, many=True))

    @extend_schema(
        request=TrainerCreateInput,
        responses={201: TrainerStaffOutput},
        description=(
            "Add a trainer. A new address gets an account with the trainer role and a mail to choose a password "
            "(as `POST /api/staff/` with role `trainer`, which makes the same profile with default details). "
            "The address of a staff member without a trainer profile (an owner or a manager who teaches) gets "
            "a profile; their account, role and password stay as they are and no mail is sent. A client's "
            "address, a deactivated account and someone who already has a profile are refused (400, `email`)."
        ),
    )
    def post(self, request):
        data = self.TrainerCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        trainer = services.trainer_create(**data.validated_data, invited_by=request.user, request=request)
        return Response(TrainerStaffOutput(trainer).data, status=status.HTTP_201_CREATED)


class TrainerDetailApi(APIView):
    """Read by anyone (active trainers); changed as ``services.may_edit_trainer`` allows (the desk's profile page
    asks it too): by the owner, a manager, or the trainer on their own profile's details."""

    permission_classes = [ReadOnlyOrStudioStaff]

    class TrainerUpdateInput(serializers.Serializer):
        display_name = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False, validators=[validate_name])
        bio = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
        expertise = serializers.ListField(
            child=serializers.CharField(max_length=EXPERTISE_MAX_LENGTH), required=False, max_length=EXPERTISE_MAX_COUNT
        )
        timezone = serializers.CharField(required=False, validators=[validate_timezone])
        rating = serializers.DecimalField(max_digits=3, decimal_places=2, required=False, allow_null=True)
        is_active = serializers.BooleanField(required=False)

    def _get(self, request, trainer_id: int) -> Trainer:
        return get_object_or_404(trainer_list(user=request.user), pk=trainer_id)

    @extend_schema(responses=TrainerPublicOutput, auth=[])
    def get(self, request, trainer_id: int):
        return Response(trainer_output(request, self._get(request, trainer_id)))

    @extend_schema(request=TrainerUpdateInput, responses=TrainerStaffOutput)
    def patch(self, request, trainer_id: int):
        trainer = self._get(request, trainer_id)
        data = self.TrainerUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        if not services.may_edit_trainer(request.user, trainer, fields=data.validated_data):
            raise services.TrainerProfileManagersOnly()
        trainer = services.trainer_update(trainer=trainer, **data.validated_data)
        return Response(TrainerStaffOutput(trainer).data)

    @extend_schema(
        responses={200: TrainerStaffOutput},
        description=(
            "The trainer stops taking new bookings; bookings already made stay, and their account can still "
            "log in (an owner or a manager may stop teaching). To end someone's access, and choose what "
            "happens to their future bookings, use `POST /api/staff/{user_id}/deactivate/` (`user_id`: this "
            "trainer's `user`)."
        ),
    )
    def delete(self, request, trainer_id: int):
        trainer = self._get(request, trainer_id)
        if not request.user.manages_studio:
            raise Forbidden("Only the studio's owner or a manager can deactivate a trainer.")
        return Response(TrainerStaffOutput(services.trainer_deactivate(trainer=trainer)).data)


class SessionTypeOutput(serializers.ModelSerializer):
    trainers = serializers.SerializerMethodField()

    class Meta:
        model = SessionType
        fields = [
            "id", "name", "description", "duration_minutes", "slot_interval_minutes", "price", "currency",
            "buffer_before_minutes", "buffer_after_minutes", "min_notice_minutes", "max_advance_days",
            "cancellation_window_hours", "requires_confirmation", "late_cancel_forfeits_credit",
            "no_show_forfeits_credit", "color", "is_active", "trainers",
        ]  # fmt: skip

    def get_trainers(self, session_type) -> list[int]:
        return sorted(trainer.pk for trainer in session_type.trainers.all())


class SessionTypeInput(serializers.Serializer):
    name = serializers.CharField(max_length=TITLE_MAX_LENGTH, validators=[validate_name])
    description = serializers.CharField(required=False, allow_blank=True, max_length=TEXT_MAX_LENGTH)
    duration_minutes = serializers.IntegerField(min_value=5, max_value=720)
    slot_interval_minutes = serializers.IntegerField(min_value=5, max_value=720, required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    buffer_before_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False)
    buffer_after_minutes = serializers.IntegerField(min_value=0, max_value=240, required=False)
    min_notice_minutes = serializers.IntegerField(min_value=0, max_value=60 * 24 * 60, required=False)
    max_advance_days = serializers.IntegerField(min_value=1, max_value=730, required=False)
    cancellation_window_hours = serializers.IntegerField(min_value=0, max_value=24 * 60, required=False)
    requires_confirmation = serializers.BooleanField(required=False)
    late_cancel_forfeits_credit = serializers.BooleanField(
        required=False, help_text="A client's cancellation inside the window keeps the credit spent (the default)."
    )
    no_show_forfeits_credit = serializers.BooleanField(
        required=False, help_text="A no-show keeps the credit spent (the default)."
    )
    color = serializers.RegexField(
        r"^#[0-9a-fA-F]{6}$", required=False, help_text="How calendars show it, e.g. #2563eb."
    )
    is_active = serializers.BooleanField(required=False)
    trainers = StrictPrimaryKeyRelatedField(queryset=Trainer.objects.all(), many=True, required=False)


class SessionTypeListCreateApi(APIView):
    permission_classes = [ReadOnlyOrStudioManager]

    @extend_schema(responses=paginated(SessionTypeOutput), auth=[])
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(session_type_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(SessionTypeOutput(page, many=True).data)

    @extend_schema(request=SessionTypeInput, responses={201: SessionTypeOutput})
    def post(self, request):
        data = SessionTypeInput(data=request.data)
        data.is_valid(raise_exception=True)
        session_type = services.session_type_create(**data.validated_data)
        return Response(SessionTypeOutput(session_type).data, status=status.HTTP_201_CREATED)


class SessionTypeDetailApi(APIView):
    permission_classes = [ReadOnlyOrStudioManager]

    def _get(self, request, session_type_id: int) -> SessionType:
        return get_object_or_404(session_type_list(user=request.user), pk=session_type_id)

    @extend_schema(responses=SessionTypeOutput, auth=[])
    def get(self, request, session_type_id: int):
        return Response(SessionTypeOutput(self._get(request, session_type_id)).data)

    @extend_schema(request=SessionTypeInput, responses=SessionTypeOutput)
    def patch(self, request, session_type_id: int):
        session_type = self._get(request, session_type_id)
        data = SessionTypeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        session_type = services.session_type_update(session_type=session_type, **data.validated_data)
        return Response(SessionTypeOutput(session_type).data)

    @extend_schema(responses={200: SessionTypeOutput})
    def delete(self, request, session_type_id: int):
        session_type = services.session_type_deactivate(session_type=self._get(request, session_type_id))
        return Response(SessionTypeOutput(session_type).data)
