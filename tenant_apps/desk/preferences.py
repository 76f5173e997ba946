"""The desk: "My notifications", where any member of staff chooses which staff notices they get by email (all
of them unless turned off here). The outbox reads the same StaffNotificationPreference row when it writes a
notice (notifications.services), so a notice turned off is never written, let alone sent."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views import View

from tenant_apps.desk.access import StaffRequiredMixin
from tenant_apps.notifications.models import STAFF_KINDS, Kind, StaffNotificationPreference

# The notices as a member of staff reads them (the kinds' own labels are the outbox's, for staff lists).
NOTICE_LABELS = {
    Kind.STAFF_BOOKING_NEW: "A session of mine is booked",
    Kind.STAFF_BOOKING_CANCELLED: "A session of mine is cancelled",
}


@transaction.atomic
def staff_notice_mutes_set(*, user, received_kinds: list[str]) -> StaffNotificationPreference:
    """``user`` gets the staff notices ``received_kinds`` and none of the other STAFF_KINDS."""
    muted = [kind for kind in STAFF_KINDS if kind not in received_kinds]
    preference, _created = StaffNotificationPreference.objects.update_or_create(
        user=user, defaults={"muted_kinds": muted}
    )
    return preference


def staff_notice_received_kinds(user) -> list[str]:
    preference = StaffNotificationPreference.objects.filter(user=user).first()
    muted = set(preference.muted_kinds) if preference else set()
    return [kind for kind in STAFF_KINDS if kind not in muted]


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
