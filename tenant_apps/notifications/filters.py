"""The outbox list's filters, read by ``GET /api/notifications/``."""

import django_filters

from shared_apps.core.filters import IdFilter, InstantFilter
from tenant_apps.notifications.models import Channel, Kind, Notification, Status


class NotificationFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id")
    booking = IdFilter(field_name="booking_id")
    kind = django_filters.MultipleChoiceFilter(choices=Kind.choices)
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    created_after = InstantFilter(field_name="created", lookup_expr="gte")
    created_before = InstantFilter(field_name="created", lookup_expr="lt")
    # Not "sent_after": the row's ``send_after`` (when it is due) is another time.
    sent_at_after = InstantFilter(field_name="sent_at", lookup_expr="gte")
    sent_at_before = InstantFilter(field_name="sent_at", lookup_expr="lt")

    class Meta:
        model = Notification
        fields = [
            "client", "booking", "kind", "status", "channel", "created_after", "created_before", "sent_at_after",
            "sent_at_before",
        ]  # fmt: skip
