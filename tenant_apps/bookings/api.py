import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import Forbidden
from shared_apps.core.fields import AwareDateTimeField, StrictPrimaryKeyRelatedField
from shared_apps.core.filters import IdFilter
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioMember
from shared_apps.core.schema import CONFLICT, paginated
from shared_apps.core.validators import REASON_MAX_LENGTH, TEXT_MAX_LENGTH
from tenant_apps.bookings import services
from tenant_apps.bookings.models import Booking, BookingEvent, BookingStatus
from tenant_apps.bookings.selectors import booking_history, booking_list, client_bookings
from tenant_apps.clients.models import Client
from tenant_apps.clients.selectors import client_list
from tenant_apps.clients.services import client_for_user
from tenant_apps.packages.models import ClientPackage
from tenant_apps.packages.selectors import visible_clients
from tenant_apps.trainers.models import SessionType, Trainer


class BookingFilter(django_filters.FilterSet):
    trainer = IdFilter(field_name="trainer_id")
    client = IdFilter(field_name="client_id")
    session_type = IdFilter(field_name="session_type_id")
    status = django_filters.MultipleChoiceFilter(choices=BookingStatus.choices)
    start = django_filters.IsoDateTimeFilter(field_name="start_time", lookup_expr="gte")
    end = django_filters.IsoDateTimeFilter(field_name="start_time", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["trainer", "client", "session_type", "status", "start", "end"]


class BookingOutput(serializers.ModelSerializer):
    trainer_id = serializers.IntegerField()
    client_id = serializers.IntegerField()
    session_type_id = serializers.IntegerField()
    client_package_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Booking
        fields = [
            "id", "trainer_id", "client_id", "session_type_id", "start_time", "end_time", "status",
            "confirmation_sent", "notes", "price", "currency", "client_package_id", "cancellation_reason",
            "cancelled_at", "is_late_cancellation", "created", "updated",
        ]  # fmt: skip


def _get(request, booking_id: int) -> Booking:
    """A booking the caller may see; anything else, another studio's included, is a 404."""
    return get_object_or_404(booking_list(user=request.user), pk=booking_id)


def _is_staff_of(user, booking: Booking) -> bool:
    return user.manages_studio or (user.role == Role.TRAINER and booking.trainer.user_id == user.pk)


def _require_staff(request, booking: Booking) -> None:
    if not _is_staff_of(request.user, booking):
        raise Forbidden("Only the studio's staff can do this.")


class BookingListCreateApi(APIView):
    permission_classes = [IsStudioMember]

    class BookingCreateInput(serializers.Serializer):
        trainer = StrictPrimaryKeyRelatedField(queryset=Trainer.objects.all())
        session_type = StrictPrimaryKeyRelatedField(queryset=SessionType.objects.all())
        start_time = AwareDateTimeField()
        client = StrictPrimaryKeyRelatedField(queryset=Client.objects.all(), required=False)
        notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)
        # Pay with a credit of this package; left out, the client's only usable package is used if there is one.
        client_package = StrictPrimaryKeyRelatedField(
            queryset=ClientPackage.objects.all(), required=False, allow_null=True
        )

        def __init__(self, *args, user=None, **kwargs):
            super().__init__(*args, **kwargs)
            if user is None:  # the OpenAPI schema's copy
                return
            # Only what the caller may see can be named: a client their own packages, a trainer the clients
            # they train (an unknown id and someone else's read the same: "does not exist").
            if user.role == Role.CLIENT:
                self.fields["client_package"].queryset = ClientPackage.objects.filter(client__user=user)
            elif not user.manages_studio:
                visible = client_list(user=user)
                self.fields["client"].queryset = visible
                self.fields["client_package"].queryset = ClientPackage.objects.filter(client__in=visible)

    @extend_schema(parameters=[BookingFilter], responses=paginated(BookingOutput))
    def get(self, request):
        bookings = BookingFilter(request.query_params, queryset=booking_list(user=request.user))
        if not bookings.is_valid():
            raise serializers.ValidationError(bookings.errors)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(bookings.qs, request, view=self)
        return paginator.get_paginated_response(BookingOutput(page, many=True).data)

    @extend_schema(request=BookingCreateInput, responses={201: BookingOutput, 409: CONFLICT})
    def post(self, request):
        user = request.user
        data = self.BookingCreateInput(data=request.data, user=user)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if user.role == Role.CLIENT:
            if "client" in fields:
                raise serializers.ValidationError({"client": "Clients book for themselves; leave this out."})
            fields["client"] = client_for_user(user=user)
        else:
            if "client" not in fields:
                raise serializers.ValidationError({"client": "This field is required."})
            if user.role == Role.TRAINER and fields["trainer"].user_id != user.pk:
                raise Forbidden("Trainers book sessions into their own calendar only.")
        booking = services.booking_create(**fields, created_by=user)
        return Response(BookingOutput(booking).data, status=status.HTTP_201_CREATED)


