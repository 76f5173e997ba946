from collections.abc import Mapping
from decimal import Decimal

import django_filters
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts.models import Role
from shared_apps.core.exceptions import Forbidden
from shared_apps.core.fields import AwareDateTimeField, StrictPrimaryKeyRelatedField
from shared_apps.core.filters import IdFilter, InstantFilter
from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioMember
from shared_apps.core.schema import CONFLICT, ErrorResponseSerializer, paginated
from shared_apps.core.serializers import BuiltOnceModelSerializer
from shared_apps.core.validators import REASON_MAX_LENGTH, TEXT_MAX_LENGTH
from tenant_apps.availability.api import ANY_TRAINER, TrainerOrAnyField
from tenant_apps.bookings import services
from tenant_apps.bookings.models import SESSION_PAYMENT_METHODS, Booking, BookingEvent, BookingStatus
from tenant_apps.bookings.selectors import booking_history, booking_list, client_bookings, my_bookings
from tenant_apps.bookings.tokens import booking_manage_links_revoke
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
    start = InstantFilter(field_name="start_time", lookup_expr="gte")
    end = InstantFilter(field_name="start_time", lookup_expr="lt")

    class Meta:
        model = Booking
        fields = ["trainer", "client", "session_type", "status", "start", "end"]


class BookingOutput(BuiltOnceModelSerializer):
    """A booking with what a calendar shows of it: names, the session type's colour, how it is paid."""

    trainer = serializers.IntegerField(source="trainer_id")
    trainer_name = serializers.CharField(source="trainer.display_name")
    client = serializers.IntegerField(source="client_id")
    client_name = serializers.CharField(source="client.full_name")
    session_type = serializers.IntegerField(source="session_type_id")
    session_type_name = serializers.CharField(source="session_type.name")
    session_type_color = serializers.CharField(source="session_type.color")
    client_package = serializers.IntegerField(source="client_package_id", allow_null=True)
    client_package_name = serializers.SerializerMethodField()
    client_package_sessions_remaining = serializers.SerializerMethodField()
    payment_recorded_by = serializers.IntegerField(source="payment_recorded_by_id", allow_null=True)

    class Meta:
        model = Booking
        fields = [
            "id", "trainer", "trainer_name", "client", "client_name", "session_type", "session_type_name",
            "session_type_color", "start_time", "end_time", "status", "price", "currency",
            "payment_state", "client_package", "client_package_name", "client_package_sessions_remaining",
            "credit_returned", "payment_method", "amount_paid", "payment_currency", "payment_recorded_by",
            "payment_recorded_at", "confirmation_sent", "cancellation_sent", "notes", "cancellation_reason",
            "cancelled_at", "cancelled_by", "is_late_cancellation", "created", "updated",
        ]  # fmt: skip

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_client_package_name(self, booking: Booking) -> str | None:
        return booking.client_package.package.name if booking.client_package_id else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_client_package_sessions_remaining(self, booking: Booking) -> int | None:
        return booking.client_package.sessions_remaining if booking.client_package_id else None


def _get(request, booking_id: int) -> Booking:
    """A booking the caller may see; anything else, another studio's included, is a 404."""
    return get_object_or_404(booking_list(user=request.user), pk=booking_id)


def _is_staff_of(user, booking: Booking) -> bool:
    return user.manages_studio or (user.role == Role.TRAINER and booking.trainer.user_id == user.pk)


def _require_staff(request, booking: Booking) -> None:
    if not _is_staff_of(request.user, booking):
        raise Forbidden("Only the studio's staff can do this.")


def _page(view, request, queryset):
    bookings = BookingFilter(request.query_params, queryset=queryset)
    if not bookings.is_valid():
        raise serializers.ValidationError(bookings.errors)
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(bookings.qs, request, view=view)
    return paginator.get_paginated_response(BookingOutput(page, many=True).data)


