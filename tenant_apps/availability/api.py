from datetime import timedelta

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.core.fields import AwareDateTimeField, BoundedDateField, StrictPrimaryKeyRelatedField
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioStaff
from shared_apps.core.schema import paginated
from shared_apps.core.tenancy import studio_timezone
from tenant_apps.availability import selectors, services
from tenant_apps.availability.models import AvailabilitySlot, TrainerBreak
from tenant_apps.trainers import services as trainer_services
from tenant_apps.trainers.models import SessionType, Trainer

MAX_SLOT_RANGE_DAYS = 90
ANY_TRAINER = "any"


@extend_schema_field(
    {
        "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": [ANY_TRAINER]}],
        "description": 'A trainer\'s id, or "any": any available trainer who offers the session type.',
    }
)
class TrainerOrAnyField(StrictPrimaryKeyRelatedField):
    """A trainer's id, or ``"any"`` (returned as ``ANY_TRAINER``): whichever trainer is free."""

    def to_internal_value(self, data):
        if data == ANY_TRAINER:
            return ANY_TRAINER
        return super().to_internal_value(data)


def _check_may_manage(user, trainer: Trainer) -> None:
    """The service's rule (``may_manage_trainer_hours``, the desk's hours page asks it too)."""
    if not trainer_services.may_manage_trainer_hours(user, trainer):
        raise trainer_services.NotYourCalendar()


def _trainer_filter(request) -> int | None:
    value = request.query_params.get("trainer")
    if value in (None, ""):
        return None
    field = serializers.IntegerField(min_value=1)
    try:
        return field.run_validation(value)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({"trainer": error.detail}) from error


class WindowOutput(serializers.ModelSerializer):
    trainer = serializers.IntegerField(source="trainer_id")
    start_time = serializers.TimeField(format="%H:%M")
    end_time = serializers.TimeField(format="%H:%M")

    class Meta:
        model = AvailabilitySlot
        fields = ["id", "trainer", "day_of_week", "start_time", "end_time", "is_recurring", "date", "is_active"]


class WindowInput(serializers.Serializer):
    trainer = StrictPrimaryKeyRelatedField(queryset=Trainer.objects.filter(is_active=True))
    day_of_week = serializers.IntegerField(min_value=0, max_value=6, required=False)
    start_time = serializers.TimeField(input_formats=["%H:%M", "%H:%M:%S"])
    end_time = serializers.TimeField(input_formats=["%H:%M", "%H:%M:%S"])
    is_recurring = serializers.BooleanField(default=True)
    date = BoundedDateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(default=True)

    def validate(self, data):
        if "start_time" in data and "end_time" in data and data["end_time"] <= data["start_time"]:
            raise serializers.ValidationError({"end_time": "The window must end after it starts."})
        if data.get("is_recurring") and data.get("date"):
            raise serializers.ValidationError({"date": "A weekly window has no date; set is_recurring to false."})
        if data.get("is_recurring") is False and not data.get("date") and not self.partial:
            raise serializers.ValidationError({"date": "A one-off window needs a date."})
        return data


class AvailabilityListCreateApi(APIView):
    permission_classes = [IsStudioStaff]

    @extend_schema(
        parameters=[OpenApiParameter("trainer", int, description="Only this trainer's windows")],
        responses=paginated(WindowOutput),
    )
    def get(self, request):
        windows = selectors.availability_list(user=request.user, trainer_id=_trainer_filter(request))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(windows, request, view=self)
        return paginator.get_paginated_response(WindowOutput(page, many=True).data)

    @extend_schema(request=WindowInput, responses={201: WindowOutput})
    def post(self, request):
        data = WindowInput(data=request.data)
        data.is_valid(raise_exception=True)
        _check_may_manage(request.user, data.validated_data["trainer"])
        window = services.availability_create(**data.validated_data)
        return Response(WindowOutput(window).data, status=status.HTTP_201_CREATED)


