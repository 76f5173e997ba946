from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tenant_apps.notifications.models import Notification


class NotificationOutput(serializers.ModelSerializer):
    """A message to a client or a member of staff: what it is, where it went, and what became of it."""

    kind_label = serializers.CharField(source="get_kind_display")
    recipient = serializers.SerializerMethodField(
        help_text="The address or number it went to; blank until sent for an SMS, and once suppressed or erased."
    )
    client = serializers.IntegerField(source="client_id", allow_null=True)
    staff_user = serializers.IntegerField(
        source="staff_user_id", allow_null=True, help_text="The member of staff a staff notice is for."
    )
    booking = serializers.IntegerField(source="booking_id", allow_null=True)
    # Filled only with ``may_see_errors`` in the context (selectors.may_see_delivery_errors).
    last_error = serializers.SerializerMethodField(
        help_text="Why the last attempt failed; null for a caller who may not read it (trainers)."
    )

    class Meta:
        model = Notification
        fields = [
            "id", "kind", "kind_label", "channel", "status", "recipient", "client", "staff_user", "booking",
            "send_after", "sent_at", "delivered_at", "attempts", "last_error", "created",
        ]  # fmt: skip

    def get_recipient(self, notification: Notification) -> str:
        return notification.recipient_email or notification.recipient_phone

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_last_error(self, notification: Notification) -> str | None:
        return notification.last_error if self.context.get("may_see_errors") else None
