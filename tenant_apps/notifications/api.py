from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from shared_apps.core.pagination import PageNumberPagination
from shared_apps.core.permissions import IsStudioStaff
from shared_apps.core.schema import paginated
from tenant_apps.notifications.filters import NotificationFilter
from tenant_apps.notifications.selectors import may_see_delivery_errors, notification_list
from tenant_apps.notifications.serializers import NotificationOutput


class NotificationListApi(APIView):
    """What was sent, or is due to be, and what became of it. The owner and managers see every message; a trainer
    those about their own bookings and the notices sent to them."""

    permission_classes = [IsStudioStaff]

    @extend_schema(parameters=[NotificationFilter], responses=paginated(NotificationOutput))
    def get(self, request):
        user = request.user
        notifications = NotificationFilter(
            request.query_params, queryset=notification_list(user=user).order_by("-created", "-id")
        )
        if not notifications.is_valid():
            raise serializers.ValidationError(notifications.errors)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(notifications.qs, request, view=self)
        context = {"may_see_errors": may_see_delivery_errors(user)}
        return paginator.get_paginated_response(NotificationOutput(page, many=True, context=context).data)
