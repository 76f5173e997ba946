"""The desk: "My notifications", where any member of staff chooses which staff notices they get by email (all
of them unless turned off here), through the outbox's services, which read the choice when a notice is due: a
notice turned off is written with the booking and suppressed instead of sent."""

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views import View

from tenant_apps.desk.access import StaffRequiredMixin
from tenant_apps.notifications.models import STAFF_KINDS, Kind
from tenant_apps.notifications.services import staff_notice_mutes_set, staff_notice_received_kinds

# The notices as a member of staff reads them (the kinds' own labels are the outbox's, for staff lists).
NOTICE_LABELS = {
    Kind.STAFF_BOOKING_NEW: "A session of mine is booked",
    Kind.STAFF_BOOKING_CANCELLED: "A session of mine is cancelled",
}


class NoticePreferencesForm(forms.Form):
    received_kinds = forms.MultipleChoiceField(
        label="Email me when",
        required=False,
        choices=[(kind.value, NOTICE_LABELS[kind]) for kind in STAFF_KINDS],
        widget=forms.CheckboxSelectMultiple,
    )


class NoticePreferencesView(StaffRequiredMixin, View):
    template_name = "desk/preferences/notifications.html"

    def get(self, request):
        form = NoticePreferencesForm(initial={"received_kinds": staff_notice_received_kinds(request.user)})
        return render(request, self.template_name, {"form": form})

    def post(self, request):
        form = NoticePreferencesForm(request.POST)
        if not form.is_valid():
            return render(request, self.template_name, {"form": form}, status=400)
        staff_notice_mutes_set(user=request.user, received_kinds=form.cleaned_data["received_kinds"])
        messages.success(request, "Your notification choices were saved.")
        return redirect(reverse("desk:notification_preferences"))


urlpatterns = [
    path("notifications/", NoticePreferencesView.as_view(), name="notification_preferences"),
]