class BookingListCreateApi(APIView):
    permission_classes = [IsStudioMember]

    class BookingCreateInput(serializers.Serializer):
        # Inactive trainers and session types can be named: the service answers "not taking bookings". "any":
        # the free trainer with the fewest sessions that week (services.booking_create_any_trainer).
        trainer = TrainerOrAnyField(queryset=Trainer.objects.all())
        session_type = StrictPrimaryKeyRelatedField(queryset=SessionType.objects.all())
        start_time = AwareDateTimeField()
        client = StrictPrimaryKeyRelatedField(queryset=Client.objects.all(), required=False)
        notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX_LENGTH)
        # Pay with a credit of this package; left out, the client's usable package that expires first pays.
        client_package = StrictPrimaryKeyRelatedField(
            queryset=ClientPackage.objects.all(), required=False, allow_null=True
        )
        off_grid = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Staff only: any start the trainer is free at, outside the offered slots; a start in the "
            "past records a session that took place (completed at once).",
        )

        def __init__(self, *args, user=None, **kwargs):
            super().__init__(*args, **kwargs)
            if user is None:  # the OpenAPI schema's copy
                return
            # Only what the caller may see can be named: a client their own packages, a trainer the clients
            # they train (an unknown id and someone else's read the same: "does not exist"). Narrowed when
            # something is named: most bookings name neither, and building the querysets costs each of them.
            given = self.initial_data if isinstance(self.initial_data, Mapping) else {}
            if given.get("client") is None and given.get("client_package") is None:
                return
            if user.role == Role.CLIENT:
                self.fields["client_package"].queryset = ClientPackage.objects.filter(client__user=user)
            elif not user.manages_studio:
                visible = client_list(user=user)
                self.fields["client"].queryset = visible
                self.fields["client_package"].queryset = ClientPackage.objects.filter(client__in=visible)

    @extend_schema(parameters=[BookingFilter], responses=paginated(BookingOutput))
    def get(self, request):
        return _page(self, request, booking_list(user=request.user))

    @extend_schema(request=BookingCreateInput, responses={201: BookingOutput, 409: CONFLICT})
    def post(self, request):
        user = request.user
        data = self.BookingCreateInput(data=request.data, user=user)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if user.role == Role.CLIENT and "client" in fields:
            raise serializers.ValidationError({"client": "Clients book for themselves; leave this out."})
        if user.role != Role.CLIENT and "client" not in fields:
            raise serializers.ValidationError({"client": "This field is required."})
        if fields["trainer"] == ANY_TRAINER and fields["off_grid"]:
            raise serializers.ValidationError({"off_grid": 'Off the grid needs a trainer, not "any".'})
        # Who may book what (a trainer: their own calendar; off the grid: staff) is the service's rule. One
        # transaction: a refused booking leaves no client record created for it behind.
        with transaction.atomic():
            if user.role == Role.CLIENT:
                fields["client"] = client_for_user(user=user)
            if fields["trainer"] == ANY_TRAINER:
                del fields["trainer"], fields["off_grid"]
                booking = services.booking_create_any_trainer(**fields, created_by=user)
            else:
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
    """A change only the studio's staff make (the booking's trainer, a manager, the owner)."""

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
    """Cancel: a client's cancellation is the client's, staff's is the studio's (the credit always comes back)."""

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


class BookingUndoApi(_StaffStatusApi):
    """Take back a mistaken completed or no-show (within BOOKING_UNDO_DAYS): the booking is confirmed again."""

    change = staticmethod(services.booking_undo)


