"""The front desk's day: today's sessions in order (placeholder until the Today list lands)."""

from django.urls import path
from django.views.generic import TemplateView

from tenant_apps.desk.access import StaffRequiredMixin


class TodayView(StaffRequiredMixin, TemplateView):
    template_name = "desk/today.html"


urlpatterns = [path("today/", TodayView.as_view(), name="today")]