class BookingDetailApi(APIView):
    permission_classes = [IsStudioMember]

    class BookingUpdateInput(serializers.Serializer):
        notes = serializers.CharField(allow_blank=True, max_length=TEXT_MAX_LENGTH)

    @extend_schema(responses=BookingOutput)
    def get(self, request, booking_id: int):
        return Response(BookingOutput(_get(request, booking_id)).data)

    @extend_schema(request=BookingUpdateInput, responses={200: BookingOutput, 409: CONFLICT})
    def patch(self, request, booking_id: int):
        booking = _get(request, booking_id)
        moving = {"start_time", "end_time", "trainer", "session_type", "client", "status"} & set(request.data)
        if moving:
            raise serializers.ValidationError(
                {field: "Use the reschedule, cancel or status endpoints for this." for field in sorted(moving)}
            )
        data = self.BookingUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_update_notes(booking=booking, actor=request.user, **data.validated_data)
        return Response(BookingOutput(booking).data)

    @extend_schema(responses={200: BookingOutput, 409: CONFLICT})
    def delete(self, request, booking_id: int):
        """Cancels the booking; its history stays."""
        booking = services.booking_cancel(booking=_get(request, booking_id), actor=request.user)
        return Response(BookingOutput(booking).data)


class _StaffStatusApi(APIView):
    """A status change only the studio's staff make (the booking's trainer, a manager, the owner)."""

    permission_classes = [IsStudioMember]
    change = None  # the service, set by each subclass

    @extend_schema(request=None, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        _require_staff(request, booking)
        return Response(BookingOutput(type(self).change(booking=booking, actor=request.user)).data)


class BookingConfirmApi(_StaffStatusApi):
    change = staticmethod(services.booking_confirm)


class BookingCancelApi(APIView):
    permission_classes = [IsStudioMember]

    class BookingCancelInput(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH)

    @extend_schema(request=BookingCancelInput, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        data = self.BookingCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_cancel(booking=booking, actor=request.user, **data.validated_data)
        return Response(BookingOutput(booking).data)


class BookingCompleteApi(_StaffStatusApi):
    change = staticmethod(services.booking_complete)


class BookingNoShowApi(_StaffStatusApi):
    change = staticmethod(services.booking_no_show)


class BookingRescheduleApi(APIView):
    permission_classes = [IsStudioMember]

    class BookingRescheduleInput(serializers.Serializer):
        start_time = AwareDateTimeField()

    @extend_schema(request=BookingRescheduleInput, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        data = self.BookingRescheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_reschedule(
            booking=booking,
            start_time=data.validated_data["start_time"],
            actor=request.user,
            by_client=not _is_staff_of(request.user, booking),
        )
        return Response(BookingOutput(booking).data)


class BookingEventOutput(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = BookingEvent
        fields = [
            "id", "kind", "from_status", "to_status", "previous_start_time", "new_start_time", "actor_id", "note",
            "created",
        ]  # fmt: skip


class BookingHistoryApi(APIView):
    permission_classes = [IsStudioMember]

    @extend_schema(responses=BookingEventOutput(many=True))
    def get(self, request, booking_id: int):
        events = booking_history(booking=_get(request, booking_id))
        return Response(BookingEventOutput(events, many=True).data)


class ClientBookingListApi(APIView):
    """One client's bookings, newest first, as far as the caller may see them (a trainer: their own sessions)."""

    permission_classes = [IsStudioMember]

    @extend_schema(parameters=[BookingFilter], responses=paginated(BookingOutput))
    def get(self, request, client_id: int):
        client = get_object_or_404(visible_clients(user=request.user), pk=client_id)
        bookings = BookingFilter(request.query_params, queryset=client_bookings(user=request.user, client=client))
        if not bookings.is_valid():
            raise serializers.ValidationError(bookings.errors)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(bookings.qs, request, view=self)
        return paginator.get_paginated_response(BookingOutput(page, many=True).data)