class BookingRescheduleApi(APIView):
    permission_classes = [IsStudioMember]

    class BookingRescheduleInput(serializers.Serializer):
        start_time = AwareDateTimeField()
        # Inactive trainers can be named: the service answers "not taking bookings".
        trainer = StrictPrimaryKeyRelatedField(
            queryset=Trainer.objects.all(),
            required=False,
            help_text="Staff only: move the booking to this trainer (who must offer its session type and be free "
            "then). A client moves their booking to another time with the same trainer; a trainer keeps it in "
            "their own calendar.",
        )
        off_grid = serializers.BooleanField(
            required=False, default=False, help_text="Staff only: any start the trainer is free at."
        )

    @extend_schema(request=BookingRescheduleInput, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        data = self.BookingRescheduleInput(data=request.data)
        data.is_valid(raise_exception=True)
        # Who may move it where is the service's rule (a trainer keeps it in their calendar, a client keeps the
        # trainer and the cancellation window, off the grid is for staff).
        booking = services.booking_reschedule(
            booking=booking,
            start_time=data.validated_data["start_time"],
            trainer=data.validated_data.get("trainer"),
            actor=request.user,
            off_grid=data.validated_data["off_grid"],
        )
        return Response(BookingOutput(booking).data)


class BookingRevokeLinksApi(APIView):
    """Revoke the booking's manage links (staff: owner, managers, the booking's trainer): every link mailed so
    far answers 410, e.g. when a client forwarded a booking mail by mistake, or the studio wants old links dead
    after a dispute. Nothing is mailed now; the next mail about the booking carries a working link."""

    permission_classes = [IsStudioMember]

    @extend_schema(request=None, responses={200: BookingOutput})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        _require_staff(request, booking)
        booking = booking_manage_links_revoke(booking=booking, actor=request.user)
        return Response(BookingOutput(booking).data)


# -- paying after the fact ------------------------------------------------------------------------------------


class BookingAttachPackageApi(APIView):
    """Pay an unpaid booking with a credit of one of the client's packages (staff: owner, managers, the
    booking's trainer)."""

    permission_classes = [IsStudioMember]

    class BookingAttachPackageInput(serializers.Serializer):
        client_package = StrictPrimaryKeyRelatedField(queryset=ClientPackage.objects.all())

    @extend_schema(request=BookingAttachPackageInput, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        _require_staff(request, booking)
        data = self.BookingAttachPackageInput(data=request.data)
        # Only the booking's client's packages can be named; another's reads as "does not exist".
        data.fields["client_package"].queryset = ClientPackage.objects.filter(client_id=booking.client_id)
        data.is_valid(raise_exception=True)
        booking = services.booking_attach_package(booking=booking, actor=request.user, **data.validated_data)
        return Response(BookingOutput(booking).data)


class BookingRecordPaymentApi(APIView):
    """Record that an unpaid booking was paid at the studio (staff: owner, managers, the booking's trainer)."""

    permission_classes = [IsStudioMember]

    class BookingRecordPaymentInput(serializers.Serializer):
        payment_method = serializers.ChoiceField(choices=SESSION_PAYMENT_METHODS)
        amount_paid = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0.01"))
        currency = serializers.RegexField(
            r"^[A-Z]{3}$",
            required=False,
            help_text="ISO 4217; the booking's currency (another is refused). Left out: the booking's.",
        )

    @extend_schema(request=BookingRecordPaymentInput, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        _require_staff(request, booking)
        data = self.BookingRecordPaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_record_payment(booking=booking, actor=request.user, **data.validated_data)
        return Response(BookingOutput(booking).data)


class BookingComplimentaryApi(APIView):
    """Waive payment for an unpaid booking: owner and managers only (giving sessions away is the studio's call,
    not a trainer's)."""

    permission_classes = [IsStudioMember]

    class BookingComplimentaryInput(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH)

    @extend_schema(request=BookingComplimentaryInput, responses={200: BookingOutput, 409: CONFLICT})
    def post(self, request, booking_id: int):
        booking = _get(request, booking_id)
        data = self.BookingComplimentaryInput(data=request.data)
        data.is_valid(raise_exception=True)
        booking = services.booking_mark_complimentary(booking=booking, actor=request.user, **data.validated_data)
        return Response(BookingOutput(booking).data)


class BookingEventOutput(serializers.ModelSerializer):
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    previous_trainer = serializers.IntegerField(source="previous_trainer_id", allow_null=True)
    new_trainer = serializers.IntegerField(source="new_trainer_id", allow_null=True)

    class Meta:
        model = BookingEvent
        fields = [
            "id", "kind", "from_status", "to_status", "previous_start_time", "new_start_time", "previous_trainer",
            "new_trainer", "off_grid", "actor", "note", "created",
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
        return _page(self, request, client_bookings(user=request.user, client=client))


NOT_A_CLIENT = OpenApiResponse(
    ErrorResponseSerializer,
    description="`not_a_client`: the caller is the studio's staff; `no_client_profile`: no client record is "
    "linked to this account yet; or no such page of the list.",
)


class MyBookingListApi(APIView):
    """The signed-in client's own bookings, newest first. As for the other /api/me/ endpoints, staff are answered
    404 ``not_a_client``, and a client account with no client record linked yet 404 ``no_client_profile``."""

    permission_classes = [IsStudioMember]

    @extend_schema(parameters=[BookingFilter], responses={200: paginated(BookingOutput), 404: NOT_A_CLIENT})
    def get(self, request):
        return _page(self, request, my_bookings(user=request.user))
