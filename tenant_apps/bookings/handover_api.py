"""``/api/staff/{user_id}/deactivate/``: routed here, not by accounts, because deactivating a trainer hands over their
bookings (tenant_apps/bookings/handover.py), which accounts may not depend on."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_apps.accounts.api import StaffOutput
from shared_apps.accounts.selectors import staff_list
from shared_apps.core.fields import StrictPrimaryKeyRelatedField
from shared_apps.core.permissions import IsStudioManager
from shared_apps.core.validators import REASON_MAX_LENGTH
from tenant_apps.bookings import handover
from tenant_apps.trainers.models import Trainer


class FutureBookingOutput(serializers.Serializer):
    booking = serializers.IntegerField(help_text="The booking's id.")
    start_time = serializers.DateTimeField()


class FutureBookingsOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many active (pending or confirmed) bookings start after now.")
    bookings = FutureBookingOutput(many=True)


class NotMovedBookingOutput(FutureBookingOutput):
    code = serializers.CharField(required=False, help_text="Why it couldn't move (e.g. `slot_unavailable`).")
    detail = serializers.CharField(required=False)


class HandoverConflictOutput(serializers.Serializer):
    """409: ``future_bookings`` (no choice given: the bookings to decide about) or ``bookings_not_moved`` (the
    bookings that couldn't move, each with its reason; nothing was changed)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField())
    count = serializers.IntegerField()
    bookings = NotMovedBookingOutput(many=True)


class DeactivateOutput(serializers.Serializer):
    user = StaffOutput()
    future_bookings = serializers.ChoiceField(choices=handover.FutureBookings.choices, allow_null=True)
    bookings = serializers.ListField(
        child=serializers.IntegerField(), help_text="The future bookings kept, moved or cancelled, by id."
    )


class StaffDeactivateApi(APIView):
    """The owner deactivates managers and trainers, a manager trainers; nobody their own account or the owner's."""

    permission_classes = [IsStudioManager]

    class DeactivateInput(serializers.Serializer):
        future_bookings = serializers.ChoiceField(choices=handover.FutureBookings.choices, required=False)
        to_trainer = StrictPrimaryKeyRelatedField(queryset=Trainer.objects.all(), required=False)
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH)

    def _get(self, request, user_id: int):
        return get_object_or_404(staff_list(), pk=user_id)

    @extend_schema(
        responses=FutureBookingsOutput,
        description=(
            "What deactivating this person would leave behind: their trainer profile's active bookings that "
            "start after now (none for someone who doesn't teach)."
        ),
    )
    def get(self, request, user_id: int):
        bookings = handover.staff_deactivation_preview(user=self._get(request, user_id), actor=request.user)
        summary = [handover.booking_summary(booking) for booking in bookings]
        return Response(FutureBookingsOutput({"count": len(bookings), "bookings": summary}).data)

    @extend_schema(
        request=DeactivateInput,
        responses={
            200: DeactivateOutput,
            409: OpenApiResponse(HandoverConflictOutput, description=HandoverConflictOutput.__doc__),
        },
        description=(
            "Deactivate a staff account: it can no longer log in (API or web pages), its API tokens are deleted "
            "and its sessions ended; nothing is deleted, and its trainer profile (if any) takes no new bookings "
            "and leaves the public list. `POST /api/staff/{id}/reactivate/` undoes it.\n\n"
            "A trainer with future bookings needs `future_bookings`: `keep` them (they stay with this trainer), "
            "`move` them to `to_trainer` at the same times (each checked as a reschedule: that trainer offers "
            "the session type and is free; clients are told), or `cancel` them as studio cancellations (credits "
            "back whatever the window, clients told, `reason` in the mail). Without it the answer is 409 "
            "`future_bookings` listing them (as `GET` does). All or nothing: when a booking can't move the "
            "answer is 409 `bookings_not_moved` listing each one that couldn't and why, and nothing changed."
        ),
    )
    def post(self, request, user_id: int):
        user = self._get(request, user_id)
        data = self.DeactivateInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = handover.staff_deactivate_with_bookings(user=user, actor=request.user, **data.validated_data)
        return Response(
            DeactivateOutput(
                {
                    "user": staff_list().get(pk=result.user.pk),
                    "future_bookings": result.future_bookings,
                    "bookings": [booking.pk for booking in result.bookings],
                }
            ).data
        )
