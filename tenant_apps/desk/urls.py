"""The desk's pages, one module per part; each module lists its own URLs."""

from django.urls import path
from django.views.generic import RedirectView

from tenant_apps.desk import (
    bookings,
    calendar,
    catalogue,
    clients,
    domains,
    imports,
    preferences,
    staff,
    studio,
    today,
    trainers,
)

app_name = "desk"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="desk:today"), name="home"),
    *today.urlpatterns,
    *calendar.urlpatterns,
    *bookings.urlpatterns,
    *clients.urlpatterns,
    *imports.urlpatterns,
    *trainers.urlpatterns,
    *preferences.urlpatterns,
    *studio.urlpatterns,
    *staff.urlpatterns,
    *catalogue.urlpatterns,
    *domains.urlpatterns,
]
