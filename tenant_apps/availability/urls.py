from django.urls import path

from tenant_apps.availability import api

urlpatterns = [
    path("availability/", api.AvailabilityListCreateApi.as_view(), name="availability"),
    path("availability/available-slots/", api.AvailableSlotsApi.as_view(), name="available-slots"),
    path("availability/breaks/", api.BreakListCreateApi.as_view(), name="breaks"),
    path("availability/breaks/<int:break_id>/", api.BreakDetailApi.as_view(), name="break"),
    path("availability/<int:window_id>/", api.AvailabilityDetailApi.as_view(), name="availability-window"),
]