class AvailabilityDetailApi(APIView):
    permission_classes = [IsStudioStaff]

    def _get(self, request, window_id: int) -> AvailabilitySlot:
        windows = selectors.availability_list(user=request.user).select_related("trainer")
        return get_object_or_404(windows, pk=window_id)

    @extend_schema(responses=WindowOutput)
    def get(self, request, window_id: int):
        return Response(WindowOutput(self._get(request, window_id)).data)

    @extend_schema(request=WindowInput, responses=WindowOutput)
    def patch(self, request, window_id: int):
        window = self._get(request, window_id)
        data = WindowInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        if "trainer" in changes and changes.pop("trainer") != window.trainer:
            raise serializers.ValidationError({"trainer": "A window can't move to another trainer."})
        window = services.availability_update(window=window, **changes)
        return Response(WindowOutput(window).data)

    @extend_schema(responses={204: None})
    def delete(self, request, window_id: int):
        services.availability_delete(window=self._get(request, window_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class BreakOutput(serializers.ModelSerializer):
    trainer = serializers.IntegerField(source="trainer_id")

    class Meta:
        model = TrainerBreak
        fields = ["id", "trainer", "starts_at", "ends_at", "reason"]


class BreakInput(serializers.Serializer):
    trainer = StrictPrimaryKeyRelatedField(queryset=Trainer.objects.filter(is_active=True))
    starts_at = AwareDateTimeField(required=False)
    ends_at = AwareDateTimeField(required=False)
    start_date = BoundedDateField(required=False)
    end_date = BoundedDateField(required=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, data):
        instants = "starts_at" in data or "ends_at" in data
        days = "start_date" in data or "end_date" in data
        if instants == days:
            raise serializers.ValidationError("Give either starts_at and ends_at, or start_date and end_date.")
        required = ("starts_at", "ends_at") if instants else ("start_date", "end_date")
        missing = {name: "This field is required." for name in required if name not in data}
        if missing:
            raise serializers.ValidationError(missing)
        return data


class BreakListCreateApi(APIView):
    permission_classes = [IsStudioStaff]

    @extend_schema(
        parameters=[OpenApiParameter("trainer", int, description="Only this trainer's breaks")],
        responses=paginated(BreakOutput),
    )
    def get(self, request):
        breaks = selectors.break_list(user=request.user, trainer_id=_trainer_filter(request))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(breaks, request, view=self)
        return paginator.get_paginated_response(BreakOutput(page, many=True).data)

    @extend_schema(request=BreakInput, responses={201: BreakOutput})
    def post(self, request):
        data = BreakInput(data=request.data)
        data.is_valid(raise_exception=True)
        _check_may_manage(request.user, data.validated_data["trainer"])
        time_off = services.break_create(**data.validated_data)
        return Response(BreakOutput(time_off).data, status=status.HTTP_201_CREATED)


class BreakDetailApi(APIView):
    permission_classes = [IsStudioStaff]

    @extend_schema(responses={204: None})
    def delete(self, request, break_id: int):
        time_off = get_object_or_404(selectors.break_list(user=request.user).select_related("trainer"), pk=break_id)
        services.break_delete(time_off=time_off)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamSlotOutput(serializers.Serializer):
    start = serializers.DateTimeField()
    trainers = serializers.ListField(
        child=serializers.IntegerField(), help_text="The trainers free at this start, in id order."
    )


class AvailableSlotsApi(APIView):
    """Bookable start times for one trainer, or any available trainer, and a session type; public, the booking
    site reads it.

    With a trainer's id, ``start`` and ``end`` are dates in the trainer's zone. With ``trainer=any`` they are
    the studio's dates, the slots are the union over the active trainers who offer the session type (each by
    their own windows, breaks, bookings and zone), and ``slots`` says which trainers are free at each start.
    """

    permission_classes = [AllowAny]

    class SlotsQuery(serializers.Serializer):
        trainer = TrainerOrAnyField(queryset=Trainer.objects.filter(is_active=True))
        session_type = StrictPrimaryKeyRelatedField(queryset=SessionType.objects.filter(is_active=True))
        start = BoundedDateField()
        end = BoundedDateField()

        def validate(self, data):
            if data["end"] < data["start"]:
                raise serializers.ValidationError({"end": "The end date is before the start date."})
            if data["end"] - data["start"] >= timedelta(days=MAX_SLOT_RANGE_DAYS):
                raise serializers.ValidationError({"end": f"Ask for at most {MAX_SLOT_RANGE_DAYS} days at a time."})
            return data

    class SlotsOutput(serializers.Serializer):
        trainer = TrainerOrAnyField(read_only=True, help_text='The trainer asked for, or "any".')
        session_type = serializers.IntegerField()
        timezone = serializers.CharField(help_text="The trainer's zone; with trainer \"any\", the studio's.")
        available_slots = serializers.ListField(child=serializers.DateTimeField())
        total = serializers.IntegerField()
        slots = TeamSlotOutput(
            many=True, required=False, help_text='Only with trainer "any": each start with the trainers free then.'
        )

    @extend_schema(parameters=[SlotsQuery], responses=SlotsOutput, auth=[])
    def get(self, request):
        query = self.SlotsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        trainer, session_type = query.validated_data["trainer"], query.validated_data["session_type"]
        first_day, last_day = query.validated_data["start"], query.validated_data["end"]
        if trainer == ANY_TRAINER:
            team_slots = selectors.available_slots_any_trainer(
                session_type=session_type, first_day=first_day, last_day=last_day
            )
            return Response(
                {
                    "trainer": ANY_TRAINER,
                    "session_type": session_type.pk,
                    "timezone": studio_timezone(),
                    "available_slots": [_instant(slot.start) for slot in team_slots],
                    "total": len(team_slots),
                    "slots": [{"start": _instant(slot.start), "trainers": list(slot.trainers)} for slot in team_slots],
                }
            )
        starts = selectors.available_slots(
            trainer=trainer, session_type=session_type, first_day=first_day, last_day=last_day
        )
        return Response(
            {
                "trainer": trainer.pk,
                "session_type": session_type.pk,
                "timezone": trainer.timezone,
                "available_slots": [_instant(start) for start in starts],
                "total": len(starts),
            }
        )


def _instant(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
